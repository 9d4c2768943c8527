"""i18n: notifications and timeline entries keep a message key and parameters

A notification, a claim's timeline entry, an old part's and a campaign's store what the portal
says as a key of portal.messages and its parameters (`message_key`, `params`), written out when
read in the reader's language; `claim_event.reason` and `old_part_event.note` keep only what a
person wrote. The rows written before are converted where their text is one of the portal's
known messages (in English, or in Chinese where the acting user read Chinese); any other row
keeps its text and is shown as stored.

Flags "outside coverage, submitted as goodwill" kept why in the submitter's language; they get
the keys that keep the date or the kilometres instead.

Revision ID: 0027_i18n_message_keys
Revises: 0026_analysis_counted_claim
Create Date: 2026-12-05 09:30:00.000000

"""

import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027_i18n_message_keys"
down_revision = "0026_analysis_counted_claim"
branch_labels = None
depends_on = None

TABLES = ("notification", "claim_event", "old_part_event", "campaign_event")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("message_key", sa.String(length=60), nullable=True))
            batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
    conn = op.get_bind()
    convert_notifications(conn)
    convert_claim_events(conn)
    convert_old_part_events(conn)
    convert_campaign_events(conn)
    convert_goodwill_flags(conn)


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("params")
            batch_op.drop_column("message_key")


# -- the texts written before, as patterns ---------------------------------------------------------


def pattern(template: str) -> re.Pattern:
    """A message template ("Claim %(number)s was returned: %(reason)s") as a regular expression
    that finds its parameters; the last parameter takes the rest of the text."""
    parts = re.split(r"%\((\w+)\)s", template)
    regex = ""
    for index, part in enumerate(parts):
        if index % 2 == 0:
            regex += re.escape(part)
        else:
            last = index == len(parts) - 2 and parts[-1] in ("", ".", "。")
            regex += f"(?P<{part}>.+)" if last else f"(?P<{part}>.+?)"
    return re.compile(regex + r"\Z", re.DOTALL)


# key -> the English and Chinese texts the portal wrote before keys (and the parameters that
# were written as codes stay codes: portal.messages shows them by their labels).
NOTIFICATIONS = {
    "claim.commented": (
        "An auditor commented on claim %(number)s.",
        "审核员对索赔单 %(number)s 发表了评论。",
    ),
    "claim.returned": (
        "Claim %(number)s was returned: %(reason)s",
        "索赔单 %(number)s 已退回：%(reason)s",
    ),
    "claim.decided": (
        "Claim %(number)s was decided: %(status)s, approved %(amount)s.",
        "索赔单 %(number)s 已审核：%(status)s，批准金额 %(amount)s。",
    ),
    "claim.part_shipped": (
        "The part for %(number)s is on its way: %(carrier)s %(tracking)s",
        "%(number)s 的零件已发出：%(carrier)s %(tracking)s",
    ),
    "claim.part_received": (
        "Station %(station)s received the part of %(number)s.",
        "服务站 %(station)s 已收到 %(number)s 的零件。",
    ),
    "old_part.missing_from_shipment": (
        "Old part %(tag)s was missing from shipment %(number)s.",
        "发运单 %(number)s 中缺少旧件 %(tag)s。",
    ),
    "old_part.finding_proposed": (
        "Supplier %(supplier)s proposes %(result)s for its old part %(tag)s: confirm or overrule "
        "it.",
        "供应商 %(supplier)s 对其旧件 %(tag)s 提议 %(result)s：请确认或否决。",
    ),
    "old_part.finding_reviewed": (
        "Your finding on old part %(tag)s was %(outcome)s: %(result)s.",
        "您对旧件 %(tag)s 的检验结论已被%(outcome)s：%(result)s。",
    ),
    "old_part.wrong_part": (
        "Old part %(tag)s of claim %(number)s is not the part claimed: please explain.",
        "索赔单 %(number)s 的旧件 %(tag)s 与申报零件不符：请说明。",
    ),
    "settlement.statement_paid": ("Statement %(number)s paid on %(paid_on)s (ref. %(reference)s).",),
    "settlement.chargeback_disputed": ("Chargeback for %(number)s disputed by %(supplier)s: %(reason)s",),
    "settlement.dispute_resolved": ("Dispute on %(number)s %(status)s: %(reason)s",),
    "settlement.released": ("Settlement statement for %(period)s released.",),
    "announcement.published": ("New announcement: %(title)s", "新信息发布：%(title)s"),
    "analysis.early_warning": (
        "Early warning: part %(part)s, production month %(cohort)s: %(observed)s claims where "
        "%(expected)s were expected.",
        "早期预警：零件 %(part)s，生产月份 %(cohort)s：实际 %(observed)s 张索赔，预期 "
        "%(expected)s 张。",
    ),
}
NOTIFICATION_PATTERNS = [
    (key, pattern(text)) for key, texts in NOTIFICATIONS.items() for text in texts
]

