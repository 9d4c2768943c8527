"""The warranty-claim portal: Flask app factory."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, render_template
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_object(Config)
    app.config.update(Config.load(app.instance_path))
    if overrides:
        app.config.update(overrides)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # X-Forwarded-For/-Proto/-Host as set by the trusted proxies (the last `proxies` hops
        # only): request.remote_addr is then the client's address, not the proxy's.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    from portal import logs

    logs.init_app(app)  # first: every later hook's log lines carry the request id
    from portal import inputs

    inputs.init_app(app)  # before the blueprints (their `<int:...>`) and every other hook

    _init_extensions(app)
    _register_blueprints(app)
    _register_errors(app)
    _register_template_helpers(app)

    from portal import cli, health, jobs

    health.init_app(app)
    jobs.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal import security
    from portal.auth import throttle
    from portal.extensions import babel, bootstrap, csrf, db, login_manager, migrate
    from portal.i18n import select_locale

    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _sqlite_pragmas(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path) / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = app.config["SESSION_PROTECTION"]
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(app.root_path) / "translations"),
    )
    bootstrap.init_app(app)
    throttle.init_app(app)
    security.init_app(app)

    # Every model module is imported so that the metadata (and Alembic) knows all tables.
    from portal import models  # noqa: F401

    # Receivers of the claim workflow's signals (an approved claim's old parts).
    from portal.oldparts import operations  # noqa: F401

    # Receivers of the old-part workflow's signals (late findings and waivers: adjustments).
    from portal.settlement import adjustments  # noqa: F401


def _sqlite_pragmas(app: Flask) -> None:
    from sqlalchemy import event

    from portal.extensions import db

    with app.app_context():
        engine = db.engine

        # pysqlite opens transactions lazily and never around SAVEPOINTs; let SQLAlchemy
        # emit BEGIN itself so that transactions and savepoints behave as on PostgreSQL.
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN")


def _register_blueprints(app: Flask) -> None:
    from portal.admin.views import bp as admin_bp
    from portal.analysis.views import bp as analysis_bp
    from portal.announcements.views import bp as announcements_bp
    from portal.api import bp as api_bp
    from portal.auditlog.views import bp as auditlog_bp
    from portal.auth.views import bp as auth_bp
    from portal.campaigns.views import bp as campaigns_bp
    from portal.claims.views import bp as claims_bp
    from portal.dealer.views import bp as dealer_bp
    from portal.extensions import csrf
    from portal.i18n import bp as i18n_bp
    from portal.jobs import bp as jobs_bp
    from portal.masterdata.views import bp as masterdata_bp
    from portal.notifications.views import bp as notifications_bp
    from portal.oem.views import bp as oem_bp
    from portal.oldparts.views import bp as oldparts_bp
    from portal.settlement.views import bp as settlement_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(i18n_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(dealer_bp, url_prefix="/dealer")
    app.register_blueprint(claims_bp, url_prefix="/claims")
    app.register_blueprint(oem_bp, url_prefix="/oem")
    app.register_blueprint(oldparts_bp, url_prefix="/old-parts")
    app.register_blueprint(settlement_bp, url_prefix="/settlement")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(masterdata_bp, url_prefix="/admin/masterdata")
    app.register_blueprint(announcements_bp, url_prefix="/announcements")
    app.register_blueprint(analysis_bp, url_prefix="/analysis")
    app.register_blueprint(auditlog_bp, url_prefix="/audit-log")
    app.register_blueprint(campaigns_bp, url_prefix="/campaigns")
    # Also gives every template `unread_notifications()`, the count behind the header's bell.
    app.register_blueprint(notifications_bp, url_prefix="/notifications")
    # The JSON API authenticates with bearer tokens, never cookies: no CSRF token to check.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")


def _register_errors(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    from portal.auth.permissions import wants_json
    from portal.extensions import db
    from portal.inputs import InputRefused

    messages = {
        400: _l("The request could not be understood."),
        401: _l("Please sign in."),
        403: _l("Your role may not do this."),
        404: _l("There is no such page, or it is not yours to see."),
        405: _l("That method is not allowed here."),
        409: _l("Someone else changed this in the meantime."),
        413: _l("The upload is too large."),
        422: _l("The request was refused."),
        429: _l("Too many attempts. Please wait a minute and try again."),
        500: _l("Something went wrong on our side. The error has been logged."),
    }
    codes = {
        400: "malformed",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "too_large",
        422: "rule_refused",
        429: "rate_limited",
        500: "server_error",
    }

    def render(status: int, message=None, fields: dict[str, str] | None = None):
        message = str(message or messages[status])
        if wants_json():
            body = {"error": {"code": codes[status], "message": message, "fields": fields or {}}}
            return jsonify(body), status
        page = render_template("error.html", status=status, message=message, fields=fields)
        return page, status

    for status in messages:
        app.register_error_handler(status, lambda e, s=status: render(s))

    @app.errorhandler(500)
    def _server_error(e):
        # A failed statement leaves the transaction aborted: the page itself (the header's
        # unread count, the signed-in user) needs a usable session.
        db.session.rollback()
        return render(500)

    @app.errorhandler(InputRefused)
    def _refused(e: InputRefused):
        db.session.rollback()
        return render(e.status, e.message, e.fields)

    @app.errorhandler(CSRFError)
    def _csrf(e):
        return render(400, _l("The form expired or was sent from elsewhere. Please try again."))


def _finalize(value: Any) -> Any:
    """What `{{ value }}` prints: a date or a moment in the reader's locale, the rest as is."""
    from portal import messages

    if isinstance(value, datetime):
        return messages.moment(value)
    if isinstance(value, date):
        return messages.day(value)
    return value


def _register_template_helpers(app: Flask) -> None:
    from portal import labels, messages
    from portal.auth.models import Role
    from portal.auth.views import HOME_ENDPOINTS

    @app.template_filter("money")
    def money_filter(value: Decimal | None) -> str:
        if value is None:
            return "-"
        return format_decimal(value, format="#,##0.00")

    # {{ claim.status|label }}, {{ event.to_status|label('claim_status') }}: codes by their labels.
    app.add_template_filter(labels.label, "label")
    # {{ _('... is %(status)s.', status=claim.status|in_sentence) }}: a label inside a sentence.
    app.add_template_filter(labels.in_sentence, "in_sentence")
    # {{ amount|cny }}: an amount as CNY with thousands separators and two decimals.
    app.add_template_filter(messages.money, "cny")
    # {{ claim.repair_date|day }}, {{ event.at|moment }}: in the reader's locale. A bare date or
    # moment printed without them is written out the same way (finalize), so that no page shows
    # ISO text; inputs, URLs and data attributes that need ISO say `.isoformat()`.
    app.add_template_filter(messages.day, "day")
    app.add_template_filter(messages.moment, "moment")
    # {{ run.period|month }}: a settlement period ("2026-11") as "Nov 2026" / "2026年11月".
    app.add_template_filter(messages.month, "month")
    app.jinja_env.finalize = _finalize

    @app.template_filter("percent")
    def percent_filter(value: Decimal | None) -> str:
        if value is None:
            return "-"
        return format_decimal(value * 100, format="#,##0.##") + "%"

    @app.context_processor
    def inject():
        from flask_babel import get_locale

        from portal.today import needs_today, supplier_quality, weekly_trend

        return {
            "Role": Role,
            "HOME_ENDPOINTS": HOME_ENDPOINTS,
            "get_locale": get_locale,
            "needs_today": needs_today,
            "weekly_trend": weekly_trend,
            "supplier_quality": supplier_quality,
        }
