"""The OpenAPI 3.1 description of the API, served at `/api/v1/openapi.json` without auth.

The enums come from the code (claim types, statuses, line kinds a station may send, decision
actions), so the document cannot drift from what the endpoints accept; tests validate it and
compare its paths with the app's routes. Reason codes are data (admins add them), so a line's
`reason` is described as a string that `GET /reason-codes` lists, never as an enum.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import jsonify

from portal.analysis.queries import API_GROUPS
from portal.api.blueprint import bp
from portal.claims.attachments import SIGNATURES
from portal.claims.decisions import ACTIONS
from portal.claims.models import ClaimStatus, ClaimType, LineKind
from portal.claims.payload import MAX_LINES, SENDABLE_KINDS
from portal.masterdata.campaigns import CampaignKind, CampaignStatus
from portal.masterdata.models import Disposition
from portal.oldparts.models import FindingStatus, Inspection, OldPartStatus
from portal.settlement.models import ChargebackStatus, RunStatus, StatementKind, StatementStatus
from portal.settlement.models import LineKind as StatementLineKind
from portal.settlement.operations import RESOLUTIONS

MONEY_PATTERN = r"^-?\d+\.\d{2}$"
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
)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    kind = schema["type"]
    return {**schema, "type": [*([kind] if isinstance(kind, str) else kind), "null"]}


def _obj(properties: dict, required: list[str] | None = None, **extra) -> dict:
    """An object schema; every property is required unless `required` says otherwise."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        **extra,
    }


