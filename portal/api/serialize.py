"""Claims and vehicles as the API shows them: money as strings with two decimals, dates ISO."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import url_for

from portal.auth.models import Role, User
from portal.claims.models import Attachment, Claim, ClaimLine, ClaimStatus
from portal.claims.operations import diff_snapshots
from portal.claims.rules import last_known_odometer
from portal.extensions import db
from portal.masterdata.coverage import vehicle_coverage
from portal.masterdata.models import Vehicle
from portal.money import round_money
from portal.oldparts.models import OldPart

# Who sees a vehicle owner's name and phone in full; everyone else sees them masked.
SEES_OWNER = (Role.STATION, Role.AUDITOR)


def money(value: Decimal | None) -> str | None:
    """An amount as exact text with two decimals ("230.00"); never a float."""
    return None if value is None else f"{round_money(value):.2f}"


def hours(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def moment(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def claim_summary(claim: Claim) -> dict[str, Any]:
    return {
        "number": claim.number,
        "type": claim.type.value,
        "status": claim.status.value,
        "version": claim.version,
        "vin": claim.vin,
        "station_code": claim.station.code,
        "repair_date": day(claim.repair_date),
        "total_amount": money(claim.total_amount),
        "approved_total_amount": money(claim.approved_total_amount),
        "flagged": claim.is_flagged,
        "submitted_at": moment(claim.submitted_at),
    }


def _number(claim: Claim | None) -> str | None:
    return claim.number if claim is not None else None


def claim_detail(claim: Claim) -> dict[str, Any]:
    """The whole claim: header, amounts, lines, flags, events, versions, comments, attachments."""
    approved = claim.approved_total_amount is not None
    data = claim_summary(claim)
    data.update(
        {
            "revision": claim.revision,
            "station_name": claim.station.name,
            "vehicle": vehicle_summary(claim.vehicle) if claim.vehicle else None,
            "odometer_km": claim.odometer_km,
            "fault_date": day(claim.fault_date),
            "fault_code": claim.fault_code.code if claim.fault_code else None,
            "causal_part": claim.causal_part.number if claim.causal_part else None,
            "description": claim.complaint,
            "cause": claim.cause,
            "correction": claim.correction,
            "goodwill_reason": claim.goodwill_reason,
            "outsourced_request": (
                claim.outsourced_request.number if claim.outsourced_request else None
            ),
            "appraisal": claim.appraisal.number if claim.appraisal else None,
            "used_by": _number(claim.used_by),
            "fulfilment": claim.fulfilment,
            "shipper_code": claim.shipper_org.code if claim.shipper_org else None,
            "carrier": claim.carrier or None,
            "tracking_no": claim.tracking_no or None,
            "freight_amount": money(claim.freight_amount),
            "shipped_at": moment(claim.shipped_at),
            "received_at": moment(claim.received_at),
            "created_at": moment(claim.created_at),
            "updated_at": moment(claim.updated_at),
            "decided_at": moment(claim.decided_at),
            "valid_until": day(claim.valid_until),
            "decision_reason": claim.decision_reason,
            "auto_decision_rule": claim.auto_decision_rule,
            "responsible_supplier": (
                claim.responsible_supplier.code if claim.responsible_supplier else None
            ),
            "amounts": {
                "parts": money(claim.parts_amount),
                "handling": money(claim.handling_amount),
                "labor": money(claim.labor_amount),
                "other": money(claim.other_amount),
                "total": money(claim.total_amount),
            },
            "approved_amounts": (
                {
                    "parts": money(claim.approved_parts_amount),
                    "handling": money(claim.approved_handling_amount),
                    "labor": money(claim.approved_labor_amount),
                    "other": money(claim.approved_other_amount),
                    "total": money(claim.approved_total_amount),
                }
                if approved
                else None
            ),
            "lines": [line_json(line) for line in claim.lines],
            "flags": [
                {
                    "rule": f.rule,
                    "field": f.field,
                    "message": f.display_message,
                    "version": f.version,
                }
                for f in claim.flags
            ],
            "events": [
                {
                    "action": e.action,
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "at": moment(e.at),
                    "by": e.user.username if e.user else None,
                    "reason": e.display_reason,
                    "version": e.version,
                }
                for e in claim.events
            ],
            "versions": [
                {
                    "version": v.version,
                    "submitted_at": moment(v.submitted_at),
                    "submitted_by": v.submitted_by.username if v.submitted_by else None,
                    "changes": (
                        diff_snapshots(claim.versions[i - 1].snapshot, v.snapshot) if i else []
                    ),
                }
                for i, v in enumerate(claim.versions)
            ],
            "comments": [
                {
                    "id": c.id,
                    "body": c.body,
                    "by": c.user.username,
                    "at": moment(c.created_at),
                }
                for c in claim.comments
            ],
            "attachments": [attachment_json(a) for a in claim.attachments],
        }
    )
    return data


def line_json(line: ClaimLine) -> dict[str, Any]:
    """A line under the request's field names, plus its id, price and approved values."""
    return {
        "id": line.id,
        "kind": line.kind.value,
        "part_number": line.part.number if line.part else None,
        "qty": line.qty,
        "operation_code": line.operation.code if line.operation else None,
        "hours": hours(line.hours),
        "amount": money(line.amount),
        "description": line.description,
        "unit_price": money(line.unit_price),
        "approved_qty": line.approved_qty,
        "approved_hours": hours(line.approved_hours),
        "approved_amount": money(line.approved_amount),
        "reason_code": line.reason_code,
        "note": line.decision_note,
    }


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "uploaded_at": moment(attachment.uploaded_at),
        "url": url_for(
            "api.claim_attachment",
            number=attachment.claim.number,
            attachment_id=attachment.id,
        ),
    }


