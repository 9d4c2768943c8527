"""i18n: an adjustment's reason and an automatic approval's audit note keep a message key

A settlement adjustment says why the portal made it, and the audit log says why a claim was
approved automatically, as a key of portal.messages and its parameters (`message_key`,
`params`), written out when read in the reader's language; `settlement_adjustment.reason` and
`audit_log.note` keep only what a person wrote.

The rows written before are converted where their text is one of the portal's known forms:
an adjustment's reason in English or Chinese, an automatic approval's `rule: why` in English.
An adjustment's audit entry whose note is not one of them gets the sentence the log showed for
it (its claim, amount and corrected statement) with the note kept beside it; any other row keeps
its text and is shown as stored. The audit log refuses changes: its trigger is held off while
the new columns are filled in (no other column changes except a converted note, which moves
into the key and parameters). A downgrade drops the columns; the converted rows keep an empty
note.

Revision ID: 0032_reason_message_keys
Revises: 0031_analysis_claim_part_month
Create Date: 2026-12-05 21:30:00.000000

"""

import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0032_reason_message_keys"
down_revision = "0031_analysis_claim_part_month"
branch_labels = None
depends_on = None

TABLES = ("settlement_adjustment", "audit_log")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("message_key", sa.String(length=60), nullable=True))
            batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
    conn = op.get_bind()
    convert_adjustments(conn)
    with audit_log_open(conn):
        convert_audit_log(conn)


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("params")
            batch_op.drop_column("message_key")


# -- the texts written before, as patterns ---------------------------------------------------------


def pattern(template: str) -> re.Pattern:
    """A message template as a regular expression that finds its parameters."""
    parts = re.split(r"%\((\w+)\)s", template)
    regex = ""
    for index, part in enumerate(parts):
        regex += re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
    return re.compile(regex + r"\Z", re.DOTALL)


INSPECTIONS = {
    "Confirmed defect": "confirmed_defect",
    "No fault found": "no_fault_found",
    "Misuse": "misuse",
    "Wrong part": "wrong_part",
    "确认故障": "confirmed_defect",
    "未发现故障": "no_fault_found",
    "使用不当": "misuse",
    "错件": "wrong_part",
}

REASONS = [
    (
        "adjustment.reason_supplier_credit",
        "Old part %(tag)s: %(result)s after statement %(statement)s; recovery of claim "
        "%(number)s lowered.",
    ),
    (
        "adjustment.reason_supplier_credit",
        "旧件 %(tag)s：在结算单 %(statement)s 之后检验结论为“%(result)s”；索赔单 %(number)s "
        "的追偿金额已降低。",
    ),
    (
        "adjustment.reason_station_credit",
        "Overdue old part %(tag)s waived after statement %(statement)s deducted it.",
    ),
    (
        "adjustment.reason_station_credit",
        "逾期旧件 %(tag)s 的扣款已在结算单 %(statement)s 中扣除，现予免除。",
    ),
    (
        "adjustment.reason_supplier_debit",
        "Chargeback of claim %(number)s waived after statement %(statement)s: the credit of "
        "%(amount)s is taken back.",
    ),
    (
        "adjustment.reason_supplier_debit",
        "索赔单 %(number)s 的追偿在结算单 %(statement)s 之后被免除：收回已返还的 %(amount)s。",
    ),
]
REASON_PATTERNS = [(key, pattern(text)) for key, text in REASONS]

AUTO_RULE = re.compile(r"(?P<rule>auto_approve_under_[\d.]+|campaign_package): (?P<why>.*)\Z", re.S)
WHYS = [
    (
        "claim.auto_approved_capped",
        pattern(
            "No flags, and the total %(total)s is under the auto-approval limit of "
            "%(threshold)s; the purchased parts are cut to the price cap of request %(request)s."
        ),
    ),
    (
        "claim.auto_approved",
        pattern(
            "No flags, and the total %(total)s is under the auto-approval limit of %(threshold)s."
        ),
    ),
    ("claim.auto_approved_campaign", pattern("No flags, and exactly the package of campaign %(campaign)s.")),
    # The English the portal wrote before revision 0027.
    (
        "claim.auto_approved_capped",
        pattern(
            "No flags and total %(total)s under %(threshold)s; purchased parts cut to the cap of "
            "%(request)s"
        ),
    ),
    ("claim.auto_approved", pattern("No flags and total %(total)s under %(threshold)s")),
    (
        "claim.auto_approved_campaign",
        pattern("No flags and exactly the package of campaign %(campaign)s"),
    ),
]
MONEY_PARAMS = ("amount", "total", "threshold")