STRING = {"type": "string"}
TEXT = {"type": ["string", "null"]}
INT = {"type": "integer"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
MONEY = {
    "type": "string",
    "pattern": MONEY_PATTERN,
    "description": "CNY with two decimals, as exact text (never a float).",
    "examples": ["230.00"],
}
HOURS = {"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["1.50"]}
DECIMAL_IN = {
    "type": ["string", "number", "null"],
    "description": "A non-negative decimal with at most two places; send text to keep it exact.",
    "examples": ["1.50"],
}


def _schemas() -> dict[str, Any]:
    line_input = _obj(
        {
            "kind": {"type": "string", "enum": [k.value for k in SENDABLE_KINDS]},
            "part_number": TEXT,
            "qty": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "parts: quantity (default 1); trip: round-trip km",
            },
            "operation_code": TEXT,
            "hours": DECIMAL_IN,
            "amount": {**DECIMAL_IN, "description": "other lines: the amount (toll, invoice)"},
            "description": TEXT,
        },
        required=["kind"],
    )
    claim_fields = {
        "type": {"type": "string", "enum": [t.value for t in ClaimType]},
        "vin": TEXT,
        "odometer_km": {"type": ["integer", "null"], "minimum": 0},
        "repair_date": _nullable(DATE),
        "fault_date": _nullable(DATE),
        "fault_code": TEXT,
        "causal_part": {**TEXT, "description": "the causal part's number"},
        "description": {**TEXT, "description": "the customer's complaint"},
        "cause": TEXT,
        "correction": TEXT,
        "goodwill_reason": {
            **TEXT,
            "description": "lets a claim outside coverage be submitted (flagged outside_coverage)",
        },
        "outsourced_request": {
            **TEXT,
            "description": "the approved outsourced-purchase request (same station and VIN, "
            "approved on or before the repair) whose cap pays the purchased parts; one claim "
            "uses it up",
        },
        "fulfilment": {
            "type": ["string", "null"],
            "enum": ["regular", "drop_ship", "", None],
            "description": "emergency part: regular shipment (应发货) or drop-shipment (代发货)",
        },
        "shipper_code": {**TEXT, "description": "drop-shipment: the shipping station or supplier"},
        "campaign": {
            **TEXT,
            "description": "campaign claim: the code of the open campaign whose work it is; "
            "without lines, the campaign's package fills them",
        },
        "lines": {"type": "array", "maxItems": MAX_LINES, "items": _ref("ClaimLineInput")},
    }
    amounts = _obj(dict.fromkeys(("parts", "handling", "labor", "other", "total"), MONEY))
    summary = {
        "number": STRING,
        "type": {"type": "string", "enum": [t.value for t in ClaimType]},
        "status": {"type": "string", "enum": [s.value for s in ClaimStatus]},
        "version": {"type": "integer", "minimum": 1},
        "vin": STRING,
        "station_code": STRING,
        "repair_date": _nullable(DATE),
        "total_amount": MONEY,
        "approved_total_amount": _nullable(MONEY),
        "flagged": {"type": "boolean"},
        "submitted_at": _nullable(DATETIME),
    }
    detail = {
        **summary,
        "revision": {
            "type": "integer",
            "minimum": 1,
            "description": "goes up on every change of the claim; the ETag names it, and a "
            "PATCH names the one it changes",
        },
        "station_name": STRING,
        "vehicle": {"oneOf": [_ref("VehicleSummary"), {"type": "null"}]},
        "odometer_km": {"type": ["integer", "null"]},
        "fault_date": _nullable(DATE),
        "fault_code": TEXT,
        "causal_part": TEXT,
        "description": STRING,
        "cause": STRING,
        "correction": STRING,
        "goodwill_reason": STRING,
        "outsourced_request": TEXT,
        "appraisal": {
            **TEXT,
            "description": "major assembly: the appraisal (鉴定单) the claim was accepted on",
        },
        "used_by": {
            **TEXT,
            "description": "appraisal or outsourced-purchase request: the claim that used it up",
        },
        "fulfilment": {"type": ["string", "null"], "enum": ["regular", "drop_ship", None]},
        "shipper_code": TEXT,
        "campaign": {**TEXT, "description": "campaign claim: the campaign's code"},
        "carrier": {**TEXT, "description": "emergency part: the shipper's carrier"},
        "tracking_no": {**TEXT, "description": "emergency part: the tracking number"},
        "freight_amount": {
            **_nullable(MONEY),
            "description": "emergency part: the freight the shipper paid (CNY, exact text)",
        },
        "shipped_at": _nullable(DATETIME),
        "received_at": {
            **_nullable(DATETIME),
            "description": "when the requesting station confirmed receipt",
        },
        "created_at": DATETIME,
        "updated_at": DATETIME,
        "decided_at": _nullable(DATETIME),
        "valid_until": _nullable(DATE),
        "decision_reason": STRING,
        "auto_decision_rule": TEXT,
        "responsible_supplier": {**TEXT, "description": "the supplier's code"},
        "amounts": _ref("Amounts"),
        "approved_amounts": {"oneOf": [_ref("Amounts"), {"type": "null"}]},
        "lines": {"type": "array", "items": _ref("ClaimLine")},
        "flags": {"type": "array", "items": _ref("Flag")},
        "events": {"type": "array", "items": _ref("Event")},
        "versions": {"type": "array", "items": _ref("Version")},
        "comments": {"type": "array", "items": _ref("Comment")},
        "attachments": {"type": "array", "items": _ref("Attachment")},
    }
    old_part = {
        "tag": {**STRING, "description": "the number on the part's tag"},
        "claim_number": STRING,
        "part_number": STRING,
        "part_name": STRING,
        "disposition": {"type": "string", "enum": [d.value for d in Disposition]},
        "status": {"type": "string", "enum": [s.value for s in OldPartStatus]},
        "deadline": {
            **_nullable(DATE),
            "description": "the day it must be shipped by; null when scrapped at the station",
        },
        "days_left": {
            "type": ["integer", "null"],
            "description": "days from today to the deadline (negative when past)",
        },
        "overdue": {"type": "boolean", "description": "overdue and not waived"},
        "waived": {"type": "boolean", "description": "an auditor waived its overdue chargeback"},
        "destination": {**TEXT, "description": "the code of the organisation it returns to"},
        "supplier": {**TEXT, "description": "the responsible supplier's code"},
        "inspection": {
            "type": ["string", "null"],
            "enum": [i.value for i in Inspection] + [None],
        },
        "shipment_number": {**TEXT, "description": "the return shipment it left the station in"},
    }
    old_part_detail = {
        **old_part,
        "station_code": STRING,
        "forward_shipment_number": {
            **TEXT,
            "description": "the OEM's shipment forwarding it to the supplier",
        },
        "received_at": _nullable(DATETIME),
        "inspected_at": _nullable(DATETIME),
        "inspection_note": STRING,
        "finding_status": {
            "type": ["string", "null"],
            "enum": [f.value for f in FindingStatus] + [None],
            "description": "a supplier's finding on a part it is charged for: proposed (changes "
            "no money), then confirmed or overruled by an auditor; null for the OEM's findings",
        },
        "proposed_inspection": {
            "type": ["string", "null"],
            "enum": [i.value for i in Inspection] + [None],
            "description": "what the supplier proposed; `inspection` is the finding in force",
        },
        "finding_review_note": {**STRING, "description": "the auditor's note or reason"},
        "waive_reason": STRING,
        "written_off_at": _nullable(DATETIME),
        "events": {"type": "array", "items": _ref("OldPartEvent")},
    }
    return {
        "Error": _obj(
            {
                "error": _obj(
                    {
                        "code": {"type": "string", "enum": list(ERROR_CODES)},
                        "message": STRING,
                        "fields": {
                            "type": "object",
                            "additionalProperties": STRING,
                            "description": "field (e.g. `lines[0].qty`) -> what is wrong; "
                            "a refusal names its rule first (`coverage: ...`)",
                        },
                    }
                )
            }
        ),
        "TokenRequest": _obj({"username": STRING, "password": STRING}),
        "Token": _obj({"token": STRING, "expires_at": DATETIME}),
        "Coverage": _obj(
            {
                "group": STRING,
                "months": INT,
                "km": INT,
                "expires_on": {**DATE, "description": "the last day covered by time"},
                "km_left": {"type": ["integer", "null"]},
                "in_coverage": {"type": "boolean"},
            }
        ),
        "Vehicle": _obj(
            {
                "vin": STRING,
                "model_code": STRING,
                "model_name": STRING,
                "engine_no": STRING,
                "production_date": DATE,
                "sale_date": {**DATE, "description": "the warranty starts on it"},
                "odometer_km": {
                    **INT,
                    "description": "the last known reading: the imported one or a submitted "
                    "claim's, whichever is higher",
                },
                "selling_station": TEXT,
                "owner_name": {**STRING, "description": "masked for roles other than station"},
                "owner_phone": STRING,
                "claims_count": {**INT, "description": "submitted claims (drafts not counted)"},
                "coverage": {"type": "array", "items": _ref("Coverage")},
                "campaigns": {
                    "type": "array",
                    "description": "the open recalls and service campaigns listing the vehicle, "
                    "recalls first",
                    "items": _ref("VehicleCampaign"),
                },
            }
        ),
        "VehicleCampaign": _obj(
            {
                "code": STRING,
                "title": STRING,
                "kind": {"type": "string", "enum": [k.value for k in CampaignKind]},
                "done_on": {
                    **_nullable(DATE),
                    "description": "the repair date of the claim that did the work; null while "
                    "it is still to do",
                },
            }
        ),
        "Campaign": _obj(
            {
                "code": STRING,
                "title": STRING,
                "kind": {"type": "string", "enum": [k.value for k in CampaignKind]},
                "status": {"type": "string", "enum": [k.value for k in CampaignStatus]},
                "start_date": DATE,
                "end_date": _nullable(DATE),
                "operation": {**STRING, "description": "the package's labor operation"},
                "hours": HOURS,
                "parts": {
                    "type": "array",
                    "items": _obj({"part_number": STRING, "qty": {"type": "integer"}}),
                },
                "supplier": {**TEXT, "description": "null: the OEM bears the whole cost"},
                "recovery_share": {
                    "type": "string",
                    "description": "the supplier's share of each claim, a fraction",
                },
                "completion": _obj(
                    {
                        "affected": INT,
                        "done": {**INT, "description": "vehicles whose claim is approved"},
                        "in_work": {**INT, "description": "vehicles whose claim is not decided"},
                        "remaining": INT,
                        "cost_so_far": MONEY,
                        "cost_to_come": {
                            **MONEY,
                            "description": "the average cost of a done vehicle times those "
                            "not done yet",
                        },
                    }
                ),
            }
        ),
        "CampaignList": _obj({"items": {"type": "array", "items": _ref("Campaign")}}),
        "VehicleSummary": _obj(
            {
                "vin": STRING,
                "model_code": STRING,
                "model_name": STRING,
                "sale_date": DATE,
                "odometer_km": INT,
            }
        ),
        "ClaimLineInput": line_input,
        "ClaimCreate": _obj(claim_fields, required=["type"]),
        "ClaimUpdate": _obj(
            {
                **claim_fields,
                "revision": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "the claim's revision this edit is based on; needed when "
                    "there is no If-Match header",
                },
            },
            required=[],
            description="Replaces the whole content of a draft or returned claim; the type, "
            "when given, must be the claim's.",
        ),
        "Amounts": amounts,
        "ClaimLine": _obj(
            {
                "id": INT,
                "kind": {"type": "string", "enum": [k.value for k in LineKind]},
                "part_number": TEXT,
                "qty": {"type": ["integer", "null"]},
                "operation_code": TEXT,
                "hours": _nullable(HOURS),
                "amount": MONEY,
                "description": STRING,
                "unit_price": _nullable(MONEY),
                "approved_qty": {"type": ["integer", "null"]},
                "approved_hours": _nullable(HOURS),
                "approved_amount": _nullable(MONEY),
                "reason_code": TEXT,
                "note": STRING,
            }
        ),
        "Flag": _obj(
            {"rule": STRING, "field": TEXT, "message": STRING, "version": INT},
        ),
        "Event": _obj(
            {
                "action": STRING,
                "from_status": TEXT,
                "to_status": TEXT,
                "at": DATETIME,
                "by": {**TEXT, "description": "username; null for the system"},
                "reason": STRING,
                "version": INT,
            }
        ),
        "Change": _obj({"what": STRING, "old": {}, "new": {}}),
        "Version": _obj(
            {
                "version": INT,
                "submitted_at": DATETIME,
                "submitted_by": TEXT,
                "changes": {
                    "type": "array",
                    "items": _ref("Change"),
                    "description": "what changed since the previous version",
                },
            }
        ),
        "Comment": _obj({"id": INT, "body": STRING, "by": STRING, "at": DATETIME}),
        "CommentCreate": _obj({"body": {"type": "string", "minLength": 1, "maxLength": 4000}}),
        "Attachment": _obj(
            {
                "id": INT,
                "filename": STRING,
                "content_type": {"type": "string", "enum": _attachment_types()},
                "size": INT,
                "uploaded_at": DATETIME,
                "url": {"type": "string", "description": "where to download it (same auth)"},
            }
        ),
        "DecisionLine": _obj(
            {
                "id": {"type": "integer", "description": "the line's id, as the claim shows it"},
                "approved_qty": {
                    "type": ["integer", "null"],
                    "minimum": 0,
                    "description": "parts: quantity; trip: km (at most what was claimed)",
                },
                "approved_hours": {**DECIMAL_IN, "description": "labor: hours approved"},
                "approved_amount": {
                    **DECIMAL_IN,
                    "description": "the line's amount approved (at most what was claimed)",
                },
                "reason": {
                    "type": ["string", "null"],
                    "maxLength": 40,
                    "description": "a reason code, one of the active codes of GET /reason-codes "
                    "(admins maintain them); required where a value is cut",
                },
                "note": {"type": ["string", "null"], "maxLength": 2000},
            },
            required=["id"],
            description="A line left out, or given without values, is approved as claimed.",
        ),
        "Decision": _obj(
            {
                "action": {"type": "string", "enum": list(ACTIONS)},
                "lines": {
                    "type": "array",
                    "items": _ref("DecisionLine"),
                    "description": "approve: the lines cut (others are approved as claimed)",
                },
                "supplier_code": {
                    **TEXT,
                    "maxLength": 32,
                    "description": "the responsible supplier (责任单位); defaults to the causal "
                    "part's supplier",
                },
                "reason": {
                    **TEXT,
                    "maxLength": 4000,
                    "description": "free text; required to reject or return",
                },
                "version": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "description": "the claim version the auditor saw; another one is a 409",
                },
            },
            required=["action"],
        ),
        "ReasonCode": _obj({"code": STRING, "label_en": STRING, "label_zh": STRING}),
        "ReasonCodeList": _obj({"items": {"type": "array", "items": _ref("ReasonCode")}}),
        "Shipment": _obj(
            {
                "carrier": {"type": "string", "minLength": 1, "maxLength": 80},
                "tracking_no": {"type": "string", "minLength": 1, "maxLength": 80},
                "freight_amount": {
                    "type": ["string", "null"],
                    "pattern": r"^\d+(\.\d{1,2})?$",
                    "description": "the freight paid, CNY as text with at most two decimals "
                    "(a JSON number is refused); may be left out",
                    "examples": ["85.00"],
                },
            },
            required=["carrier", "tracking_no"],
        ),
        "OldPart": _obj(old_part),
        "OldPartEvent": _obj(
            {
                "action": {
                    **STRING,
                    "description": "created, packed, shipped, received, inspected_<result>, "
                    "packed_for_supplier, forwarded, overdue, overdue_waived, written_off...",
                },
                "at": DATETIME,
                "by": {**TEXT, "description": "username; null for the system"},
                "note": STRING,
            }
        ),
        "OldPartDetail": _obj(old_part_detail),
        "OldPartList": _obj(
            {
                "items": {"type": "array", "items": _ref("OldPart")},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "total": {"type": "integer", "minimum": 0},
            }
        ),
        "ClaimSummary": _obj(summary),
        "Claim": _obj(detail),
        "ClaimList": _obj(
            {
                "items": {"type": "array", "items": _ref("ClaimSummary")},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "total": {"type": "integer", "minimum": 0},
            }
        ),
        **_settlement_schemas(),
        **_analysis_schemas(),
    }


