"""The desk's settings (SLA targets), when the customer's turn began on each ticket, the
subscription billing last spoke of, who is looking at which ticket; password links and
failed sign-ins.

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
    op.create_table(
        "desk_settings",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    with op.batch_alter_table("tickets") as table:
        table.add_column(sa.Column("customer_turn_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("customers") as table:
        table.add_column(sa.Column("subscription_id", sa.Integer, nullable=True))
    op.create_table(
        "presence",
        sa.Column("ticket_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("staff_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("writing", sa.Boolean, nullable=False),
    )

    op.create_table(
        "password_links",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, index=True),
        sa.Column("address", sa.String(64), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("sign_in_attempts")
    op.drop_table("password_links")
    op.drop_table("presence")
    with op.batch_alter_table("customers") as table:
        table.drop_column("subscription_id")
    with op.batch_alter_table("tickets") as table:
        table.drop_column("customer_turn_at")
    op.drop_table("desk_settings")
