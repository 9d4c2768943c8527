"""The rules admins keep (DESIGN 1: "master data, users, rules"): the auto-adjudication settings
and the reason codes (原因代码) auditors give for cuts. Operations flush; the view commits.

Who changed what is logged (the schema keeps no history of these settings): a line on the
`portal.admin.operations` logger per change, naming the admin.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal.auditlog.operations import AuditKind, record
from portal.auth.models import Role, User
from portal.claims.models import ALWAYS_BLOCKING, FLAG_RULES, ClaimSettings, ReasonCode
from portal.errors import DomainError, ValidationFailed
from portal.extensions import db
from portal.money import CENT
from portal.settlement.models import SettlementSettings

log = logging.getLogger(__name__)

# A reason code is stored on the lines decided with it and sent by DMS integrators: a stable,
# lower_snake_case identifier ("excessive_labor"), never renamed once created.
REASON_CODE_RE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
REASON_CODE_MAX = 40
LABEL_MAX = 120
# Money columns are Numeric(14, 2): twelve digits before the point.
THRESHOLD_LIMIT = Decimal("1000000000000")


def _require_admin(user: User) -> None:
    if user.role is not Role.ADMIN:
        raise DomainError(str(_l("Only administrators change the rules.")))


# -- auto-adjudication ---------------------------------------------------------------------------


def update_claim_settings(
    user: User, *, enabled: bool, threshold: Decimal, blocking_rules: Iterable[str]
) -> list[str]:
    """Set auto-approval on or off, its threshold (CNY) and the flag rules that block it.

    Rules in ALWAYS_BLOCKING are kept whatever is asked (a claim outside coverage is never paid
    without an auditor). Answers the changes made, as logged ("threshold 2000.00 -> 500.00").
    """
    _require_admin(user)
    wanted = set(blocking_rules)
    errors: dict[str, str] = {}
    if not isinstance(threshold, Decimal) or not threshold.is_finite():
        errors["auto_approve_threshold"] = str(_l("must be an amount"))
    elif threshold < 0:
        errors["auto_approve_threshold"] = str(_l("must not be negative"))
    elif threshold != threshold.quantize(CENT):
        errors["auto_approve_threshold"] = str(_l("at most %(n)d decimal places", n=2))
    elif threshold >= THRESHOLD_LIMIT:
        errors["auto_approve_threshold"] = str(_l("is too large"))
    unknown = wanted - set(FLAG_RULES)
    if unknown:
        errors["blocking_rules"] = str(
            _l("unknown rule: %(rules)s", rules=", ".join(sorted(unknown)))
        )
    if errors:
        raise ValidationFailed(str(_l("The settings were not saved.")), errors)

    settings = ClaimSettings.current()
    rules = [rule for rule in FLAG_RULES if rule in wanted or rule in ALWAYS_BLOCKING]
    before = (
        settings.auto_approve_enabled,
        settings.auto_approve_threshold,
        list(settings.blocking_rules or []),
    )
    changes = []
    if before[0] != enabled:
        changes.append(f"auto_approve_enabled {before[0]} -> {enabled}")
    if before[1] != threshold:
        changes.append(f"threshold {before[1]:.2f} -> {threshold:.2f}")
    if sorted(before[2]) != sorted(rules):
        changes.append(f"blocking_rules {before[2]} -> {rules}")
    settings.auto_approve_enabled = enabled
    settings.auto_approve_threshold = threshold.quantize(CENT)
    settings.blocking_rules = rules
    if changes:
        record(
            AuditKind.SETTINGS_CHANGED,
            user,
            subject="claim_settings",
            before={"auto_approve": before[0], "threshold": before[1], "blocking_rules": before[2]},
            after={"auto_approve": enabled, "threshold": threshold, "blocking_rules": rules},
        )
    db.session.flush()
    log.info(
        "claim settings saved by %s (id %s): %s",
        user.username,
        user.id,
        "; ".join(changes) or "no change",
    )
    return changes


DECISION_TARGET_RANGE = (1, 60)


def update_decision_target(user: User, days: int | None) -> None:
    """Set the auditors' decision target, in working days (a claim in review longer is late)."""
    _require_admin(user)
    low, high = DECISION_TARGET_RANGE
    if days is None or not low <= days <= high:
        raise ValidationFailed(
            str(_l("The decision target was not saved.")),
            {
                "decision_target_days": str(
                    _l(
                        "must be a whole number of working days from %(low)d to %(high)d",
                        low=low,
                        high=high,
                    )
                )
            },
        )
    settings = ClaimSettings.current()
    before = settings.decision_target_days
    settings.decision_target_days = days
    db.session.flush()
    if before != days:
        record(
            AuditKind.SETTINGS_CHANGED,
            user,
            subject="decision_target_days",
            before={"decision_target_days": before},
            after={"decision_target_days": days},
        )
    log.info(
        "decision target saved by %s (id %s): %s -> %s working days",
        user.username,
        user.id,
        before,
        days,
    )


# -- reason codes --------------------------------------------------------------------------------


def _label_errors(label_en: str, label_zh: str) -> dict[str, str]:
    errors = {}
    for name, value in (("label_en", label_en), ("label_zh", label_zh)):
        if not value:
            errors[name] = str(_l("is required"))
        elif len(value) > LABEL_MAX:
            errors[name] = str(_l("at most %(n)d characters", n=LABEL_MAX))
    return errors