def _settlement_schemas() -> dict[str, Any]:
    """Runs, statements and chargebacks (DESIGN 6): statuses and kinds from the code."""
    run_status = {"type": "string", "enum": [s.value for s in RunStatus]}
    statement_status = {"type": "string", "enum": [s.value for s in StatementStatus]}
    chargeback_status = {"type": "string", "enum": [s.value for s in ChargebackStatus]}
    rate = {"type": "string", "pattern": r"^\d+(\.\d+)?$", "examples": ["0.13"]}
    period = {"type": "string", "pattern": r"^\d{4}-\d{2}$", "examples": ["2026-05"]}
    reason = {"type": "string", "minLength": 1, "maxLength": 2000}
    statement = {
        "id": INT,
        "number": {**STRING, "description": "e.g. S-202605-12-ST-A (station), C-... (supplier)"},
        "kind": {"type": "string", "enum": [k.value for k in StatementKind]},
        "org_code": {**STRING, "description": "the station's or the supplier's code"},
        "org_name": STRING,
        "period": period,
        "run_id": INT,
        "net": MONEY,
        "vat": MONEY,
        "gross": {**MONEY, "description": "net + VAT"},
        "status": {
            **statement_status,
            "description": "draft (finance only), released, final (a supplier statement "
            "with no open or disputed line), paid",
        },
        "line_count": INT,
        "released_at": _nullable(DATETIME),
        "paid_on": _nullable(DATE),
    }
    return {
        "SettlementRunCreate": _obj({"period": {**period, "description": "a month, YYYY-MM"}}),
        "SettlementRunTotals": _obj(
            {
                "claim_count": INT,
                "station_statement_count": INT,
                "supplier_statement_count": INT,
                "station_net": MONEY,
                "supplier_net": MONEY,
            },
            description="Written with the draft; zero until the run is computed.",
        ),
        "SettlementRun": _obj(
            {
                "id": INT,
                "period": period,
                "status": {
                    **run_status,
                    "description": "queued, running, draft (computed, ready to release), "
                    "released, failed; discarded once finance throws a draft away",
                },
                "progress": {"type": "integer", "minimum": 0, "maximum": 100},
                "step": {
                    **STRING,
                    "description": "what the worker is doing (scope, chargebacks...)",
                },
                "error": {**TEXT, "description": "why a failed run failed"},
                "stale": {
                    "type": "boolean",
                    "description": "the worker seems gone (no heartbeat): retry resumes the run",
                },
                "attempts": INT,
                "vat_rate": rate,
                "totals": _ref("SettlementRunTotals"),
                "created_at": DATETIME,
                "created_by": TEXT,
                "started_at": _nullable(DATETIME),
                "computed_at": _nullable(DATETIME),
                "released_at": _nullable(DATETIME),
                "released_by": TEXT,
                "discarded_at": _nullable(DATETIME),
            }
        ),
        "SettlementRunList": _obj(
            {
                "items": {"type": "array", "items": _ref("SettlementRun")},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "total": {"type": "integer", "minimum": 0},
            }
        ),
        "StatementSummary": _obj(statement),
        "StatementLine": _obj(
            {
                "id": {
                    **INT,
                    "description": "the statement line's id; on a supplier statement the "
                    "chargeback's id (POST /chargebacks/{id}/...)",
                },
                "claim_number": STRING,
                "description": STRING,
                "amount": {**MONEY, "description": "deductions are negative"},
                "status": {
                    "type": "string",
                    "enum": sorted(
                        {s.value for s in StatementStatus} | {s.value for s in ChargebackStatus}
                    ),
                    "description": "a station line: the statement's status; a chargeback: "
                    "open, accepted, disputed, upheld or waived (a waived line is not in the "
                    "net)",
                },
                "kind": {
                    "type": "string",
                    "enum": [k.value for k in StatementLineKind] + ["chargeback"],
                },
            }
        ),
        "Statement": _obj(
            {
                **statement,
                "vat_rate": rate,
                "created_at": DATETIME,
                "final_at": _nullable(DATETIME),
                "paid_reference": TEXT,
                "paid_at": _nullable(DATETIME),
                "lines": {"type": "array", "items": _ref("StatementLine")},
            }
        ),
        "StatementList": _obj(
            {
                "items": {"type": "array", "items": _ref("StatementSummary")},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "total": {"type": "integer", "minimum": 0},
            }
        ),
        "StatementPaid": _obj(
            {
                "paid_on": {**DATE, "description": "today or earlier"},
                "reference": {"type": "string", "minLength": 1, "maxLength": 80},
            }
        ),
        "ChargebackEvent": _obj(
            {
                "action": {
                    **STRING,
                    "description": "accepted, disputed, evidence_added, upheld, waived",
                },
                "from_status": TEXT,
                "to_status": TEXT,
                "at": DATETIME,
                "by": {**TEXT, "description": "username; null for the system"},
                "note": STRING,
            }
        ),
        "ChargebackEvidence": _obj(
            {
                "id": INT,
                "filename": STRING,
                "content_type": {"type": "string", "enum": _attachment_types()},
                "size": INT,
                "uploaded_at": DATETIME,
                "uploaded_by": TEXT,
                "url": {"type": "string", "description": "where to download it (same auth)"},
            }
        ),
        "Chargeback": _obj(
            {
                "id": INT,
                "statement_id": INT,
                "statement_number": STRING,
                "claim_number": STRING,
                "supplier_code": STRING,
                "status": chargeback_status,
                "description": STRING,
                "amount": {**MONEY, "description": "recovery_amount + handling_fee"},
                "parts_amount": {
                    **MONEY,
                    "description": "approved parts, after those inspection removed",
                },
                "removed_parts_amount": MONEY,
                "labor_hours": HOURS,
                "labor_hours_charged": {**HOURS, "description": "capped by the agreement"},
                "labor_amount": MONEY,
                "recovery_share": rate,
                "recovery_amount": {**MONEY, "description": "(parts + labor) x share"},
                "handling_fee_rate": rate,
                "handling_fee": {**MONEY, "description": "parts x handling fee rate"},
                "dispute_reason": TEXT,
                "disputed_at": _nullable(DATETIME),
                "disputed_by": TEXT,
                "resolution_reason": TEXT,
                "resolved_at": _nullable(DATETIME),
                "resolved_by": TEXT,
                "accepted_at": _nullable(DATETIME),
                "accepted_by": TEXT,
                "events": {"type": "array", "items": _ref("ChargebackEvent")},
                "evidence": {"type": "array", "items": _ref("ChargebackEvidence")},
            }
        ),
        "ChargebackDispute": _obj({"reason": reason}),
        "ChargebackResolution": _obj(
            {"action": {"type": "string", "enum": list(RESOLUTIONS)}, "reason": reason}
        ),
    }


