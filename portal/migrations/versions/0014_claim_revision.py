"""claim revision: a counter bumped on every change of a claim, for optimistic concurrency

`claim.version` counts submissions (a returned claim resubmitted is version 2); a draft's edits
change nothing there. `claim.revision` goes up on every change; the API's ETag and the edit
form name it, and an edit based on an older revision is refused instead of overwriting.

Revision ID: 0014_claim_revision
Revises: 0013_user_sessions
Create Date: 2026-11-25 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_claim_revision"
down_revision = "0013_user_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_check_constraint(batch_op.f("ck_claim_revision_positive"), "revision >= 1")


def downgrade():
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_claim_revision_positive"), type_="check")
        batch_op.drop_column("revision")
