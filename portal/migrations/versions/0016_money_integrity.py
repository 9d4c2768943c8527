"""money integrity: pre-authorisations used up once, the outsourced_cap reason code, the models
a part fits

An approved appraisal or outsourced-purchase request is used up by one live claim (submitted,
not rejected): `claim.appraisal_id` names the appraisal a major-assembly claim was accepted on,
and a partial unique index on each of `appraisal_id` and `outsourced_request_id` refuses a second
live claim on one pre-authorisation. Where an earlier version let one request fund several
live claims, the first claim keeps it and each later one lets go of it, with an event saying so.

A supplier's finding on an old part it is charged for is a proposal an auditor confirms or
overrules (`old_part.finding_status` and the review's who, when and why).

`part_model` lists the vehicle models a part fits (a part with none listed fits all).

A duplicate flag names another station's claim only as "another station's claim": flags written
before that lose the other station's claim number. `outsourced_cap` is the reason code of the cut that keeps
an outsourced purchase's parts within its cap.

Revision ID: 0016_money_integrity
Revises: 0015_analysis_early_warnings
Create Date: 2026-12-05 05:30:00.000000

"""

from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016_money_integrity"
down_revision = "0015_analysis_early_warnings"
branch_labels = None
depends_on = None

LIVE_USE = "%s IS NOT NULL AND status NOT IN ('draft', 'rejected')"


def release_second_uses(conn) -> int:
    """Each live claim on an outsourced-purchase request that an earlier live claim holds lets
    go of it, with an event saying so. Answers how many did."""
    later = conn.execute(
        sa.text(
            f"""
            SELECT c.id, c.version, r.number FROM claim c JOIN claim r
              ON r.id = c.outsourced_request_id
            WHERE c.outsourced_request_id IS NOT NULL AND c.status NOT IN ('draft', 'rejected')
              AND EXISTS (SELECT 1 FROM claim e
                          WHERE e.outsourced_request_id = c.outsourced_request_id
                            AND e.status NOT IN ('draft', 'rejected') AND e.id < c.id)
            """
        )
    ).all()
    if not later:
        return 0
    event = sa.table(
        "claim_event",
        sa.column("claim_id", sa.Integer), sa.column("at", sa.DateTime(timezone=True)),
        sa.column("action", sa.String), sa.column("reason", sa.Text),
        sa.column("version", sa.Integer),
    )
    now = datetime.now(timezone.utc)
    conn.execute(sa.insert(event), [
        {
            "claim_id": claim_id,
            "at": now,
            "action": "request_released",
            "reason": f"Outsourced-purchase request {number} was used up by an earlier claim",
            "version": version,
        }
        for claim_id, version, number in later
    ])
    claim = sa.table("claim", sa.column("id", sa.Integer), sa.column("outsourced_request_id"))
    conn.execute(
        sa.update(claim)
        .where(claim.c.id.in_([row[0] for row in later]))
        .values(outsourced_request_id=None)
    )
    return len(later)


DUPLICATE_OTHER_STATION = (
    "Another station's claim for the same VIN and causal part %(part)s has a repair date "
    "within %(days)s days (%(date)s)."
)


def mask_other_station_duplicates(conn) -> int:
    """Duplicate flags written before another station's claim was named only as such: each one
    that names a claim of another station loses the number. Answers how many changed."""
    flag = sa.table(
        "claim_flag",
        sa.column("id", sa.Integer), sa.column("claim_id", sa.Integer),
        sa.column("message", sa.Text), sa.column("message_key", sa.String),
        sa.column("params", sa.JSON),
    )
    claim = sa.table(
        "claim",
        sa.column("id", sa.Integer), sa.column("number", sa.String),
        sa.column("station_id", sa.Integer),
    )
    flagged, other = claim.alias("flagged"), claim.alias("other")
    rows = conn.execute(
        sa.select(flag.c.id, flag.c.params, flagged.c.station_id)
        .join(flagged, flagged.c.id == flag.c.claim_id)
        .where(flag.c.message_key == "duplicate")
    ).all()
    changed = 0
    for flag_id, params, station_id in rows:
        number = (params or {}).get("other")
        other_station = conn.execute(
            sa.select(other.c.station_id).where(other.c.number == number)
        ).scalar()
        if number is None or other_station == station_id:
            continue
        masked = {k: v for k, v in params.items() if k != "other"}
        message = DUPLICATE_OTHER_STATION % {
            "part": masked.get("part", ""),
            "days": masked.get("days", ""),
            "date": masked.get("date", ""),
        }
        conn.execute(
            sa.update(flag)
            .where(flag.c.id == flag_id)
            .values(message_key="duplicate_other_station", params=masked, message=message)
        )
        changed += 1
    return changed