def _attachment_types() -> list[str]:
    return [content_type for _magic, content_type, _ext in SIGNATURES] + ["image/webp"]


def _error(description: str, **extra) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
        **extra,
    }


RESPONSES = {
    "Malformed": _error("Malformed: bad JSON, an unknown value, a field of the wrong form."),
    "Unauthorized": _error(
        "No bearer token, or an unknown or expired one, or a disabled account.",
        headers={"WWW-Authenticate": {"schema": {"type": "string"}}},
    ),
    "Forbidden": _error("The user's role may never do this."),
    "NotFound": _error("No such record for this user (other organisations' records included)."),
    "Conflict": _error(
        "The record's state does not allow it (e.g. submitting a submitted claim), or it "
        "changed since the revision the request names."
    ),
    "PreconditionRequired": _error(
        "The request must name the revision it changes (If-Match, or `revision` in the body)."
    ),
    "Refused": _error("A rule refused it; `fields` names each field and the rule."),
    "TooLarge": _error("The upload is too large."),
    "RateLimited": _error("Too many attempts; wait a minute."),
    "Unavailable": _error(
        "Background jobs are not available (Redis does not answer): nothing was started; "
        "try again later."
    ),
}


def _responses(ok: str, ok_body: dict | None, *errors: str, **ok_extra) -> dict:
    answers: dict[str, Any] = {ok: {"description": ok_extra.pop("description", "Success")}}
    if ok_body is not None:
        answers[ok]["content"] = {"application/json": {"schema": ok_body}}
    answers[ok].update(ok_extra)
    codes = {
        "Malformed": "400",
        "Unauthorized": "401",
        "Forbidden": "403",
        "NotFound": "404",
        "Conflict": "409",
        "TooLarge": "413",
        "PreconditionRequired": "428",
        "Refused": "422",
        "RateLimited": "429",
        "Unavailable": "503",
    }
    for name in errors:
        answers[codes[name]] = {"$ref": f"#/components/responses/{name}"}
    return answers


