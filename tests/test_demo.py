"""The demo data set (`flask --app wsgi demo`): complete, realistic, exact and loaded only once.

Loading the demo takes seconds, so this module loads it once: `demo` builds it in a transaction
of its own connection that is rolled back after the module's last test, and every test runs in
a savepoint of that transaction (the module's `db_session` replaces the suite's), so that what a
test writes is gone for the next one. The demo's files go to a temporary upload folder.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import url_for
from flask_sqlalchemy.session import _app_ctx_id

from portal import create_app
from portal import demo as demo_module
from portal.announcements.models import Announcement, AnnouncementRead
from portal.auth.models import Role, User
from portal.auth.operations import password_problem
from portal.auth.views import HOME_ENDPOINTS
from portal.campaigns.queries import completion, completion_by
from portal.claims.attachments import path_of, sniff
from portal.claims.decisions import PRE_AUTHORISATIONS
from portal.claims.models import (
    FLAG_RULES,
    SEEDED_REASON_CODES,
    Attachment,
    Claim,
    ClaimComment,
    ClaimEvent,
    ClaimFlag,
    ClaimLine,
    ClaimStatus,
    ClaimType,
    ClaimVersion,
    LineKind,
    flag_bit,
)
from portal.claims.operations import diff_snapshots
from portal.claims.rules import APPRAISAL_VALID_DAYS, DUPLICATE_WINDOW_DAYS
from portal.demo import DEMO_PASSWORD, DEMO_USERS, MASTER_DATA_STEPS, load_demo
from portal.demo.clock import LOCAL_TZ, local_moment
from portal.demo.settlement import DEMO_SUPPLIER, released_periods
from portal.extensions import db
from portal.masterdata.campaigns import Campaign, CampaignKind
from portal.masterdata.coverage import coverage_of
from portal.masterdata.models import (
    OEM_CODE,
    Disposition,
    FaultCode,
    LaborOperation,
    Organisation,
    Part,
    PartPrice,
    Station,
    Supplier,
    Vehicle,
    VehicleModel,
    WarrantyContract,
)
from portal.masterdata.vin import is_valid_vin
from portal.money import money_sum, round_money
from portal.notifications.models import Notification
from portal.oem.queue import QueueFilter, queue_counts, queue_page
from portal.oldparts.models import (
    ChargeKind,
    Inspection,
    OldPart,
    OldPartEvent,
    OldPartStatus,
    ReturnShipment,
    ShipmentStatus,
    StationCharge,
)
from portal.oldparts.operations import parts_in
from portal.settlement.engine import next_month, parse_period, period_cutoff
from portal.settlement.models import (
    Adjustment,
    AdjustmentKind,
    Chargeback,
    ChargebackEvent,
    ChargebackEvidence,
    ChargebackStatus,
    RunStatus,
    SettlementRun,
    Statement,
    StatementKind,
    StatementLine,
    StatementStatus,
)
from portal.settlement.models import LineKind as StatementLineKind
from tests.conftest import login, migrate_to_head, test_config

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]{3,}")
SETTLED = ClaimStatus.SETTLED  # approved claims of a released settlement run
PASSING = {ClaimStatus.SUBMITTED}  # a submission is queued or approved at once
RESTING = set(ClaimStatus) - PASSING
DECIDED = RESTING - {SETTLED}  # where a claim rests before settlement


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def all_of(model) -> list:
    return list(db.session.scalars(sa.select(model)))


def all_of_where(model, *where) -> list:
    return list(db.session.scalars(sa.select(model).where(*where)))


def claims(*where) -> list[Claim]:
    return list(db.session.scalars(sa.select(Claim).where(*where).order_by(Claim.id)))


def decided_statuses() -> dict[int, ClaimStatus]:
    """Each claim's status, or for a settled claim the status it had until it was settled."""
    statuses = dict(db.session.execute(sa.select(Claim.id, Claim.status)).all())
    settled_from = db.session.execute(
        sa.select(ClaimEvent.claim_id, ClaimEvent.from_status).where(ClaimEvent.action == "settled")
    ).all()
    statuses.update((claim_id, ClaimStatus(status)) for claim_id, status in settled_from)
    return statuses


def decided(status: ClaimStatus, *where) -> list[Claim]:
    """Claims in `status`, or in it until a released settlement run settled them."""
    settled_from = sa.select(ClaimEvent.claim_id).where(
        ClaimEvent.action == "settled", ClaimEvent.from_status == status.value
    )
    return claims(sa.or_(Claim.status == status, Claim.id.in_(settled_from)), *where)


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def bilingual(text: str) -> bool:
    return bool(CHINESE.search(text) and ENGLISH.search(text))


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TZ).date()


# -- one demo for the module ----------------------------------------------------------------------


@dataclass
class LoadedDemo:
    connection: sa.Connection
    logins: list[tuple[str, str, str]]
    uploads: Path


def _session_on(connection: sa.Connection) -> sa.orm.scoped_session:
    """Sessions in savepoints of `connection`'s transaction, one per app context (as conftest)."""
    return sa.orm.scoped_session(
        sa.orm.sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=_app_ctx_id,
    )


@pytest.fixture(scope="module")
def demo(app, tmp_path_factory):
    """The demo, loaded once in a transaction that is rolled back after the module."""
    uploads = tmp_path_factory.mktemp("demo_uploads")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(app.config, "UPLOAD_FOLDER", str(uploads))
        with app.app_context():
            connection = db.engine.connect()
            transaction = connection.begin()
            try:
                patch.setattr(db, "session", _session_on(connection))
                logins = load_demo()
                db.session.commit()  # releases the loading savepoint into the module's transaction
                db.session.remove()
            except BaseException:
                transaction.rollback()
                connection.close()
                raise
        try:
            yield LoadedDemo(connection, logins, uploads)
        finally:
            transaction.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def db_session(app, demo):
    """Each test in a savepoint of the module's transaction, rolled back at the test's end."""
    with app.app_context():
        original = db.session
        db.session = _session_on(demo.connection)
        db.session.connection()  # the savepoint begins now: a request's commit stays inside it
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original


@pytest.fixture
def logins(demo):
    return demo.logins


# -- master data ----------------------------------------------------------------------------------


def test_the_demo_password_is_one_the_portal_accepts():
    assert password_problem(DEMO_PASSWORD) is None


def test_the_demo_loads_the_oem_with_stations_across_the_regions_and_four_suppliers():
    oem = db.session.scalar(sa.select(Organisation).where(Organisation.code == OEM_CODE))
    assert oem.is_oem and bilingual(oem.name)
    stations = all_of(Station)
    assert len(stations) >= 6
    assert len({station.region for station in stations}) >= 5
    for station in stations:
        assert re.fullmatch(r"ST-[A-Z]{2}\d{2}", station.code)
        assert bilingual(station.name)
        assert Decimal("60") <= station.labor_rate <= Decimal("120")
        assert Decimal("2.50") <= station.km_rate <= Decimal("4.00")
        assert Decimal("0.05") <= station.parts_handling_rate <= Decimal("0.15")
    suppliers = all_of(Supplier)
    assert len(suppliers) == 4
    assert len({supplier.recovery_share for supplier in suppliers}) > 1
    assert any(supplier.labor_hours_cap is None for supplier in suppliers)
    assert any(supplier.labor_hours_cap is not None for supplier in suppliers)


