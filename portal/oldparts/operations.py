"""The old-part workflow (DESIGN 5). Operations flush; the view or job commits.

awaiting_return -> shipped -> received -> inspected -> (forwarded) -> written_off;
scrap_at_station parts are written off at once and leave a residual to deduct.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.auditlog.operations import AuditKind, record
from portal.auth.models import Role, User
from portal.claims import attachments
from portal.claims.models import Claim, ClaimType, LineKind
from portal.claims.signals import claim_approved
from portal.db import utcnow
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.extensions import db
from portal.labels import in_sentence
from portal.masterdata.models import OEM_CODE, Disposition, Organisation
from portal.messages import define, plain_params
from portal.money import round_money
from portal.notifications.operations import notify_organisation
from portal.oldparts.models import (
    REMOVES_FROM_RECOVERY,
    ChargeKind,
    FindingStatus,
    Inspection,
    OldPart,
    OldPartEvent,
    OldPartPhoto,
    OldPartStatus,
    ReturnShipment,
    ShipmentStatus,
    StationCharge,
)
from portal.oldparts.signals import finding_in_force, overdue_waived

# Claims whose part lines are failed parts (an emergency part request moves a new part).
FAILED_PART_TYPES = frozenset(
    {ClaimType.REPAIR, ClaimType.MAJOR_ASSEMBLY, ClaimType.ROADSIDE, ClaimType.CAMPAIGN}
)
DEFAULT_RETURN_DAYS = 30


def return_days() -> int:
    return int(current_app.config.get("OLD_PART_RETURN_DAYS", DEFAULT_RETURN_DAYS))


def _event(
    part: OldPart,
    user: User | None,
    action: str,
    note: str = "",
    message: tuple[str, dict] | None = None,
) -> None:
    """A step of the part's timeline: `note` is what a person wrote, `message` the portal's own
    words (a key of portal.messages and its parameters, written out in the reader's language)."""
    event = OldPartEvent(old_part=part, user=user, action=action, note=note)
    if message is not None:
        event.message_key, event.params = message[0], plain_params(message[1])
    db.session.add(event)


# The portal's words in old-part timelines and notifications (portal.messages).
DEADLINE = define("old_part.deadline", _l("The deadline was %(deadline)s."), deadline="date")
MISSING = define("old_part.missing", _l("Missing from the shipment."))
IN_FORCE = define(
    "old_part.result_in_force",
    _l("The result in force: %(result)s."),
    result="word:inspection",
    example={"result": "no_fault_found"},
)
MISSING_FROM_SHIPMENT = define(
    "old_part.missing_from_shipment",
    _l("Old part %(tag)s was missing from shipment %(number)s."),
)
PROPOSED = define(
    "old_part.finding_proposed",
    _l(
        "Supplier %(supplier)s proposes %(result)s for its old part %(tag)s: "
        "confirm or overrule it."
    ),
    result="word:inspection",
    example={"supplier": "SU-A", "result": "no_fault_found", "tag": "OP-1"},
)
REVIEWED = define(
    "old_part.finding_reviewed",
    _l("Your finding on old part %(tag)s: %(outcome)s. The result in force: %(result)s."),
    outcome="word:finding",
    result="word:inspection",
    example={"tag": "OP-1", "outcome": "overruled", "result": "confirmed_defect"},
)
WRONG_PART = define(
    "old_part.wrong_part",
    _l("Old part %(tag)s of claim %(number)s is not the part claimed: please explain."),
)


@claim_approved.connect
def _old_parts_of_approved_claim(claim: Claim, today: date, **_extra) -> None:
    create_for_approved_claim(claim, today)


def create_for_approved_claim(claim: Claim, today: date) -> list[OldPart]:
    """On approval: one old part per approved unit of each parts line, routed by disposition.

    Safe to call twice: lines that already have old parts are skipped.
    """
    if claim.type not in FAILED_PART_TYPES:
        return []
    done = set(
        db.session.scalars(sa.select(OldPart.claim_line_id).where(OldPart.claim_id == claim.id))
    )
    oem = db.session.scalar(sa.select(Organisation).where(Organisation.code == OEM_CODE))
    created: list[OldPart] = []
    for line in claim.lines:
        if line.kind is not LineKind.PART or not line.approved_qty or line.id in done:
            continue
        part = line.part
        scrap = part.disposition is Disposition.SCRAP_AT_STATION
        destination = None
        if part.disposition is Disposition.RETURN_TO_OEM:
            destination = oem
        elif part.disposition is Disposition.RETURN_TO_SUPPLIER:
            destination = part.supplier
        supplier = claim.responsible_supplier or part.supplier
        for unit in range(1, line.approved_qty + 1):
            old = OldPart(
                tag=f"{claim.number}-{line.position:02d}{unit:02d}",
                claim=claim,
                line=line,
                part=part,
                station_id=claim.station_id,
                supplier=supplier,
                disposition=part.disposition,
                destination=destination,
                unit_price=line.unit_price or Decimal("0.00"),
                status=OldPartStatus.WRITTEN_OFF if scrap else OldPartStatus.AWAITING_RETURN,
                deadline=None if scrap else today + timedelta(days=return_days()),
                written_off_at=utcnow() if scrap else None,
            )
            db.session.add(old)
            _event(old, None, "scrapped_at_station" if scrap else "created")
            created.append(old)
        if scrap:
            residual = round_money((line.unit_price or 0) * line.approved_qty * part.scrap_rate)
            db.session.add(
                StationCharge(
                    kind=ChargeKind.SCRAP_RESIDUAL,
                    station_id=claim.station_id,
                    claim=claim,
                    claim_line_id=line.id,
                    amount=residual,
                )
            )
    db.session.flush()
    return created


def mark_overdue(today: date) -> int:
    """Parts not shipped by their deadline become overdue and are charged back to the station.

    Re-selects by state, so running it twice (or on two workers) marks and charges once.
    """
    parts = db.session.scalars(
        sa.select(OldPart)
        .where(
            OldPart.status == OldPartStatus.AWAITING_RETURN,
            OldPart.deadline < today,
            OldPart.overdue_at.is_(None),
        )
        .with_for_update(skip_locked=True)
    ).all()
    for part in parts:
        part.overdue_at = utcnow()
        line = part.line
        share = round_money((line.approved_amount or 0) / (line.approved_qty or 1))
        db.session.add(
            StationCharge(
                kind=ChargeKind.OVERDUE,
                station_id=part.station_id,
                claim_id=part.claim_id,
                claim_line_id=line.id,
                old_part_id=part.id,
                amount=share,
            )
        )
        _event(part, None, "overdue", message=(DEADLINE, {"deadline": part.deadline}))
        record(
            AuditKind.OVERDUE_CHARGED,
            None,
            subject=part.tag,
            claim_number=part.claim.number,
            amount_before=Decimal("0.00"),
            amount_after=share,
            after={"deadline": part.deadline},
        )
    db.session.flush()
    return len(parts)


def waive_overdue(part: OldPart, user: User, reason: str) -> None:
    """An auditor lifts an overdue chargeback, with a reason."""
    if user.role is not Role.AUDITOR:
        raise DomainError(str(_l("Only auditors waive overdue old parts.")))
    if not part.is_overdue:
        raise Conflict(str(_l("Old part %(tag)s is not overdue.", tag=part.tag)))
    if not reason.strip():
        raise ValidationFailed(
            str(_l("Say why the chargeback is waived.")), {"reason": str(_l("is required"))}
        )
    if part.waived_at is not None:
        raise Conflict(str(_l("The chargeback of %(tag)s is already waived.", tag=part.tag)))
    charge = db.session.scalar(sa.select(StationCharge).where(StationCharge.old_part_id == part.id))
    # A charge already deducted is not undone: settlement credits it back on the station's
    # next statement (an adjustment, once).
    part.waived_at = utcnow()
    part.waived_by_id = user.id
    part.waive_reason = reason.strip()
    if charge is not None:
        charge.waived_at = part.waived_at
    _event(part, user, "overdue_waived", reason.strip())
    record(
        AuditKind.OVERDUE_WAIVED,
        user,
        subject=part.tag,
        claim_number=part.claim.number,
        amount_before=charge.amount if charge is not None else None,
        amount_after=Decimal("0.00") if charge is not None else None,
        after={"deducted_in_run": charge.settled_in_run_id if charge is not None else None},
        note=reason.strip(),
    )
    db.session.flush()
    overdue_waived.send(part, user=user, charge=charge)


# -- return shipments ------------------------------------------------------------------------------


def _parts_by_tag(tags: list[str]) -> dict[str, OldPart]:
    clean = sorted({t.strip() for t in tags if t and t.strip()})
    found = db.session.scalars(sa.select(OldPart).where(OldPart.tag.in_(clean))).all()
    return {p.tag: p for p in found}


def _shipment_number(prefix: str) -> str:
    return f"{prefix}{utcnow():%y%m%d}-{secrets.token_hex(3).upper()}"


def create_return_shipment(user: User, tags: list[str]) -> ReturnShipment:
    """A station packs its parts awaiting return for one destination into a shipment."""
    if user.role is not Role.STATION:
        raise DomainError(str(_l("Only stations pack old-part returns.")))
    parts = _parts_by_tag(tags)
    errors: dict[str, str] = {}
    if not parts:
        errors["tags"] = str(_l("choose at least one part"))
    for tag in {t.strip() for t in tags if t and t.strip()} - parts.keys():
        errors[f"tag {tag}"] = str(_l("no such old part"))
    for tag, part in parts.items():
        if part.station_id != user.organisation_id:
            errors[f"tag {tag}"] = str(_l("no such old part"))  # another station's: not leaked
        elif part.status is not OldPartStatus.AWAITING_RETURN or part.shipment_id is not None:
            errors[f"tag {tag}"] = str(_l("is not awaiting return"))
    destinations = {p.destination_org_id for p in parts.values()}
    if len(destinations) > 1:
        errors["tags"] = str(_l("one shipment goes to one destination"))
    if errors:
        raise ValidationFailed(str(_l("The shipment was not created.")), errors)
    shipment = ReturnShipment(
        number=_shipment_number("RS"),
        from_org_id=user.organisation_id,
        to_org_id=destinations.pop(),
        created_by=user,
    )
    db.session.add(shipment)
    for part in parts.values():
        part.shipment = shipment
        _event(part, user, "packed", shipment.number)
    db.session.flush()
    return shipment


def ship(shipment: ReturnShipment, user: User, carrier: str, tracking_no: str) -> None:
    if user.organisation_id != shipment.from_org_id:
        raise DomainError(str(_l("Only the sender ships this shipment.")))
    if shipment.status is not ShipmentStatus.PACKING:
        raise Conflict(str(_l("Shipment %(number)s is already shipped.", number=shipment.number)))
    errors = {}
    if not carrier.strip():
        errors["carrier"] = str(_l("is required"))
    if not tracking_no.strip():
        errors["tracking_no"] = str(_l("is required"))
    if errors:
        raise ValidationFailed(str(_l("The shipment was not shipped.")), errors)
    shipment.carrier, shipment.tracking_no = carrier.strip()[:80], tracking_no.strip()[:80]
    shipment.status = ShipmentStatus.SHIPPED
    shipment.shipped_at = utcnow()
    forwarded = shipment.from_org.is_oem
    for part in parts_in(shipment):
        part.status = OldPartStatus.FORWARDED if forwarded else OldPartStatus.SHIPPED
        _event(
            part,
            user,
            "forwarded" if forwarded else "shipped",
            f"{shipment.number} {shipment.carrier} {shipment.tracking_no}",
        )
    db.session.flush()


def parts_in(shipment: ReturnShipment) -> list[OldPart]:
    column = OldPart.forward_shipment_id if shipment.from_org.is_oem else OldPart.shipment_id
    return list(
        db.session.scalars(sa.select(OldPart).where(column == shipment.id).order_by(OldPart.tag))
    )


def can_receive(part: OldPart, user: User) -> bool:
    """The destination receives: OEM auditors for the OEM, the supplier's users for it."""
    if part.destination is None:
        return False
    if part.destination.is_oem:
        return user.role is Role.AUDITOR
    return user.role is Role.SUPPLIER and user.organisation_id == part.destination_org_id


def receive(shipment: ReturnShipment, user: User, tag: str, note: str = "") -> OldPart:
    """Scan or type one tag of an arrived shipment; a wrong or foreign tag is refused."""
    part = _parts_by_tag([tag]).get(tag.strip())
    if part is None or part.shipment_id != shipment.id:
        raise ValidationFailed(
            str(_l("Tag %(tag)s is not in shipment %(number)s.", tag=tag, number=shipment.number)),
            {"tag": str(_l("not in this shipment"))},
        )
    if not can_receive(part, user):
        raise DomainError(str(_l("Only the destination receives this shipment.")))
    if part.status is not OldPartStatus.SHIPPED:
        raise Conflict(
            str(
                _l("Old part %(tag)s is %(status)s.", tag=part.tag, status=in_sentence(part.status))
            )
        )
    part.status = OldPartStatus.RECEIVED
    part.received_at = utcnow()
    part.receive_note = note.strip()
    _event(part, user, "received", note.strip())
    if all(p.status is not OldPartStatus.SHIPPED for p in parts_in(shipment)):
        shipment.status = ShipmentStatus.RECEIVED
        shipment.received_at = utcnow()
    db.session.flush()
    return part


def report_missing(shipment: ReturnShipment, user: User, tag: str, note: str) -> OldPart:
    """The receiver notes a part listed on the packing list that did not arrive."""
    part = _parts_by_tag([tag]).get(tag.strip())
    if part is None or part.shipment_id != shipment.id or not can_receive(part, user):
        raise ValidationFailed(
            str(_l("Tag %(tag)s is not in shipment %(number)s.", tag=tag, number=shipment.number)),
            {"tag": str(_l("not in this shipment"))},
        )
    note = note.strip()[:2000]
    part.receive_note = note or str(_l("missing from the shipment"))
    _event(part, user, "missing", note, None if note else (MISSING, {}))
    notify_organisation(
        part.station_id,
        MISSING_FROM_SHIPMENT,
        {"tag": part.tag, "number": shipment.number},
        f"/claims/{part.claim.number}",
    )
    db.session.flush()
    return part


def inspect(part: OldPart, user: User, result: Inspection | str, note: str = "") -> None:
    """Record what the part shows. no_fault_found and misuse take its line out of the
    supplier's recovery (read by settlement); wrong_part asks the station what happened. A
    supplier inspecting a part it is charged for only proposes: the auditors review it."""
    try:
        result = Inspection(result)
    except ValueError:
        raise ValidationFailed(
            str(_l("Choose an inspection result.")), {"inspection": str(_l("unknown result"))}
        ) from None
    if part.status is not OldPartStatus.RECEIVED:
        raise Conflict(
            str(
                _l("Old part %(tag)s is %(status)s.", tag=part.tag, status=in_sentence(part.status))
            )
        )
    if not can_receive(part, user):
        raise DomainError(str(_l("Only the receiver inspects this part.")))
    part.inspection = result
    part.inspection_note = note.strip()
    part.inspected_at = utcnow()
    part.inspected_by_id = user.id
    part.status = OldPartStatus.INSPECTED
    if judges_own_part(part, user):
        # The party that pays never has the last word on its own part: a proposal.
        part.finding_status = FindingStatus.PROPOSED
        part.proposed_inspection = result
        _event(part, user, f"proposed_{result.value}", note.strip())
        _tell_auditors(
            PROPOSED, {"supplier": part.supplier.code, "result": result, "tag": part.tag}, part
        )
        db.session.flush()
        return
    _event(part, user, f"inspected_{result.value}", note.strip())
    _audit_finding(AuditKind.INSPECTION_RECORDED, part, user, note.strip())
    _finding_in_force(part, user)
    db.session.flush()


def judges_own_part(part: OldPart, user: User) -> bool:
    """A supplier inspecting a part it is charged for."""
    return (
        user.role is Role.SUPPLIER
        and part.supplier_id is not None
        and user.organisation_id == part.supplier_id
    )


def _tell_auditors(key: str, params: dict, part: OldPart) -> None:
    oem = db.session.scalar(sa.select(Organisation).where(Organisation.code == OEM_CODE))
    if oem is not None:
        notify_organisation(oem.id, key, params, f"/old-parts/{part.tag}", roles=[Role.AUDITOR])


def _locked_part(part: OldPart) -> OldPart:
    """The part re-read and locked (PostgreSQL; SQLite has one writer): two auditors reviewing
    one finding at once, the second waits and finds it reviewed."""
    return db.session.scalar(
        sa.select(OldPart)
        .where(OldPart.id == part.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _review(part: OldPart, user: User) -> OldPart:
    if user.role is not Role.AUDITOR:
        raise DomainError(str(_l("Only auditors review a supplier's finding.")))
    part = _locked_part(part)
    if part.finding_status is not FindingStatus.PROPOSED:
        raise Conflict(
            str(_l("The finding on old part %(tag)s is not waiting for review.", tag=part.tag))
        )
    part.finding_reviewed_at = utcnow()
    part.finding_reviewed_by_id = user.id
    return part


def confirm_finding(part: OldPart, user: User, note: str = "") -> OldPart:
    """An auditor confirms a supplier's finding on its own part: from now on it counts."""
    part = _review(part, user)
    part.finding_status = FindingStatus.CONFIRMED
    part.finding_review_note = note.strip()
    _event(part, user, "finding_confirmed", note.strip())
    _audit_finding(AuditKind.FINDING_CONFIRMED, part, user, note.strip())
    _finding_in_force(part, user)
    _tell_supplier(part)
    db.session.flush()
    return part


def overrule_finding(part: OldPart, user: User, result: Inspection | str, reason: str) -> OldPart:
    """An auditor overrules a supplier's finding on its own part with another result and a
    reason; the auditor's result is the one in force."""
    errors: dict[str, str] = {}
    try:
        result = Inspection(result)
    except ValueError:
        errors["inspection"] = str(_l("unknown result"))
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = str(_l("is required to overrule a finding"))
    if errors:
        raise ValidationFailed(str(_l("The finding was not overruled.")), errors)
    part = _review(part, user)
    if result is part.proposed_inspection:
        raise ValidationFailed(
            str(_l("The finding was not overruled.")),
            {"inspection": str(_l("is what the supplier proposed: confirm it instead"))},
        )
    part.finding_status = FindingStatus.OVERRULED
    part.finding_review_note = reason
    part.inspection = result
    _event(part, user, "finding_overruled", reason, (IN_FORCE, {"result": result}))
    _audit_finding(AuditKind.FINDING_OVERRULED, part, user, reason)
    _finding_in_force(part, user)
    _tell_supplier(part)
    db.session.flush()
    return part


def _audit_finding(kind: AuditKind, part: OldPart, user: User, note: str) -> None:
    """A finding that counts for money, in the audit log: what was proposed, what holds."""
    record(
        kind,
        user,
        subject=part.tag,
        claim_number=part.claim.number,
        before={"proposed": part.proposed_inspection} if part.proposed_inspection else None,
        after={
            "inspection": part.inspection,
            "removes_from_recovery": part.inspection in REMOVES_FROM_RECOVERY,
        },
        note=note,
    )


def _tell_supplier(part: OldPart) -> None:
    notify_organisation(
        part.supplier_id,
        REVIEWED,
        {"tag": part.tag, "outcome": part.finding_status, "result": part.inspection},
        f"/old-parts/{part.tag}",
    )


def _finding_in_force(part: OldPart, user: User) -> None:
    """What a finding in force sets off: a wrong part asks the station what happened; one that
    changes the recovery after the claim was charged back is adjusted (settlement listens)."""
    db.session.flush()
    finding_in_force.send(part, user=user)
    result = part.inspection
    if result is Inspection.WRONG_PART:
        notify_organisation(
            part.station_id,
            WRONG_PART,
            {"tag": part.tag, "number": part.claim.number},
            f"/claims/{part.claim.number}",
        )


def forward_to_supplier(user: User, tags: list[str]) -> ReturnShipment:
    """The OEM forwards inspected parts to their supplier in a shipment of its own."""
    if user.role is not Role.AUDITOR:
        raise DomainError(str(_l("Only the OEM forwards old parts.")))
    parts = _parts_by_tag(tags)
    errors: dict[str, str] = {}
    for tag in {t.strip() for t in tags if t and t.strip()} - parts.keys():
        errors[f"tag {tag}"] = str(_l("no such old part"))
    for tag, part in parts.items():
        if (
            part.status is not OldPartStatus.INSPECTED
            or not part.destination
            or not part.destination.is_oem
        ):
            errors[f"tag {tag}"] = str(_l("is not an inspected part at the OEM"))
        elif part.forward_shipment_id is not None:
            errors[f"tag {tag}"] = str(_l("is already packed for its supplier"))
        elif part.supplier_id is None:
            errors[f"tag {tag}"] = str(_l("has no supplier"))
    suppliers = {p.supplier_id for p in parts.values()}
    if not parts:
        errors["tags"] = str(_l("choose at least one part"))
    elif len(suppliers) > 1:
        errors["tags"] = str(_l("one shipment goes to one supplier"))
    if errors:
        raise ValidationFailed(str(_l("The forwarding shipment was not created.")), errors)
    shipment = ReturnShipment(
        number=_shipment_number("FW"),
        from_org_id=user.organisation_id,
        to_org_id=suppliers.pop(),
        created_by=user,
    )
    db.session.add(shipment)
    for part in parts.values():
        part.forward_shipment = shipment
        _event(part, user, "packed_for_supplier", shipment.number)
    db.session.flush()
    return shipment


def can_write_off(part: OldPart, user: User) -> bool:
    """Whoever holds an inspected part writes it off: the receiver (unless it is packed to be
    forwarded), or the supplier it was forwarded to."""
    if part.status is OldPartStatus.INSPECTED:
        return part.forward_shipment_id is None and can_receive(part, user)
    return (
        part.status is OldPartStatus.FORWARDED
        and user.role is Role.SUPPLIER
        and user.organisation_id == part.supplier_id
    )


def write_off(part: OldPart, user: User, note: str = "") -> None:
    """核销: the end of the part's life, by whoever holds it."""
    if part.status is OldPartStatus.WRITTEN_OFF:
        raise Conflict(str(_l("Old part %(tag)s is already written off.", tag=part.tag)))
    if not can_write_off(part, user):
        raise DomainError(str(_l("Only the holder of an inspected part writes it off.")))
    part.status = OldPartStatus.WRITTEN_OFF
    part.written_off_at = utcnow()
    _event(part, user, "written_off", note.strip())
    db.session.flush()


def parts_of_claim(claim: Claim) -> list[OldPart]:
    """The claim's old parts, by tag (what the claim page and the review page list)."""
    return list(
        db.session.scalars(
            sa.select(OldPart).where(OldPart.claim_id == claim.id).order_by(OldPart.tag)
        )
    )


# -- inspection photos -----------------------------------------------------------------------------


def check_photo(data: bytes) -> tuple[str, str]:
    """(content type, extension) of an inspection photo, read from its content; refused with
    a ValidationFailed when empty, too large or not a JPEG, PNG or WebP image."""
    return attachments.check_file(
        data,
        "photo",
        types=attachments.PHOTO_TYPES,
        refusal=str(_l("Only JPEG, PNG or WebP photos can be added to an inspection.")),
    )


def add_photo(part: OldPart, user: User, filename: str, data: bytes) -> OldPartPhoto:
    """Store an inspection photo of `part` by whoever inspects it (the receiver)."""
    if not can_receive(part, user):
        raise DomainError(str(_l("Only the receiver inspects this part.")))
    content_type, ext = check_photo(data)
    photo = OldPartPhoto(
        old_part=part,
        filename=attachments.clean_filename(filename, "photo"),
        stored_name=attachments.store_file(data, ext),
        content_type=content_type,
        size=len(data),
        uploaded_by=user,
    )
    db.session.add(photo)
    db.session.flush()
    return photo


def photo_path(photo: OldPartPhoto) -> Path:
    return attachments.storage_dir() / photo.stored_name


def lines_removed_from_recovery(claim_ids: list[int]) -> set[int]:
    """Claim lines whose old part was found without fault or misused: settlement leaves them out
    of the supplier's recovery (DESIGN 5); a supplier's finding on its own part only once an
    auditor confirmed it. One query for any number of claims."""
    if not claim_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(OldPart.claim_line_id)
            .where(
                OldPart.claim_id.in_(claim_ids),
                OldPart.inspection.in_(list(REMOVES_FROM_RECOVERY)),
                sa.or_(
                    OldPart.finding_status.is_(None),
                    OldPart.finding_status != FindingStatus.PROPOSED,
                ),
            )
            .distinct()
        )
    )
