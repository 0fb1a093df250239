"""The outbox and inbox tables every service's database carries.

They live in their own metadata so that each service's Alembic migrations can
create them beside the service's own tables.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

BUS_METADATA = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY.
_row_id = BigInteger().with_variant(Integer(), "sqlite")

outbox = Table(
    "outbox",
    BUS_METADATA,
    Column("id", _row_id, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(120), nullable=False),
    Column("body", Text, nullable=False, doc="the envelope exactly as it goes on the wire"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Index(
        "ix_outbox_pending",
        "id",
        postgresql_where=text("published_at IS NULL"),
        sqlite_where=text("published_at IS NULL"),
    ),
)

inbox = Table(
    "inbox",
    BUS_METADATA,
    Column("subscriber", String(80), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("event_type", String(120), nullable=False),
    Column("handled_at", DateTime(timezone=True), nullable=False),
)