def test_each_of_the_three_models_has_a_policy_for_every_coverage_group_of_the_parts():
    models = all_of(VehicleModel)
    assert len(models) == 3
    part_groups = set(db.session.scalars(sa.select(Part.group).distinct()))
    assert {"basic", "powertrain", "wear"} <= part_groups
    for model in models:
        assert {policy.group for policy in model.policies} == part_groups
        assert all(policy.months > 0 and policy.km > 0 for policy in model.policies)
        assert model.break_in_days > 0
        assert 0 < model.break_in_min_km < model.break_in_max_km
        assert model.break_in_price > 0


def test_the_parts_are_bilingual_and_cover_every_group_supplier_and_disposition():
    parts = all_of(Part)
    assert len(parts) == 200
    assert all(bilingual(part.name) for part in parts)
    assert len({part.number for part in parts}) == 200
    assert {part.supplier.code for part in parts} == {s.code for s in all_of(Supplier)}
    assert {part.disposition for part in parts} == set(Disposition)
    majors = [part for part in parts if part.is_major_assembly]
    assert {"Engine assembly", "Gearbox assembly", "Rear axle assembly"} <= {
        part.name.split(" (")[0].split(" ", 1)[1] for part in majors
    }
    assert all(part.disposition is Disposition.RETURN_TO_SUPPLIER for part in majors)
    for part in parts:
        if part.disposition is Disposition.SCRAP_AT_STATION:
            assert Decimal("0.05") <= part.scrap_rate <= Decimal("0.30"), part.number
        else:
            assert part.scrap_rate == 0, part.number
        assert part.current_price is not None and part.current_price > 0, part.number


def test_a_models_variant_of_a_part_fits_that_model_only_and_universal_parts_fit_all():
    listed = 0
    for part in all_of(Part):
        suffix = part.number.rsplit("-", 1)[1] if "-" in part.number else None
        if suffix in {"H9", "T5", "S7"}:
            assert [fit.model.code for fit in part.fits] == [f"HX-{suffix}"], part.number
            listed += 1
        else:
            assert part.fits == [], part.number
    assert listed >= 100


def test_some_parts_have_an_older_price_so_a_claim_is_priced_by_its_repair_date():
    with_history = [part for part in all_of(Part) if len(part.prices) > 1]
    assert len(with_history) >= 10
    for part in with_history:
        assert len(part.prices) == 2
        current = next(price for price in part.prices if price.valid_to is None)
        older = next(price for price in part.prices if price.valid_to is not None)
        assert older.valid_from is None
        assert current.valid_from == older.valid_to + timedelta(days=1) <= date.today()
        assert current.unit_price != older.unit_price
        assert part.price_on(older.valid_to) == older.unit_price
        assert part.price_on(current.valid_from) == part.current_price == current.unit_price


def test_the_labor_operations_and_fault_codes_are_bilingual():
    operations = all_of(LaborOperation)
    assert len(operations) == 50
    assert all(bilingual(op.description) and op.standard_hours > 0 for op in operations)
    fault_codes = all_of(FaultCode)
    assert len(fault_codes) == 30
    for fault in fault_codes:
        assert re.fullmatch(r"[PBCU][0-9A-F]{4}", fault.code)
        assert bilingual(fault.description)
    assert {"engine", "transmission", "electrical", "body", "chassis", "brakes"} <= {
        fault.system for fault in fault_codes
    }
    assert {fault.code[0] for fault in fault_codes} == set("PBCU")


def test_the_vehicles_have_valid_vins_plausible_dates_odometers_and_owners():
    today = date.today()
    vehicles = all_of(Vehicle)
    assert len(vehicles) == 300
    assert len({vehicle.model_id for vehicle in vehicles}) == 3
    assert len({vehicle.selling_station_id for vehicle in vehicles}) == count(Station)
    for vehicle in vehicles:
        assert is_valid_vin(vehicle.vin), vehicle.vin
        assert vehicle.production_date <= vehicle.sale_date <= today
        assert vehicle.production_date.year >= today.year - 4
        days = (today - vehicle.sale_date).days
        assert 25 * days <= vehicle.odometer_km <= 450 * days + 60, vehicle.vin
        assert CHINESE.search(vehicle.owner_name)
        assert re.fullmatch(r"1[3-9]\d{9}", vehicle.owner_phone)
        assert vehicle.engine_no
    assert len({vehicle.vin for vehicle in vehicles}) == 300


def test_some_vehicles_are_due_for_break_in_and_some_are_out_of_basic_coverage():
    today = date.today()
    vehicles = all_of(Vehicle)
    due_for_break_in = [
        v
        for v in vehicles
        if (today - v.sale_date).days <= v.model.break_in_days
        and v.model.break_in_min_km <= v.odometer_km <= v.model.break_in_max_km
    ]
    assert len(due_for_break_in) >= 5
    assert any((today - v.sale_date).days <= 90 for v in vehicles)
    assert all(v.model.policy_for("basic").months <= 36 for v in vehicles)
    over_three_years = [v for v in vehicles if (today - v.sale_date).days > 3 * 366]
    assert len(over_three_years) >= 20


def test_amounts_are_exact_decimals_with_two_places():
    amounts = [
        *(price.unit_price for price in all_of(PartPrice)),
        *(station.labor_rate for station in all_of(Station)),
        *(station.km_rate for station in all_of(Station)),
        *(model.break_in_price for model in all_of(VehicleModel)),
        *(op.standard_hours for op in all_of(LaborOperation)),
        *(claim.total_amount for claim in all_of(Claim)),
        *(line.amount for line in all_of(ClaimLine)),
    ]
    for amount in amounts:
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent == -2, amount
    prices = [price.unit_price for price in all_of(PartPrice)]
    assert db.session.scalar(sa.select(sa.func.sum(PartPrice.unit_price))) == money_sum(prices)
    rates = [station.parts_handling_rate for station in all_of(Station)]
    assert all(isinstance(rate, Decimal) for rate in rates)
    assert Decimal("0.10") in rates


# -- claims in every state ------------------------------------------------------------------------


def test_there_are_hundreds_of_claims_of_every_type_and_in_every_state():
    every = all_of(Claim)
    assert 350 <= len(every) <= 500
    by_type = Counter(claim.type for claim in every)
    assert set(by_type) == set(ClaimType)
    assert by_type[ClaimType.REPAIR] >= 200
    assert all(n >= 10 for n in by_type.values()), by_type
    by_status = Counter(claim.status for claim in every)
    assert set(by_status) == RESTING
    assert by_status[SETTLED] >= 100
    by_decision = Counter(decided_statuses().values())  # settled claims as they were decided
    assert set(by_decision) == DECIDED
    assert all(n >= 10 for n in by_decision.values()), by_decision
    assert len({claim.station_id for claim in every}) == count(Station)
    assert {claim.type for claim in every if claim.status is ClaimStatus.IN_REVIEW} == set(
        ClaimType
    ) - {ClaimType.BREAK_IN}


