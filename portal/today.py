"""What needs a user today, and a small weekly trend: the top of each role's home page.

`needs_today(user)` answers a list of `Item`s (what to do, how many, how much, a link to the
list that shows them, the few most pressing records by name); `weekly_trend(user)` the counts
of the role's main event over the last `TREND_WEEKS` weeks. Everything is scoped to the user's
organisation exactly as its lists are (a station its claims and parts, a supplier its
chargebacks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from portal import messages
from portal.analysis.models import EarlyWarning
from portal.auditlog import words as audit_words
from portal.auditlog.models import AuditEntry
from portal.auditlog.operations import AuditKind
from portal.auth.models import Role, User
from portal.claims.models import APPROVED_STATUSES, Claim, ClaimSettings, ClaimStatus
from portal.extensions import db
from portal.oldparts.models import OldPart, OldPartStatus
from portal.settlement.models import (
    Chargeback,
    ChargebackStatus,
    RunStatus,
    SettlementRun,
    Statement,
    StatementKind,
    StatementStatus,
)

TREND_WEEKS = 12
TOP = 5  # records named under an item
DUE_SOON_DAYS = 7
IMPORT_DAYS = 30  # the admin's home counts the master-data imports of the last IMPORT_DAYS days


@dataclass
class Record:
    label: str
    url: str
    note: str = ""
    late: bool = False


@dataclass
class Item:
    key: str
    label: str
    count: int
    url: str
    amount: Decimal | None = None
    urgent: bool = False
    records: list[Record] = field(default_factory=list)


@dataclass
class Trend:
    label: str
    weeks: list[tuple[date, int]]  # (Monday of the week, count), oldest first

    @property
    def total(self) -> int:
        return sum(n for _w, n in self.weeks)

    @property
    def bars(self) -> list[tuple[date, int, int]]:
        """(week, count, height 0-10) for the bar chart (CSS classes, no inline styles)."""
        top = max((n for _w, n in self.weeks), default=0)
        return [(w, n, round(10 * n / top) if top else 0) for w, n in self.weeks]


@dataclass
class QualityTrend:
    """A supplier's claims per 1,000 vehicles in service (C/1000), month by month (analysis)."""

    months: list  # portal.analysis.documents.TrendMonth, oldest first

    @property
    def bars(self) -> list[tuple[str, float | None, int]]:
        """(month, C/1000, height 0-10) for the bar chart."""
        top = max((m.per_1000 or 0 for m in self.months), default=0)
        return [
            (m.month, m.per_1000, round(10 * (m.per_1000 or 0) / top) if top else 0)
            for m in self.months
        ]

    @property
    def latest(self) -> float | None:
        return self.months[-1].per_1000 if self.months else None


# The C/1000 trend costs two aggregate queries a month over the supplier's vehicles: computed at
# most once per QUALITY_TREND_CACHE_SECONDS (default a quarter of an hour) per supplier and
# process; it moves by the day, not the minute.
_quality_cache: dict[tuple[int, date], tuple[datetime, QualityTrend]] = {}


def supplier_quality(user: User) -> QualityTrend | None:
    """The supplier's own C/1000 trend for its home page; None for every other role."""
    if user.role is not Role.SUPPLIER:
        return None
    from portal.analysis.documents import trend
    from portal.analysis.queries import Selection
    from portal.masterdata.models import Supplier

    today = local_today()
    key = (user.organisation_id, today)
    now = datetime.now(_zone())
    ttl = timedelta(seconds=current_app.config.get("QUALITY_TREND_CACHE_SECONDS", 900))
    cached = _quality_cache.get(key)
    if cached and now - cached[0] < ttl:
        return cached[1]
    supplier = db.session.get(Supplier, user.organisation_id)
    result = QualityTrend(trend(Selection(as_of=today, suppliers=(supplier.code,))))
    if len(_quality_cache) > 256:
        _quality_cache.clear()
    _quality_cache[key] = (now, result)
    return result


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today() -> date:
    return datetime.now(_zone()).date()


def local_midnight(day: date) -> datetime:
    """The start of `day` in the portal's time zone (Asia/Shanghai), for UTC timestamp columns."""
    return datetime.combine(day, time.min, tzinfo=_zone())


