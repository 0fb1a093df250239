"""Trigram indexes for the search's identifiers on PostgreSQL (SQLite searches without).

A search looks for each word inside the requester's email address and the ticket's
reference (``lower(...) LIKE '%word%'``), which no B-tree can answer: without these every
ticket is read. ``pg_trgm`` is a trusted extension, which the database's owner may create.
The expressions must stay exactly those of ``services/tickets/search.py``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX ix_tickets_email_trgm ON tickets "
        "USING gin (lower(requester_email) gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_tickets_reference_trgm ON tickets "
        "USING gin (lower(reference) gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_tickets_reference_trgm")
    op.execute("DROP INDEX ix_tickets_email_trgm")