def _body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": STRING,
    "description": "the claim number, e.g. RP-ST-A-2611-0001",
}
CLAIM_ERRORS = ("Unauthorized", "Forbidden", "NotFound")
LOCATION = {"Location": {"schema": {"type": "string"}, "description": "the new record's URL"}}
ETAG = {
    "ETag": {
        "schema": STRING,
        "description": 'the claim\'s revision as a strong entity tag, e.g. "RP-ST-A-2611-0001-r3"',
    }
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "schema": STRING,
    "description": "the ETag of the claim as last read; without it the body's `revision` is "
    "needed (neither: 428, `*` is not enough); another one is a 409 and changes nothing",
}


def _paths() -> dict[str, Any]:
    return {
        "/auth/token": {
            "post": {
                "operationId": "issueToken",
                "summary": "Exchange a username and password for a bearer token",
                "description": "The token is shown once; it expires after 30 days "
                "(configurable). Rate-limited like the sign-in page.",
                "security": [],
                "tags": ["auth"],
                "requestBody": _body(_ref("TokenRequest")),
                "responses": _responses(
                    "200", _ref("Token"), "Malformed", "Unauthorized", "RateLimited"
                ),
            }
        },
        "/vehicles/{vin}": {
            "get": {
                "operationId": "getVehicle",
                "summary": "A vehicle, its claims count and its coverage per group as of today",
                "description": "Roles: station (any vehicle of the brand), auditor.",
                "tags": ["vehicles"],
                "parameters": [{"name": "vin", "in": "path", "required": True, "schema": STRING}],
                "responses": _responses(
                    "200", _ref("Vehicle"), "Malformed", "Unauthorized", "Forbidden", "NotFound"
                ),
            }
        },
        "/claims": {
            "get": {
                "operationId": "listClaims",
                "summary": "Claims, newest first, a page at a time",
                "description": "Roles: station (its own, drafts included), auditor and finance "
                "(every submitted claim).",
                "tags": ["claims"],
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": [s.value for s in ClaimStatus]},
                    },
                    {
                        "name": "type",
                        "in": "query",
                        "schema": {"type": "string", "enum": [t.value for t in ClaimType]},
                    },
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {
                        "name": "per_page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                    },
                ],
                "responses": _responses(
                    "200", _ref("ClaimList"), "Malformed", "Unauthorized", "Forbidden"
                ),
            },
            "post": {
                "operationId": "createClaim",
                "summary": "Create a draft claim (checks run on submit)",
                "description": "Role: station. An incomplete draft is saved; an unknown type or "
                "a malformed field is refused at once (400), an unknown reference (part, "
                "operation, fault code) with 422.",
                "tags": ["claims"],
                "requestBody": _body(_ref("ClaimCreate")),
                "responses": _responses(
                    "201",
                    _ref("Claim"),
                    "Malformed",
                    "Unauthorized",
                    "Forbidden",
                    "Refused",
                    description="Created",
                    headers=LOCATION,
                ),
            },
        },
        "/claims/{number}": {
            "parameters": [NUMBER],
            "get": {
                "operationId": "getClaim",
                "summary": "The claim with its lines, flags, events, versions and comments",
                "description": "Roles: the owner station, auditor and finance (not drafts).",
                "tags": ["claims"],
                "responses": _responses("200", _ref("Claim"), *CLAIM_ERRORS, headers=ETAG),
            },
            "patch": {
                "operationId": "updateClaim",
                "summary": "Replace the content of a draft or returned claim",
                "description": "Role: the owner station. Optimistic concurrency: name the "
                "revision the edit is based on, as `If-Match` with the claim's ETag or as "
                "`revision` in the body. Naming none is 428; a claim changed since (by another "
                "edit, a submit, a return...) is 409 with the current revision in the message "
                "and `fields.revision`, and nothing is saved: read it again. A saved edit "
                "answers the claim with its new ETag.",
                "tags": ["claims"],
                "parameters": [IF_MATCH],
                "requestBody": _body(_ref("ClaimUpdate")),
                "responses": _responses(
                    "200",
                    _ref("Claim"),
                    "Malformed",
                    *CLAIM_ERRORS,
                    "Conflict",
                    "Refused",
                    "PreconditionRequired",
                    headers=ETAG,
                ),
            },
        },
        "/claims/{number}/submit": {
            "parameters": [NUMBER],
            "post": {
                "operationId": "submitClaim",
                "summary": "Submit: run the checks, record flags, auto-approve or queue",
                "description": "Role: the owner station. Empty body. A refusal (422) lists "
                "every failed check in `fields` and saves nothing.",
                "tags": ["claims"],
                "responses": _responses("200", _ref("Claim"), *CLAIM_ERRORS, "Conflict", "Refused"),
            },
        },
        "/claims/{number}/decision": {
            "parameters": [NUMBER],
            "post": {
                "operationId": "decideClaim",
                "summary": "Approve (in full or in part), reject or return a claim under review",
                "description": "Role: auditor. A cut value needs a reason code; rejecting or "
                "returning needs a free-text reason. Answers the claim as GET shows it. A claim "
                "that is not in review (decided, returned) or changed meanwhile, or whose "
                "version is not the one given, is a 409; an invalid decision (a cut above the "
                "claim, a missing or unknown reason code, an unknown supplier, every line cut "
                "to zero) a 422 naming each problem in `fields`.",
                "tags": ["audit"],
                "requestBody": _body(_ref("Decision")),
                "responses": _responses(
                    "200", _ref("Claim"), "Malformed", *CLAIM_ERRORS, "Conflict", "Refused"
                ),
            },
        },
        "/reason-codes": {
            "get": {
                "operationId": "listReasonCodes",
                "summary": "The active reason codes for cuts, with English and Chinese labels",
                "description": "Roles: auditor, finance.",
                "tags": ["audit"],
                "responses": _responses("200", _ref("ReasonCodeList"), "Unauthorized", "Forbidden"),
            }
        },
        "/claims/{number}/comments": {
            "parameters": [NUMBER],
            "post": {
                "operationId": "addComment",
                "summary": "Add to the claim's comment thread (once submitted)",
                "description": "Roles: the owner station, auditor.",
                "tags": ["claims"],
                "requestBody": _body(_ref("CommentCreate")),
                "responses": _responses(
                    "201",
                    _ref("Comment"),
                    "Malformed",
                    *CLAIM_ERRORS,
                    "Conflict",
                    "Refused",
                    description="Created",
                ),
            },
        },
        "/claims/{number}/attachments": {
            "parameters": [NUMBER],
            "post": {
                "operationId": "addAttachment",
                "summary": "Attach a photo or PDF (receipts) to a draft or returned claim",
                "description": "Role: the owner station. JPEG, PNG, WebP or PDF, recognised "
                "by content; at most 10 MB.",
                "tags": ["claims"],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": _obj(
                                {
                                    "file": {
                                        "type": "string",
                                        "contentMediaType": "application/octet-stream",
                                    }
                                }
                            )
                        }
                    },
                },
                "responses": _responses(
                    "201",
                    _ref("Attachment"),
                    "Malformed",
                    *CLAIM_ERRORS,
                    "Conflict",
                    "TooLarge",
                    "Refused",
                    description="Created",
                    headers=LOCATION,
                ),
            },
        },
        "/claims/{number}/attachments/{attachment_id}": {
            "parameters": [
                NUMBER,
                {"name": "attachment_id", "in": "path", "required": True, "schema": INT},
            ],
            "get": {
                "operationId": "downloadAttachment",
                "summary": "Download an attachment",
                "description": "Roles: whoever may read the claim.",
                "tags": ["claims"],
                "responses": {
                    "200": {
                        "description": "The file",
                        "content": {t: {} for t in _attachment_types()},
                    },
                    **{
                        code: answer
                        for code, answer in _responses("200", None, *CLAIM_ERRORS).items()
                        if code != "200"
                    },
                },
            },
        },
        "/claims/{number}/shipment": {
            "parameters": [NUMBER],
            "post": {
                "operationId": "shipEmergencyPart",
                "summary": "Record the shipment of an approved emergency part request",
                "description": "Roles: station, supplier, auditor (finance and admin: 403). "
                "The shipper records it: an OEM auditor for a regular shipment (应发货), the "
                "users of the shipper organisation for a drop-shipment (代发货); anyone else "
                "who may read the request is 403, and a drop-shipper sees the request only once "
                "it is approved (404 before). Not an emergency part request: 422; not approved "
                "or already shipped: 409; a missing carrier or tracking number, or a freight "
                "that is not text with at most two decimals: 422. Answers the claim as GET "
                "shows it.",
                "tags": ["fulfilment"],
                "requestBody": _body(_ref("Shipment")),
                "responses": _responses(
                    "200", _ref("Claim"), "Malformed", *CLAIM_ERRORS, "Conflict", "Refused"
                ),
            },
        },
        "/claims/{number}/receipt": {
            "parameters": [NUMBER],
            "post": {
                "operationId": "confirmEmergencyPartReceipt",
                "summary": "Confirm that the emergency part arrived",
                "description": "Role: the requesting station (a drop-shipping station: 403). "
                "Empty body. Not shipped yet or already confirmed: 409; not an emergency part "
                "request: 422. Answers the claim as GET shows it.",
                "tags": ["fulfilment"],
                "responses": _responses("200", _ref("Claim"), *CLAIM_ERRORS, "Conflict", "Refused"),
            },
        },
        "/old-parts": {
            "get": {
                "operationId": "listOldParts",
                "summary": "Old parts (旧件), newest first, a page at a time",
                "description": "Roles: station (its own), auditor and finance (all; finance "
                "reads only), supplier: the parts routed to it (destination) or whose "
                "responsible supplier it is, once they left the station (in a return shipment "
                "and no longer awaiting_return; scrapped-at-station parts never). Admin: 403. "
                "`overdue=true` lists parts overdue and not waived.",
                "tags": ["old-parts"],
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": [s.value for s in OldPartStatus]},
                    },
                    {
                        "name": "disposition",
                        "in": "query",
                        "schema": {"type": "string", "enum": [d.value for d in Disposition]},
                    },
                    {
                        "name": "overdue",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["true", "false"]},
                        "description": "also 1/0, yes/no",
                    },
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {
                        "name": "per_page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                    },
                ],
                "responses": _responses(
                    "200", _ref("OldPartList"), "Malformed", "Unauthorized", "Forbidden"
                ),
            }
        },
        "/old-parts/{tag}": {
            "parameters": [
                {
                    "name": "tag",
                    "in": "path",
                    "required": True,
                    "schema": STRING,
                    "description": "the tag number, e.g. RP-ST-A-2611-0001-0101",
                }
            ],
            "get": {
                "operationId": "getOldPart",
                "summary": "One old part with its events",
                "description": "Roles as for the list; a part the user may not see is 404.",
                "tags": ["old-parts"],
                "responses": _responses("200", _ref("OldPartDetail"), *CLAIM_ERRORS),
            },
        },
        **_settlement_paths(),
        **_analysis_paths(),
        **_campaign_paths(),
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "tags": ["meta"],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }


