"""The auditor's cuts in a partial approval, one recipe per kind of cut, each with its reason
code and note."""

from __future__ import annotations

from decimal import Decimal

from portal.claims.decisions import LineDecision
from portal.claims.models import Claim, ClaimLine, LineKind
from portal.demo.claims.stories import DIAGNOSIS_FEE, HALF, TOWING_FEE, ZERO, Extra
from portal.demo.context import DemoError
from portal.money import round_money

# Lines a partial approval cuts, added to the claim so that the cut has something to cut.
RECIPE_LINES = {
    "diagnosis": (Extra("other", DIAGNOSIS_FEE, "120.00"),),
    "towing": (Extra("other", TOWING_FEE, "650.00"),),
    "wear_item": (Extra("part", "5205020"),),
}


def cut_lines(claim: Claim, recipe: str, **context) -> list[LineDecision]:
    """The auditor's cuts on `claim`'s lines for one kind of partial approval."""
    cuts = []
    for line in claim.lines:
        cut = _cut(claim, line, recipe, **context)
        if cut is not None:
            cuts.append(cut)
    if not cuts:
        raise DemoError(f"nothing to cut on {claim.number} for {recipe}")
    return cuts


def _cut(
    claim: Claim, line: ClaimLine, recipe: str, *, other: str = "", cap: Decimal | None = None
) -> LineDecision | None:
    kind, text = line.kind, line.description or ""
    if recipe == "excessive_labor" and kind is LineKind.LABOR and line.operation is not None:
        standard = line.operation.standard_hours
        if line.hours > standard:
            return LineDecision(
                line.id,
                approved_hours=standard,
                reason="excessive_labor",
                note=f"按工时定额核定 {standard} 小时。 Approved at the flat rate.",
            )
    elif recipe == "diagnosis" and kind is LineKind.OTHER and text == DIAGNOSIS_FEE:
        return LineDecision(
            line.id,
            approved_amount=ZERO,
            reason="duplicate_charge",
            note="诊断已含在维修工时中。 Diagnosis is part of the labor operation.",
        )
    elif recipe == "towing" and kind is LineKind.OTHER and text == TOWING_FEE:
        return LineDecision(
            line.id,
            approved_amount=round_money(line.amount * HALF),
            reason="insufficient_documentation",
            note="拖车发票不全，按50%核定。 Towing invoice incomplete: 50% approved.",
        )
    elif recipe == "wear_item" and kind is LineKind.PART and line.part.group == "wear":
        return LineDecision(
            line.id,
            approved_qty=0,
            reason="not_covered",
            note="易损件不在保修范围。 Wear items are not covered.",
        )
    elif recipe == "duplicate" and kind is LineKind.PART and line.part_id == claim.causal_part_id:
        return LineDecision(
            line.id,
            approved_qty=0,
            reason="duplicate_charge",
            note=f"配件已在索赔单 {other} 中结算，仅批准工时。 Part already paid on {other}.",
        )
    elif (
        recipe == "part_not_returned"
        and kind is LineKind.PART
        and line.part_id == claim.causal_part_id
    ):
        return LineDecision(
            line.id,
            approved_qty=line.qty - 1,
            reason="part_not_returned",
            note="旧件未按规定返回，配件费暂不结算。 Old part not returned: part withheld.",
        )
    elif recipe == "goodwill" and kind in (LineKind.PART, LineKind.LABOR):
        return LineDecision(
            line.id,
            approved_amount=round_money(line.amount * HALF),
            reason="outside_coverage",
            note="超出保修期，商誉支持50%。 Outside coverage: 50% goodwill.",
        )
    elif recipe == "cap" and kind is LineKind.OTHER and cap is not None and cap < line.amount:
        return LineDecision(
            line.id,
            approved_amount=cap,
            reason="partial_approval",
            note=f"按配件中心价格上浮10%核定上限 {cap} 元。 Cap: parts-centre price +10%.",
        )
    elif recipe == "trip_km" and kind is LineKind.TRIP:
        km = line.qty * 3 // 4
        return LineDecision(
            line.id,
            approved_qty=km,
            reason="insufficient_documentation",
            note=f"按导航里程核定往返 {km} 公里。 Round trip approved per navigation: {km} km.",
        )
    elif recipe == "roadside_hours" and kind is LineKind.LABOR:
        hours = max(Decimal("1.00"), line.hours - Decimal("1.50"))
        return LineDecision(
            line.id,
            approved_hours=hours,
            reason="excessive_labor",
            note=f"现场作业按 {hours} 小时核定。 On-site work approved at {hours} h.",
        )
