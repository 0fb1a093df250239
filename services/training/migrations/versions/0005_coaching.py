"""What coaching learns from the desk: replies through the checker, resolutions with their
SLA outcome, ratings; and the owner's revocation decisions.

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
    op.create_table(
        "reply_checks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, nullable=False, index=True),
        sa.Column("staff_id", sa.Integer, nullable=False, index=True),
        sa.Column("customer_id", sa.Integer, nullable=True),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("findings", sa.Text, nullable=False),
        sa.Column("blocking", sa.Integer, nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "ticket_resolutions",
        sa.Column("ticket_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("staff_id", sa.Integer, nullable=False, index=True),
        sa.Column("first_response_met", sa.Boolean, nullable=True),
        sa.Column("resolution_met", sa.Boolean, nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ticket_ratings",
        sa.Column("ticket_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("staff_id", sa.Integer, nullable=True, index=True),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "revocation_proposals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("staff_id", sa.Integer, nullable=False, index=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(254), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("revocation_proposals")
    op.drop_table("ticket_ratings")
    op.drop_table("ticket_resolutions")
    op.drop_table("reply_checks")
