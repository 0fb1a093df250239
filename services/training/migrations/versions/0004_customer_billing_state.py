"""The customer directory replica learns each customer's suspension and grace.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_directory") as table:
        table.add_column(
            sa.Column("suspended", sa.Boolean, nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("grace_used_on", sa.Date, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_directory") as table:
        table.drop_column("grace_used_on")
        table.drop_column("suspended")
