"""Claims, taken to their state by the real workflow: created, submitted, decided, settled.

    ClaimFactory(fleet=fleet)                          a draft of station A (`claim_payload`)
    ClaimFactory(fleet=fleet, in_review=True)          submitted with auto-approval off
    ClaimFactory(fleet=fleet, approved=True, station="station_b", vin=..., lines=[...])

Keyword arguments that are not the factory's own override the claim's payload
(`claim_payload`). Traits, one per state:

- draft: created only (the default);
- submitted: submitted under the settings as they are (auto-approved or queued);
- in_review: submitted with auto-approval switched off for the submit: waiting for an auditor;
- approved: approved by the auditor as claimed (with the `cuts` given, if any);
- partially_approved: approved with the first line cut to 95.00;
- rejected: rejected by the auditor;
- returned: returned (退单) to the station by the auditor, with a reason;
- settled: approved, then settled by a released settlement run of the current month;
- with_old_parts: approved, with `units` (2) of the part `old_part` (P-100) and no other line:
  an old part per unit, due back where the part's disposition says (`old_parts(claim)`);
- emergency_part: an emergency part request (2 x P-100) drop-shipped by station ST-B (a type,
  not a state: combine it with a state).

`own_vehicle=True` files the claim for a vehicle of its own (sold with the fleet's vehicle by
the filer's station), so that several claims for the same part flag no duplicate.
"""

from __future__ import annotations

from decimal import Decimal

import factory
import sqlalchemy as sa

from portal.claims import operations as ops
from portal.claims.decisions import Decision, LineDecision, decide_claim
from portal.claims.models import Claim, ClaimSettings, ClaimStatus
from portal.claims.payload import parse_claim
from portal.extensions import db
from portal.oldparts.models import OldPart
from tests.factories.base import BaseFactory
from tests.factories.world import claim_payload

PARTIAL_CUT = {0: {"approved_amount": Decimal("95.00"), "reason": "partial_approval"}}
RETURN_REASON = "Photos of the damaged part are missing"
REJECT_REASON = "not a warranty fault"


def _fleet(o):
    if o.fleet is None:
        raise TypeError("ClaimFactory needs fleet=Fleet.build(world)")
    return o.fleet


class ClaimFactory(BaseFactory):
    class Meta:
        model = Claim

    class Params:
        draft = factory.Trait()
        submitted = factory.Trait(submit=True)
        in_review = factory.Trait(submit=True, auto_approve=False)
        approved = factory.Trait(in_review=True, decision="approve")
        partially_approved = factory.Trait(approved=True, cuts=PARTIAL_CUT)
        rejected = factory.Trait(in_review=True, decision="reject")
        returned = factory.Trait(in_review=True, decision="return")
        settled = factory.Trait(approved=True, settle=True)
        with_old_parts = factory.Trait(
            approved=True,
            lines=factory.LazyAttribute(
                lambda o: [{"kind": "part", "part_number": o.old_part, "qty": o.units}]
            ),
        )
        emergency_part = factory.Trait(
            type="emergency_part",
            odometer_km=None,
            fault_code=None,
            causal_part=None,
            fulfilment="drop_ship",
            shipper_code="ST-B",
            lines=[{"kind": "part", "part_number": "P-100", "qty": 2}],
        )
        old_part = "P-100"
        units = 2
        own_vehicle = False

    fleet = None  # required: the Fleet (and through it the World) the claim is made of
    station = "station"  # the world's user who files it
    filer = factory.LazyAttribute(lambda o: _fleet(o).world.users[o.station])
    auditor = factory.LazyAttribute(lambda o: _fleet(o).world.users.get("auditor"))
    vin = factory.LazyAttribute(
        lambda o: (
            _fleet(o).sibling_vehicle(o.filer.organisation).vin
            if o.own_vehicle
            else _fleet(o).vehicle.vin
        )
    )
    submit = False
    auto_approve = None  # None: the settings as they are; False: off for the submit
    decision = None  # "approve" | "reject" | "return"
    cuts = None  # {line index: LineDecision fields} for an approval
    reason = None  # the rejection's or the return's reason
    settle = False

    @classmethod
    def _create(
        cls,
        model_class,
        *,
        fleet,
        station,
        filer,
        auditor,
        submit,
        auto_approve,
        decision,
        cuts,
        reason,
        settle,
        **overrides,
    ) -> Claim:
        claim = ops.create_claim(filer, parse_claim(claim_payload(fleet, **overrides)))
        if not submit:
            return claim
        _submit(claim, filer, auto_approve)
        if decision is None:
            return claim
        assert claim.status is ClaimStatus.IN_REVIEW, claim.status
        if decision == "approve":
            lines = [LineDecision(claim.lines[i].id, **d) for i, d in (cuts or {}).items()]
            decide_claim(claim.id, auditor, Decision("approve", lines))
        elif decision == "reject":
            decide_claim(claim.id, auditor, Decision("reject", reason=reason or REJECT_REASON))
        elif decision == "return":
            ops.return_claim(claim, auditor, reason or RETURN_REASON)
        else:
            raise ValueError(f"unknown decision {decision!r}")
        if settle:
            from tests.factories.settlement import SettlementRunFactory

            SettlementRunFactory(world=fleet.world, released=True)
            db.session.refresh(claim)
            assert claim.status is ClaimStatus.SETTLED, claim.status
        return claim


def _submit(claim: Claim, filer, auto_approve: bool | None) -> None:
    if auto_approve is None:
        ops.submit_claim(claim, filer)
        return
    settings = ClaimSettings.current()
    before, settings.auto_approve_enabled = settings.auto_approve_enabled, auto_approve
    try:
        ops.submit_claim(claim, filer)
    finally:
        settings.auto_approve_enabled = before
        db.session.flush()
    if not auto_approve:
        assert claim.status is ClaimStatus.IN_REVIEW, claim.status


def old_parts(claim: Claim) -> list[OldPart]:
    """The claim's old parts, by tag."""
    return list(
        db.session.scalars(
            sa.select(OldPart).where(OldPart.claim_id == claim.id).order_by(OldPart.tag)
        )
    )
