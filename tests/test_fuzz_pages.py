"""Every list page, as each role that may see it, with hostile values in every query parameter
it reads: out of range, not a number, oversized, control characters, Unicode digits. Whatever
the value, the answer is never a 5xx (issue 11); a value the page cannot take is a 400 naming
the parameter or the page again, and the lookups answer JSON.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from wtforms.fields.core import UnboundField

from portal.claims.forms import ClaimFilterForm
from portal.masterdata.importer import columns
from portal.masterdata.views import LISTINGS, RECORD_KINDS
from portal.oldparts.forms import OldPartFilterForm
from portal.settlement.forms import DisputeFilterForm, StatementFilterForm
from tests.factories import ClaimFactory, Fleet

pytestmark = pytest.mark.fuzz

HOSTILE_VALUES = (
    "0",
    "-1",
    "99999999999999999999",
    "1e30",
    "NaN",
    "x" * 5000,
    "a\x00b",
    "\u00b2",  # ² (a digit to str.isdigit, not to int)
    "\u0663",  # Arabic-Indic three (a digit to int)
    "\uff12\uff10\uff12\uff16-01-01",  # full-width digits
    "9999-12-31",
    "\ud800",  # a lone surrogate, sent as the bytes that would encode it
)


def form_fields(form_class) -> list[str]:
    return sorted(n for n in dir(form_class) if isinstance(getattr(form_class, n), UnboundField))


PAGING = ["page", "per_page"]
QUEUE = ["status", "type", "station", "region", "flag", "age", "min_amount", "max_amount", "after"]
OLD_PARTS_VIEWERS = ("station", "auditor", "finance", "supplier")

# (path, the roles that may see it, the query parameters it reads)
LIST_PAGES = [
    ("/dealer/", ("station",), form_fields(ClaimFilterForm) + PAGING),
    ("/oem/review", ("auditor",), QUEUE),
    ("/old-parts/", OLD_PARTS_VIEWERS, form_fields(OldPartFilterForm) + PAGING),
    ("/old-parts/shipments", OLD_PARTS_VIEWERS, ["status", *PAGING]),
    (
        "/settlement/statements",
        ("finance", "auditor", "station", "supplier"),
        form_fields(StatementFilterForm) + PAGING,
    ),
    ("/settlement/disputes", ("auditor", "finance"), form_fields(DisputeFilterForm) + PAGING),
    ("/settlement/chargebacks", ("supplier",), ["status", *PAGING]),
    ("/settlement/", ("finance",), PAGING),
    ("/admin/users", ("admin",), ["q", "role", *PAGING]),
    *[(f"/admin/masterdata/{kind}", ("admin",), ["q", *PAGING]) for kind in LISTINGS],
    ("/admin/masterdata/import", ("admin",), ["kind"]),
    *[(f"/admin/masterdata/{kind}/new", ("admin",), list(columns(kind))) for kind in RECORD_KINDS],
    (
        "/audit-log/",
        ("auditor", "finance", "admin"),
        ["from", "to", "actor", "kind", "claim", "run", *PAGING],
    ),
    ("/audit-log/audit-log.csv", ("auditor", "finance", "admin"), ["from", "kind", "run"]),
    ("/notifications/", ("station", "auditor", "finance", "supplier", "admin"), PAGING),
    ("/announcements/", ("station", "auditor", "finance", "admin"), PAGING),
    ("/claims/new", ("station",), ["type"]),
    ("/claims/lookup/vehicle", ("station", "auditor"), ["vin", "date", "km"]),
    ("/claims/lookup/parts", ("station", "auditor"), ["q", "date"]),
    ("/claims/lookup/operations", ("station", "auditor"), ["q", "date"]),
    ("/claims/lookup/fault-codes", ("station", "auditor"), ["q"]),
]


@pytest.fixture
def fleet(world):
    fleet = Fleet.build(world)
    ClaimFactory(fleet=fleet, in_review=True)  # something in the lists
    return fleet


@pytest.mark.parametrize(("path", "roles", "params"), LIST_PAGES, ids=[p for p, *_ in LIST_PAGES])
def test_no_value_of_any_query_parameter_is_answered_with_a_server_error(
    client, login_as, fleet, path, roles, params
):
    baseline = {"vin": fleet.vehicle.vin} if path == "/claims/lookup/vehicle" else {}
    for role in roles:
        client.post("/logout")
        login_as(role)
        # buffered: a streamed answer (the audit log's CSV) is read whole inside the request
        assert client.get(path, query_string=baseline, buffered=True).status_code == 200, (
            path,
            role,
        )
        for name in params:
            for value in HOSTILE_VALUES:
                query = urlencode({**baseline, name: value}, errors="surrogatepass")
                response = client.get(path, query_string=query, buffered=True)
                assert response.status_code < 500, f"{path}?{name}={value[:40]!r} as {role}"
                if response.status_code == 400 and not response.is_json:
                    page = response.get_data(as_text=True)
                    assert "<form" in page or "<code>" in page, f"{path}?{name}: names nothing"