def _campaign_paths() -> dict[str, Any]:
    roles = (
        "Roles: auditor, finance, admin; a supplier only the campaigns charged to it (another: "
        "404); a station: 403."
    )
    return {
        "/campaigns": {
            "get": {
                "operationId": "listCampaigns",
                "summary": "Recalls and service campaigns with their completion",
                "description": roles,
                "tags": ["campaigns"],
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["open", "closed"]},
                    }
                ],
                "responses": _responses(
                    "200", _ref("CampaignList"), "Malformed", "Unauthorized", "Forbidden"
                ),
            }
        },
        "/campaigns/{code}": {
            "get": {
                "operationId": "getCampaign",
                "summary": "A campaign with its completion figures",
                "description": roles,
                "tags": ["campaigns"],
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": STRING}],
                "responses": _responses(
                    "200", _ref("Campaign"), "Unauthorized", "Forbidden", "NotFound"
                ),
            }
        },
    }


def _settlement_paths() -> dict[str, Any]:
    run_id = {"name": "run_id", "in": "path", "required": True, "schema": INT}
    statement_id = {"name": "statement_id", "in": "path", "required": True, "schema": INT}
    chargeback_id = {"name": "chargeback_id", "in": "path", "required": True, "schema": INT}
    paging = [
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        {
            "name": "per_page",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
        },
    ]
    period = {
        "name": "period",
        "in": "query",
        "schema": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
    }
    run_errors = ("Unauthorized", "Forbidden", "NotFound", "Conflict")
    chargeback_errors = ("Malformed", *CLAIM_ERRORS, "Conflict", "Refused")

    def run_action(operation_id: str, summary: str, description: str, *errors: str) -> dict:
        return {
            "parameters": [run_id],
            "post": {
                "operationId": operation_id,
                "summary": summary,
                "description": f"Role: finance. Empty body. {description} Answers the run.",
                "tags": ["settlement"],
                "responses": _responses("200", _ref("SettlementRun"), *run_errors, *errors),
            },
        }

    def chargeback_action(operation_id: str, summary: str, description: str, body) -> dict:
        operation = {
            "operationId": operation_id,
            "summary": summary,
            "description": description + " Answers the chargeback as GET shows it.",
            "tags": ["settlement"],
            "responses": _responses("200", _ref("Chargeback"), *chargeback_errors),
        }
        if body is not None:
            operation["requestBody"] = body
        return {"parameters": [chargeback_id], "post": operation}

    return {
        "/settlement/runs": {
            "get": {
                "operationId": "listSettlementRuns",
                "summary": "Settlement runs, newest first, a page at a time",
                "description": "Role: finance.",
                "tags": ["settlement"],
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": [s.value for s in RunStatus]},
                    },
                    period,
                    *paging,
                ],
                "responses": _responses(
                    "200", _ref("SettlementRunList"), "Unauthorized", "Forbidden", "Refused"
                ),
            },
            "post": {
                "operationId": "startSettlementRun",
                "summary": "Start a settlement run (结算) for a month",
                "description": "Role: finance. The current month (what is approved so far) or "
                "an earlier one; a future or malformed period is 422 naming `period`. One run "
                "is open (queued, running or draft) at a time: another is 409, and the body "
                "has `open_run_id` beside `error`. The run is computed by a worker: poll GET "
                "for `status` and `progress` (without Redis it is computed before the answer).",
                "tags": ["settlement"],
                "requestBody": _body(_ref("SettlementRunCreate")),
                "responses": _responses(
                    "201",
                    _ref("SettlementRun"),
                    "Malformed",
                    "Unauthorized",
                    "Forbidden",
                    "Conflict",
                    "Refused",
                    "Unavailable",
                    description="Created",
                    headers=LOCATION,
                ),
            },
        },
        "/settlement/runs/{run_id}": {
            "parameters": [run_id],
            "get": {
                "operationId": "getSettlementRun",
                "summary": "A run's status, progress, totals and, when failed, its error",
                "description": "Role: finance.",
                "tags": ["settlement"],
                "responses": _responses("200", _ref("SettlementRun"), *CLAIM_ERRORS),
            },
        },
        "/settlement/runs/{run_id}/release": run_action(
            "releaseSettlementRun",
            "Release a draft: its statements go to stations and suppliers, its claims settle",
            "A run that is not a draft (released included) is 409. With workers the release "
            "is queued: the run stays draft with step `releasing` until it is done.",
            "Unavailable",
        ),
        "/settlement/runs/{run_id}/discard": run_action(
            "discardSettlementRun",
            "Throw a draft or a failed run away; its claims stay unsettled",
            "Anything but a draft or a failed run is 409.",
        ),
        "/settlement/runs/{run_id}/retry": run_action(
            "retrySettlementRun",
            "Compute a failed run again, or resume one whose worker stopped (stale)",
            "A run with nothing to retry is 409 (with `open_run_id` when another run is open).",
            "Unavailable",
        ),
        "/statements": {
            "get": {
                "operationId": "listStatements",
                "summary": "Settlement statements, newest period first, a page at a time",
                "description": "Roles: finance (all, drafts included), auditor (released "
                "supplier statements), station and supplier (their own released ones). Admin: "
                "403. A filter value that is not one of its choices is 422.",
                "tags": ["settlement"],
                "parameters": [
                    {
                        "name": "kind",
                        "in": "query",
                        "schema": {"type": "string", "enum": [k.value for k in StatementKind]},
                    },
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": [s.value for s in StatementStatus]},
                    },
                    period,
                    {"name": "run_id", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    *paging,
                ],
                "responses": _responses(
                    "200", _ref("StatementList"), "Unauthorized", "Forbidden", "Refused"
                ),
            }
        },
        "/statements/{statement_id}": {
            "parameters": [statement_id],
            "get": {
                "operationId": "getStatement",
                "summary": "A statement with its lines (a supplier statement's are chargebacks)",
                "description": "Roles as for the list; another organisation's statement, or a "
                "draft for anyone but finance, is 404.",
                "tags": ["settlement"],
                "responses": _responses("200", _ref("Statement"), *CLAIM_ERRORS),
            },
        },
        "/statements/{statement_id}/paid": {
            "parameters": [statement_id],
            "post": {
                "operationId": "markStatementPaid",
                "summary": "Record that a statement was paid",
                "description": "Role: finance. A released station statement or a final "
                "supplier statement; a draft, a paid one or a supplier statement with open or "
                "disputed lines is 409; a missing or future date or a missing reference is "
                "422. Answers the statement.",
                "tags": ["settlement"],
                "requestBody": _body(_ref("StatementPaid")),
                "responses": _responses(
                    "200", _ref("Statement"), "Malformed", *CLAIM_ERRORS, "Conflict", "Refused"
                ),
            },
        },
        "/chargebacks/{chargeback_id}": {
            "parameters": [chargeback_id],
            "get": {
                "operationId": "getChargeback",
                "summary": "A chargeback (追偿) with how it was reached, its events and evidence",
                "description": "Roles: finance, auditor (released statements), the supplier "
                "charged (released statements). Station and admin: 403.",
                "tags": ["settlement"],
                "responses": _responses("200", _ref("Chargeback"), *CLAIM_ERRORS),
            },
        },
        "/chargebacks/{chargeback_id}/accept": chargeback_action(
            "acceptChargeback",
            "Accept a chargeback line",
            "Role: the supplier charged (another supplier's line is 404). Empty body. A line "
            "that is not open is 409.",
            None,
        ),
        "/chargebacks/{chargeback_id}/dispute": chargeback_action(
            "disputeChargeback",
            "Dispute a chargeback line with a reason (and, optionally, evidence)",
            "Role: the supplier charged (another supplier's line is 404). A missing reason is "
            "422; a line that is not open is 409. Multipart form data may carry the reason and "
            "evidence files (`file`, JPEG, PNG, WebP or PDF) at once.",
            {
                "required": True,
                "content": {
                    "application/json": {"schema": _ref("ChargebackDispute")},
                    "multipart/form-data": {
                        "schema": _obj(
                            {
                                "reason": {"type": "string"},
                                "file": {
                                    "type": "array",
                                    "items": {
                                        "type": "string",
                                        "contentMediaType": "application/octet-stream",
                                    },
                                },
                            },
                            required=["reason"],
                        )
                    },
                },
            },
        ),
        "/chargebacks/{chargeback_id}/resolve": chargeback_action(
            "resolveChargeback",
            "Settle a dispute: uphold (the supplier pays) or waive (the line leaves the net)",
            "Role: auditor. A line that is not disputed is 409; an action other than uphold "
            "or waive, or a missing reason, is 422.",
            _body(_ref("ChargebackResolution")),
        ),
        "/chargebacks/{chargeback_id}/evidence": {
            "parameters": [chargeback_id],
            "post": {
                "operationId": "addChargebackEvidence",
                "summary": "Add a photo or PDF to a disputed chargeback",
                "description": "Role: the supplier charged. JPEG, PNG, WebP or PDF, recognised "
                "by content; at most 10 MB and 10 files. A line that is not disputed is 409.",
                "tags": ["settlement"],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": _obj(
                                {
                                    "file": {
                                        "type": "string",
                                        "contentMediaType": "application/octet-stream",
                                    }
                                }
                            )
                        }
                    },
                },
                "responses": _responses(
                    "201",
                    _ref("ChargebackEvidence"),
                    "Malformed",
                    *CLAIM_ERRORS,
                    "Conflict",
                    "TooLarge",
                    "Refused",
                    description="Created",
                    headers=LOCATION,
                ),
            },
        },
        "/chargebacks/{chargeback_id}/evidence/{evidence_id}": {
            "parameters": [
                chargeback_id,
                {"name": "evidence_id", "in": "path", "required": True, "schema": INT},
            ],
            "get": {
                "operationId": "downloadChargebackEvidence",
                "summary": "Download a dispute's evidence file",
                "description": "Roles: whoever may read the chargeback.",
                "tags": ["settlement"],
                "responses": {
                    "200": {
                        "description": "The file",
                        "content": {t: {} for t in _attachment_types()},
                    },
                    **{
                        code: answer
                        for code, answer in _responses("200", None, *CLAIM_ERRORS).items()
                        if code != "200"
                    },
                },
            },
        },
    }


