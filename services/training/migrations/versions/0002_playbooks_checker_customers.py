"""Playbook versions, the checker's settings and the customer directory replica.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_directory",
        sa.Column("customer_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("language", sa.String(5), nullable=False),
    )
    op.create_table(
        "playbook_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("playbook_id", sa.String(80), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_hash", sa.String(64), nullable=False),
        sa.Column("from_file", sa.Boolean, nullable=False),
        sa.Column("author", sa.String(254), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("playbook_id", "version", name="uq_playbook_version"),
    )
    op.create_table(
        "checker_settings",
        sa.Column("check_key", sa.String(80), primary_key=True),
        sa.Column("overrides", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(254), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("checker_settings")
    op.drop_table("playbook_versions")
    op.drop_table("customer_directory")
