"""No message names another station's claim by its number (DESIGN 1 and 3): a duplicate flag or
a break-in refusal that points at another station's claim calls it "another station's claim",
in both languages, on pages and through the API; the station's own claims are still named."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.claims.models import ClaimFlag
from tests.factories import Fleet
from tests.test_api_auth import Api, api_for, error_of
from tests.test_api_claims import break_in, create, submit

ANOTHER = {"en": "another station's claim", "zh": "其他服务站的索赔单"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def station(client, world) -> Api:
    return api_for(client, world, "station")


@pytest.fixture
def station_b(client, world) -> Api:
    return api_for(client, world, "station_b")


def duplicate_flag(api: Api, number: str, headers=None) -> str:
    claim = api.get(f"/claims/{number}", headers=headers or {}).get_json()
    (flag,) = [f for f in claim["flags"] if f["rule"] == "duplicate"]
    return flag["message"]


def test_a_duplicate_of_another_stations_claim_does_not_name_it(
    station, station_b, fleet, db_session, login_as
):
    theirs = submit(station_b, create(station_b, fleet)["number"])["number"]
    ours = submit(station, create(station, fleet)["number"])
    assert ours["flagged"] is True

    english = duplicate_flag(station, ours["number"])
    assert ANOTHER["en"] in english.lower() and theirs not in english
    chinese = duplicate_flag(station, ours["number"], ZH)
    assert ANOTHER["zh"] in chinese and theirs not in chinese
    # Nor is it kept anywhere a reader could get it from.
    stored = db_session.scalar(sa.select(ClaimFlag).where(ClaimFlag.rule == "duplicate"))
    assert theirs not in stored.message and theirs not in str(stored.params)
    page = login_as("station").get(f"/claims/{ours['number']}").get_data(as_text=True)
    assert theirs not in page and "Another station&#39;s claim" in page


def test_a_duplicate_of_the_stations_own_claim_names_it(station, fleet):
    first = submit(station, create(station, fleet)["number"])["number"]
    second = submit(station, create(station, fleet)["number"])["number"]
    assert first in duplicate_flag(station, second)
    assert first in duplicate_flag(station, second, ZH)


def test_a_second_break_in_refused_for_another_stations_claim_does_not_name_it(
    station, station_b, fleet
):
    theirs = submit(station_b, create(station_b, fleet, **break_in(fleet))["number"])["number"]
    ours = create(station, fleet, **break_in(fleet))["number"]
    for headers, another in (({}, ANOTHER["en"]), (ZH, ANOTHER["zh"])):
        error = error_of(station.post(f"/claims/{ours}/submit", headers=headers), 422)
        assert theirs not in error["message"] and theirs not in str(error["fields"])
        assert another in error["fields"]["vin"].lower()


def test_a_second_break_in_of_the_stations_own_claim_names_it(station, fleet):
    first = submit(station, create(station, fleet, **break_in(fleet))["number"])["number"]
    second = create(station, fleet, **break_in(fleet))["number"]
    assert first in error_of(station.post(f"/claims/{second}/submit"), 422)["fields"]["vin"]


def test_the_migration_masks_duplicate_flags_written_before(station, station_b, fleet, db_session):
    """Flags kept from before name the other station's claim; the revision takes it out."""
    import importlib.util
    from pathlib import Path

    import portal

    path = Path(portal.__file__).parent / "migrations/versions/0016_money_integrity.py"
    spec = importlib.util.spec_from_file_location("revision_0015", path)
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)

    theirs = submit(station_b, create(station_b, fleet)["number"])["number"]
    ours = submit(station, create(station, fleet)["number"])["number"]
    own = submit(station, create(station, fleet)["number"])["number"]
    db_session.expire_all()
    flags = db_session.scalars(sa.select(ClaimFlag).order_by(ClaimFlag.id)).all()
    old_style, own_flag = flags  # as written before: the other station's number in it
    old_style.message_key = "duplicate"
    old_style.params = {**old_style.params, "other": theirs}
    old_style.message = f"Claim {theirs} for the same VIN ..."
    own_params = dict(own_flag.params)
    db_session.flush()

    assert revision.mask_other_station_duplicates(db_session.connection()) == 1
    db_session.expire_all()
    assert theirs not in duplicate_flag(station, ours) and theirs not in old_style.message
    assert "other" not in old_style.params
    assert own_flag.params == own_params  # its own claim is still named
    assert own_params["other"] == ours and own
