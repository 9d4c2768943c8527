"""Claim amounts (DESIGN 6): each line rounded to 0.01 half-up; totals are sums of rounded lines.

parts = sum(qty x unit price on the repair date); handling = parts x the station's handling rate;
labor = sum(hours x the station's labor rate); other = sum(other, trip and package lines);
total = parts + handling + labor + other.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from portal.claims.models import Claim, ClaimLine, LineKind
from portal.money import money_sum, round_money

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Totals:
    parts: Decimal
    handling: Decimal
    labor: Decimal
    other: Decimal

    @property
    def total(self) -> Decimal:
        return self.parts + self.handling + self.labor + self.other


def line_amount(kind: LineKind, *, qty=None, hours=None, unit_price=None, amount=None) -> Decimal:
    """The rounded amount of one line from its quantity or hours and its price or rate."""
    if kind in (LineKind.PART, LineKind.TRIP):
        return round_money(Decimal(qty or 0) * (unit_price or ZERO))
    if kind is LineKind.LABOR:
        return round_money((hours or ZERO) * (unit_price or ZERO))
    return round_money(amount or ZERO)


def totals(lines: list[ClaimLine], handling_rate: Decimal, *, approved: bool = False) -> Totals:
    """Totals of claimed (or approved) line amounts."""

    def amount(line: ClaimLine) -> Decimal:
        if approved:
            return line.approved_amount if line.approved_amount is not None else ZERO
        return line.amount

    parts = money_sum(amount(ln) for ln in lines if ln.kind is LineKind.PART)
    labor = money_sum(amount(ln) for ln in lines if ln.kind is LineKind.LABOR)
    other = money_sum(
        amount(ln) for ln in lines if ln.kind in (LineKind.OTHER, LineKind.TRIP, LineKind.PACKAGE)
    )
    return Totals(parts, round_money(parts * handling_rate), labor, other)


def apply_claimed_totals(claim: Claim) -> None:
    t = totals(claim.lines, claim.parts_handling_rate)
    claim.parts_amount, claim.handling_amount = t.parts, t.handling
    claim.labor_amount, claim.other_amount, claim.total_amount = t.labor, t.other, t.total


def apply_approved_totals(claim: Claim) -> None:
    t = totals(claim.lines, claim.parts_handling_rate, approved=True)
    claim.approved_parts_amount, claim.approved_handling_amount = t.parts, t.handling
    claim.approved_labor_amount, claim.approved_other_amount = t.labor, t.other
    claim.approved_total_amount = t.total
