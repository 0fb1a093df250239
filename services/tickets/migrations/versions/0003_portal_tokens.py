"""The customer portal's sign-in links, kept as the SHA-256 of each token.

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
        "portal_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("portal_tokens", schema=None) as batch_op:
        batch_op.create_index(
            "ix_portal_tokens_email_created", ["email", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("portal_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_portal_tokens_email_created")
    op.drop_table("portal_tokens")
