"""Log lines an operator can follow: one request id per request, plain text or JSON.

Every request gets an id: the incoming `X-Request-ID` when it is sane (short, printable, the
id a proxy or load balancer gave it), else a new one. It is on every log line written while the
request is handled (`request_id`, "-" outside a request), in the response's `X-Request-ID`
header and on the access line each request ends with (method, path, status, duration_ms and
the client's address, through `TRUSTED_PROXIES` reverse proxies).
`LOG_FORMAT=json` writes each line as one JSON object; plain text is the default.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
# The fields of an access line beyond the standard ones (`extra=` of the logging call).
ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "remote_addr")
# Load balancers poll these every few seconds: their access lines are DEBUG, not INFO.
QUIET_PATHS = frozenset({"/healthz", "/readyz"})

access_log = logging.getLogger("portal.access")


def current_request_id() -> str:
    if has_request_context():
        return getattr(g, "request_id", None) or "-"
    return "-"


def _install_record_factory() -> None:
    """Every record carries `request_id`, whichever handler (or pytest's caplog) receives it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "portal_request_id", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = current_request_id()
        return record

    factory.portal_request_id = True
    logging.setLogRecordFactory(factory)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC, ISO 8601), level, logger, message, request_id,
    the access fields when the line has them, and the exception's traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def formatter_for(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(PLAIN_FORMAT)


def _configure_root(log_format: str) -> None:
    """One handler on the root logger (stderr), in the configured format, at INFO."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "portal_handler", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.portal_handler = True
        root.addHandler(handler)
    handler.setFormatter(formatter_for(log_format))
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    _install_record_factory()
    _configure_root(app.config.get("LOG_FORMAT", "text"))
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # 7 lines per start

    @app.before_request
    def assign_request_id():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_and_tag(response):
        request_id = getattr(g, "request_id", None)
        if request_id is None:  # a request answered before the hook above ran
            return response
        response.headers[REQUEST_ID_HEADER] = request_id
        duration_ms = round((time.perf_counter() - g.request_started) * 1000, 1)
        access_log.log(
            logging.DEBUG if request.path in QUIET_PATHS else logging.INFO,
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "remote_addr": request.remote_addr,
            },
        )
        return response