def vehicle_summary(vehicle: Vehicle) -> dict[str, Any]:
    return {
        "vin": vehicle.vin,
        "model_code": vehicle.model.code,
        "model_name": vehicle.model.name,
        "sale_date": day(vehicle.sale_date),
        "odometer_km": vehicle.odometer_km,
    }


def vehicle_detail(vehicle: Vehicle, user: User, on_day: date | None = None) -> dict[str, Any]:
    """The vehicle, its submitted claims count and its coverage per group as of `on_day`, at
    its last known odometer reading (the imported one or a submitted claim's, the higher)."""
    full_owner = user.role in SEES_OWNER
    odometer_km = last_known_odometer(vehicle, None)
    claims_count = db.session.scalar(
        sa.select(sa.func.count(Claim.id)).where(
            Claim.vehicle_id == vehicle.id, Claim.status != ClaimStatus.DRAFT
        )
    )
    return {
        "vin": vehicle.vin,
        "model_code": vehicle.model.code,
        "model_name": vehicle.model.name,
        "engine_no": vehicle.engine_no,
        "production_date": day(vehicle.production_date),
        "sale_date": day(vehicle.sale_date),
        "odometer_km": odometer_km,
        "selling_station": vehicle.selling_station.code if vehicle.selling_station else None,
        "owner_name": vehicle.owner_name if full_owner else vehicle.masked_owner_name,
        "owner_phone": vehicle.owner_phone if full_owner else vehicle.masked_owner_phone,
        "claims_count": claims_count,
        "coverage": [c.as_dict() for c in vehicle_coverage(vehicle, on_day, odometer_km)],
    }


def old_part_summary(part: OldPart, user: User, today: date) -> dict[str, Any]:
    """An old part as the list shows it to `user`; `overdue` is true only while it is not
    waived; `shipment_number` is the station's return shipment, null for a supplier it did not
    go to."""
    station_shipment = part.station_shipment_for(user)
    return {
        "tag": part.tag,
        "claim_number": part.claim.number,
        "part_number": part.part.number,
        "part_name": part.part.name,
        "disposition": part.disposition.value,
        "status": part.status.value,
        "deadline": day(part.deadline),
        "days_left": part.days_left(today),
        "overdue": part.is_overdue,
        "waived": part.waived_at is not None,
        "destination": part.destination.code if part.destination else None,
        "supplier": part.supplier.code if part.supplier else None,
        "inspection": part.inspection.value if part.inspection else None,
        "shipment_number": station_shipment.number if station_shipment else None,
    }


def old_part_detail(part: OldPart, user: User, today: date) -> dict[str, Any]:
    """The part as the list shows it, its way so far, and its events oldest first."""
    data = old_part_summary(part, user, today)
    data.update(
        {
            "station_code": part.station.code,
            "forward_shipment_number": (
                part.forward_shipment.number if part.forward_shipment else None
            ),
            "received_at": moment(part.received_at),
            "inspected_at": moment(part.inspected_at),
            "inspection_note": part.inspection_note,
            "finding_status": part.finding_status.value if part.finding_status else None,
            "proposed_inspection": (
                part.proposed_inspection.value if part.proposed_inspection else None
            ),
            "finding_review_note": part.finding_review_note,
            "waive_reason": part.waive_reason,
            "written_off_at": moment(part.written_off_at),
            "events": [
                {
                    "action": e.action,
                    "at": moment(e.at),
                    "by": e.user.username if e.user else None,
                    "note": note,
                }
                for e, note in part.events_for(user)
            ],
        }
    )
    return data
