"""Each ticket's next SLA deadline, kept current, so the queue sorts in the database.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as table:
        table.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
        table.create_index("ix_tickets_due", ["status", "emergency", "next_due_at"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as table:
        table.drop_index("ix_tickets_due")
        table.drop_column("next_due_at")
