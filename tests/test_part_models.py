"""Part fits the vehicle (DESIGN 3 and 8): the `part_models` import kind and the admin page list
the models a part fits; a claim whose causal part or part line is not listed for the vehicle's
model is flagged `part_not_for_model` and never approved automatically. A part with no model
listed fits every model."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.masterdata.importer import ImportRejected, import_csv
from portal.masterdata.models import PartModel
from tests import factories
from tests.builders_masterdata import csv_bytes, master_data_snapshot
from tests.factories import Fleet
from tests.test_api_auth import Api, api_for
from tests.test_api_claims import create, submit

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def fleet(world):
    fleet = Fleet.build(world)
    fleet.other_model = factories.VehicleModelFactory(code="HX7", name="Huaxing HX7")
    return fleet


@pytest.fixture
def station(client, world) -> Api:
    return api_for(client, world, "station")


def fits(part, *models) -> None:
    for model in models:
        db.session.add(PartModel(part=part, model=model))
    db.session.flush()


def listed() -> set[tuple[str, str]]:
    db.session.expire_all()
    return {(fit.part.number, fit.model.code) for fit in db.session.scalars(sa.select(PartModel))}


# -- the rule --------------------------------------------------------------------------------------


def test_a_causal_part_listed_only_for_another_model_is_flagged_and_not_auto_approved(
    station, fleet
):
    fits(fleet.part, fleet.other_model)
    claim = submit(station, create(station, fleet)["number"])
    assert claim["status"] == "in_review"  # 230.00 is under the threshold: the flag blocks it
    flag = next(f for f in claim["flags"] if f["rule"] == "part_not_for_model")
    assert flag["field"] == "causal_part"
    assert flag["message"] == "Part P-100 is not listed for model HX5."
    chinese = station.get(f"/claims/{claim['number']}", headers=ZH).get_json()
    (zh,) = [f["message"] for f in chinese["flags"] if f["rule"] == "part_not_for_model"]
    assert "P-100" in zh and "HX5" in zh and "适用" in zh


def test_a_part_line_not_for_the_model_is_flagged_on_its_line(station, fleet):
    fits(fleet.part_b, fleet.other_model)
    lines = [
        {"kind": "part", "part_number": "P-100", "qty": 1},
        {"kind": "part", "part_number": "P-200", "qty": 1},
    ]
    claim = submit(station, create(station, fleet, lines=lines)["number"])
    assert [(f["rule"], f["field"]) for f in claim["flags"]] == [
        ("part_not_for_model", "lines[1].part_number")
    ]
    assert claim["status"] == "in_review"


@pytest.mark.parametrize("listed_for", ["none", "its model too"])
def test_a_part_with_no_model_or_with_the_vehicles_model_fits(station, fleet, listed_for):
    if listed_for != "none":
        fits(fleet.part, fleet.other_model, fleet.model)
    claim = submit(station, create(station, fleet)["number"])
    assert claim["flags"] == [] and claim["status"] == "approved"


def test_the_flag_cannot_be_switched_out_of_blocking(world, fleet, login_as, station):
    from portal.claims.models import ClaimSettings

    ClaimSettings.current().blocking_rules = []
    db.session.flush()
    fits(fleet.part, fleet.other_model)
    number = create(station, fleet)["number"]
    assert submit(station, number)["status"] == "in_review"
    page = login_as("auditor").get("/oem/review?flag=part_not_for_model")
    assert page.status_code == 200 and number in page.get_data(as_text=True)


# -- the import ------------------------------------------------------------------------------------


def test_the_import_lists_models_per_part_and_a_reimport_changes_nothing(fleet):
    data = csv_bytes("part,model", "P-100,HX5", "P-100,HX7", "ENG-1,HX7")
    result = import_csv("part_models", data)
    assert (result.created, result.updated) == (3, 0)
    assert listed() == {("P-100", "HX5"), ("P-100", "HX7"), ("ENG-1", "HX7")}
    assert import_csv("part_models", data).created == 0
    assert len(listed()) == 3


def test_a_bad_file_imports_nothing_and_names_every_bad_line(fleet):
    before = master_data_snapshot()
    data = csv_bytes("part,model", "P-100,HX5", "P-404,HX5", "P-100,HX9", "P-100,HX5", "P-200,")
    with pytest.raises(ImportRejected) as refused:
        import_csv("part_models", data)
    assert [(e.line, e.column) for e in refused.value.errors] == [
        (3, "part"),
        (4, "model"),
        (5, None),  # the same pair as on line 2
        (6, "model"),
    ]
    assert master_data_snapshot() == before


def _upload(client, data: bytes):
    return client.post(
        "/admin/masterdata/import",
        data={"kind": "part_models", "file": (io.BytesIO(data), "fits.csv")},
        content_type="multipart/form-data",
    )


def test_an_admin_uploads_part_models_on_the_import_page(fleet, login_as):
    client = login_as("admin")
    bad = _upload(client, csv_bytes("part,model", "P-100,HX5", "P-404,HX5"))
    assert bad.status_code == 200 and listed() == set()
    assert re.search(r'<td class="num">3</td><td class="mono">part</td>', bad.get_data(True))
    good = _upload(client, csv_bytes("part,model", "P-100,HX5"))
    assert good.status_code == 302
    assert listed() == {("P-100", "HX5")}
    page = client.get("/admin/masterdata/part_models").get_data(as_text=True)
    assert "P-100" in page and "HX5" in page


# -- the admin page --------------------------------------------------------------------------------


def test_an_admin_adds_and_removes_the_models_of_a_part(fleet, login_as):
    client = login_as("admin")
    url = f"/admin/masterdata/parts/{fleet.part.id}"
    assert "fits every model" in client.get(url).get_data(as_text=True)

    added = client.post(f"{url}/models", data={"model": "HX7"})
    assert added.status_code == 302
    assert listed() == {("P-100", "HX7")}
    page = client.get(url).get_data(as_text=True)
    assert 'data-model="HX7"' in page

    twice = client.post(f"{url}/models", data={"model": "HX7"})
    unknown = client.post(f"{url}/models", data={"model": "NOPE"})
    assert (twice.status_code, unknown.status_code) == (422, 422)
    assert "listed already" in twice.get_data(as_text=True)
    assert listed() == {("P-100", "HX7")}

    removed = client.post(f"{url}/models/{fleet.other_model.id}/remove")
    assert removed.status_code == 302
    assert listed() == set()


@pytest.mark.parametrize("role", ["station", "auditor", "finance", "supplier"])
def test_only_admins_edit_the_models_of_a_part(fleet, login_as, role):
    client = login_as(role)
    response = client.post(f"/admin/masterdata/parts/{fleet.part.id}/models", data={"model": "HX7"})
    assert response.status_code in (302, 403)
    assert listed() == set()


def test_an_unknown_part_is_404(fleet, login_as):
    assert login_as("admin").post("/admin/masterdata/parts/999999/models").status_code == 404
