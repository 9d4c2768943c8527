"""campaigns: recalls and service campaigns (召回 / 服务活动) and the `campaign` claim type

`campaign` holds a campaign's package (labor operation and hours, `campaign_part` with the
parts and quantities), its responsible supplier and share, and its dates; `campaign_vehicle`
lists the affected vehicles; `campaign_event` who opened, edited, extended or closed it.
`claim.campaign_id` names the campaign a `campaign` claim works on; a partial unique index
keeps one live claim (submitted, not rejected) per campaign and vehicle.

Revision ID: 0019_campaigns_recalls
Revises: 0016_money_integrity
Create Date: 2026-12-05 09:20:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019_campaigns_recalls"
down_revision = "0018_contracts_warranty"
branch_labels = None
depends_on = None

LIVE_USE = "campaign_id IS NOT NULL AND status NOT IN ('draft', 'rejected')"
OLD_TYPES = (
    "repair", "major_assembly", "appraisal", "break_in", "roadside", "outsourced_purchase",
    "emergency_part",
)
NEW_TYPES = (*OLD_TYPES, "campaign")


def _claim_types(types) -> None:
    """The CHECK constraint of claim.type allows `types`."""
    condition = "type IN (" + ", ".join(f"'{t}'" for t in types) + ")"
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_claim_claim_type"), "claim", type_="check")
        op.create_check_constraint(op.f("ck_claim_claim_type"), "claim", condition)
    else:  # SQLite: the table is rebuilt with the new constraint
        with op.batch_alter_table("claim", recreate="always") as batch_op:
            batch_op.drop_constraint(op.f("ck_claim_claim_type"), type_="check")
            batch_op.create_check_constraint(op.f("ck_claim_claim_type"), condition)


def upgrade():
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("recall", "service", name="campaign_kind", native_enum=False,
                    create_constraint=True),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="campaign_status", native_enum=False,
                    create_constraint=True),
            nullable=False,
        ),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True, comment="NULL: open-ended"),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("hours", sa.BigInteger(), nullable=False, comment="labor hours of the package"),
        sa.Column("supplier_id", sa.Integer(), nullable=True,
                  comment="NULL: the OEM bears it all"),
        sa.Column("recovery_share", sa.BigInteger(), nullable=False,
                  comment="the supplier's share of each claim's cost"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date",
                           name=op.f("ck_campaign_dates_in_order")),
        sa.CheckConstraint("hours > 0", name=op.f("ck_campaign_hours_positive")),
        sa.CheckConstraint("recovery_share >= 0 AND recovery_share <= 1000000",
                           name=op.f("ck_campaign_recovery_share_fraction")),
        sa.CheckConstraint("supplier_id IS NOT NULL OR recovery_share = 0",
                           name=op.f("ck_campaign_share_needs_supplier")),
        sa.CheckConstraint("status <> 'closed' OR closed_at IS NOT NULL",
                           name=op.f("ck_campaign_closed_has_timestamp")),
        sa.ForeignKeyConstraint(["closed_by_id"], ["user_account.id"],
                                name=op.f("fk_campaign_closed_by_id_user_account")),
        sa.ForeignKeyConstraint(["operation_id"], ["labor_operation.id"],
                                name=op.f("fk_campaign_operation_id_labor_operation")),
        sa.ForeignKeyConstraint(["supplier_id"], ["supplier.id"],
                                name=op.f("fk_campaign_supplier_id_supplier")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("code", name=op.f("uq_campaign_code")),
    )
    op.create_index("ix_campaign_status_start_date", "campaign", ["status", "start_date"])
    op.create_index(op.f("ix_campaign_supplier_id"), "campaign", ["supplier_id"])

    op.create_table(
        "campaign_part",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("part_id", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.CheckConstraint("qty > 0", name=op.f("ck_campaign_part_qty_positive")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_campaign_part_campaign_id_campaign"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["part_id"], ["part.id"],
                                name=op.f("fk_campaign_part_part_id_part")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_part")),
        sa.UniqueConstraint("campaign_id", "part_id",
                            name=op.f("uq_campaign_part_campaign_id_part_id")),
    )
    op.create_index(op.f("ix_campaign_part_part_id"), "campaign_part", ["part_id"])

    op.create_table(
        "campaign_vehicle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_campaign_vehicle_campaign_id_campaign"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicle.id"],
                                name=op.f("fk_campaign_vehicle_vehicle_id_vehicle")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_vehicle")),
        sa.UniqueConstraint("campaign_id", "vehicle_id",
                            name=op.f("uq_campaign_vehicle_campaign_id_vehicle_id")),
    )
    op.create_index(op.f("ix_campaign_vehicle_vehicle_id"), "campaign_vehicle", ["vehicle_id"])

    op.create_table(
        "campaign_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_campaign_event_campaign_id_campaign"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_campaign_event_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_event")),
    )
    op.create_index(op.f("ix_campaign_event_campaign_id"), "campaign_event", ["campaign_id"])

    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_claim_campaign_id_campaign"), "campaign", ["campaign_id"], ["id"]
        )
    op.create_index(
        "uq_claim_campaign_id_vehicle_id_live",
        "claim",
        ["campaign_id", "vehicle_id"],
        unique=True,
        postgresql_where=sa.text(LIVE_USE),
        sqlite_where=sa.text(LIVE_USE),
    )
    _claim_types(NEW_TYPES)


def downgrade():
    op.execute("DELETE FROM claim WHERE type = 'campaign'")
    _claim_types(OLD_TYPES)
    op.drop_index("uq_claim_campaign_id_vehicle_id_live", table_name="claim")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_claim_campaign_id_campaign"), type_="foreignkey")
        batch_op.drop_column("campaign_id")
    op.drop_index(op.f("ix_campaign_event_campaign_id"), table_name="campaign_event")
    op.drop_table("campaign_event")
    op.drop_index(op.f("ix_campaign_vehicle_vehicle_id"), table_name="campaign_vehicle")
    op.drop_table("campaign_vehicle")
    op.drop_index(op.f("ix_campaign_part_part_id"), table_name="campaign_part")
    op.drop_table("campaign_part")
    op.drop_index(op.f("ix_campaign_supplier_id"), table_name="campaign")
    op.drop_index("ix_campaign_status_start_date", table_name="campaign")
    op.drop_table("campaign")