def working_days_back(day: date, days: int) -> date:
    """The day `days` working days (Monday to Friday) before `day`."""
    while days > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days from `start` (exclusive) to `end` (inclusive)."""
    n, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n += 1
    return n


def decision_target_days() -> int:
    """The auditors' decision target in working days (an admin setting, ClaimSettings)."""
    return ClaimSettings.current().decision_target_days


def _counted(stmt: sa.Select) -> int:
    counted = stmt.with_only_columns(sa.func.count(), maintain_column_froms=True)
    return db.session.scalar(counted.order_by(None)) or 0


def _summed(stmt: sa.Select, column) -> Decimal:
    total = db.session.scalar(
        stmt.with_only_columns(
            sa.func.coalesce(sa.func.sum(column), 0), maintain_column_froms=True
        ).order_by(None)
    )
    return Decimal(total or 0).quantize(Decimal("0.01"))


def weekly_counts(stmt: sa.Select, column, weeks: int = TREND_WEEKS) -> list[tuple[date, int]]:
    """How many rows of `stmt` have `column` (a UTC timestamp or a date) in each of the last
    `weeks` weeks (Monday to Sunday in the portal's time zone), the current week last."""
    monday = local_today() - timedelta(days=local_today().weekday())
    starts = [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    is_date = isinstance(column.type, sa.Date)
    bounds = [(s if is_date else local_midnight(s)) for s in [*starts, monday + timedelta(weeks=1)]]
    sums = [
        sa.func.coalesce(
            sa.func.sum(
                sa.case((sa.and_(column >= bounds[i], column < bounds[i + 1]), 1), else_=0)
            ),
            0,
        )
        for i in range(weeks)
    ]
    row = db.session.execute(
        stmt.with_only_columns(*sums, maintain_column_froms=True)
        .where(column >= bounds[0])
        .order_by(None)
    ).one()
    return list(zip(starts, (int(n) for n in row), strict=True))


# -- per role --------------------------------------------------------------------------------------


def needs_today(user: User) -> list[Item]:
    return {
        Role.STATION: _station,
        Role.AUDITOR: _auditor,
        Role.FINANCE: _finance,
        Role.SUPPLIER: _supplier,
        Role.ADMIN: _admin,
    }[user.role](user)


def weekly_trend(user: User) -> Trend:
    if user.role is Role.STATION:
        stmt = sa.select(Claim).where(Claim.station_id == user.organisation_id)
        return Trend(_l("Claims submitted per week"), weekly_counts(stmt, Claim.submitted_at))
    if user.role is Role.AUDITOR:
        stmt = sa.select(Claim).where(Claim.decided_at.is_not(None))
        return Trend(_l("Claims decided per week"), weekly_counts(stmt, Claim.decided_at))
    if user.role is Role.FINANCE:
        stmt = sa.select(Statement).where(Statement.paid_at.is_not(None))
        return Trend(_l("Statements paid per week"), weekly_counts(stmt, Statement.paid_at))
    if user.role is Role.SUPPLIER:
        stmt = _supplier_chargebacks(user)
        return Trend(
            _l("Chargebacks accepted per week"), weekly_counts(stmt, Chargeback.accepted_at)
        )
    stmt = sa.select(User)
    return Trend(_l("Users signing in per week"), weekly_counts(stmt, User.last_login_at))


def _station(user: User) -> list[Item]:
    mine = sa.select(Claim).where(Claim.station_id == user.organisation_id)
    returned = mine.where(Claim.status == ClaimStatus.RETURNED)
    drafts = mine.where(Claim.status == ClaimStatus.DRAFT)
    to_ship = sa.select(OldPart).where(
        OldPart.station_id == user.organisation_id,
        OldPart.status == OldPartStatus.AWAITING_RETURN,
        OldPart.shipment_id.is_(None),
    )
    today = local_today()
    due_soon = to_ship.where(OldPart.deadline <= today + timedelta(days=DUE_SOON_DAYS))
    month_start = local_midnight(today.replace(day=1))
    approved = mine.where(Claim.status.in_(APPROVED_STATUSES), Claim.decided_at >= month_start)
    paid = sa.select(Statement).where(
        Statement.org_id == user.organisation_id,
        Statement.kind == StatementKind.STATION,
        Statement.paid_on >= today.replace(day=1),
    )
    returned_n = _counted(returned)
    due_n = _counted(due_soon)
    return [
        Item(
            "returned",
            _l("Returned claims to correct and resubmit"),
            returned_n,
            url_for("dealer.home", status="returned"),
            urgent=returned_n > 0,
            records=[
                Record(c.number, url_for("claims.detail", number=c.number), c.decision_reason)
                for c in db.session.scalars(returned.order_by(Claim.decided_at).limit(TOP))
            ],
        ),
        Item(
            "drafts",
            _l("Drafts not submitted"),
            _counted(drafts),
            url_for("dealer.home", status="draft"),
        ),
        Item(
            "to_ship",
            _l("Old parts to ship"),
            _counted(to_ship),
            url_for("oldparts.index", status="awaiting_return"),
        ),
        Item(
            "due_soon",
            _l("Old parts overdue or due within 7 days"),
            due_n,
            url_for("oldparts.index", status="awaiting_return", sort="deadline", dir="asc"),
            urgent=due_n > 0,
            records=[
                Record(
                    p.tag,
                    url_for("oldparts.detail", tag=p.tag),
                    messages.day(p.deadline) if p.deadline else "",
                    late=p.deadline is not None and p.deadline < today,
                )
                for p in db.session.scalars(
                    due_soon.order_by(OldPart.deadline, OldPart.tag).limit(TOP)
                )
            ],
        ),
        Item(
            "approved_month",
            _l("Approved this month"),
            _counted(approved),
            url_for("dealer.home", status="approved"),
            amount=_summed(approved, Claim.approved_total_amount),
        ),
        Item(
            "paid_month",
            _l("Paid this month"),
            _counted(paid),
            url_for("settlement.statements", status="paid"),
            amount=_summed(paid, Statement.gross),
        ),
    ]


def _auditor(user: User) -> list[Item]:
    queue = sa.select(Claim).where(Claim.status == ClaimStatus.IN_REVIEW)
    today = local_today()
    target = decision_target_days()
    late_before = local_midnight(working_days_back(today, target))
    late = queue.where(Claim.submitted_at < late_before)
    disputes = sa.select(Chargeback).where(Chargeback.status == ChargebackStatus.DISPUTED)
    alarms = sa.select(EarlyWarning).where(EarlyWarning.active.is_(True))
    late_n = _counted(late)
    oldest = db.session.scalars(queue.order_by(Claim.submitted_at, Claim.id).limit(TOP))
    return [
        Item(
            "queue",
            _l("Claims waiting for a decision"),
            _counted(queue),
            url_for("oem.review_queue"),
            records=[
                Record(
                    c.number,
                    url_for("oem.review", number=c.number),
                    ngettext(
                        "%(num)d working day",
                        "%(num)d working days",
                        working_days_between(c.submitted_at.astimezone(_zone()).date(), today),
                    ),
                    late=c.submitted_at < late_before,
                )
                for c in oldest
            ],
        ),
        Item(
            "late",
            _l("Late: waiting longer than %(n)d working days", n=target),
            late_n,
            url_for("oem.review_queue", sort="submitted", dir="asc"),
            urgent=late_n > 0,
        ),
        Item(
            "disputes",
            _l("Supplier disputes waiting"),
            _counted(disputes),
            url_for("settlement.disputes"),
        ),
        Item("alarms", _l("Active early warnings"), _counted(alarms), url_for("analysis.warnings")),
    ]


def _finance(user: User) -> list[Item]:
    unsettled = sa.select(Claim).where(
        Claim.status.in_([ClaimStatus.APPROVED, ClaimStatus.PARTIALLY_APPROVED])
    )
    disputes = sa.select(Chargeback).where(Chargeback.status == ChargebackStatus.DISPUTED)
    to_pay = sa.select(Statement).where(
        sa.or_(
            sa.and_(
                Statement.kind == StatementKind.STATION,
                Statement.status == StatementStatus.RELEASED,
            ),
            sa.and_(
                Statement.kind == StatementKind.SUPPLIER,
                Statement.status == StatementStatus.FINAL,
            ),
        )
    )
    drafts = sa.select(SettlementRun).where(SettlementRun.status == RunStatus.DRAFT)
    return [
        Item(
            "unsettled",
            _l("Approved, not yet settled"),
            _counted(unsettled),
            url_for("settlement.home"),
            amount=_summed(unsettled, Claim.approved_total_amount),
        ),
        Item(
            "to_pay",
            _l("Statements to pay"),
            _counted(to_pay),
            url_for("settlement.statements", status="released"),
            amount=_summed(to_pay, Statement.gross),
            records=[
                Record(
                    s.number,
                    url_for("settlement.statement", statement_id=s.id),
                    messages.month(s.period),
                )
                for s in db.session.scalars(
                    to_pay.order_by(Statement.period, Statement.id).limit(TOP)
                )
            ],
        ),
        Item("disputes", _l("Open disputes"), _counted(disputes), url_for("settlement.disputes")),
        Item(
            "draft_runs",
            _l("Settlement runs to release"),
            _counted(drafts),
            url_for("settlement.home"),
        ),
    ]


def _supplier_chargebacks(user: User) -> sa.Select:
    return (
        sa.select(Chargeback)
        .join(Statement, Statement.id == Chargeback.statement_id)
        .where(
            Chargeback.supplier_id == user.organisation_id,
            Statement.status != StatementStatus.DRAFT,
        )
    )


def _supplier(user: User) -> list[Item]:
    mine = _supplier_chargebacks(user)
    open_ = mine.where(Chargeback.status == ChargebackStatus.OPEN)
    disputed = mine.where(Chargeback.status == ChargebackStatus.DISPUTED)
    open_n = _counted(open_)
    return [
        Item(
            "open",
            _l("Open chargebacks to accept or dispute"),
            open_n,
            url_for("settlement.chargebacks", status="open"),
            amount=_summed(open_, Chargeback.amount),
            urgent=open_n > 0,
            records=[
                Record(
                    cb.claim.number,
                    url_for("settlement.chargeback", chargeback_id=cb.id),
                    messages.month(cb.statement.period),
                )
                for cb in db.session.scalars(
                    open_.order_by(Chargeback.amount.desc(), Chargeback.id).limit(TOP)
                )
            ],
        ),
        Item(
            "disputed",
            _l("Disputed, waiting for an auditor"),
            _counted(disputed),
            url_for("settlement.chargebacks", status="disputed"),
            amount=_summed(disputed, Chargeback.amount),
        ),
    ]


def _admin(user: User) -> list[Item]:
    inactive = sa.select(User).where(User.active.is_(False))
    never = sa.select(User).where(User.active.is_(True), User.last_login_at.is_(None))
    return [
        Item("users", _l("Users"), _counted(sa.select(User)), url_for("admin.users")),
        Item(
            "never_signed_in",
            _l("Active users who never signed in"),
            _counted(never),
            url_for("admin.users"),
        ),
        Item("inactive", _l("Deactivated users"), _counted(inactive), url_for("admin.users")),
        _imports(),
    ]


def _imports() -> Item:
    """The master-data files imported in the last IMPORT_DAYS days (each import is audited),
    the latest named by kind, day and rows; the link lists them all in the audit log."""
    kind = AuditKind.MASTERDATA_IMPORTED.value
    first_day = local_today() - timedelta(days=IMPORT_DAYS - 1)
    since = local_midnight(first_day)
    recent = sa.select(AuditEntry).where(AuditEntry.kind == kind, AuditEntry.at >= since)
    latest = db.session.scalars(
        recent.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(TOP)
    )
    return Item(
        "imports",
        _l("Master-data files imported in the last %(days)d days", days=IMPORT_DAYS),
        _counted(recent),
        url_for("auditlog.index", kind=kind, **{"from": first_day.isoformat()}),
        records=[
            Record(
                audit_words.subject_label(e.subject, e.kind),
                url_for("masterdata.records", kind=e.subject),
                " · ".join(
                    (
                        messages.day(e.at),
                        ngettext(
                            "%(num)d row", "%(num)d rows", int((e.after or {}).get("rows", 0))
                        ),
                    )
                ),
            )
            for e in latest
        ],
    )
