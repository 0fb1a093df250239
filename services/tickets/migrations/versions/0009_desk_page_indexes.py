"""Indexes for two of the desk's queries that otherwise read a whole table.

- The queue counts the replies held for review on every page: without an index that is a
  scan of every message. Only held replies are indexed (a handful at any time).
- The resolved view lists the most recently updated tickets first: without an index on
  ``updated_at`` every resolved and closed ticket is sorted for one page.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    held = sa.text("state = 'held'")
    op.create_index(
        "ix_messages_held", "messages", ["ticket_id"], postgresql_where=held, sqlite_where=held
    )
    op.create_index("ix_tickets_updated", "tickets", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_updated", "tickets")
    op.drop_index("ix_messages_held", "messages")
