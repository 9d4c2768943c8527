"""analysis: early warnings, one per causal part and production month, with their evidence

Raised by the nightly check (portal/analysis/early_warnings.py, Wu & Meeker's Poisson rule).

Revision ID: 0015_analysis_early_warnings
Revises: 0014_claim_revision
Create Date: 2026-12-05 05:17:27.297355

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_analysis_early_warnings'
down_revision = '0014_claim_revision'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('early_warning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('part_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('cohort', sa.String(length=7), nullable=False, comment='production month YYYY-MM'),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('vehicles', sa.Integer(), nullable=False, comment="the cohort's vehicles of the part's models"),
    sa.Column('observed', sa.Integer(), nullable=False, comment='counted claims of the cohort on the part'),
    sa.Column('expected', sa.Float(), nullable=False, comment="at the other cohorts' rates"),
    sa.Column('p_value', sa.Float(), nullable=False, comment='P(Poisson(expected) >= observed)'),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.CheckConstraint('observed >= 0 AND vehicles >= 0', name=op.f('ck_early_warning_counts_not_negative')),
    sa.ForeignKeyConstraint(['part_id'], ['part.id'], name=op.f('fk_early_warning_part_id_part')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_early_warning_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_early_warning')),
    sa.UniqueConstraint('part_id', 'cohort', name='uq_early_warning_part_id_cohort')
    )
    with op.batch_alter_table("early_warning", schema=None) as batch_op:
        batch_op.create_index('ix_early_warning_active_updated_at', ['active', 'updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_early_warning_supplier_id'), ['supplier_id'], unique=False)



def downgrade():
    with op.batch_alter_table("early_warning", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_early_warning_supplier_id'))
        batch_op.drop_index('ix_early_warning_active_updated_at')

    op.drop_table('early_warning')
