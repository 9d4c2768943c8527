"""What the API accepts and answers, declared once (pydantic v2): each answer model says its
fields and types and how it is made from the records (`of`); request models bound every value.

The claim a station sends and the auditor's decision are declared by their domains
(`portal.claims.payload.ClaimCreate`, `portal.claims.decisions.Decision`), which the pages use
too. Money is text with two decimals, hours too, rates exact text, dates ISO.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from flask import url_for
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from portal import fields as f
from portal.analysis.queries import API_GROUPS
from portal.auditlog.operations import AuditKind
from portal.auth.models import Role, User
from portal.campaigns import queries as campaign_queries
from portal.claims import campaign as campaign_work
from portal.claims import labels as claim_labels
from portal.claims.models import Attachment as AttachmentRecord
from portal.claims.models import Claim as ClaimRecord
from portal.claims.models import ClaimComment as CommentRecord
from portal.claims.models import ClaimLine as ClaimLineRecord
from portal.claims.models import ClaimStatus, ClaimType, LineKind
from portal.claims.operations import diff_snapshots
from portal.claims.rules import last_known_odometer
from portal.extensions import db
from portal.fields import Hours, Moment, Money, Rate
from portal.masterdata.campaigns import Campaign as CampaignRecord
from portal.masterdata.campaigns import CampaignKind, CampaignStatus
from portal.masterdata.coverage import Coverage as CoverageRecord
from portal.masterdata.coverage import vehicle_coverage
from portal.masterdata.models import Disposition
from portal.masterdata.models import Vehicle as VehicleRecord
from portal.masterdata.models import WarrantyContract as ContractRecord
from portal.oldparts.models import Inspection, OldPartStatus
from portal.oldparts.models import OldPart as OldPartRecord
from portal.settlement import operations as settlement_ops
from portal.settlement import queries
from portal.settlement.models import Chargeback as ChargebackRecord
from portal.settlement.models import ChargebackEvidence as EvidenceRecord
from portal.settlement.models import ChargebackStatus, RunStatus, StatementKind, StatementStatus
from portal.settlement.models import LineKind as StatementLineKind
from portal.settlement.models import SettlementRun as RunRecord
from portal.settlement.models import Statement as StatementRecord
from portal.settlement.operations import RESOLUTIONS

# Who sees a vehicle owner's name and phone in full; everyone else sees them masked.
SEES_OWNER = (Role.STATION, Role.AUDITOR)
MAX_PER_PAGE = 100
ERROR_CODES = (
    "malformed",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "too_large",
    "invalid",
    "rule_refused",
    "rate_limited",
    "server_error",
    "unavailable",
    "precondition_required",
)


class Answer(BaseModel):
    """An answer: every property is always present (null where there is no value)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


def _username(user: User | None) -> str | None:
    return user.username if user else None


# -- errors and paging -----------------------------------------------------------------------------


class ErrorDetail(Answer):
    code: f.words(*ERROR_CODES)
    message: str
    fields: dict[str, str] = Field(
        description="field (e.g. `lines[0].qty`) -> what is wrong; a refusal names its rule "
        "first (`coverage: ...`)"
    )


class Error(Answer):
    """Every answer other than success."""

    error: ErrorDetail


class Page(BaseModel):
    """`page` (from 1) and `per_page` (1 to 100; default: the portal's page size)."""

    model_config = ConfigDict(extra="ignore")

    page: f.whole(1, description="from 1") = None
    per_page: f.whole(1, MAX_PER_PAGE) = None


# -- auth ------------------------------------------------------------------------------------------


class TokenRequest(BaseModel):
    username: f.required_text(150)
    password: f.secret()


class Token(Answer):
    token: str
    expires_at: Moment


# -- vehicles --------------------------------------------------------------------------------------


class Coverage(Answer):
    model_config = ConfigDict(
        from_attributes=True, json_schema_serialization_defaults_required=True
    )

    group: str
    months: int
    km: int
    expires_on: date = Field(description="the last day covered by time")
    km_left: int | None
    in_coverage: bool
    contract: str | None = Field(
        description="the extended warranty contract in force whose limits extend the policy's"
    )

    @classmethod
    def of(cls, coverage: CoverageRecord) -> Coverage:
        return cls.model_validate(coverage.as_dict())


class Contract(Answer):
    """One coverage group an extended warranty contract (延保) extends: from its start date for
    its months, up to an odometer of its km."""

    number: str
    group: str
    start_date: date
    ends_on: date = Field(description="the last day it covers")
    months: int
    km: int = Field(description="the odometer reading up to which it covers")
    in_force: bool = Field(description="started and not ended as of the day asked")

    @classmethod
    def of(cls, contract: ContractRecord, on_day: date) -> Contract:
        return cls(
            number=contract.number,
            group=contract.group,
            start_date=contract.start_date,
            ends_on=contract.ends_on,
            months=contract.months,
            km=contract.km,
            in_force=contract.in_force_on(on_day),
        )