def test_the_claims_spread_over_half_a_year_with_their_numbers_in_the_month_of_creation():
    today = date.today()
    every = all_of(Claim)
    created = [local_day(claim.created_at) for claim in every]
    assert today - timedelta(days=190) <= min(created) <= today - timedelta(days=150)
    assert today - timedelta(days=7) <= max(created) < today
    assert len({day.strftime("%y%m") for day in created}) >= 6
    for claim in every:
        assert claim.number.split("-")[3] == local_day(claim.created_at).strftime("%y%m")
        assert claim.number.split("-")[0] == claim.type.prefix
        assert claim.repair_date <= local_day(claim.created_at)


def test_each_claims_timeline_is_in_order_and_in_the_past():
    now = datetime.now(LOCAL_TZ)
    for claim in all_of(Claim):
        moments = [event.at for event in claim.events]
        assert moments == sorted(moments), claim.number
        assert claim.created_at == moments[0] and moments[-1] < now, claim.number
        assert claim.events[0].action == "created"
        if claim.status is not ClaimStatus.DRAFT:
            assert claim.created_at <= claim.submitted_at, claim.number
        if claim.decided_at is not None:
            assert claim.submitted_at <= claim.decided_at < now, claim.number
        assert claim.updated_at < now


def test_a_vehicles_odometer_only_grows_from_claim_to_claim():
    submitted = claims(Claim.status != ClaimStatus.DRAFT)
    by_vehicle = defaultdict(list)
    for claim in submitted:
        by_vehicle[claim.vehicle_id].append(claim)
    assert any(len(group) >= 3 for group in by_vehicle.values())
    for group in by_vehicle.values():
        group.sort(key=lambda claim: claim.versions[0].submitted_at)
        readings = [claim.odometer_km for claim in group]
        assert readings == sorted(readings), [c.number for c in group]
        assert group[0].odometer_km >= group[0].vehicle.odometer_km
        for claim in group:
            assert claim.repair_date >= claim.vehicle.sale_date


def test_auto_approved_claims_are_under_the_threshold_without_flags():
    auto = claims(Claim.auto_decision_rule.is_not(None), Claim.type != ClaimType.CAMPAIGN)
    statuses = decided_statuses()
    assert len(auto) >= 100
    assert {claim.type for claim in auto} == {
        ClaimType.REPAIR,
        ClaimType.BREAK_IN,
        ClaimType.ROADSIDE,
    }
    for claim in auto:
        assert statuses[claim.id] is ClaimStatus.APPROVED and claim.decided_by is None
        assert claim.auto_decision_rule == "auto_approve_under_2000.00"
        assert claim.total_amount < Decimal("2000.00") and claim.flag_mask == 0
        assert claim.approved_total_amount == claim.total_amount


def test_a_recall_is_half_done_across_regions_and_a_service_campaign_just_opened():
    recall = db.session.scalar(sa.select(Campaign).where(Campaign.kind == CampaignKind.RECALL))
    service = db.session.scalar(sa.select(Campaign).where(Campaign.kind == CampaignKind.SERVICE))
    done = completion(recall)
    assert done.affected >= 30
    assert 0.3 * done.affected <= done.done + done.in_work <= 0.7 * done.affected
    assert done.in_work >= 1  # more labor than the package: an auditor reviews it
    assert done.cost_so_far > 0 and done.cost_to_come > 0
    regions = [row for row in completion_by(recall, "region") if row.completion.done]
    assert len(regions) >= 3
    assert (date.today() - service.start_date).days <= 7
    assert 1 <= completion(service).done < completion(service).affected
    package = claims(Claim.auto_decision_rule == "campaign_package")
    assert package and all(c.type is ClaimType.CAMPAIGN and c.flag_mask == 0 for c in package)
    # The recall was announced to all stations, with a link to each one's affected vehicles.
    (announced,) = db.session.scalars(
        sa.select(Announcement).where(Announcement.campaign_id == recall.id)
    ).all()
    assert announced.to_all and "H9" in announced.title


def test_auditors_approve_cut_reject_and_return_with_reasons():
    auditor = db.session.scalar(sa.select(User).where(User.username == "auditor"))
    approved = decided(ClaimStatus.APPROVED, Claim.auto_decision_rule.is_(None))
    assert len(approved) >= 40
    assert all(claim.decided_by == auditor for claim in approved)
    for claim in claims(Claim.status == ClaimStatus.REJECTED):
        assert claim.decided_by == auditor and bilingual(claim.decision_reason)
        assert claim.approved_total_amount == 0
    for claim in claims(Claim.status == ClaimStatus.RETURNED):
        returned = [event for event in claim.events if event.action == "returned"]
        assert returned and bilingual(returned[-1].reason) and claim.decision_reason


def test_partially_approved_claims_have_cut_lines_with_reason_codes_and_notes():
    partial = decided(ClaimStatus.PARTIALLY_APPROVED)
    assert len(partial) >= 30
    codes = {code for code, *_ in SEEDED_REASON_CODES}
    used = Counter()
    for claim in partial:
        cut = [line for line in claim.lines if line.approved_amount < line.amount]
        assert cut, claim.number
        for line in cut:
            assert line.reason_code in codes and bilingual(line.decision_note), claim.number
            used[line.reason_code] += 1
        assert 0 < claim.approved_total_amount < claim.total_amount
    assert {
        "excessive_labor",
        "duplicate_charge",
        "part_not_returned",
        "insufficient_documentation",
        "outside_coverage",
        "partial_approval",
    } <= set(used)


# Every rule flags some of the demo's claims: a model's variant of a part fits that model only
# (the demo's `part_models`), and some stations fit another model's variant.
DEMO_FLAG_RULES = tuple(FLAG_RULES)


def test_every_flag_rule_flags_claims_and_blocks_their_auto_approval():
    for rule in DEMO_FLAG_RULES:
        flagged = claims(Claim.flag_mask.op("&")(flag_bit(rule)) != 0)
        assert len(flagged) >= 8, rule
        for claim in flagged:
            assert claim.auto_decision_rule is None, claim.number
            assert any(flag.rule == rule for flag in claim.current_flags), claim.number
    for claim in claims(Claim.flag_mask.op("&")(flag_bit("outside_coverage")) != 0):
        assert claim.goodwill_reason and bilingual(claim.goodwill_reason)
        policy = claim.vehicle.model.policy_for(claim.causal_part.group)
        assert not coverage_of(
            policy, claim.vehicle.sale_date, claim.repair_date, claim.odometer_km
        ).in_coverage
    for claim in claims(Claim.flag_mask.op("&")(flag_bit("labor_hours")) != 0):
        over = [
            line
            for line in claim.lines
            if line.kind is LineKind.LABOR and line.hours > line.operation.standard_hours
        ]
        assert over and all(bilingual(line.description) for line in over), claim.number
    for claim in claims(Claim.flag_mask.op("&")(flag_bit("duplicate")) != 0):
        earlier = claims(
            Claim.vehicle_id == claim.vehicle_id,
            Claim.causal_part_id == claim.causal_part_id,
            Claim.id != claim.id,
        )
        assert any(
            abs((other.repair_date - claim.repair_date).days) <= DUPLICATE_WINDOW_DAYS
            for other in earlier
        ), claim.number


