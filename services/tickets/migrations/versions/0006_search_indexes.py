"""Full-text indexes for the desk's search on PostgreSQL (SQLite searches without them).

The expressions must stay exactly those of ``services/tickets/search.py`` for the planner
to use them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX ix_tickets_prose_fts ON tickets "
        "USING gin (to_tsvector('simple', subject || ' ' || requester_name))"
    )
    op.execute(
        "CREATE INDEX ix_messages_body_fts ON messages USING gin (to_tsvector('simple', body))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_messages_body_fts")
    op.execute("DROP INDEX ix_tickets_prose_fts")
