"""A resolved ticket's SLA standing, kept as its clocks stopped.

A resolved ticket's clocks no longer run: each target was met or missed, and that will
not change. The queue's resolved view showed it by working out every clock again, for
each of its 50 rows. ``clocks.refresh`` now keeps the outcome beside the ticket at the
resolution. Tickets resolved before this migration have none: the queue works their
clocks out as before (``clocks.standings``).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as table:
        table.add_column(sa.Column("resolved_standing", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as table:
        table.drop_column("resolved_standing")
