"""Configuration read from the environment.

`DATABASE_URL` (default: a SQLite file in the instance folder), `REDIS_URL` (unset: jobs run
in-process, synchronously), `SECRET_KEY` (required in production). See README.md for the rest.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "portal.db")
    # Heroku-style URLs and plain postgresql:// both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once per instance folder.

    The generated key lives in the instance folder (never in the repository) so that an embedded
    install keeps its sessions across restarts.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


class Config:
    """Settings shared by every mode; `load(instance_path)` reads the environment."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False

    # Sessions and cookies
    SESSION_PROTECTION = "strong"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)

    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024  # uploads (CSV, photos, PDFs) above 20 MiB are refused

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"en": "English", "zh_CN": "简体中文"}

    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BTN_SIZE = "sm"

    PAGE_SIZE = 25
    CURRENCY = "CNY"

    @classmethod
    def load(cls, instance_path: str) -> dict:
        redis_url = os.environ.get("REDIS_URL") or None
        return {
            "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
            "REDIS_URL": redis_url,
            "SECRET_KEY": _secret_key(instance_path),
            "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
            "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
            "RATELIMIT_STORAGE_URI": redis_url or "memory://",
            "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
            # Failed sign-ins allowed per account and per client address (portal.auth.throttle).
            "LOGIN_ACCOUNT_FAILURES": os.environ.get("LOGIN_ACCOUNT_FAILURES")
            or "5 per 15 minutes",
            "LOGIN_ADDRESS_FAILURES": os.environ.get("LOGIN_ADDRESS_FAILURES")
            or "100 per 15 minutes",
            # Reverse proxies in front of the portal whose X-Forwarded-* headers are believed.
            "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
            "RQ_QUEUES": os.environ.get("RQ_QUEUES", "default").split(","),
            # `json`: one JSON object per log line; anything else: plain text.
            "LOG_FORMAT": "json"
            if os.environ.get("LOG_FORMAT", "").strip().lower() == "json"
            else "text",
            "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
            "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
            "MAIL_FROM": os.environ.get("MAIL_FROM", "warranty-portal@localhost"),
            "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER")
            or str(Path(instance_path) / "uploads"),
            "API_TOKEN_LIFETIME_DAYS": int(os.environ.get("API_TOKEN_LIFETIME_DAYS", "30")),
            "OLD_PART_RETURN_DAYS": int(os.environ.get("OLD_PART_RETURN_DAYS", "30")),
            # A running settlement whose heartbeat is older than this is offered a resume.
            "SETTLEMENT_STALE_SECONDS": int(os.environ.get("SETTLEMENT_STALE_SECONDS", "300")),
            # Seconds a run waits after each step: only the crash-safety tests set it.
            "SETTLEMENT_STEP_PAUSE": float(os.environ.get("SETTLEMENT_STEP_PAUSE", "0")),
        }
