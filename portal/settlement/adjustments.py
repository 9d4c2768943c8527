"""Late changes to settled money become adjustments on the party's next statement (DESIGN 5, 6).

- A finding in force after the claim was charged back to its supplier (no_fault_found or misuse
  recorded by the OEM, or a supplier's finding an auditor confirmed or overruled to one of
  those) that lowers the recovery credits the supplier the difference: a `supplier_credit`.
- An overdue old part waived after its charge was deducted from the station credits the
  station the charge back: a `station_credit`.
- A chargeback waived after such a supplier credit: the waiver takes the whole chargeback off
  its statement, so each credit on it is taken back on the supplier's next statement (a
  `supplier_debit`): in all the supplier pays nothing for the claim, never less. A finding after
  the waiver credits nothing.

Each is created exactly once: the database keeps one adjustment per (kind, source), and the
claim's chargeback row is locked while the difference is worked out, so two findings on one
claim confirmed at once do not both credit the same difference. Both parties are told, the
claim's and the old part's timelines show it, and the audit log records it. The next
settlement run puts it on the party's statement (`portal.settlement.engine`).
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.auditlog.operations import AuditKind, record
from portal.auth.models import Role, User
from portal.claims.models import Claim, ClaimEvent, LineKind
from portal.extensions import db
from portal.masterdata.models import OEM_CODE, Organisation
from portal.messages import define, plain_params
from portal.money import round_money
from portal.notifications.operations import notify_organisation
from portal.oldparts.models import OldPart, OldPartEvent, StationCharge
from portal.oldparts.operations import lines_removed_from_recovery
from portal.oldparts.signals import finding_in_force, overdue_waived
from portal.settlement.models import (
    Adjustment,
    AdjustmentKind,
    Chargeback,
    ChargebackStatus,
    Statement,
    StatementLine,
)
from portal.settlement.models import (
    LineKind as StatementLineKind,
)

ZERO = Decimal("0.00")

# Why the portal made an adjustment (Adjustment.message_key, and its audit-log entry's).
REASON_SUPPLIER_CREDIT = define(
    "adjustment.reason_supplier_credit",
    _l(
        "Old part %(tag)s: %(result)s after statement %(statement)s; recovery of claim "
        "%(number)s lowered."
    ),
    result="word:inspection",
    example={"tag": "OP-1", "result": "no_fault_found", "statement": "ST-1", "number": "RP-1"},
)
REASON_STATION_CREDIT = define(
    "adjustment.reason_station_credit",
    _l("Overdue old part %(tag)s waived after statement %(statement)s deducted it."),
)
REASON_SUPPLIER_DEBIT = define(
    "adjustment.reason_supplier_debit",
    _l(
        "Chargeback of claim %(number)s waived after statement %(statement)s: the credit "
        "of %(amount)s is taken back."
    ),
    amount="money",
)
# The audit-log note of an adjustment made before its reason was kept as a key (revision 0032).
CORRECTS = define(
    "adjustment.corrects",
    _l("Claim %(number)s: %(amount)s on the next statement, correcting statement %(statement)s."),
    amount="money",
)

# The portal's words on adjustments: notifications and timelines (portal.messages).
SUPPLIER_CREDITED = define(
    "adjustment.supplier_credited",
    _l(
        "Claim %(number)s: your recovery is lowered by %(amount)s"
        " (old part %(tag)s, %(result)s); the credit is on your next statement."
    ),
    amount="money",
    result="word:inspection",
    example={"number": "RP-1", "amount": "1234.50", "tag": "OP-1", "result": "no_fault_found"},
)
FINANCE_SUPPLIER_CREDIT = define(
    "adjustment.finance_supplier_credit",
    _l("Adjustment: supplier credit %(amount)s on claim %(number)s (old part %(tag)s)."),
    amount="money",
)
STATION_CREDITED = define(
    "adjustment.station_credited",
    _l(
        "Claim %(number)s: the overdue charge of old part %(tag)s is waived; %(amount)s is "
        "credited on your next statement."
    ),
    amount="money",
)
FINANCE_STATION_CREDIT = define(
    "adjustment.finance_station_credit",
    _l("Adjustment: station credit %(amount)s on claim %(number)s (old part %(tag)s)."),
    amount="money",
)
SUPPLIER_DEBITED = define(
    "adjustment.supplier_debited",
    _l(
        "Claim %(number)s: the chargeback is waived; the credit of %(amount)s it "
        "carried is taken back on your next statement."
    ),
    amount="money",
)
FINANCE_SUPPLIER_DEBIT = define(
    "adjustment.finance_supplier_debit",
    _l(
        "Chargeback of claim %(number)s waived after statement %(statement)s: the credit "
        "of %(amount)s is taken back."
    ),
    amount="money",
)
SUPPLIER_CREDIT_NOTE = define(
    "adjustment.supplier_credit_note", _l("Credited on the supplier's next statement.")
)
STATION_CREDIT_NOTE = define(
    "adjustment.station_credit_note",
    _l("%(amount)s credited on the station's next statement."),
    amount="money",
)
ADJUSTS = define(
    "adjustment.adjusts", _l("Adjusts statement %(statement)s; paid on the next statement.")
)
ADJUSTS_STATION_CREDIT = define(
    "adjustment.adjusts_station_credit",
    _l(
        "Adjusts statement %(statement)s; paid on the next statement. %(amount)s credited on "
        "the station's next statement."
    ),
    amount="money",
)


def _existing(kind: AdjustmentKind, source_id: int) -> Adjustment | None:
    return db.session.scalar(
        sa.select(Adjustment).where(Adjustment.kind == kind, Adjustment.source_id == source_id)
    )


def recovery_now(cb: Chargeback, claim: Claim) -> Decimal:
    """The chargeback's amount as the engine would compute it today: the same agreement (share,
    fee rate, capped labor) with the parts lines the findings in force remove taken out."""
    removed = lines_removed_from_recovery([claim.id])
    removed_now = sum(
        (
            line.approved_amount or ZERO
            for line in claim.lines
            if line.kind is LineKind.PART and line.id in removed
        ),
        ZERO,
    )
    parts = max(cb.parts_amount + cb.removed_parts_amount - removed_now, ZERO)
    recovery = round_money((parts + cb.labor_amount) * cb.recovery_share)
    fee = round_money(parts * cb.handling_fee_rate)
    return recovery + fee


def credit_supplier_for_finding(part: OldPart, user: User | None) -> Adjustment | None:
    """The supplier credit a finding in force on `part` is owed, created once; None when the
    claim has no chargeback yet (the next run computes with the finding), the chargeback was
    waived, or the finding changes nothing."""
    found = _existing(AdjustmentKind.SUPPLIER_CREDIT, part.id)
    if found is not None:
        return found
    cb = db.session.scalar(
        sa.select(Chargeback)
        .where(Chargeback.claim_id == part.claim_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if cb is None or cb.status is ChargebackStatus.WAIVED:
        return None  # waived: the supplier pays nothing for the claim already
    found = _existing(AdjustmentKind.SUPPLIER_CREDIT, part.id)  # re-read under the lock
    if found is not None:
        return found
    claim = db.session.get(Claim, part.claim_id)
    already = sum(
        db.session.scalars(
            sa.select(Adjustment.amount).where(
                Adjustment.kind == AdjustmentKind.SUPPLIER_CREDIT,
                Adjustment.claim_id == claim.id,
            )
        ),
        ZERO,
    )
    difference = recovery_now(cb, claim) - (cb.amount + already)
    if difference >= 0:
        return None
    statement = cb.statement
    reason = (
        REASON_SUPPLIER_CREDIT,
        {
            "tag": part.tag,
            "result": part.inspection,
            "statement": statement.number,
            "number": claim.number,
        },
    )
    adjustment = _create(
        AdjustmentKind.SUPPLIER_CREDIT,
        source_id=part.id,
        org_id=cb.supplier_id,
        claim=claim,
        statement=statement,
        amount=difference,
        reason=reason,
        user=user,
    )
    if adjustment is None:
        return None
    db.session.add(
        OldPartEvent(
            old_part=part,
            user=user,
            action="adjustment_supplier_credit",
            message_key=SUPPLIER_CREDIT_NOTE,
            params={},
        )
    )
    _claim_event(claim, user, "adjustment_supplier_credit", statement)
    # The supplier's chargeback page (a part held at the OEM is not the supplier's to open).
    link = (
        f"/settlement/chargebacks/{cb.id}" if statement.is_released else "/settlement/chargebacks"
    )
    said = {"number": claim.number, "amount": -difference, "tag": part.tag}
    notify_organisation(
        cb.supplier_id, SUPPLIER_CREDITED, {**said, "result": part.inspection}, link
    )
    _tell_finance(FINANCE_SUPPLIER_CREDIT, said)
    db.session.flush()
    return adjustment


def credit_station_for_waiver(
    part: OldPart, user: User | None, charge: StationCharge | None
) -> Adjustment | None:
    """The station credit a waiver of an already-deducted overdue charge is owed, created once;
    None when the charge was never deducted (the next run simply leaves it out)."""
    if charge is None or charge.settled_in_run_id is None:
        return None
    found = _existing(AdjustmentKind.STATION_CREDIT, charge.id)
    if found is not None:
        return found
    statement = db.session.scalar(
        sa.select(Statement)
        .join(StatementLine, StatementLine.statement_id == Statement.id)
        .where(
            StatementLine.kind == StatementLineKind.OVERDUE,
            StatementLine.source_id == charge.id,
        )
    )
    if statement is None:
        return None
    claim = db.session.get(Claim, charge.claim_id)
    reason = (REASON_STATION_CREDIT, {"tag": part.tag, "statement": statement.number})
    adjustment = _create(
        AdjustmentKind.STATION_CREDIT,
        source_id=charge.id,
        org_id=charge.station_id,
        claim=claim,
        statement=statement,
        amount=charge.amount,
        reason=reason,
        user=user,
    )
    if adjustment is None:
        return None
    db.session.add(
        OldPartEvent(
            old_part=part,
            user=user,
            action="adjustment_station_credit",
            message_key=STATION_CREDIT_NOTE,
            params=plain_params({"amount": charge.amount}),
        )
    )
    _claim_event(claim, user, "adjustment_station_credit", statement, charge.amount)
    said = {"number": claim.number, "amount": charge.amount, "tag": part.tag}
    notify_organisation(charge.station_id, STATION_CREDITED, said, f"/claims/{claim.number}")
    _tell_finance(FINANCE_STATION_CREDIT, said)
    db.session.flush()
    return adjustment


def take_back_credits(cb: Chargeback, user: User | None) -> list[Adjustment]:
    """The chargeback `cb` is waived: every supplier credit on its claim is taken back on the
    supplier's next statement, once per credit (a `supplier_debit` whose source is the
    credit). Answers the debits, old and new; none when the chargeback is not waived."""
    if cb.status is not ChargebackStatus.WAIVED:
        return []
    credits = db.session.scalars(
        sa.select(Adjustment)
        .where(
            Adjustment.kind == AdjustmentKind.SUPPLIER_CREDIT,
            Adjustment.claim_id == cb.claim_id,
            Adjustment.org_id == cb.supplier_id,
        )
        .order_by(Adjustment.id)
    ).all()
    claim = db.session.get(Claim, cb.claim_id)
    debits = []
    for credit in credits:
        found = _existing(AdjustmentKind.SUPPLIER_DEBIT, credit.id)
        if found is not None:
            debits.append(found)
            continue
        reason = (
            REASON_SUPPLIER_DEBIT,
            {"number": claim.number, "statement": cb.statement.number, "amount": -credit.amount},
        )
        debit = _create(
            AdjustmentKind.SUPPLIER_DEBIT,
            source_id=credit.id,
            org_id=cb.supplier_id,
            claim=claim,
            statement=cb.statement,
            amount=-credit.amount,
            reason=reason,
            user=user,
        )
        if debit is None:  # a concurrent waiver made it
            debit = _existing(AdjustmentKind.SUPPLIER_DEBIT, credit.id)
            if debit is not None:
                debits.append(debit)
            continue
        debits.append(debit)
        _claim_event(claim, user, "adjustment_supplier_debit", cb.statement)
        said = {"number": claim.number, "amount": -credit.amount}
        notify_organisation(
            cb.supplier_id, SUPPLIER_DEBITED, said, f"/settlement/chargebacks/{cb.id}"
        )
        _tell_finance(FINANCE_SUPPLIER_DEBIT, {**said, "statement": cb.statement.number})
    db.session.flush()
    return debits


def _create(
    kind: AdjustmentKind,
    *,
    source_id: int,
    org_id: int,
    claim: Claim,
    statement: Statement,
    amount: Decimal,
    reason: tuple[str, dict],
    user: User | None,
) -> Adjustment | None:
    """Insert the adjustment in a savepoint: a concurrent one for the same source wins and
    this one is not created (the unique constraint refuses it)."""
    adjustment = Adjustment(
        kind=kind,
        source_id=source_id,
        org_id=org_id,
        claim_id=claim.id,
        original_statement_id=statement.id,
        amount=round_money(amount),
        message_key=reason[0],
        params=plain_params(reason[1]),
        created_by_id=user.id if user is not None else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(adjustment)
    except sa.exc.IntegrityError:
        return None
    record(
        AuditKind.ADJUSTMENT_CREATED,
        user,
        subject=f"{kind.value} #{adjustment.id}",
        claim_number=claim.number,
        run_id=statement.run_id,
        statement_id=statement.id,
        amount_before=ZERO,
        amount_after=adjustment.amount,
        after={"kind": kind.value, "source_id": source_id, "original_statement": statement.number},
        message=reason,
    )
    return adjustment


def _claim_event(
    claim: Claim,
    user: User | None,
    action: str,
    statement: Statement,
    station_credit: Decimal | None = None,
) -> None:
    """The adjustment on the claim's timeline, in the portal's words (portal.messages)."""
    key, params = ADJUSTS, {"statement": statement.number}
    if station_credit is not None:
        key, params = ADJUSTS_STATION_CREDIT, {**params, "amount": station_credit}
    db.session.add(
        ClaimEvent(
            claim_id=claim.id,
            user_id=user.id if user is not None else None,
            action=action,
            reason="",
            message_key=key,
            params=plain_params(params),
            version=claim.version,
        )
    )


def _tell_finance(key: str, params: dict) -> None:
    oem = db.session.scalar(sa.select(Organisation).where(Organisation.code == OEM_CODE))
    if oem is not None:
        notify_organisation(oem.id, key, params, "/settlement/", roles=[Role.FINANCE])


def adjustments_of_claim(claim_id: int) -> list[Adjustment]:
    return list(
        db.session.scalars(
            sa.select(Adjustment).where(Adjustment.claim_id == claim_id).order_by(Adjustment.id)
        )
    )


@finding_in_force.connect
def _on_finding(part: OldPart, user: User | None = None, **_kw) -> None:
    credit_supplier_for_finding(part, user)


@overdue_waived.connect
def _on_waiver(part: OldPart, user: User | None = None, charge=None, **_kw) -> None:
    credit_station_for_waiver(part, user, charge)