def test_returned_claims_were_resubmitted_as_new_versions_saying_what_changed():
    resubmitted = claims(Claim.version > 1)
    assert len(resubmitted) >= 15
    assert any(claim.version == 3 for claim in resubmitted)
    statuses = decided_statuses()
    assert {statuses[claim.id] for claim in resubmitted} >= {
        ClaimStatus.APPROVED,
        ClaimStatus.PARTIALLY_APPROVED,
        ClaimStatus.REJECTED,
        ClaimStatus.IN_REVIEW,
        ClaimStatus.RETURNED,
    }
    for claim in resubmitted:
        versions = [version.version for version in claim.versions]
        assert versions == list(range(1, claim.version + 1)), claim.number
        actions = [event.action for event in claim.events]
        assert actions.count("resubmitted") == claim.version - 1
        for old, new in zip(claim.versions, claim.versions[1:], strict=False):
            assert diff_snapshots(old.snapshot, new.snapshot), claim.number


def test_attachments_are_real_photos_and_pdfs_stored_in_the_upload_folder(demo):
    attachments = all_of(Attachment)
    assert len(attachments) >= 300
    assert len({a.claim_id for a in attachments}) >= count(Claim) // 2
    assert {a.content_type for a in attachments} == {"image/png", "application/pdf"}
    for attachment in attachments:
        path = path_of(attachment)
        assert path.parent == demo.uploads and path.is_file(), attachment.filename
        data = path.read_bytes()
        assert len(data) == attachment.size
        assert sniff(data[:16])[0] == attachment.content_type
    for claim in claims(Claim.type == ClaimType.ROADSIDE, Claim.status != ClaimStatus.DRAFT):
        assert claim.attachments, claim.number


def test_stations_and_auditors_talk_on_some_claims():
    comments = all_of(ClaimComment)
    assert len(comments) >= 40
    authors = {comment.user.role for comment in comments}
    assert authors == {Role.STATION, Role.AUDITOR}
    for comment in comments:
        assert comment.claim.submitted_at <= comment.created_at
        assert comment.user.role is Role.AUDITOR or comment.user.organisation_id == (
            comment.claim.station_id
        )


def test_approved_appraisals_are_valid_for_30_days_and_precede_their_major_assembly_claims():
    appraisals = claims(Claim.type == ClaimType.APPRAISAL, Claim.status == ClaimStatus.APPROVED)
    assert len(appraisals) >= 15
    for appraisal in appraisals:
        assert appraisal.valid_until == local_day(appraisal.decided_at) + timedelta(
            days=APPRAISAL_VALID_DAYS
        )
    assert any(a.valid_until > date.today() for a in appraisals)
    majors = claims(Claim.type == ClaimType.MAJOR_ASSEMBLY)
    assert len(majors) >= 10
    for claim in majors:
        assert claim.causal_part.is_major_assembly
        assert any(
            a.vehicle_id == claim.vehicle_id
            and a.causal_part_id == claim.causal_part_id
            and a.decided_at < claim.submitted_at
            and local_day(claim.submitted_at) <= a.valid_until
            for a in appraisals
        ), claim.number


def test_break_in_claims_are_once_per_vehicle_and_inside_the_window():
    break_ins = claims(Claim.type == ClaimType.BREAK_IN)
    assert len(break_ins) >= 15
    assert len({claim.vehicle_id for claim in break_ins}) == len(break_ins)
    for claim in break_ins:
        model = claim.vehicle.model
        assert (claim.repair_date - claim.vehicle.sale_date).days <= model.break_in_days
        assert model.break_in_min_km <= claim.odometer_km <= model.break_in_max_km
        assert [line.kind for line in claim.lines] == [LineKind.PACKAGE]
        assert claim.total_amount == model.break_in_price


def test_roadside_claims_pay_the_trip_hours_and_tolls():
    roadside = claims(Claim.type == ClaimType.ROADSIDE)
    assert len(roadside) >= 20
    for claim in roadside:
        kinds = [line.kind for line in claim.lines]
        assert kinds[:2] == [LineKind.TRIP, LineKind.LABOR]
        trip = claim.lines[0]
        assert trip.unit_price == claim.station.km_rate and trip.qty > 0
    assert any(
        line.description == "Tolls" and line.amount > 0 for c in roadside for line in c.lines
    )


def test_outsourced_purchases_are_approved_with_a_cap_that_a_later_repair_draws_on():
    repairs = claims(Claim.outsourced_request_id.is_not(None))
    assert len(repairs) >= 5
    for repair in repairs:
        request = repair.outsourced_request
        assert request.type is ClaimType.OUTSOURCED_PURCHASE
        assert request.status in (ClaimStatus.APPROVED, ClaimStatus.PARTIALLY_APPROVED)
        assert request.vin == repair.vin and request.station_id == repair.station_id
        assert request.decided_at < repair.submitted_at
        assert local_day(repair.submitted_at) <= request.valid_until
        invoice = money_sum(line.amount for line in repair.lines if line.kind is LineKind.OTHER)
        assert invoice <= request.approved_total_amount
    assert any(r.outsourced_request.status is ClaimStatus.PARTIALLY_APPROVED for r in repairs)


def test_emergency_parts_are_shipped_regularly_or_drop_shipped_and_received():
    requests = claims(Claim.type == ClaimType.EMERGENCY_PART, Claim.status == ClaimStatus.APPROVED)
    assert {claim.fulfilment for claim in requests} == {"regular", "drop_ship"}
    shippers = {claim.shipper_org.kind.value for claim in requests if claim.shipper_org}
    assert shippers == {"station", "supplier"}
    for claim in requests:
        assert (claim.fulfilment == "drop_ship") == (claim.shipper_org is not None)
        if claim.shipped_at is not None:
            assert claim.carrier and claim.tracking_no and claim.freight_amount > 0
            assert claim.decided_at <= claim.shipped_at
        if claim.received_at is not None:
            assert claim.shipped_at < claim.received_at
    assert any(c.received_at for c in requests)
    assert any(c.shipped_at and not c.received_at for c in requests)
    assert any(not c.shipped_at for c in requests)


def test_the_texts_are_chinese_with_some_english():
    repairs = claims(Claim.type == ClaimType.REPAIR)
    assert all(CHINESE.search(claim.complaint) and claim.cause for claim in repairs)
    with_english = [claim for claim in repairs if ENGLISH.search(claim.complaint)]
    assert 0.15 * len(repairs) <= len(with_english) <= 0.6 * len(repairs)


