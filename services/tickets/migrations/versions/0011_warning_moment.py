"""Each ticket's SLA warning moment beside its next deadline, kept current with it.

With the two the queue tells an open ticket's badge (ok, warning, breached, paused) without
working out its clocks, which walk every business day since the ticket opened. Tickets
last changed before this migration have none until their next change: the queue works out
their clocks as before (``clocks.standings``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as table:
        table.add_column(sa.Column("warn_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as table:
        table.drop_column("warn_at")
