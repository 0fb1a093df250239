"""Invoices remember the event that issued them, so notify's delivery reports find them

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issued_event_id", sa.String(length=36), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_invoices_issued_event_id"), ["issued_event_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_issued_event_id"))
        batch_op.drop_column("issued_event_id")