def test_both_demo_station_logins_have_claims_in_every_state_and_of_every_type():
    statuses = decided_statuses()
    for username in ("station", "station2"):
        user = db.session.scalar(sa.select(User).where(User.username == username))
        own = claims(Claim.station_id == user.organisation_id)
        assert {statuses[claim.id] for claim in own} == DECIDED, username
        assert SETTLED in {claim.status for claim in own}, username
        assert {claim.type for claim in own} == set(ClaimType), username
        assert any(claim.version > 1 for claim in own), username
        assert any(claim.auto_decision_rule for claim in own), username


def test_the_station_sees_claims_of_every_state_on_its_home_page(app, client):
    assert login(client, "station", DEMO_PASSWORD).status_code == 302
    station = db.session.scalar(sa.select(Station).where(Station.code == "ST-SH01"))
    present = {claim.status for claim in claims(Claim.station_id == station.id)}
    # Approved repairs are settled month by month; those of the last weeks are still approved.
    assert present >= RESTING - {ClaimStatus.PARTIALLY_APPROVED}
    for status in sorted(present):
        response = client.get(f"/dealer/?status={status.value}")
        assert response.status_code == 200
        shown = set(re.findall(r'data-claim="([^"]+)"', response.get_data(as_text=True)))
        expected = {
            c.number for c in claims(Claim.station_id == station.id, Claim.status == status)
        }
        assert shown and shown <= expected, status


def test_the_auditor_queue_holds_dozens_of_claims_oldest_first():
    counts = queue_counts(QueueFilter())
    assert 60 <= counts["status"]["in_review"] <= 100
    assert counts["status"]["returned"] >= 10
    assert set(counts["type"]) == {t.value for t in ClaimType} - {"break_in"}
    page = queue_page(QueueFilter(), limit=25)
    assert len(page.items) == 25 and page.next_cursor
    ages = [claim.submitted_at for claim in page.items]
    assert ages == sorted(ages)
    assert (date.today() - local_day(ages[0])).days >= 20  # some claims wait for weeks
    flagged = queue_page(QueueFilter(flag="any"), limit=100).items
    assert {
        rule for claim in flagged for rule in FLAG_RULES if claim.flag_mask & flag_bit(rule)
    } == (set(DEMO_FLAG_RULES))


def test_announcements_go_to_all_a_region_or_a_list_and_some_stations_have_read_them():
    announcements = sorted(all_of(Announcement), key=lambda a: a.published_at)
    assert len(announcements) == 8
    assert {a.to_all for a in announcements} == {True, False}
    targeted = [a for a in announcements if not a.to_all]
    assert any(len({s.region for s in a.stations}) > 1 for a in targeted)  # regions
    assert any(len({s.region for s in a.stations}) == 1 for a in targeted)  # one region
    all_stations = count(Station)
    for announcement in announcements:
        assert announcement.published_by.username == "auditor"
        assert bilingual(announcement.title) and bilingual(announcement.body)
        audience = all_stations if announcement.to_all else len(announcement.stations)
        assert len(announcement.reads) < audience, announcement.title
        for read in announcement.reads:
            assert announcement.published_at < read.read_at < datetime.now(LOCAL_TZ)
            assert announcement.is_for(read.station_id)
            assert read.user.organisation_id == read.station_id
    assert count(AnnouncementRead) >= 20
    first = db.session.scalar(sa.select(User).where(User.username == "station"))
    mine = [a for a in announcements if a.is_for(first.organisation_id)]
    read = {r.announcement_id for r in all_of(AnnouncementRead) if r.user_id == first.id}
    assert 0 < len(read) < len(mine)


def test_every_station_and_supplier_has_a_user_who_files_or_ships():
    for org in [*all_of(Station), *all_of(Supplier)]:
        assert org.users, org.code
    logins = {name for name, *_ in DEMO_USERS}
    further = [user for user in all_of(User) if user.username not in logins]
    assert len(further) == count(Station) + count(Supplier) - 3  # station, station2, supplier
    assert all(user.active and user.full_name for user in further)


# -- old parts ------------------------------------------------------------------------------------


def test_old_parts_are_in_every_state_and_their_shipments_packing_shipped_and_received():
    parts = all_of(OldPart)
    assert {part.status for part in parts} == set(OldPartStatus)
    assert {part.inspection for part in parts if part.inspection} == set(Inspection)
    results = Counter(part.inspection for part in parts if part.inspection)
    assert results.most_common(1)[0][0] is Inspection.CONFIRMED_DEFECT
    assert any(CHINESE.search(part.inspection_note) for part in parts)
    shipments = all_of(ReturnShipment)
    assert {shipment.status for shipment in shipments} == set(ShipmentStatus)
    for shipment in shipments:
        if shipment.status is not ShipmentStatus.PACKING:
            assert shipment.carrier and shipment.tracking_no
            assert shipment.created_at <= shipment.shipped_at < datetime.now(LOCAL_TZ)
        if shipment.status is ShipmentStatus.RECEIVED:
            assert shipment.shipped_at < shipment.received_at
        inside = parts_in(shipment)
        to = {p.supplier_id if shipment.from_org.is_oem else p.destination_org_id for p in inside}
        assert to == {shipment.to_org_id}
    forwarded = [shipment for shipment in shipments if shipment.from_org.is_oem]
    assert forwarded and all(s.status is not ShipmentStatus.PACKING for s in forwarded)
    events = [event for part in parts for event in part.events]
    assert any(event.action == "missing" for event in events)
    writers = {e.user.role for e in events if e.action == "written_off" and e.user is not None}
    assert writers == {Role.AUDITOR, Role.SUPPLIER}
    for part in parts:
        if part.shipment is not None and part.shipment.shipped_at is not None:
            assert part.created_at < part.shipment.shipped_at
            assert local_day(part.shipment.shipped_at) <= part.deadline, part.tag


def test_overdue_old_parts_are_charged_back_and_a_couple_are_waived():
    parts = all_of(OldPart)
    overdue = [part for part in parts if part.overdue_at is not None]
    assert len(overdue) >= 8
    for part in overdue:
        assert part.status is OldPartStatus.AWAITING_RETURN and part.shipment_id is None
        assert part.deadline < local_day(part.overdue_at)
    assert all(
        part.overdue_at is not None
        for part in parts
        if part.status is OldPartStatus.AWAITING_RETURN and part.deadline < date.today()
    )
    waived = [part for part in overdue if part.waived_at is not None]
    assert 2 <= len(waived) < len(overdue)
    assert all(CHINESE.search(part.waive_reason) and part.waived_by_id for part in waived)
    charges = all_of(StationCharge)
    assert {charge.kind for charge in charges} == set(ChargeKind)
    by_part = {c.old_part_id: c for c in charges if c.kind is ChargeKind.OVERDUE}
    assert set(by_part) == {part.id for part in overdue}
    for part in overdue:
        assert (by_part[part.id].waived_at is not None) == (part.waived_at is not None)