def amount_of(text: str) -> str | None:
    """`CN¥1,234.50`, `¥1,234.50`, `1,234.50` -> `1234.50` (None: not an amount)."""
    plain = re.sub(r"[^\d.\-]", "", text)
    return plain if re.fullmatch(r"-?\d+(\.\d+)?", plain) else None


def parsed(patterns, text: str):
    """(key, params) of the first pattern `text` is, with amounts and results as stored."""
    for key, regex in patterns:
        found = regex.match(text.strip())
        if found is None:
            continue
        params = found.groupdict()
        if "result" in params:
            params["result"] = INSPECTIONS.get(params["result"])
            if params["result"] is None:
                continue
        ok = True
        for name in MONEY_PARAMS:
            if name in params:
                params[name] = amount_of(params[name])
                ok = ok and params[name] is not None
        if ok:
            return key, params
    return None


def match_reason(text: str):
    return parsed(REASON_PATTERNS, text)


def match_auto_approval(note: str):
    """`rule: why` -> (key, params, what stays in the note)."""
    found = AUTO_RULE.match(note.strip())
    if found is None:
        return None
    rule, why = found.group("rule"), found.group("why")
    said = parsed(WHYS, why)
    if said is None:  # the rule by its label; the why as it was written
        return "claim.auto_approved_by_rule", {"rule": rule}, why
    key, params = said
    return key, {**params, "rule": rule}, ""


# -- the conversion --------------------------------------------------------------------------------


def _table(name: str, *columns):
    return sa.table(
        name,
        sa.column("id", sa.Integer),
        sa.column("message_key", sa.String),
        sa.column("params", sa.JSON),
        *columns,
    )


def convert_adjustments(conn) -> int:
    table = _table("settlement_adjustment", sa.column("reason", sa.Text))
    changed = 0
    for row_id, reason in conn.execute(sa.select(table.c.id, table.c.reason)).all():
        found = match_reason(reason or "")
        if found:
            key, params = found
            conn.execute(
                sa.update(table)
                .where(table.c.id == row_id)
                .values(message_key=key, params=params, reason="")
            )
            changed += 1
    return changed


def convert_audit_log(conn) -> int:
    table = _table(
        "audit_log",
        sa.column("kind", sa.String),
        sa.column("note", sa.Text),
        sa.column("claim_number", sa.String),
        sa.column("amount_after", sa.Numeric),
        sa.column("after", sa.JSON),
    )
    changed = 0
    rows = conn.execute(
        sa.select(
            table.c.id, table.c.kind, table.c.note, table.c.claim_number, table.c.amount_after,
            table.c.after,
        ).where(table.c.kind.in_(["adjustment.created", "claim.auto_approved"]))
    ).all()
    for row_id, kind, note, number, amount, after in rows:
        note = note or ""
        if kind == "adjustment.created":
            found = match_reason(note)
            if found:
                key, params, rest = *found, ""
            else:  # what the log showed for it; the note stays beside it
                key, rest = "adjustment.corrects", note
                params = {
                    "number": number or "–",
                    "amount": None if amount is None else str(amount),
                    "statement": (after or {}).get("original_statement") or "–",
                }
        else:
            found = match_auto_approval(note)
            if found is None:
                continue
            key, params, rest = found
        conn.execute(
            sa.update(table)
            .where(table.c.id == row_id)
            .values(message_key=key, params=params, note=rest)
        )
        changed += 1
    return changed


class audit_log_open:  # noqa: N801 - used as `with audit_log_open(conn):`
    """The audit log's append-only trigger held off, and put back, around the conversion."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        if self.conn.dialect.name == "postgresql":
            self.conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        elif self.conn.dialect.name == "sqlite":
            self.conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
        return self

    def __exit__(self, *exc):
        if self.conn.dialect.name == "postgresql":
            self.conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        elif self.conn.dialect.name == "sqlite":
            self.conn.exec_driver_sql(
                "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
        return False