class VehicleSummary(Answer):
    vin: str
    model_code: str
    model_name: str
    sale_date: date | None
    odometer_km: int | None

    @classmethod
    def of(cls, vehicle: VehicleRecord) -> VehicleSummary:
        return cls(
            vin=vehicle.vin,
            model_code=vehicle.model.code,
            model_name=vehicle.model.name,
            sale_date=vehicle.sale_date,
            odometer_km=vehicle.odometer_km,
        )


class VehicleCampaign(Answer):
    """An open recall or service campaign listing the vehicle (召回 / 服务活动)."""

    code: str
    title: str
    kind: f.choice(CampaignKind)
    done_on: date | None = Field(
        description="the repair date of the claim that did the work; null while it is to do"
    )


class Vehicle(Answer):
    """The vehicle, its submitted claims count and its coverage per group as of a day, at its
    last known odometer reading (the imported one or a submitted claim's, the higher), and its
    open campaigns, recalls first."""

    vin: str
    model_code: str
    model_name: str
    engine_no: str | None
    production_date: date | None
    sale_date: date | None
    odometer_km: int | None
    selling_station: str | None
    owner_name: str | None = Field(description="masked for roles other than station and auditor")
    owner_phone: str | None
    claims_count: int
    coverage: list[Coverage] = Field(description="per group, contracts included")
    contracts: list[Contract]
    campaigns: list[VehicleCampaign] = Field(
        description="the open recalls and service campaigns listing the vehicle, recalls first"
    )

    @classmethod
    def of(cls, vehicle: VehicleRecord, user: User, on_day: date | None = None) -> Vehicle:
        full_owner = user.role in SEES_OWNER
        odometer_km = last_known_odometer(vehicle, None)
        claims_count = db.session.scalar(
            sa.select(sa.func.count(ClaimRecord.id)).where(
                ClaimRecord.vehicle_id == vehicle.id, ClaimRecord.status != ClaimStatus.DRAFT
            )
        )
        return cls(
            vin=vehicle.vin,
            model_code=vehicle.model.code,
            model_name=vehicle.model.name,
            engine_no=vehicle.engine_no,
            production_date=vehicle.production_date,
            sale_date=vehicle.sale_date,
            odometer_km=odometer_km,
            selling_station=vehicle.selling_station.code if vehicle.selling_station else None,
            owner_name=vehicle.owner_name if full_owner else vehicle.masked_owner_name,
            owner_phone=vehicle.owner_phone if full_owner else vehicle.masked_owner_phone,
            claims_count=claims_count,
            coverage=[Coverage.of(c) for c in vehicle_coverage(vehicle, on_day, odometer_km)],
            contracts=[Contract.of(c, on_day or date.today()) for c in vehicle.contracts],
            campaigns=[
                VehicleCampaign(
                    code=campaign.code, title=campaign.title, kind=campaign.kind, done_on=done_on
                )
                for campaign, done_on in campaign_work.open_work_of(vehicle, on_day)
            ],
        )


# -- claims ----------------------------------------------------------------------------------------


class ClaimQuery(Page):
    status: f.choice(ClaimStatus) | None = None
    type: f.choice(ClaimType) | None = None


class ClaimSummary(Answer):
    number: str
    type: f.words(*(t.value for t in ClaimType))
    status: f.words(*(s.value for s in ClaimStatus))
    version: int = Field(ge=1)
    vin: str
    station_code: str
    repair_date: date | None
    total_amount: Money
    approved_total_amount: Money | None
    flagged: bool
    submitted_at: Moment | None

    @classmethod
    def fields_of(cls, claim: ClaimRecord) -> dict[str, Any]:
        return {
            "number": claim.number,
            "type": claim.type.value,
            "status": claim.status.value,
            "version": claim.version,
            "vin": claim.vin,
            "station_code": claim.station.code,
            "repair_date": claim.repair_date,
            "total_amount": claim.total_amount,
            "approved_total_amount": claim.approved_total_amount,
            "flagged": claim.is_flagged,
            "submitted_at": claim.submitted_at,
        }

    @classmethod
    def of(cls, claim: ClaimRecord) -> ClaimSummary:
        return cls(**cls.fields_of(claim))


class ClaimList(Answer):
    items: list[ClaimSummary]
    page: int
    per_page: int
    total: int


class Amounts(Answer):
    parts: Money
    handling: Money
    labor: Money
    other: Money
    total: Money