def test_both_demo_station_logins_have_old_parts_in_every_state():
    for username in ("station", "station2"):
        user = db.session.scalar(sa.select(User).where(User.username == username))
        own = all_of_where(OldPart, OldPart.station_id == user.organisation_id)
        assert {part.status for part in own} == set(OldPartStatus), username
        assert sum(part.is_overdue for part in own) >= 2, username
        assert any(part.waived_at for part in own), username
        boxes = all_of_where(ReturnShipment, ReturnShipment.from_org_id == user.organisation_id)
        assert {box.status for box in boxes} == set(ShipmentStatus), username


# -- settlement -----------------------------------------------------------------------------------


def runs(status: RunStatus) -> list[SettlementRun]:
    return all_of_where(SettlementRun, SettlementRun.status == status)


def released_runs() -> list[SettlementRun]:
    return sorted(runs(RunStatus.RELEASED), key=lambda run: run.period)


def statements(*where) -> list[Statement]:
    return list(db.session.scalars(sa.select(Statement).where(*where).order_by(Statement.number)))


def test_two_earlier_months_are_released_and_the_current_month_is_a_draft():
    today = date.today()
    older, newer = released_runs()
    assert [older.period, newer.period] == [f"{m:%Y-%m}" for m in released_periods(today)]
    (draft,) = runs(RunStatus.DRAFT)
    assert draft.period == f"{today:%Y-%m}" > newer.period > older.period
    assert count(SettlementRun) == 3 and draft.open_slot == 1
    start_of_today = local_moment(today, 0)
    for run in (older, newer, draft):
        assert run.created_by.username == "finance" and not run.error, run.period
        assert run.created_at < run.started_at <= run.computed_at < start_of_today, run.period
        assert run.claim_count > 0 and run.station_statement_count == count_statements(run)
        if run is draft:
            assert run.released_at is None
            assert {s.status for s in statements(Statement.run_id == run.id)} == {
                StatementStatus.DRAFT
            }
            continue
        assert run.released_by.username == "finance" and run.open_slot is None
        assert run.computed_at < run.released_at < start_of_today
        released = local_day(run.released_at)  # by the 5th of the month after the period
        assert released.replace(day=1) == next_month(parse_period(run.period))
        assert released.day <= 5
        for statement in statements(Statement.run_id == run.id):
            assert statement.status is not StatementStatus.DRAFT, statement.number
            assert statement.released_at == run.released_at, statement.number


def count_statements(run: SettlementRun) -> int:
    return len(statements(Statement.run_id == run.id, Statement.kind == StatementKind.STATION))


def test_every_timestamp_of_settlement_is_a_moment_of_the_story_before_today():
    start_of_today = local_moment(date.today(), 0)
    stamped = {
        SettlementRun: ("created_at", "started_at", "heartbeat_at", "computed_at", "released_at"),
        Statement: ("created_at", "released_at", "final_at", "paid_at"),
        Chargeback: ("disputed_at", "resolved_at", "accepted_at"),
        ChargebackEvent: ("at",),
        ChargebackEvidence: ("uploaded_at",),
    }
    for model, names in stamped.items():
        for row in all_of(model):
            for name in names:
                moment = getattr(row, name)
                assert moment is None or moment < start_of_today, (model.__name__, name)
    settled = all_of_where(ClaimEvent, ClaimEvent.action == "settled")
    assert settled and all(event.at < start_of_today for event in settled)
    notifications = all_of_where(Notification, Notification.link.like("/settlement/%"))
    assert notifications and all(n.created_at < start_of_today for n in notifications)


def test_a_released_run_settles_its_claims_and_the_draft_holds_every_approved_claim_left():
    lines = all_of_where(StatementLine, StatementLine.kind == StatementLineKind.CLAIM)
    on_lines = Counter(line.source_id for line in lines)
    assert on_lines and set(on_lines.values()) == {1}  # no claim is paid twice
    assert all(line.claim_id == line.source_id for line in lines)
    by_run = {run.id: run for run in all_of(SettlementRun)}
    for run in by_run.values():  # every run takes what was decided before its month's end
        assert run.cutoff == period_cutoff(parse_period(run.period)), run.period
    for line in lines:
        run, claim = by_run[line.run_id], line.claim
        assert claim.decided_at < run.cutoff and claim.type not in PRE_AUTHORISATIONS
        assert line.amount == claim.approved_total_amount, claim.number
        if run.status is RunStatus.RELEASED:
            assert claim.status is SETTLED, claim.number
            # the last but adjustments made later (a late finding, a waiver)
            event = [e for e in claim.events if not e.action.startswith("adjustment_")][-1]
            assert event.action == "settled" and event.at == run.released_at, claim.number
            assert event.user.username == "finance"
        else:
            assert claim.status in (ClaimStatus.APPROVED, ClaimStatus.PARTIALLY_APPROVED)
    assert {claim.id for claim in claims(Claim.status == SETTLED)} == {
        line.source_id for line in lines if by_run[line.run_id].status is RunStatus.RELEASED
    }
    left = claims(
        Claim.status.in_((ClaimStatus.APPROVED, ClaimStatus.PARTIALLY_APPROVED)),
        Claim.type.not_in(PRE_AUTHORISATIONS),
    )
    assert left and {claim.id for claim in left} == {
        line.source_id for line in lines if by_run[line.run_id].status is RunStatus.DRAFT
    }
    charges = all_of_where(StatementLine, StatementLine.kind != StatementLineKind.CLAIM)
    assert {line.kind for line in charges} >= {
        StatementLineKind.SCRAP_RESIDUAL,
        StatementLineKind.OVERDUE,
    }


def test_late_corrections_are_adjustments_on_the_draft_naming_what_they_correct():
    adjustments = all_of(Adjustment)
    assert {a.kind for a in adjustments} == set(AdjustmentKind)
    for adjustment in adjustments:
        assert adjustment.statement.run.status is RunStatus.DRAFT
        assert adjustment.original_statement.run.status is RunStatus.RELEASED
        assert adjustment.settled_in_run_id is None


def test_statement_totals_are_the_sums_of_their_lines_with_vat():
    lines_of = defaultdict(list)
    for line in all_of(StatementLine):
        lines_of[line.statement_id].append(line.amount)
    chargebacks_of = defaultdict(list)
    for cb in all_of(Chargeback):
        chargebacks_of[cb.statement_id].append(cb)
    adjustments_of = defaultdict(list)
    for adjustment in all_of(Adjustment):
        if adjustment.statement_id is not None:
            adjustments_of[adjustment.statement_id].append(adjustment.amount)
    for statement in all_of(Statement):
        adjusted = adjustments_of[statement.id]
        if statement.kind is StatementKind.STATION:
            own = lines_of[statement.id]
            assert statement.line_count == len(own) + len(adjusted) > 0, statement.number
            assert statement.net == money_sum(own + adjusted), statement.number
        else:
            own = chargebacks_of[statement.id]
            assert statement.line_count == len(own) + len(adjusted) > 0, statement.number
            assert statement.net == money_sum(
                [cb.amount for cb in own if cb.status is not ChargebackStatus.WAIVED] + adjusted
            ), statement.number
        assert statement.vat == round_money(statement.net * statement.run.vat_rate)
        assert statement.gross == statement.net + statement.vat, statement.number
    for run in all_of(SettlementRun):
        station = statements(Statement.run_id == run.id, Statement.kind == StatementKind.STATION)
        assert run.station_net == money_sum(s.net for s in station), run.period
        supplier = statements(Statement.run_id == run.id, Statement.kind == StatementKind.SUPPLIER)
        assert run.supplier_net == money_sum(s.net for s in supplier), run.period


