"""Response headers every page carries."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import Flask

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    @app.after_request
    def set_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.mimetype == "text/html":
            headers.setdefault("Cache-Control", "no-store")
        return response


def local_path(link: str | None) -> str | None:
    """`link` if it is a path on this site (`/claims/RP-...`), else None: redirects after
    sign-in, language switches and notifications never send anyone elsewhere."""
    if not link or not link.startswith("/") or link.startswith("//"):
        return None
    # Browsers read "\\" as "/" ("/\\evil.example" is "//evil.example"); no control characters.
    if "\\" in link or any(ord(ch) < 32 or ord(ch) == 127 for ch in link):
        return None
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return None
    return link


def token_hash(token: str) -> str:
    """The SHA-256 of a bearer or session token: only this is stored, never the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