CLAIM_EVENTS = [
    (
        "claim.auto_approved_capped",
        re.compile(
            r"No flags and total (?P<total>[\d.]+) under (?P<threshold>[\d.]+); purchased parts "
            r"cut to the cap of (?P<request>\S+)\Z"
        ),
    ),
    (
        "claim.auto_approved",
        re.compile(r"No flags and total (?P<total>[\d.]+) under (?P<threshold>[\d.]+)\Z"),
    ),
    ("claim.queued_flagged", re.compile(r"Flagged: (?P<rules>[a-z_, ]+)\Z")),
    ("claim.queued_always_reviewed", re.compile(r"A (?P<type>[a-z_]+) is always reviewed by an auditor\Z")),
    ("claim.queued_auto_approval_off", re.compile(r"Auto-approval is switched off\Z")),
    (
        "claim.queued_over_threshold",
        re.compile(r"Total (?P<total>[\d.]+) is not under the threshold (?P<threshold>[\d.]+)\Z"),
    ),
    (
        "claim.auto_approved_campaign",
        re.compile(r"No flags and exactly the package of campaign (?P<campaign>\S+)\Z"),
    ),
    (
        "claim.queued_not_package",
        re.compile(r"Not the package of campaign (?P<campaign>\S+): (?P<differences>.*)\Z"),
    ),
    (
        "claim.request_released",
        re.compile(r"Outsourced-purchase request (?P<number>\S+) was used up by an earlier claim\Z"),
    ),
]
# What a campaign claim claimed beyond or short of its package, as written before keys.
PACKAGE_DIFFERENCES = [
    ("campaign.differs.no_campaign", re.compile(r"no campaign\Z")),
    ("campaign.differs.labor", re.compile(r"labor other than (?P<operation>\S+)\Z")),
    (
        "campaign.differs.hours",
        re.compile(r"(?P<hours>[\d.]+) hours instead of (?P<package>[\d.]+)\Z"),
    ),
    ("campaign.differs.parts", re.compile(r"parts other than the package\Z")),
    ("campaign.differs.lines", re.compile(r"other lines\Z")),
]
CAMPAIGN_EVENTS = [
    (
        "campaign.vehicles_added",
        re.compile(
            r"(?P<n>\d+) vehicles of (?P<model>\S+) produced (?P<start>\S+) to (?P<end>\S+)\Z"
        ),
    ),
    ("campaign.vehicles_imported", re.compile(r"(?P<n>\d+) vehicles added from a file\Z")),
]
SUPPLIER_NOTE = re.compile(r"(?P<reason>.*?) ?\[supplier (?P<supplier>[^\]]+)\]\Z", re.DOTALL)

MISSING_NOTES = ("missing from the shipment", "发运单中缺失")
DEADLINE_NOTE = re.compile(r"deadline (?P<deadline>\d{4}-\d{2}-\d{2})\Z")
OVERRULED_NOTE = re.compile(r"(?P<result>[a-z_]+): (?P<reason>.*)\Z", re.DOTALL)

GOODWILL_TIME = [pattern("ended on %(expires)s"), pattern("已于 %(expires)s 到期")]
GOODWILL_KM = [pattern("%(km)s km over %(limit)s"), pattern("%(km)s km，超过 %(limit)s")]


# -- converting ------------------------------------------------------------------------------------


def match_notification(text: str):
    for key, regex in NOTIFICATION_PATTERNS:
        found = regex.match(text)
        if found:
            return key, found.groupdict()
    return None


def match_claim_event(reason: str):
    """(key, params, the reason a person wrote) for a reason the portal wrote, else None."""
    for key, regex in CLAIM_EVENTS:
        found = regex.match(reason)
        if found:
            params = found.groupdict()
            if "rules" in params:
                params["rules"] = [rule.strip() for rule in params["rules"].split(",")]
            if "differences" in params:
                differences = match_differences(params["differences"])
                if differences is None:
                    return None
                params["differences"] = differences
            return key, params, ""
    found = SUPPLIER_NOTE.match(reason)
    if found:
        return "claim.responsible_supplier", {"supplier": found["supplier"]}, found["reason"]
    return None


