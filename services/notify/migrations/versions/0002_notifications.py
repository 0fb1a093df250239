"""Recipients, templates, maintenance windows, notifications and their delivery log.

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
        "customers",
        sa.Column("customer_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("second_language", sa.String(5), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("managed", sa.Boolean, nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("chat_handle", sa.String(120), nullable=True),
        sa.Column("channels", sa.String(20), nullable=False),
        sa.Column("opted_out", sa.Boolean, nullable=False),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
    )
    op.create_table(
        "staff",
        sa.Column("staff_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("chat_handle", sa.String(120), nullable=True),
    )
    op.create_table(
        "duty_slots",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.staff_id"), nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("starts", sa.Time, nullable=False),
        sa.Column("ends", sa.Time, nullable=False),
    )
    op.create_index("ix_duty_slots_staff_id", "duty_slots", ["staff_id"])
    op.create_table(
        "template_overrides",
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("channel", sa.String(5), primary_key=True),
        sa.Column("language", sa.String(5), primary_key=True),
        sa.Column("subject", sa.Text, nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("html", sa.Text, nullable=True),
        sa.Column("updated_by", sa.String(254), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "maintenances",
        sa.Column("maintenance_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "source_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(80), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source_event_id", sa.String(64), nullable=False),
        sa.Column("source_event_type", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("recipient_key", sa.String(270), nullable=False),
        sa.Column("recipient_name", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.Integer, nullable=True),
        sa.Column("channel", sa.String(5), nullable=False),
        sa.Column("address", sa.String(254), nullable=True),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("fell_back_from", sa.String(5), nullable=True),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("subject", sa.Text, nullable=True),
        sa.Column("body_text", sa.Text, nullable=True),
        sa.Column("body_html", sa.Text, nullable=True),
        sa.Column("headers", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("provider_ref", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint(
            "source_event_id", "kind", "recipient_key", "channel", name="uq_notification_once"
        ),
    )
    op.create_index("ix_notifications_due", "notifications", ["status", "not_before"])
    op.create_index("ix_notifications_source_event_id", "notifications", ["source_event_id"])
    op.create_index("ix_notifications_kind", "notifications", ["kind"])
    op.create_index("ix_notifications_customer_id", "notifications", ["customer_id"])
    op.create_index("ix_notifications_address", "notifications", ["address"])
    op.create_table(
        "delivery_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("notification_id", sa.Integer, sa.ForeignKey("notifications.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
    )
    op.create_index("ix_delivery_log_notification_id", "delivery_log", ["notification_id"])


def downgrade() -> None:
    for table in (
        "delivery_log",
        "notifications",
        "source_events",
        "maintenances",
        "template_overrides",
        "duty_slots",
        "staff",
        "customers",
    ):
        op.drop_table(table)
