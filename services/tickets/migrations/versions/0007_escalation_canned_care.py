"""Escalation rules and what fired, canned replies, care tasks.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalation_rules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("department", sa.String(10), nullable=True),
        sa.Column("priority", sa.String(10), nullable=True),
        sa.Column("status", sa.String(10), nullable=True),
        sa.Column("after_minutes", sa.Integer, nullable=False),
        sa.Column("actions", sa.String(300), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "escalations",
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), primary_key=True),
        sa.Column("rule_id", sa.Integer, sa.ForeignKey("escalation_rules.id"), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "care_tasks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.Integer, nullable=True, index=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False, index=True),
        sa.Column("assignee_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Integer, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("care_tasks", "canned_replies", "escalations", "escalation_rules"):
        op.drop_table(table)