class ClaimLine(Answer):
    """A line under the request's field names, plus its id, price and approved values."""

    id: int
    kind: f.words(*(k.value for k in LineKind))
    part_number: str | None
    qty: int | None
    operation_code: str | None
    hours: Hours | None
    amount: Money | None
    description: str | None
    unit_price: Money | None
    approved_qty: int | None
    approved_hours: Hours | None
    approved_amount: Money | None
    reason_code: str | None
    note: str | None

    @classmethod
    def of(cls, line: ClaimLineRecord) -> ClaimLine:
        return cls(
            id=line.id,
            kind=line.kind.value,
            part_number=line.part.number if line.part else None,
            qty=line.qty,
            operation_code=line.operation.code if line.operation else None,
            hours=line.hours,
            amount=line.amount,
            description=line.description,
            unit_price=line.unit_price,
            approved_qty=line.approved_qty,
            approved_hours=line.approved_hours,
            approved_amount=line.approved_amount,
            reason_code=line.reason_code,
            note=line.decision_note,
        )


class Flag(Answer):
    rule: str
    field: str | None
    message: str
    version: int


class Event(Answer):
    action: str
    from_status: str | None
    to_status: str | None
    at: Moment
    by: str | None = Field(description="username; null for the system")
    reason: str | None
    version: int | None


class Change(Answer):
    what: str
    old: Any
    new: Any


class Version(Answer):
    version: int
    submitted_at: Moment | None
    submitted_by: str | None
    changes: list[Change]


class Comment(Answer):
    id: int
    body: str
    by: str
    at: Moment

    @classmethod
    def of(cls, comment: CommentRecord) -> Comment:
        return cls(
            id=comment.id, body=comment.body, by=comment.user.username, at=comment.created_at
        )


class CommentCreate(BaseModel):
    body: Annotated[str, Field(max_length=10 * f.MAX_TEXT, description="1 to 4000 characters")]


class Attachment(Answer):
    id: int
    filename: str
    content_type: str
    size: int
    uploaded_at: Moment
    url: str

    @classmethod
    def of(cls, attachment: AttachmentRecord) -> Attachment:
        return cls(
            id=attachment.id,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            uploaded_at=attachment.uploaded_at,
            url=url_for(
                "api.claim_attachment",
                number=attachment.claim.number,
                attachment_id=attachment.id,
            ),
        )