ESTIMATE = {
    "type": "object",
    "properties": {
        "value": {"type": "number"},
        "lower": {"type": "number"},
        "upper": {"type": "number"},
    },
    "required": ["value", "lower", "upper"],
}


def _analysis_schemas() -> dict[str, Any]:
    return {
        "ClaimRates": _obj(
            {
                "group_by": {"type": "string", "enum": [g.value for g in API_GROUPS]},
                "as_of": DATE,
                "rows": {
                    "type": "array",
                    "items": _obj(
                        {
                            "key": {"type": ["string", "integer", "null"]},
                            "vehicles": INT,
                            "claims": INT,
                            "per_1000": {"type": ["number", "null"]},
                            "cost": MONEY,
                        },
                        ["key", "vehicles", "claims", "per_1000", "cost"],
                    ),
                },
            },
            ["group_by", "as_of", "rows"],
        ),
        "Reliability": _obj(
            {
                "as_of": DATE,
                "vehicles": INT,
                "failures": INT,
                "survivors": INT,
                "distribution": {"type": "string", "enum": ["weibull"]},
                "shape": {"type": "number"},
                "scale": {"type": "number", "description": "months"},
                "shape_bounds": {"type": "array", "items": {"type": "number"}},
                "scale_bounds": {"type": "array", "items": {"type": "number"}},
                "log_likelihood": {"type": "number"},
                "b10": {"type": "number", "description": "months by which 10% have failed"},
                "expected_failures": ESTIMATE,
                "future_sales": {"type": "number"},
                "average_cost": _nullable(MONEY),
                "forecast": {
                    "type": "array",
                    "items": _obj(
                        {
                            "month": INT,
                            "predicted": {"type": "number"},
                            "lower": {"type": "number"},
                            "upper": {"type": "number"},
                            "cost": _nullable(MONEY),
                        },
                        ["month", "predicted", "lower", "upper"],
                    ),
                },
                "nevada": {
                    "type": "array",
                    "items": _obj(
                        {
                            "sale_month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
                            "vehicles": INT,
                            "claims": {"type": "array", "items": INT},
                        },
                        ["sale_month", "vehicles", "claims"],
                    ),
                },
            },
            [
                "as_of",
                "vehicles",
                "failures",
                "survivors",
                "distribution",
                "shape",
                "scale",
                "expected_failures",
                "forecast",
                "nevada",
            ],
        ),
    }


