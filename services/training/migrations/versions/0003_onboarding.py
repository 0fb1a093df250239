"""Enrolments and lesson progress: the path from new hire to certified.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enrolments",
        sa.Column("staff_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("share_held", sa.Integer, nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("certified_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "lesson_progress",
        sa.Column("staff_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("lesson_id", sa.String(80), primary_key=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("quiz_attempts", sa.Integer, nullable=False),
        sa.Column("best_score", sa.Integer, nullable=False),
        sa.Column("scenario_reply", sa.Text, nullable=True),
        sa.Column("scenario_findings", sa.Text, nullable=True),
        sa.Column("scenario_status", sa.String(12), nullable=True),
        sa.Column("review_comment", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("lesson_progress")
    op.drop_table("enrolments")