class Claim(ClaimSummary):
    """The whole claim: header, amounts, lines, flags, events, versions, comments, attachments."""

    revision: int = Field(ge=1, description="changes with every edit; the ETag names it")
    station_name: str
    vehicle: VehicleSummary | None
    odometer_km: int | None
    fault_date: date | None
    fault_code: str | None
    causal_part: str | None
    description: str | None = Field(description="the customer's complaint")
    cause: str | None
    correction: str | None
    goodwill_reason: str | None
    outsourced_request: str | None = Field(
        description="the approved outsourced-purchase request (外购申请) this claim uses up"
    )
    appraisal: str | None = Field(
        description="the approved appraisal (鉴定单) this major-assembly claim uses up"
    )
    used_by: str | None = Field(
        description="of an approved request or appraisal: the claim that used it up"
    )
    contract: str | None = Field(
        description="the extended warranty contract (延保) the claim is covered only thanks to"
    )
    fulfilment: str | None
    shipper_code: str | None
    campaign: str | None = Field(description="a campaign claim's campaign (召回 / 服务活动)")
    carrier: str | None
    tracking_no: str | None
    freight_amount: Money | None
    shipped_at: Moment | None
    received_at: Moment | None
    created_at: Moment
    updated_at: Moment | None
    decided_at: Moment | None
    valid_until: date | None
    decision_reason: str | None
    auto_decision_rule: str | None
    responsible_supplier: str | None
    amounts: Amounts
    approved_amounts: Amounts | None
    lines: list[ClaimLine]
    flags: list[Flag]
    events: list[Event]
    versions: list[Version]
    comments: list[Comment]
    attachments: list[Attachment]

    @classmethod
    def of(cls, claim: ClaimRecord, viewer: User | None = None) -> Claim:
        approved = claim.approved_total_amount is not None
        return cls(
            **cls.fields_of(claim),
            revision=claim.revision,
            station_name=claim.station.name,
            vehicle=VehicleSummary.of(claim.vehicle) if claim.vehicle else None,
            odometer_km=claim.odometer_km,
            fault_date=claim.fault_date,
            fault_code=claim.fault_code.code if claim.fault_code else None,
            causal_part=claim.causal_part.number if claim.causal_part else None,
            description=claim.complaint,
            cause=claim.cause,
            correction=claim.correction,
            goodwill_reason=claim.goodwill_reason,
            outsourced_request=(
                claim.outsourced_request.number if claim.outsourced_request else None
            ),
            appraisal=claim.appraisal.number if claim.appraisal else None,
            used_by=claim.used_by.number if claim.used_by is not None else None,
            contract=claim.contract.number if claim.contract else None,
            fulfilment=claim.fulfilment,
            shipper_code=claim.shipper_org.code if claim.shipper_org else None,
            campaign=claim.campaign.code if claim.campaign else None,
            carrier=claim.carrier or None,
            tracking_no=claim.tracking_no or None,
            freight_amount=claim.freight_amount,
            shipped_at=claim.shipped_at,
            received_at=claim.received_at,
            created_at=claim.created_at,
            updated_at=claim.updated_at,
            decided_at=claim.decided_at,
            valid_until=claim.valid_until,
            decision_reason=claim.decision_reason,
            auto_decision_rule=claim.auto_decision_rule,
            responsible_supplier=(
                claim.responsible_supplier.code if claim.responsible_supplier else None
            ),
            amounts=Amounts(
                parts=claim.parts_amount,
                handling=claim.handling_amount,
                labor=claim.labor_amount,
                other=claim.other_amount,
                total=claim.total_amount,
            ),
            approved_amounts=(
                Amounts(
                    parts=claim.approved_parts_amount,
                    handling=claim.approved_handling_amount,
                    labor=claim.approved_labor_amount,
                    other=claim.approved_other_amount,
                    total=claim.approved_total_amount,
                )
                if approved
                else None
            ),
            lines=[ClaimLine.of(line) for line in claim.lines],
            flags=[
                Flag(
                    rule=flag.rule,
                    field=flag.field,
                    message=flag.display_message,
                    version=flag.version,
                )
                for flag in claim.flags
            ],
            events=[
                Event(
                    action=e.action,
                    from_status=e.from_status,
                    to_status=e.to_status,
                    at=e.at,
                    by=_username(e.user),
                    reason=e.display_reason,
                    version=e.version,
                )
                for e in claim.events
                # the supplier's money (its credits, statements) is not the station's to read
                if not (
                    viewer is not None
                    and viewer.role is Role.STATION
                    and e.action in claim_labels.SUPPLIER_EVENTS
                )
            ],
            versions=[
                Version(
                    version=v.version,
                    submitted_at=v.submitted_at,
                    submitted_by=_username(v.submitted_by),
                    changes=(
                        diff_snapshots(claim.versions[i - 1].snapshot, v.snapshot) if i else []
                    ),
                )
                for i, v in enumerate(claim.versions)
            ],
            comments=[Comment.of(c) for c in claim.comments],
            attachments=[Attachment.of(a) for a in claim.attachments],
        )


# -- audit and fulfilment ------------------------------------------------------------------------


class ReasonCode(Answer):
    code: str
    label_en: str
    label_zh: str


class ReasonCodeList(Answer):
    items: list[ReasonCode]


PERIOD = re.compile(r"[0-9]{4}-[0-9]{2}")  # ASCII digits: "２０２６-10" is not a month
FREIGHT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")  # ASCII digits, within 12 + 2


