"""The schema as SQLAlchemy Core tables (the migrations create it; queries use these).

Ids are never reused: PostgreSQL's sequences never go back, and on SQLite every table is
AUTOINCREMENT (without it SQLite hands out max(id) + 1, so a deleted account's id, and its
tokens, would pass to the next account registered)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ticketing.db.types import Id, UTCDateTime
from ticketing.domain.models import MAX_EMAIL_LENGTH
from ticketing.timezones import MAX_TIMEZONE_LENGTH

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(MAX_EMAIL_LENGTH), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    sqlite_autoincrement=True,
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("venue", String(200), nullable=False, server_default=""),
    Column("starts_at", UTCDateTime(), nullable=False),
    # Money in minor units (satang, cents): exact on both databases.
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("max_per_booking", Integer, nullable=False),
    # An IANA name ("Asia/Bangkok"): clients show the event's times in its zone.
    Column("timezone", String(MAX_TIMEZONE_LENGTH), nullable=False, server_default="UTC"),
    CheckConstraint("max_per_booking >= 1", name="ck_events_max_per_booking"),
    CheckConstraint("price_minor >= 0", name="ck_events_price"),
    Index("ix_events_starts_at", "starts_at", "id"),
    sqlite_autoincrement=True,
)

# The event's hot counters, in a narrow row of their own: every booking updates this row, and
# on PostgreSQL an update of a wide row (the event's description runs to 5,000 characters) no
# longer fits its page under group commit, stops being HOT and halves nothing but the speed
# (bench/README.md, "Narrow counter rows"). capacity lives here only, next to what it bounds,
# so the CHECK and the trigger's guarded UPDATE read one row. One row per event, made with it.
event_sales = Table(
    "event_sales",
    metadata,
    Column("event_id", Id, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    Column("capacity", Integer, nullable=False),
    Column("tickets_sold", Integer, nullable=False, server_default="0"),
    Column("tickets_held", Integer, nullable=False, server_default="0"),
    CheckConstraint("capacity >= 0", name="ck_event_sales_capacity"),
    CheckConstraint(
        "tickets_sold >= 0 AND tickets_held >= 0 AND tickets_sold + tickets_held <= capacity",
        name="ck_event_sales_within_capacity",
    ),
    # Half of each page left free: a group-commit batch writes a new version of a hot row per
    # booking, and they stay HOT only while they fit on the row's own page.
    postgresql_with={"fillfactor": 50},
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("event_id", Id, ForeignKey("events.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("booking_date", UTCDateTime(), nullable=False),
    Column("created_by", Id, ForeignKey("users.id"), nullable=False),
    Column("idempotency_key", String(255), nullable=True),
    Column("request_fingerprint", String(64), nullable=True),
    CheckConstraint("quantity > 0", name="ck_bookings_quantity"),
    CheckConstraint("status IN ('CONFIRMED', 'CANCELLED')", name="ck_bookings_status"),
    UniqueConstraint("created_by", "idempotency_key", name="uq_bookings_idempotency"),
    Index("ix_bookings_user", "user_id", "id"),
    Index("ix_bookings_event", "event_id", "id"),
    sqlite_autoincrement=True,
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("booking_id", Id, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", Id, ForeignKey("events.id"), nullable=False),
    Column("status", String(8), nullable=False),
    Column("checked_in_at", UTCDateTime(), nullable=True),
    CheckConstraint("status IN ('VALID', 'USED', 'VOID')", name="ck_tickets_status"),
    Index("ix_tickets_booking", "booking_id"),
    sqlite_autoincrement=True,
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Index("ix_sessions_user", "user_id"),
    sqlite_autoincrement=True,
)

# One row per (email, client) with failures in the current window: counted by one upsert, so
# concurrent attempts each see their own count (see SqlSignInFailures.count_attempt).
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("email", String(MAX_EMAIL_LENGTH), primary_key=True),
    Column("client", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", UTCDateTime(), nullable=False),
)