def _query(name: str, schema: dict | None = None, description: str | None = None) -> dict:
    parameter = {"name": name, "in": "query", "schema": schema or STRING}
    if description:
        parameter["description"] = description
    return parameter


def _analysis_paths() -> dict[str, Any]:
    selection = [
        _query("model", description="vehicle model code"),
        _query("part", description="causal part number (a supplier: its own only)"),
        _query("fault_code"),
        _query("supplier", description="responsible supplier code (a supplier: its own only)"),
        _query("as_of", DATE, "counted claims repaired on or before it (default today)"),
    ]
    roles = (
        "Roles: auditor, finance, admin; a supplier only for its own parts (another supplier or "
        "another supplier's part: 404); a station: 403. DESIGN 7's conventions: a claim counts "
        "when approved, partially approved or settled and repaired by as_of; vehicles of age 0 "
        "are left out."
    )
    return {
        "/analysis/claim-rates": {
            "get": {
                "operationId": "getClaimRates",
                "summary": "Claims, vehicles, claims per 1,000 vehicles and cost by a key",
                "description": roles + " For months_in_service the key is k and `vehicles` "
                "those of age >= k.",
                "tags": ["analysis"],
                "parameters": [
                    _query(
                        "group_by",
                        {"type": "string", "enum": [g.value for g in API_GROUPS]},
                    )
                    | {"required": True},
                    *selection,
                ],
                "responses": _responses(
                    "200",
                    _ref("ClaimRates"),
                    "Malformed",
                    "Unauthorized",
                    "Forbidden",
                    "NotFound",
                ),
            }
        },
        "/analysis/reliability": {
            "get": {
                "operationId": "getReliability",
                "summary": "A selection's Weibull fit, expected failures, forecast, Nevada chart",
                "description": roles + " Too few failures to fit: 422.",
                "tags": ["analysis"],
                "parameters": [
                    *selection,
                    _query(
                        "horizon",
                        {"type": "integer", "minimum": 1, "maximum": 60},
                        "forecast months (default 12)",
                    ),
                    _query(
                        "future_sales",
                        {"type": "number", "minimum": 0},
                        "vehicles sold per future month (default: the selection's average "
                        "over the last 3 full months)",
                    ),
                    _query(
                        "warranty_months",
                        {"type": "integer", "minimum": 1, "maximum": 240},
                        "failures after this age are no claims",
                    ),
                ],
                "responses": _responses(
                    "200",
                    _ref("Reliability"),
                    "Malformed",
                    "Unauthorized",
                    "Forbidden",
                    "NotFound",
                    "Refused",
                ),
            }
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Warranty-claim portal API",
            "version": "1.0.0",
            "description": "Claims and old parts for dealer systems (DMS) and scripts. Money "
            "is text with two decimals (CNY), dates are YYYY-MM-DD, timestamps ISO 8601 in UTC. "
            "Errors are "
            '`{"error": {"code", "message", "fields"}}`.',
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "tags": [
            {"name": "auth"},
            {"name": "vehicles"},
            {"name": "claims"},
            {"name": "audit"},
            {"name": "fulfilment"},
            {"name": "old-parts"},
            {"name": "settlement"},
            {"name": "analysis"},
            {"name": "campaigns"},
            {"name": "meta"},
        ],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from POST /auth/token: `Authorization: Bearer TOKEN`.",
                }
            },
            "schemas": _schemas(),
            "responses": RESPONSES,
        },
    }


@bp.route("/openapi.json", methods=["GET"])
def serve_openapi():
    return jsonify(openapi_document())