def _freight(value: Any) -> Any:
    """Freight is text with at most two decimals ("85.00"), never a JSON number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise PydanticCustomError(
            "freight_text", 'must be text with at most two decimals, e.g. "85.00" (never a number)'
        )
    if not FREIGHT.fullmatch(value.strip().removeprefix("-")):
        raise PydanticCustomError(
            "freight_form", 'must be an amount with at most two decimals, e.g. "85.00"'
        )
    return value.strip()


class Shipment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    carrier: f.required_text(80)
    tracking_no: f.required_text(80)
    freight_amount: Annotated[
        Annotated[
            Decimal,
            Field(ge=Decimal(0), le=f.MAX_AMOUNT, max_digits=14, decimal_places=2),
        ]
        | None,
        BeforeValidator(_freight),
        Field(description='text with at most two decimals, e.g. "85.00" (never a number)'),
        WithJsonSchema(
            {
                "type": ["string", "null"],
                "pattern": r"^\d{1,12}(\.\d{1,2})?$",
                "description": 'text with at most two decimals, e.g. "85.00" (never a number)',
            }
        ),
    ] = None


# -- old parts -------------------------------------------------------------------------------------


class OldPartQuery(Page):
    status: f.choice(OldPartStatus) | None = None
    disposition: f.choice(Disposition) | None = None
    overdue: Annotated[
        bool | None, Field(description="true: overdue and not waived; false: the others")
    ] = None


class OldPart(Answer):
    """An old part as the list shows it to a user."""

    tag: str = Field(description="the number on the part's tag")
    claim_number: str
    part_number: str
    part_name: str
    disposition: f.words(*(d.value for d in Disposition))
    status: f.words(*(s.value for s in OldPartStatus))
    deadline: date | None = Field(
        description="the day it must be shipped by; null when scrapped at the station"
    )
    days_left: int | None = Field(
        description="days from today to the deadline (negative when past)"
    )
    overdue: bool = Field(description="overdue and not waived")
    waived: bool = Field(description="an auditor waived its overdue chargeback")
    destination: str | None = Field(description="the code of the organisation it returns to")
    supplier: str | None = Field(description="the responsible supplier's code")
    inspection: f.words(*(i.value for i in Inspection)) | None
    shipment_number: str | None = Field(
        description="the station's return shipment; null for a supplier it did not go to"
    )

    @classmethod
    def fields_of(cls, part: OldPartRecord, user: User, today: date) -> dict[str, Any]:
        station_shipment = part.station_shipment_for(user)
        return {
            "tag": part.tag,
            "claim_number": part.claim.number,
            "part_number": part.part.number,
            "part_name": part.part.name,
            "disposition": part.disposition.value,
            "status": part.status.value,
            "deadline": part.deadline,
            "days_left": part.days_left(today),
            "overdue": part.is_overdue,
            "waived": part.waived_at is not None,
            "destination": part.destination.code if part.destination else None,
            "supplier": part.supplier.code if part.supplier else None,
            "inspection": part.inspection.value if part.inspection else None,
            "shipment_number": station_shipment.number if station_shipment else None,
        }

    @classmethod
    def of(cls, part: OldPartRecord, user: User, today: date) -> OldPart:
        return cls(**cls.fields_of(part, user, today))


class OldPartEvent(Answer):
    action: str
    at: Moment
    by: str | None
    note: str | None


class OldPartDetail(OldPart):
    """The part as the list shows it, its way so far, and its events oldest first."""

    station_code: str
    forward_shipment_number: str | None
    received_at: Moment | None
    inspected_at: Moment | None
    inspection_note: str | None
    finding_status: str | None = Field(
        description="a supplier's finding on its own part: proposed, confirmed or overruled "
        "by an auditor; null when the OEM inspected"
    )
    proposed_inspection: str | None = Field(description="what the supplier found")
    finding_review_note: str | None = Field(description="the auditor's reason")
    waive_reason: str | None
    written_off_at: Moment | None
    events: list[OldPartEvent]

    @classmethod
    def of(cls, part: OldPartRecord, user: User, today: date) -> OldPartDetail:
        return cls(
            **cls.fields_of(part, user, today),
            station_code=part.station.code,
            forward_shipment_number=(
                part.forward_shipment.number if part.forward_shipment else None
            ),
            received_at=part.received_at,
            inspected_at=part.inspected_at,
            inspection_note=part.inspection_note,
            finding_status=part.finding_status.value if part.finding_status else None,
            proposed_inspection=(
                part.proposed_inspection.value if part.proposed_inspection else None
            ),
            finding_review_note=part.finding_review_note,
            waive_reason=part.waive_reason,
            written_off_at=part.written_off_at,
            events=[
                OldPartEvent(action=e.action, at=e.at, by=_username(e.user), note=note)
                for e, note in part.events_for(user)
            ],
        )


class OldPartList(Answer):
    items: list[OldPart]
    page: int
    per_page: int
    total: int


# -- settlement ------------------------------------------------------------------------------------


def _period(value: str) -> str:
    from portal.settlement.engine import parse_period

    if not PERIOD.fullmatch(value):
        raise PydanticCustomError("period", "not a month (YYYY-MM)")
    try:
        parse_period(value)
    except ValueError:
        raise PydanticCustomError("period", "not a month (YYYY-MM)") from None
    return value


Period = Annotated[
    str,
    Field(max_length=7),
    AfterValidator(_period),
    WithJsonSchema({"type": "string", "pattern": r"^\d{4}-\d{2}$", "examples": ["2026-05"]}),
]


class SettlementRunCreate(BaseModel):
    """A future month is refused by the operation (422), like a malformed one here."""

    model_config = ConfigDict(extra="ignore")

    period: Period = Field(description="a month, YYYY-MM")


class RunQuery(Page):
    status: f.choice(RunStatus) | None = None
    period: Period | None = None


class SettlementRunTotals(Answer):
    claim_count: int | None
    station_statement_count: int | None
    supplier_statement_count: int | None
    station_net: Money | None
    supplier_net: Money | None


class SettlementRun(Answer):
    id: int
    period: str
    status: f.words(*(s.value for s in RunStatus))
    progress: int = Field(ge=0, le=100)
    step: str | None
    error: str | None
    stale: bool
    attempts: int
    vat_rate: Rate
    totals: SettlementRunTotals
    created_at: Moment
    created_by: str | None
    started_at: Moment | None
    computed_at: Moment | None
    released_at: Moment | None
    released_by: str | None
    discarded_at: Moment | None

    @classmethod
    def of(cls, run: RunRecord) -> SettlementRun:
        return cls(
            id=run.id,
            period=run.period,
            status=run.status.value,
            progress=settlement_ops.run_progress(run),
            step=run.step,
            error=run.error or None,
            stale=settlement_ops.is_stale(run),
            attempts=run.attempts,
            vat_rate=run.vat_rate,
            totals=SettlementRunTotals(
                claim_count=run.claim_count,
                station_statement_count=run.station_statement_count,
                supplier_statement_count=run.supplier_statement_count,
                station_net=run.station_net,
                supplier_net=run.supplier_net,
            ),
            created_at=run.created_at,
            created_by=_username(run.created_by),
            started_at=run.started_at,
            computed_at=run.computed_at,
            released_at=run.released_at,
            released_by=_username(run.released_by),
            discarded_at=run.discarded_at,
        )


class SettlementRunList(Answer):
    items: list[SettlementRun]
    page: int
    per_page: int
    total: int


class StatementQuery(Page):
    kind: f.choice(StatementKind) | None = None
    status: f.choice(StatementStatus) | None = None
    period: Period | None = None
    run_id: f.whole(1) = None


class StatementSummary(Answer):
    id: int
    number: str
    kind: f.words(*(k.value for k in StatementKind))
    org_code: str
    org_name: str
    period: str
    run_id: int
    net: Money
    vat: Money
    gross: Money
    status: f.words(*(s.value for s in StatementStatus))
    line_count: int | None
    released_at: Moment | None
    paid_on: date | None

    @classmethod
    def fields_of(cls, statement: StatementRecord) -> dict[str, Any]:
        return {
            "id": statement.id,
            "number": statement.number,
            "kind": statement.kind.value,
            "org_code": statement.org.code,
            "org_name": statement.org.name,
            "period": statement.period,
            "run_id": statement.run_id,
            "net": statement.net,
            "vat": statement.vat,
            "gross": statement.gross,
            "status": statement.status.value,
            "line_count": statement.line_count,
            "released_at": statement.released_at,
            "paid_on": statement.paid_on,
        }

    @classmethod
    def of(cls, statement: StatementRecord) -> StatementSummary:
        return cls(**cls.fields_of(statement))


LINE_STATUSES = sorted({s.value for s in StatementStatus} | {s.value for s in ChargebackStatus})


class StatementLine(Answer):
    model_config = ConfigDict(
        from_attributes=True, json_schema_serialization_defaults_required=True
    )

    id: int = Field(
        description="the statement line's id; on a supplier statement the chargeback's id "
        "(POST /chargebacks/{id}/...); of an `adjustment` line, the adjustment's id"
    )
    claim_number: str
    description: str
    amount: Money = Field(description="deductions are negative")
    status: f.words(*LINE_STATUSES) = Field(
        description="a station line: the statement's status; a chargeback: open, accepted, "
        "disputed, upheld or waived (a waived line is not in the net)"
    )
    kind: f.words(*(k.value for k in StatementLineKind), "chargeback", "adjustment") = Field(
        description="`adjustment`: a correction of a statement already released (a late "
        "inspection finding credits the supplier, a late waiver the station); its description "
        "names the statement it corrects"
    )


class Statement(StatementSummary):
    vat_rate: Rate
    created_at: Moment
    final_at: Moment | None
    paid_reference: str | None
    paid_at: Moment | None
    lines: list[StatementLine]

    @classmethod
    def of(cls, statement: StatementRecord) -> Statement:
        return cls(
            **cls.fields_of(statement),
            vat_rate=statement.run.vat_rate,
            created_at=statement.created_at,
            final_at=statement.final_at,
            paid_reference=statement.paid_reference or None,
            paid_at=statement.paid_at,
            lines=[
                StatementLine.model_validate(line) for line in queries.statement_lines(statement)
            ],
        )


class StatementList(Answer):
    items: list[StatementSummary]
    page: int
    per_page: int
    total: int


class StatementPaid(BaseModel):
    """Missing values are refused by the operation (422), malformed ones here (400)."""

    model_config = ConfigDict(extra="ignore")

    paid_on: f.day() = None
    reference: f.text(1000) = ""


class ChargebackEvent(Answer):
    action: str
    from_status: str | None
    to_status: str | None
    at: Moment
    by: str | None
    note: str | None


class ChargebackEvidence(Answer):
    id: int
    filename: str
    content_type: str
    size: int
    uploaded_at: Moment
    uploaded_by: str | None
    url: str

    @classmethod
    def of(cls, evidence: EvidenceRecord) -> ChargebackEvidence:
        return cls(
            id=evidence.id,
            filename=evidence.filename,
            content_type=evidence.content_type,
            size=evidence.size,
            uploaded_at=evidence.uploaded_at,
            uploaded_by=_username(evidence.uploaded_by),
            url=url_for(
                "api.chargeback_evidence",
                chargeback_id=evidence.chargeback_id,
                evidence_id=evidence.id,
            ),
        )


class Chargeback(Answer):
    id: int
    statement_id: int
    statement_number: str
    claim_number: str
    supplier_code: str
    status: f.words(*(s.value for s in ChargebackStatus))
    description: str
    amount: Money
    parts_amount: Money
    removed_parts_amount: Money
    labor_hours: Hours
    labor_hours_charged: Hours
    labor_amount: Money
    recovery_share: Rate
    recovery_amount: Money
    handling_fee_rate: Rate
    handling_fee: Money
    dispute_reason: str | None
    disputed_at: Moment | None
    disputed_by: str | None
    resolution_reason: str | None
    resolved_at: Moment | None
    resolved_by: str | None
    accepted_at: Moment | None
    accepted_by: str | None
    events: list[ChargebackEvent]
    evidence: list[ChargebackEvidence]

    @classmethod
    def of(cls, cb: ChargebackRecord) -> Chargeback:
        return cls(
            id=cb.id,
            statement_id=cb.statement_id,
            statement_number=cb.statement.number,
            claim_number=cb.claim.number,
            supplier_code=cb.statement.org.code,
            status=cb.status.value,
            description=queries.chargeback_description(cb),
            amount=cb.amount,
            parts_amount=cb.parts_amount,
            removed_parts_amount=cb.removed_parts_amount,
            labor_hours=cb.labor_hours,
            labor_hours_charged=cb.labor_hours_charged,
            labor_amount=cb.labor_amount,
            recovery_share=cb.recovery_share,
            recovery_amount=cb.recovery_amount,
            handling_fee_rate=cb.handling_fee_rate,
            handling_fee=cb.handling_fee,
            dispute_reason=cb.dispute_reason or None,
            disputed_at=cb.disputed_at,
            disputed_by=_username(cb.disputed_by),
            resolution_reason=cb.resolution_reason or None,
            resolved_at=cb.resolved_at,
            resolved_by=_username(cb.resolved_by),
            accepted_at=cb.accepted_at,
            accepted_by=_username(cb.accepted_by),
            events=[
                ChargebackEvent(
                    action=e.action,
                    from_status=e.from_status,
                    to_status=e.to_status,
                    at=e.at,
                    by=_username(e.user),
                    note=e.note,
                )
                for e in cb.events
            ],
            evidence=[ChargebackEvidence.of(e) for e in cb.evidence],
        )


class ChargebackDispute(BaseModel):
    """`reason` is required by the operation (422 when missing or blank)."""

    model_config = ConfigDict(extra="ignore")

    reason: f.text() = ""


class ChargebackResolution(BaseModel):
    model_config = ConfigDict(extra="ignore")

    action: Annotated[
        f.text(16), Field(description="uphold or waive", examples=list(RESOLUTIONS))
    ] = ""
    reason: f.text() = ""


# -- analysis --------------------------------------------------------------------------------------

ANALYSIS_GROUPS = tuple(g.value for g in API_GROUPS)


class AnalysisSelection(BaseModel):
    """Which claims and vehicles count (DESIGN 7): read again by `portal.analysis.filters`."""

    model: str | None = Field(None, max_length=40, description="vehicle model code")
    part: str | None = Field(
        None, max_length=40, description="causal part number (a supplier: its own only)"
    )
    fault_code: str | None = Field(None, max_length=40)
    supplier: str | None = Field(
        None, max_length=40, description="responsible supplier code (a supplier: its own only)"
    )
    as_of: str | None = Field(
        None,
        max_length=10,
        description="counted claims repaired on or before it, YYYY-MM-DD (default today)",
    )
    contract: str | None = Field(
        None,
        max_length=20,
        description="contract_covered: only the claims covered only thanks to an extended "
        "warranty contract; policy_only: the others (default: all)",
        json_schema_extra={"enum": ["contract_covered", "policy_only"]},
    )


class ClaimRatesQuery(AnalysisSelection):
    group_by: str = Field(
        max_length=40,
        description="the key: " + ", ".join(ANALYSIS_GROUPS),
        json_schema_extra={"enum": list(ANALYSIS_GROUPS)},
    )


class ReliabilityQuery(AnalysisSelection):
    horizon: str | None = Field(
        None, max_length=10, description="forecast months, 1 to 60 (default 12)"
    )
    future_sales: str | None = Field(
        None,
        max_length=20,
        description="vehicles sold per future month (default: the selection's average over the "
        "last 3 full months)",
    )
    warranty_months: str | None = Field(
        None, max_length=10, description="1 to 240: failures after this age are no claims"
    )


class ClaimRate(Answer):
    key: str | int | None
    vehicles: int
    claims: int
    per_1000: float | None = Field(description="claims per 1,000 vehicles (C/1000)")
    cost: Money


class ClaimRates(Answer):
    group_by: str
    as_of: date
    rows: list[ClaimRate]


class Estimate(Answer):
    value: float
    lower: float
    upper: float


class ForecastMonth(Answer):
    month: int
    predicted: float
    lower: float
    upper: float
    cost: Money | None


class NevadaRow(Answer):
    sale_month: str = Field(pattern=r"^\d{4}-\d{2}$")
    vehicles: int
    claims: list[int] = Field(description="claims per month in service, 0 first")


class Reliability(Answer):
    as_of: date
    vehicles: int
    failures: int
    survivors: int
    distribution: str = Field(description="weibull")
    shape: float = Field(description="beta")
    scale: float = Field(description="eta, in months")
    shape_bounds: list[float]
    scale_bounds: list[float]
    log_likelihood: float
    b10: float = Field(description="months by which 10 % have failed")
    expected_failures: Estimate
    future_sales: float
    average_cost: Money | None
    forecast: list[ForecastMonth]
    nevada: list[NevadaRow]


# -- audit log -------------------------------------------------------------------------------------


class AuditLogQuery(Page):
    kind: f.choice(AuditKind) | None = None
    actor: f.text(80, description="part of the acting user's name") = ""
    claim: f.text(40, upper=True, description="a claim number") = ""
    run: f.whole(1, description="a settlement run's id") = None
    from_date: f.day(description="entries on or after this local day") = None
    to_date: f.day(description="entries on or before this local day") = None


class AuditLogEntry(Answer):
    """One entry: who (null for the system), when, what, on what, amounts before and after."""

    model_config = ConfigDict(
        from_attributes=True, json_schema_serialization_defaults_required=True
    )

    id: int
    at: Moment
    actor: str = Field(validation_alias="actor_name")
    role: str = Field(validation_alias="actor_role")
    kind: f.words(*(k.value for k in AuditKind))
    subject: str
    claim_number: str | None
    run_id: int | None
    statement_id: int | None
    amount_before: Money | None
    amount_after: Money | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str = Field(
        validation_alias="display_note",
        description="what the portal said (an automatic approval's why, an adjustment's reason) "
        "in the requester's language, then what a person wrote",
    )


class AuditLogList(Answer):
    items: list[AuditLogEntry]
    page: int
    per_page: int
    total: int


# -- campaigns -------------------------------------------------------------------------------------


class CampaignQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: f.choice(CampaignStatus) | None = None


class CampaignPart(Answer):
    part_number: str
    qty: int


class Completion(Answer):
    """Done: its claim is approved; in work: its claim is not decided yet; remaining: the rest."""

    affected: int
    done: int
    in_work: int
    remaining: int
    cost_so_far: Money = Field(description="the approved totals of the done vehicles' claims")
    cost_to_come: Money = Field(
        description="the average cost of a done vehicle times the vehicles not done yet"
    )

    @classmethod
    def of(cls, c: campaign_queries.Completion) -> Completion:
        return cls(
            affected=c.affected,
            done=c.done,
            in_work=c.in_work,
            remaining=c.remaining,
            cost_so_far=c.cost_so_far,
            cost_to_come=c.cost_to_come,
        )


class Campaign(Answer):
    """A recall or service campaign (召回 / 服务活动): its package, its supplier's share and how
    far it has got."""

    code: str
    title: str
    kind: f.choice(CampaignKind)
    status: f.choice(CampaignStatus)
    start_date: date
    end_date: date | None = Field(description="null: open-ended")
    operation: str = Field(description="the package's labor operation")
    hours: Hours
    parts: list[CampaignPart]
    supplier: str | None = Field(description="null: the OEM bears the whole cost")
    recovery_share: Rate = Field(description="the supplier's share of each claim's cost")
    completion: Completion

    @classmethod
    def of(cls, campaign: CampaignRecord, completion: campaign_queries.Completion) -> Campaign:
        return cls(
            code=campaign.code,
            title=campaign.title,
            kind=campaign.kind,
            status=campaign.status,
            start_date=campaign.start_date,
            end_date=campaign.end_date,
            operation=campaign.operation.code,
            hours=campaign.hours,
            parts=[CampaignPart(part_number=p.part.number, qty=p.qty) for p in campaign.parts],
            supplier=campaign.supplier.code if campaign.supplier else None,
            recovery_share=campaign.recovery_share,
            completion=Completion.of(completion),
        )


class CampaignList(Answer):
    items: list[Campaign]