def match_differences(text: str):
    """The package differences ("labor other than OP-1; 1.5 hours instead of 1.2") as messages
    (portal.messages.said), or None when one of them is not the portal's."""
    found = []
    for part in text.split("; "):
        for key, regex in PACKAGE_DIFFERENCES:
            if matched := regex.match(part):
                found.append({"key": key, "params": matched.groupdict()})
                break
        else:
            return None
    return found


def match_campaign_event(note: str):
    for key, regex in CAMPAIGN_EVENTS:
        if found := regex.match(note):
            params = found.groupdict()
            params["n"] = int(params["n"])
            return key, params, ""
    return None


def match_old_part_event(action: str, note: str):
    if action == "missing" and note in MISSING_NOTES:
        return "old_part.missing", {}, ""
    if action == "overdue":
        found = DEADLINE_NOTE.match(note)
        if found:
            return "old_part.deadline", found.groupdict(), ""
    if action == "finding_overruled":
        found = OVERRULED_NOTE.match(note)
        if found:
            return "old_part.result_in_force", {"result": found["result"]}, found["reason"]
    return None


def _json_table(name: str, *columns):
    return sa.table(
        name,
        sa.column("id", sa.Integer),
        sa.column("message_key", sa.String),
        sa.column("params", sa.JSON),
        *columns,
    )


def convert_notifications(conn) -> int:
    table = _json_table("notification", sa.column("message", sa.Text))
    changed = 0
    for row_id, text in conn.execute(sa.select(table.c.id, table.c.message)).all():
        found = match_notification(text or "")
        if found:
            key, params = found
            conn.execute(
                sa.update(table).where(table.c.id == row_id).values(message_key=key, params=params)
            )
            changed += 1
    return changed


def convert_claim_events(conn) -> int:
    table = _json_table("claim_event", sa.column("reason", sa.Text))
    changed = 0
    rows = conn.execute(sa.select(table.c.id, table.c.reason).where(table.c.reason != "")).all()
    for row_id, reason in rows:
        found = match_claim_event(reason)
        if found:
            key, params, rest = found
            conn.execute(
                sa.update(table)
                .where(table.c.id == row_id)
                .values(message_key=key, params=params, reason=rest)
            )
            changed += 1
    return changed


def convert_old_part_events(conn) -> int:
    table = _json_table("old_part_event", sa.column("action", sa.String), sa.column("note", sa.Text))
    changed = 0
    rows = conn.execute(
        sa.select(table.c.id, table.c.action, table.c.note).where(
            table.c.action.in_(["missing", "overdue", "finding_overruled"])
        )
    ).all()
    for row_id, action, note in rows:
        found = match_old_part_event(action, note or "")
        if found:
            key, params, rest = found
            conn.execute(
                sa.update(table)
                .where(table.c.id == row_id)
                .values(message_key=key, params=params, note=rest)
            )
            changed += 1
    return changed


def convert_campaign_events(conn) -> int:
    table = _json_table(
        "campaign_event", sa.column("action", sa.String), sa.column("note", sa.Text)
    )
    changed = 0
    rows = conn.execute(
        sa.select(table.c.id, table.c.note).where(
            table.c.action.in_(["vehicles_added", "vehicles_imported"])
        )
    ).all()
    for row_id, note in rows:
        found = match_campaign_event(note or "")
        if found:
            key, params, rest = found
            conn.execute(
                sa.update(table)
                .where(table.c.id == row_id)
                .values(message_key=key, params=params, note=rest)
            )
            changed += 1
    return changed


def convert_goodwill_flags(conn) -> int:
    """Goodwill flags whose `why` was text: the date or the kilometres instead."""
    flag = sa.table(
        "claim_flag",
        sa.column("id", sa.Integer),
        sa.column("message_key", sa.String),
        sa.column("params", sa.JSON),
    )
    changed = 0
    rows = conn.execute(
        sa.select(flag.c.id, flag.c.params).where(flag.c.message_key == "outside_coverage_goodwill")
    ).all()
    for row_id, params in rows:
        params = dict(params or {})
        why = str(params.pop("why", ""))
        key = None
        for regex in GOODWILL_TIME:
            if found := regex.match(why):
                key = "outside_coverage_goodwill_time"
                params.update(found.groupdict())
        for regex in GOODWILL_KM:
            if key is None and (found := regex.match(why)):
                key = "outside_coverage_goodwill_km"
                params.update(found.groupdict())
        if key is not None:
            conn.execute(
                sa.update(flag).where(flag.c.id == row_id).values(message_key=key, params=params)
            )
            changed += 1
    return changed
