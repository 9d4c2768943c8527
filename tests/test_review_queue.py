"""The review queue query: filters, oldest first, keyset pages without gaps or repeats, counts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from portal.claims import operations as ops
from portal.claims.models import ClaimStatus, ClaimType
from portal.db import utcnow
from portal.oem.queue import QueueFilter, decode_cursor, queue_counts, queue_page
from tests.factories import ClaimFactory, Fleet


@pytest.fixture
def claims(world):
    """Nine claims in review: six of station A (one flagged), three of station B (North)."""
    fleet = Fleet.build(world)
    # A vehicle each: the same VIN and part would flag duplicates.
    made = [
        ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True, odometer_km=15000 + i)
        for i in range(5)
    ]
    flagged_hours = {
        "kind": "labor",
        "operation_code": "OP-1",
        "hours": "3.00",
        "description": "Corroded",
    }  # above standard: flagged labor_hours
    made.append(
        ClaimFactory(
            fleet=fleet, in_review=True, own_vehicle=True, odometer_km=15005, lines=[flagged_hours]
        )
    )
    made += [
        ClaimFactory(
            fleet=fleet,
            in_review=True,
            own_vehicle=True,
            station="station_b",
            odometer_km=20000 + i,
            causal_part="P-200",
            lines=[{"kind": "part", "part_number": "P-200", "qty": i + 1}],
        )
        for i in range(3)
    ]
    # Spread the submit times: claim k was submitted 20 - k days ago.
    now = utcnow()
    for k, claim in enumerate(made):
        claim.submitted_at = now - timedelta(days=20 - k)
    return made


def numbers(page):
    return [c.number for c in page.items]


def test_oldest_first(claims):
    page = queue_page(QueueFilter())
    assert numbers(page) == [c.number for c in claims]


def test_keyset_pages_cover_everything_once(claims):
    seen, cursor = [], None
    while True:
        page = queue_page(QueueFilter(), cursor, limit=4)
        seen += numbers(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [c.number for c in claims]


def test_equal_timestamps_are_ordered_by_id_across_pages(claims):
    for claim in claims:
        claim.submitted_at = claims[0].submitted_at
    first = queue_page(QueueFilter(), limit=5)
    second = queue_page(QueueFilter(), first.next_cursor, limit=5)
    assert numbers(first) + numbers(second) == [
        c.number for c in sorted(claims, key=lambda c: c.id)
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"station_code": "ST-B"}, [6, 7, 8]),
        ({"region": "North"}, [6, 7, 8]),
        ({"region": "East"}, [0, 1, 2, 3, 4, 5]),
        ({"flag": "any"}, [5]),
        ({"flag": "labor_hours"}, [5]),
        ({"flag": "duplicate"}, []),
        ({"min_age_days": 15}, [0, 1, 2, 3, 4, 5]),
        ({"type": ClaimType.APPRAISAL}, []),
        ({"min_amount": Decimal("91.00"), "max_amount": Decimal("100.10")}, [7]),
    ],
)
def test_filters(claims, filters, expected):
    page = queue_page(QueueFilter(**filters))
    assert numbers(page) == [claims[i].number for i in expected]


def test_flag_none_excludes_flagged(claims):
    assert claims[5].number not in numbers(queue_page(QueueFilter(flag="none")))


def test_decided_claims_leave_the_default_queue(world, claims):
    from portal.claims.decisions import Decision, decide_claim

    decide_claim(claims[0].id, world.users["auditor"], Decision("approve"))
    assert claims[0].number not in numbers(queue_page(QueueFilter()))
    approved = queue_page(QueueFilter(status=ClaimStatus.APPROVED))
    assert numbers(approved) == [claims[0].number]


def test_counts_per_type_and_status_follow_the_other_filters(world, claims):
    ops.return_claim(claims[1], world.users["auditor"], "photos")
    counts = queue_counts(QueueFilter(station_code="ST-A"))
    assert counts == {"type": {"repair": 5}, "status": {"in_review": 5, "returned": 1}}


def test_from_args_ignores_garbage():
    f = QueueFilter.from_args({"status": "draft", "type": "nope", "age": "x", "min_amount": "abc"})
    assert f.status is ClaimStatus.IN_REVIEW  # drafts are never in the queue
    assert (f.type, f.min_age_days, f.min_amount) == (None, None, None)
    assert decode_cursor("%%%") is None