def upgrade():
    op.create_table(
        "part_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("part_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["vehicle_model.id"],
            name=op.f("fk_part_model_model_id_vehicle_model"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["part_id"], ["part.id"], name=op.f("fk_part_model_part_id_part"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_part_model")),
        sa.UniqueConstraint("part_id", "model_id", name=op.f("uq_part_model_part_id_model_id")),
    )
    op.create_index(op.f("ix_part_model_model_id"), "part_model", ["model_id"], unique=False)
    release_second_uses(op.get_bind())
    mask_other_station_duplicates(op.get_bind())
    with op.batch_alter_table("old_part", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "finding_status",
            sa.Enum("proposed", "confirmed", "overruled", name="finding_status",
                    native_enum=False, create_constraint=True),
            nullable=True,
        ))
        batch_op.add_column(sa.Column(
            "proposed_inspection",
            sa.Enum("confirmed_defect", "no_fault_found", "misuse", "wrong_part",
                    name="proposed_inspection", native_enum=False, create_constraint=True),
            nullable=True,
        ))
        batch_op.add_column(
            sa.Column("finding_reviewed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("finding_reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("finding_review_note", sa.Text(), nullable=False, server_default="")
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_old_part_finding_reviewed_by_id_user_account"),
            "user_account", ["finding_reviewed_by_id"], ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_old_part_finding_status_inspected_at"),
            ["finding_status", "inspected_at"],
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_old_part_finding_has_proposal"),
            "finding_status IS NULL "
            "OR (proposed_inspection IS NOT NULL AND inspection IS NOT NULL)",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_old_part_reviewed_finding_has_time"),
            "finding_status IS NULL OR finding_status = 'proposed' "
            "OR finding_reviewed_at IS NOT NULL",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_old_part_overruled_finding_has_reason"),
            "finding_status IS NULL OR finding_status <> 'overruled' OR finding_review_note <> ''",
        )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.add_column(sa.Column("appraisal_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_claim_appraisal_id_claim"), "claim", ["appraisal_id"], ["id"]
        )
    for column in ("outsourced_request_id", "appraisal_id"):
        op.create_index(
            f"uq_claim_{column}_live",
            "claim",
            [column],
            unique=True,
            postgresql_where=sa.text(LIVE_USE % column),
            sqlite_where=sa.text(LIVE_USE % column),
        )
    reason_code = sa.table(
        "reason_code",
        sa.column("code", sa.String), sa.column("label_en", sa.String),
        sa.column("label_zh", sa.String), sa.column("active", sa.Boolean),
    )
    op.bulk_insert(reason_code, [
        {
            "code": "outsourced_cap",
            "label_en": "Above the outsourced-purchase cap",
            "label_zh": "超出外购限价",
            "active": True,
        }
    ])


def downgrade():
    with op.batch_alter_table("old_part", schema=None) as batch_op:
        for name in ("finding_has_proposal", "reviewed_finding_has_time",
                     "overruled_finding_has_reason"):
            batch_op.drop_constraint(batch_op.f(f"ck_old_part_{name}"), type_="check")
        batch_op.drop_index(batch_op.f("ix_old_part_finding_status_inspected_at"))
        batch_op.drop_constraint(
            batch_op.f("fk_old_part_finding_reviewed_by_id_user_account"), type_="foreignkey"
        )
        for column in ("finding_review_note", "finding_reviewed_by_id", "finding_reviewed_at",
                       "proposed_inspection", "finding_status"):
            batch_op.drop_column(column)
    op.drop_index(op.f("ix_part_model_model_id"), table_name="part_model")
    op.drop_table("part_model")
    op.execute("DELETE FROM reason_code WHERE code = 'outsourced_cap'")
    for column in ("appraisal_id", "outsourced_request_id"):
        op.drop_index(f"uq_claim_{column}_live", table_name="claim")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_claim_appraisal_id_claim"), type_="foreignkey")
        batch_op.drop_column("appraisal_id")