def test_suppliers_accept_and_dispute_chargebacks_and_the_auditor_upholds_and_waives():
    chargebacks = all_of(Chargeback)
    by_status = Counter(cb.status for cb in chargebacks)
    assert set(by_status) == set(ChargebackStatus), by_status
    assert by_status[ChargebackStatus.ACCEPTED] > by_status[ChargebackStatus.DISPUTED]
    for cb in chargebacks:
        statement = cb.statement
        events = [(event.action, event.to_status) for event in cb.events]
        moments = [event.at for event in cb.events]
        assert moments == sorted(moments), cb.claim.number
        assert all(statement.released_at < moment for moment in moments), cb.claim.number
        assert cb.supplier_id == statement.org_id == cb.claim.responsible_supplier_id
        if cb.status is ChargebackStatus.OPEN:
            assert not events
            continue
        assert events[-1][1] == cb.status.value, cb.claim.number
        if cb.status is ChargebackStatus.ACCEPTED:
            assert events == [("accepted", "accepted")]
            assert cb.accepted_by.organisation_id == cb.supplier_id
            assert cb.accepted_at == moments[0]
            continue
        assert events[0] == ("disputed", "disputed") and bilingual(cb.dispute_reason)
        assert cb.disputed_by.organisation_id == cb.supplier_id
        assert cb.disputed_at == moments[0]
        if cb.status is ChargebackStatus.DISPUTED:
            assert cb.resolved_at is None and not cb.resolution_reason
        else:
            assert cb.resolved_by.username == "auditor" and bilingual(cb.resolution_reason)
            assert cb.disputed_at < cb.resolved_at == moments[-1]


def test_some_disputes_come_with_photos_and_pdfs_as_evidence(demo):
    evidence = all_of(ChargebackEvidence)
    assert {item.content_type for item in evidence} == {"image/png", "application/pdf"}
    for item in evidence:
        data = (demo.uploads / item.stored_name).read_bytes()
        assert len(data) == item.size and sniff(data[:16])[0] == item.content_type
        assert item.chargeback.status is not ChargebackStatus.OPEN
        assert item.uploaded_by.organisation_id == item.chargeback.supplier_id
        assert item.chargeback.disputed_at <= item.uploaded_at
    actions = {event.action for event in all_of(ChargebackEvent)}
    assert "evidence_added" in actions  # a file sent the day after the dispute


def test_a_supplier_statement_is_final_once_no_line_is_open_and_finance_paid_one():
    supplier_statements = statements(
        Statement.kind == StatementKind.SUPPLIER, Statement.status != StatementStatus.DRAFT
    )
    assert {s.status for s in supplier_statements} == {
        StatementStatus.RELEASED,
        StatementStatus.FINAL,
        StatementStatus.PAID,
    }
    for statement in supplier_statements:
        lines = all_of_where(Chargeback, Chargeback.statement_id == statement.id)
        unresolved = any(cb.is_open for cb in lines)
        assert unresolved == (statement.status is StatementStatus.RELEASED), statement.number
        if unresolved:
            assert statement.final_at is None
            continue
        last = max(event.at for cb in lines for event in cb.events)
        assert statement.final_at == last, statement.number
    paid = [s for s in supplier_statements if s.status is StatementStatus.PAID]
    assert len(paid) == 1
    assert paid[0].final_at < paid[0].paid_at


def test_finance_paid_most_station_statements_of_the_older_run_with_a_date_and_reference():
    older, newer = released_runs()
    stations = statements(Statement.run_id == older.id, Statement.kind == StatementKind.STATION)
    paid = [s for s in stations if s.status is StatementStatus.PAID]
    assert len(stations) // 2 < len(paid) < len(stations)
    everything_paid = statements(Statement.status == StatementStatus.PAID)
    assert {s.run_id for s in everything_paid} == {older.id}
    for statement in everything_paid:
        assert statement.paid_by.username == "finance" and statement.paid_reference
        assert statement.paid_on == local_day(statement.paid_at) < date.today()
        assert statement.released_at < statement.paid_at
    assert {s.status for s in statements(Statement.run_id == newer.id)} >= {
        StatementStatus.RELEASED
    }


def test_the_demo_supplier_login_has_chargebacks_to_review_and_some_reviewed():
    supplier = db.session.scalar(sa.select(User).where(User.username == "supplier"))
    assert supplier.organisation.code == DEMO_SUPPLIER
    _, newer = released_runs()
    own = all_of_where(
        Chargeback,
        Chargeback.supplier_id == supplier.organisation_id,
        Chargeback.run_id == newer.id,
    )
    assert {cb.status for cb in own} >= {
        ChargebackStatus.OPEN,
        ChargebackStatus.ACCEPTED,
        ChargebackStatus.DISPUTED,
    }
    assert any(cb.evidence for cb in own if cb.status is ChargebackStatus.DISPUTED)


def test_the_release_told_every_station_and_supplier_and_older_news_has_been_read():
    start_of_week = local_moment(date.today() - timedelta(days=7), 0)
    for run in released_runs():
        for statement in statements(Statement.run_id == run.id):
            link = f"/settlement/statements/{statement.id}"
            for user in statement.org.users:
                told = all_of_where(
                    Notification, Notification.user_id == user.id, Notification.link == link
                )
                assert told and told[0].created_at == run.released_at, statement.number
    for notification in all_of_where(Notification, Notification.link.like("/settlement/%")):
        if notification.created_at < start_of_week:
            assert notification.created_at < notification.read_at < start_of_week


# -- loading -------------------------------------------------------------------------------------


def test_loading_the_demo_again_creates_nothing_and_answers_the_same_logins(logins, demo):
    before = row_counts()
    files = sorted(demo.uploads.iterdir())
    assert load_demo() == logins
    assert load_demo(seed=1) == logins
    assert row_counts() == before
    assert sorted(demo.uploads.iterdir()) == files


def test_the_logins_are_one_per_role_in_order(logins):
    assert logins == [
        ("station", "station", "ST-SH01"),
        ("station2", "station", "ST-BJ01"),
        ("auditor", "auditor", "OEM"),
        ("finance", "finance", "OEM"),
        ("supplier", "supplier", "SU-YF"),
        ("admin", "admin", "OEM"),
    ]
    assert {Role(role) for _, role, _ in logins} == set(Role)
    for username, role, org_code in logins:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user.role is Role(role) and user.organisation.code == org_code
        assert user.active and user.full_name


