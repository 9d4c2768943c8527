"""A new installation's first data, behind `flask --app wsgi setup` (after `db upgrade`).

`set_up()` makes sure the rows every installation needs exist: the OEM organisation (code
`OEM`, DESIGN 1) that auditors, finance and admins belong to, the seeded reason codes (DESIGN 4)
and the one row each of the auto-adjudication and settlement settings with their defaults. It
only adds what is missing (and renames the OEM when asked), so running it again changes
nothing; it flushes, the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from portal.claims.models import SEEDED_REASON_CODES, ClaimSettings, ReasonCode
from portal.extensions import db
from portal.masterdata.models import OEM_CODE, Organisation, OrgKind
from portal.settlement.models import SettlementSettings

DEFAULT_OEM_NAME = "OEM"
OEM_NAME_MAX = 200  # Organisation.name


@dataclass
class SetupReport:
    """What `set_up` found and did, one line per kind of row, and whether it changed anything."""

    oem: Organisation
    lines: list[str] = field(default_factory=list)
    changed: bool = False

    def note(self, line: str, *, changed: bool) -> None:
        self.lines.append(line)
        self.changed = self.changed or changed


def set_up(oem_name: str | None = None) -> SetupReport:
    """Create what is missing; `oem_name` names the OEM (a new one, or renames the one there)."""
    name = (oem_name or "").strip()
    if len(name) > OEM_NAME_MAX:
        raise ValueError(f"the OEM's name is longer than {OEM_NAME_MAX} characters")
    oem = db.session.scalar(sa.select(Organisation).where(Organisation.code == OEM_CODE))
    if oem is None:
        oem = Organisation(code=OEM_CODE, name=name or DEFAULT_OEM_NAME)
        db.session.add(oem)
        db.session.flush()
        report = SetupReport(oem)
        report.note(f"OEM organisation {OEM_CODE} ({oem.name}): created.", changed=True)
    elif oem.kind is not OrgKind.OEM:
        raise ValueError(f"the organisation {OEM_CODE} exists but is a {oem.kind.value}")
    elif name and name != oem.name:
        report = SetupReport(oem)
        report.note(
            f"OEM organisation {OEM_CODE}: renamed from {oem.name} to {name}.", changed=True
        )
        oem.name = name
    else:
        report = SetupReport(oem)
        report.note(f"OEM organisation {OEM_CODE} ({oem.name}): exists.", changed=False)

    existing = set(db.session.scalars(sa.select(ReasonCode.code)))
    missing = [row for row in SEEDED_REASON_CODES if row[0] not in existing]
    db.session.add_all(
        ReasonCode(code=code, label_en=en, label_zh=zh, active=True) for code, en, zh in missing
    )
    if missing:
        report.note(f"Reason codes: added {', '.join(code for code, *_ in missing)}.", changed=True)
    else:
        report.note(f"Reason codes: the {len(SEEDED_REASON_CODES)} seeded exist.", changed=False)

    had_claim_settings = db.session.get(ClaimSettings, 1) is not None
    claim_settings = ClaimSettings.current()
    report.note(
        f"Auto-adjudication: {'on' if claim_settings.auto_approve_enabled else 'off'}, "
        f"threshold {claim_settings.auto_approve_threshold} "
        f"({'exists' if had_claim_settings else 'created with the defaults'}).",
        changed=not had_claim_settings,
    )
    had_settlement_settings = db.session.get(SettlementSettings, 1) is not None
    settlement_settings = SettlementSettings.current()
    report.note(
        f"Settlement: VAT {format((settlement_settings.vat_rate * 100).normalize(), 'f')}% "
        f"({'exists' if had_settlement_settings else 'created with the defaults'}).",
        changed=not had_settlement_settings,
    )
    db.session.flush()
    return report