def code_taken(code: str) -> bool:
    return db.session.scalar(sa.select(ReasonCode.id).where(ReasonCode.code == code)) is not None


def add_reason_code(user: User, code: str, label_en: str, label_zh: str) -> ReasonCode:
    """A new, active reason code with its English and Chinese labels."""
    _require_admin(user)
    code, label_en, label_zh = code.strip(), label_en.strip(), label_zh.strip()
    errors = _label_errors(label_en, label_zh)
    if not REASON_CODE_RE.fullmatch(code) or len(code) > REASON_CODE_MAX:
        errors["code"] = str(
            _l(
                "use lower_snake_case: small letters, digits and underscores, starting with a "
                "letter, at most %(n)d characters",
                n=REASON_CODE_MAX,
            )
        )
    elif code_taken(code):
        errors["code"] = str(_l("%(code)s exists already", code=code))
    if errors:
        raise ValidationFailed(str(_l("The reason code was not added.")), errors)
    reason_code = ReasonCode(code=code, label_en=label_en, label_zh=label_zh, active=True)
    try:
        with db.session.begin_nested():  # another admin adding the same code at this moment
            db.session.add(reason_code)
    except IntegrityError:
        raise ValidationFailed(
            str(_l("The reason code was not added.")),
            {"code": str(_l("%(code)s exists already", code=code))},
        ) from None
    record(
        AuditKind.REASON_CODE_CHANGED,
        user,
        subject=code,
        after={"label_en": label_en, "label_zh": label_zh, "active": True},
    )
    log.info("reason code %s added by %s (id %s)", code, user.username, user.id)
    return reason_code


def edit_reason_code(user: User, reason_code: ReasonCode, label_en: str, label_zh: str) -> None:
    """New labels; the code itself never changes (decided lines and DMS systems carry it)."""
    _require_admin(user)
    label_en, label_zh = label_en.strip(), label_zh.strip()
    errors = _label_errors(label_en, label_zh)
    if errors:
        raise ValidationFailed(str(_l("The reason code was not saved.")), errors)
    before = (reason_code.label_en, reason_code.label_zh)
    reason_code.label_en, reason_code.label_zh = label_en, label_zh
    record(
        AuditKind.REASON_CODE_CHANGED,
        user,
        subject=reason_code.code,
        before={"label_en": before[0], "label_zh": before[1]},
        after={"label_en": label_en, "label_zh": label_zh},
    )
    db.session.flush()
    log.info(
        "reason code %s relabelled by %s (id %s): %r -> %r",
        reason_code.code,
        user.username,
        user.id,
        before,
        (label_en, label_zh),
    )


def set_reason_code_active(user: User, reason_code: ReasonCode, active: bool) -> None:
    """Deactivate or reactivate a code. There is no delete: lines decided with a code keep it,
    and a deactivated code is refused in new decisions (`decide_claim` takes active codes only).
    """
    _require_admin(user)
    record(
        AuditKind.REASON_CODE_CHANGED,
        user,
        subject=reason_code.code,
        before={"active": reason_code.active},
        after={"active": active},
    )
    reason_code.active = active
    db.session.flush()
    log.info(
        "reason code %s %s by %s (id %s)",
        reason_code.code,
        "reactivated" if active else "deactivated",
        user.username,
        user.id,
    )


# -- settlement ----------------------------------------------------------------------------------

PERCENT_PLACES = Decimal("0.0001")  # a rate keeps millionths: a percentage four decimals


def update_settlement_settings(user: User, *, vat_percent: Decimal | None) -> list[str]:
    """Set the VAT rate statements show, given in percent (13 for 13%), from 0 to below 100
    (the column's CHECK keeps a rate under 1).

    A run copies the rate when it starts, so a change applies to the runs started after it.
    Answers the changes made, as logged ("vat_rate 0.130000 -> 0.090000").
    """
    _require_admin(user)
    errors: dict[str, str] = {}
    if not isinstance(vat_percent, Decimal) or not vat_percent.is_finite():
        errors["vat_percent"] = str(_l("must be a percentage"))
    elif not Decimal(0) <= vat_percent < Decimal(100):
        errors["vat_percent"] = str(_l("must be 0 or more and below 100"))
    elif vat_percent != vat_percent.quantize(PERCENT_PLACES):
        errors["vat_percent"] = str(_l("at most %(n)d decimal places", n=4))
    if errors:
        raise ValidationFailed(str(_l("The settlement settings were not saved.")), errors)
    settings = SettlementSettings.current()
    rate = (vat_percent / 100).quantize(Decimal("0.000001"))
    changes = []
    if settings.vat_rate != rate:
        changes.append(f"vat_rate {settings.vat_rate:.6f} -> {rate:.6f}")
        record(
            AuditKind.SETTINGS_CHANGED,
            user,
            subject="vat_rate",
            before={"vat_rate": settings.vat_rate},
            after={"vat_rate": rate},
        )
    settings.vat_rate = rate
    db.session.flush()
    log.info(
        "settlement settings saved by %s (id %s): %s",
        user.username,
        user.id,
        "; ".join(changes) or "no change",
    )
    return changes