@pytest.mark.parametrize(
    ("username", "role"), [(username, role) for username, role, *_ in DEMO_USERS]
)
def test_each_demo_login_signs_in_and_lands_on_its_home_page(app, client, username, role):
    with app.test_request_context():
        home = url_for(HOME_ENDPOINTS[role])
    response = login(client, username, DEMO_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == home
    assert client.get(home).status_code == 200


def fingerprint() -> dict[str, list[tuple]]:
    """What the demo consists of, by natural keys (ids and stored file names aside)."""

    def rows(*columns, join=()):
        stmt = sa.select(*columns)
        for target in join:
            stmt = stmt.join(target)
        found = [tuple(row) for row in db.session.execute(stmt)]
        # sorted here, NULLs first: the databases order NULLs differently
        return sorted(
            found,
            key=lambda row: [(v is not None, v) if v is not None else (False, 0) for v in row],
        )

    return {
        "vehicles": rows(Vehicle.vin, Vehicle.sale_date, Vehicle.odometer_km, Vehicle.owner_name),
        "prices": rows(Part.number, PartPrice.unit_price, PartPrice.valid_to, join=[Part.prices]),
        "claims": rows(
            Claim.number, Claim.type, Claim.status, Claim.version, Claim.vin, Claim.odometer_km,
            Claim.repair_date, Claim.total_amount, Claim.approved_total_amount, Claim.flag_mask,
            Claim.auto_decision_rule, Claim.decision_reason, Claim.valid_until, Claim.created_at,
            Claim.submitted_at, Claim.decided_at, Claim.shipped_at, Claim.received_at,
        ),
        "lines": rows(
            Claim.number, ClaimLine.position, ClaimLine.kind, ClaimLine.qty, ClaimLine.hours,
            ClaimLine.amount, ClaimLine.approved_amount, ClaimLine.reason_code,
            join=[Claim.lines],
        ),
        "events": rows(
            Claim.number, ClaimEvent.at, ClaimEvent.action, ClaimEvent.reason, join=[Claim.events]
        ),
        "flags": rows(Claim.number, ClaimFlag.version, ClaimFlag.rule, join=[Claim.flags]),
        "versions": rows(
            Claim.number, ClaimVersion.version, ClaimVersion.submitted_at, join=[Claim.versions]
        ),
        "comments": rows(
            Claim.number, ClaimComment.created_at, ClaimComment.body, join=[Claim.comments]
        ),
        "attachments": rows(
            Claim.number, Attachment.uploaded_at, Attachment.filename, Attachment.size,
            join=[Claim.attachments],
        ),
        "announcements": rows(
            Announcement.title, Announcement.published_at, AnnouncementRead.read_at,
            join=[Announcement.reads],
        ),
        "old_parts": rows(
            OldPart.tag, OldPart.status, OldPart.inspection, OldPart.deadline, OldPart.overdue_at,
            OldPart.waived_at, OldPart.received_at, OldPart.inspected_at, OldPart.written_off_at,
        ),
        "old_part_events": rows(
            OldPart.tag, OldPartEvent.at, OldPartEvent.action, join=[OldPart.events],
        ),
        # Statements by period, kind and organisation: their numbers hold the run's id.
        "runs": rows(
            SettlementRun.period, SettlementRun.status, SettlementRun.claim_count,
            SettlementRun.station_net, SettlementRun.supplier_net, SettlementRun.created_at,
            SettlementRun.computed_at, SettlementRun.released_at,
        ),
        "statements": rows(
            Statement.period, Statement.kind, Organisation.code, Statement.status,
            Statement.net, Statement.vat, Statement.gross, Statement.released_at,
            Statement.final_at, Statement.paid_on, Statement.paid_reference,
            join=[Statement.org],
        ),
        "chargebacks": rows(
            Claim.number, Chargeback.status, Chargeback.amount, Chargeback.dispute_reason,
            Chargeback.resolution_reason, Chargeback.disputed_at, Chargeback.resolved_at,
            Chargeback.accepted_at, join=[Chargeback.claim],
        ),
    }  # fmt: skip


def test_the_demo_command_commits_the_same_data_and_prints_every_login(tmp_path, monkeypatch):
    """`flask demo` on another database (SQLite) commits exactly what the module loaded."""
    loaded = fingerprint()
    demo_app = create_app(
        test_config("sqlite:///" + str(tmp_path / "demo.db"), UPLOAD_FOLDER=str(tmp_path / "up"))
    )
    migrate_to_head(demo_app)
    # The test's session is bound to the suite's database and its app context is pushed; the
    # command must run in the demo app's context with a session of its own.
    monkeypatch.setattr(db, "session", db._make_scoped_session({}))
    runner = demo_app.test_cli_runner()
    try:
        with demo_app.app_context():
            first = runner.invoke(args=["demo"])
            second = runner.invoke(args=["demo"])
            committed = fingerprint()
            users = count(User)
            files = count(Attachment) + count(ChargebackEvidence)
    finally:
        with demo_app.app_context():
            db.engine.dispose()
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert DEMO_PASSWORD in first.output
    for username, role, org_code, _ in DEMO_USERS:
        assert re.search(rf"\b{role.value}\s+{username}\s+{org_code}\b", first.output), username
        assert username in second.output
    assert "notification" not in first.output  # the steps print nothing of their own
    assert users == len(DEMO_USERS) + 9  # a user for each further station and supplier
    for name, rows in loaded.items():
        assert committed[name] == rows, name
    assert len(list((tmp_path / "up").iterdir())) == files


def test_another_seed_gives_other_master_data(tmp_path, monkeypatch):
    other_app = create_app(test_config("sqlite:///" + str(tmp_path / "other.db")))
    migrate_to_head(other_app)
    loaded = fingerprint()
    monkeypatch.setattr(demo_module, "STEPS", MASTER_DATA_STEPS[:-1])  # no users, no claims
    monkeypatch.setattr(db, "session", db._make_scoped_session({}))
    try:
        with other_app.app_context():
            load_demo(seed=8)
            other = fingerprint()
    finally:
        with other_app.app_context():
            db.session.remove()
            db.engine.dispose()
    assert other["vehicles"] != loaded["vehicles"]
    assert other["prices"] != loaded["prices"]
    assert len(other["vehicles"]) == len(loaded["vehicles"])


def test_a_few_hundred_contracts_and_approved_repairs_covered_only_thanks_to_them():
    contracts = all_of(WarrantyContract)
    assert len(contracts) >= 200
    assert len({c.number for c in contracts}) >= 150
    assert any(c.in_force_on(date.today()) for c in contracts)
    assert any(c.start_date > date.today() for c in contracts)  # bought with a newer vehicle
    for contract in contracts:
        policy = contract.vehicle.model.policy_for(contract.group)
        assert policy is not None and contract.km > policy.km
        assert contract.start_date > contract.vehicle.sale_date
    covered = claims(Claim.contract_id.is_not(None))
    assert len(covered) >= 2
    for claim in covered:
        assert claim.status in (ClaimStatus.APPROVED, ClaimStatus.PARTIALLY_APPROVED)
        policy = claim.vehicle.model.policy_for(claim.causal_part.group)
        sale = claim.vehicle.sale_date
        assert not coverage_of(policy, sale, claim.repair_date, claim.odometer_km).in_coverage
        assert claim.contract.in_force_on(claim.repair_date)
