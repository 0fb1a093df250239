"""The open queue's order as an index, so a page of it is read in order rather than sorted.

The queue lists open tickets emergencies first, then by the next SLA deadline, then the
oldest first (``desk_pages.queue``): with this index PostgreSQL reads the page's 50 rows
straight off it instead of fetching and sorting every open ticket. SQLite cannot index
``NULLS LAST``, and its desks are small: it does without.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX ix_tickets_open_order ON tickets "
        "(emergency DESC, next_due_at ASC NULLS LAST, created_at ASC) "
        "WHERE status IN ('new', 'open', 'waiting', 'on_hold')"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_tickets_open_order")
