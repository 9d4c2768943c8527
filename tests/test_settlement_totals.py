"""Every total equals the sum of what it totals, always (DESIGN 6): a run's station and supplier
nets are the sums of its statements' nets, and a statement's net the sum of its counted lines,
after chargebacks are waived as much as before.

Amounts from the test world as in tests/test_api_settlement.py: claim A 230.00 to the station
and 225.00 charged back, claim B 510.00 and 425.00."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.claims.models import ClaimSettings
from portal.money import money_sum
from portal.settlement.models import (
    Chargeback,
    ChargebackStatus,
    SettlementRun,
    Statement,
    StatementKind,
    StatementLine,
)
from tests.factories import ClaimFactory, Fleet
from tests.test_api_auth import api_for
from tests.test_api_settlement import chargeback_of, pump_and_labor, released


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))


def assert_totals_add_up(db_session, run_id: int) -> None:
    """The run's nets are sums of its statements' nets; each statement's net is the sum of its
    counted lines (a supplier statement: its chargebacks not waived)."""
    db_session.expire_all()
    run = db_session.get(SettlementRun, run_id)
    statements = db_session.scalars(sa.select(Statement).where(Statement.run_id == run_id)).all()
    for statement in statements:
        if statement.kind is StatementKind.SUPPLIER:
            counted = db_session.scalars(
                sa.select(Chargeback.amount).where(
                    Chargeback.statement_id == statement.id,
                    Chargeback.status != ChargebackStatus.WAIVED,
                )
            )
        else:
            counted = db_session.scalars(
                sa.select(StatementLine.amount).where(StatementLine.statement_id == statement.id)
            )
        assert statement.net == money_sum(counted), statement.number
    for kind, total in (
        (StatementKind.STATION, run.station_net),
        (StatementKind.SUPPLIER, run.supplier_net),
    ):
        assert total == money_sum(s.net for s in statements if s.kind is kind), kind


def test_a_waived_chargeback_leaves_the_runs_supplier_net_as_the_sum_of_its_statements(
    client, world, fleet, db_session
):
    finance = api_for(client, world, "finance")
    claim_a = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    claim_b = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor("5.00"))
    run = released(finance)
    assert run["totals"]["supplier_net"] == "650.00"
    assert_totals_add_up(db_session, run["id"])

    supplier = api_for(client, world, "supplier")
    auditor = api_for(client, world, "auditor")
    cb_a = chargeback_of(claim_a)
    assert supplier.post(f"/chargebacks/{cb_a}/dispute", json={"reason": "Not ours"}).status_code
    waived = auditor.post(
        f"/chargebacks/{cb_a}/resolve", json={"action": "waive", "reason": "Wrong supplier"}
    )
    assert waived.status_code == 200, waived.get_data(as_text=True)

    totals = finance.get(f"/settlement/runs/{run['id']}").get_json()["totals"]
    assert totals["supplier_net"] == "425.00"  # 650.00 - 225.00 waived
    assert totals["station_net"] == "740.00"  # the station is paid what was approved
    assert_totals_add_up(db_session, run["id"])

    cb_b = chargeback_of(claim_b)
    supplier.post(f"/chargebacks/{cb_b}/dispute", json={"reason": "Labor too high"})
    auditor.post(f"/chargebacks/{cb_b}/resolve", json={"action": "waive", "reason": "Agreed"})
    totals = finance.get(f"/settlement/runs/{run['id']}").get_json()["totals"]
    assert totals["supplier_net"] == "0.00"
    assert_totals_add_up(db_session, run["id"])


def test_the_run_page_shows_the_supplier_net_after_a_waiver(
    client, world, fleet, db_session, login_as
):
    finance = api_for(client, world, "finance")
    claim = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    run = released(finance)
    cb = chargeback_of(claim)
    api_for(client, world, "supplier").post(f"/chargebacks/{cb}/dispute", json={"reason": "No"})
    api_for(client, world, "auditor").post(
        f"/chargebacks/{cb}/resolve", json={"action": "waive", "reason": "Agreed"}
    )
    page = login_as("finance").get(f"/settlement/runs/{run['id']}").get_data(as_text=True)
    supplier_net = page.split('data-testid="supplier-net">', 1)[1].split("<", 1)[0]
    assert supplier_net.strip() == "0.00"
