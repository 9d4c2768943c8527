"""The auditors' review queue: filters, oldest first, keyset pagination, counts per filter.

Keyset (not OFFSET) paging on (submitted_at, id) with an index per common filter keeps every
page as fast as the first with a million claims; `bench/queue.py` measures it.
"""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.claims.models import FLAG_RULES, Claim, ClaimStatus, ClaimType, flag_bit
from portal.db import utcnow
from portal.extensions import db
from portal.inputs import days_arg, decimal_arg, parse_int
from portal.lists import contains
from portal.masterdata.models import Organisation, Station

QUEUE_STATUSES = (
    ClaimStatus.IN_REVIEW,
    ClaimStatus.RETURNED,
    ClaimStatus.APPROVED,
    ClaimStatus.PARTIALLY_APPROVED,
    ClaimStatus.REJECTED,
    ClaimStatus.SETTLED,
)

# The statuses an auditor works on; counts are kept for these.
WORK_STATUSES = (ClaimStatus.IN_REVIEW, ClaimStatus.RETURNED)


@dataclass
class QueueFilter:
    status: ClaimStatus = ClaimStatus.IN_REVIEW
    type: ClaimType | None = None
    station_code: str = ""
    region: str = ""
    flag: str = ""  # "", "any", "none" or a rule name
    min_age_days: int | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    search: str = ""  # part of a claim number or VIN
    errors: dict[str, str] = field(default_factory=dict)  # refused numbers, by parameter

    @classmethod
    def from_args(cls, args) -> QueueFilter:
        """From query-string arguments. An unknown status, type or flag is ignored; an age or
        amount that is not a bounded ASCII number is left out and named in `errors`."""
        f = cls()
        with contextlib.suppress(ValueError):
            f.status = ClaimStatus(args.get("status") or "in_review")
        if f.status not in QUEUE_STATUSES:
            f.status = ClaimStatus.IN_REVIEW
        try:
            f.type = ClaimType(args["type"]) if args.get("type") else None
        except ValueError:
            f.type = None
        f.station_code = (args.get("station") or "").strip()[:32]
        f.region = (args.get("region") or "").strip()[:64]
        f.flag = (args.get("flag") or "").strip()[:40]
        f.min_age_days = days_arg(args, "age", f.errors)
        f.min_amount = decimal_arg(args, "min_amount", f.errors)
        f.max_amount = decimal_arg(args, "max_amount", f.errors)
        f.search = (args.get("q") or "").strip()[:40]
        return f


def _conditions(f: QueueFilter, *, include_type: bool = True, include_status: bool = True) -> list:
    where = []
    if include_status:
        where.append(Claim.status == f.status)
    if include_type and f.type is not None:
        where.append(Claim.type == f.type)
    if f.station_code:
        where.append(
            Claim.station_id
            == sa.select(Organisation.id)
            .where(Organisation.code == f.station_code)
            .scalar_subquery()
        )
    if f.region:
        where.append(Claim.station_id.in_(sa.select(Station.id).where(Station.region == f.region)))
    if f.flag == "any":
        where.append(Claim.flag_mask != 0)
    elif f.flag == "none":
        where.append(Claim.flag_mask == 0)
    elif f.flag in FLAG_RULES:
        where.append(Claim.flag_mask.op("&")(flag_bit(f.flag)) != 0)
    elif f.flag:
        where.append(sa.false())  # a rule that never flags anything
    if f.min_age_days:
        where.append(Claim.submitted_at <= utcnow() - timedelta(days=f.min_age_days))
    if f.min_amount is not None:
        where.append(Claim.total_amount >= f.min_amount)
    if f.max_amount is not None:
        where.append(Claim.total_amount <= f.max_amount)
    if f.search:
        where.append(contains(f.search, Claim.number, Claim.vin))
    return where


def queue_statement(f: QueueFilter) -> sa.Select:
    """Every claim the filters select (no page, no order): for a sorted page and the export."""
    return sa.select(Claim).where(*_conditions(f))


def encode_cursor(claim: Claim) -> str:
    raw = f"{claim.submitted_at.isoformat()}|{claim.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, claim_id = raw.split("|")
        return datetime.fromisoformat(stamp), parse_int(claim_id, 0)
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass
class QueuePage:
    items: list[Claim]
    next_cursor: str | None


def queue_page(f: QueueFilter, cursor: str | None = None, limit: int = 25) -> QueuePage:
    """One page of the queue, oldest first, after `cursor` (from the previous page)."""
    stmt = sa.select(Claim).where(*_conditions(f)).order_by(Claim.submitted_at, Claim.id)
    after = decode_cursor(cursor)
    if after is not None:
        stmt = stmt.where(sa.tuple_(Claim.submitted_at, Claim.id) > sa.tuple_(*after))
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return QueuePage(rows[:limit], next_cursor)


def queue_counts(f: QueueFilter) -> dict[str, dict[str, int]]:
    """How many claims each type and each status would show with the other filters kept."""
    by_type = []
    if f.status in WORK_STATUSES:  # decided claims are browsed, not counted per type
        by_type = db.session.execute(
            sa.select(Claim.type, sa.func.count())
            .where(*_conditions(f, include_type=False))
            .group_by(Claim.type)
        ).all()
    by_status = db.session.execute(
        sa.select(Claim.status, sa.func.count())
        .where(
            Claim.status.in_(WORK_STATUSES),
            *_conditions(f, include_status=False),
        )
        .group_by(Claim.status)
    ).all()
    return {
        "type": {t.value: n for t, n in by_type},
        "status": {s.value: n for s, n in by_status},
    }
