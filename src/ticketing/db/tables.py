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
    text,
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
    # The language of the user's messages (chosen at sign-up): 'en' or 'th'.
    Column("language", String(2), nullable=False, server_default="en"),
    CheckConstraint("language IN ('en', 'th')", name="ck_users_language"),
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
    # "instant": booked CONFIRMED at once; "payment": held PENDING until paid or expired.
    Column("checkout", String(8), nullable=False, server_default="instant"),
    Column("hold_minutes", Integer, nullable=False, server_default="15"),
    CheckConstraint("max_per_booking >= 1", name="ck_events_max_per_booking"),
    CheckConstraint("checkout IN ('instant', 'payment')", name="ck_events_checkout"),
    CheckConstraint("hold_minutes BETWEEN 1 AND 120", name="ck_events_hold_minutes"),
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
    # Here, not on events: the booking trigger has this row locked already when it checks the
    # buyer's usage against it. NULL: no limit (and no usage rows are kept).
    Column("per_customer_limit", Integer, nullable=True),
    CheckConstraint("capacity >= 0", name="ck_event_sales_capacity"),
    CheckConstraint("per_customer_limit BETWEEN 1 AND 100", name="ck_event_sales_per_customer_limit"),
    CheckConstraint(
        "tickets_sold >= 0 AND tickets_held >= 0 AND tickets_sold + tickets_held <= capacity",
        name="ck_event_sales_within_capacity",
    ),
    # Half of each page left free: a group-commit batch writes a new version of a hot row per
    # booking, and they stay HOT only while they fit on the row's own page.
    postgresql_with={"fillfactor": 50},
)

# An event's ticket types share its capacity; each may have a cap of its own. Its counters move
# with its bookings' items (the booking_items trigger), checked by the CHECK below, which aborts
# the whole booking statement. Narrow too: every booking updates its types' rows.
ticket_types = Table(
    "ticket_types",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", Id, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("capacity", Integer, nullable=True),  # NULL: only the event's capacity bounds it
    Column("tickets_sold", Integer, nullable=False, server_default="0"),
    Column("tickets_held", Integer, nullable=False, server_default="0"),
    CheckConstraint("price_minor >= 0", name="ck_ticket_types_price"),
    CheckConstraint("capacity IS NULL OR capacity >= 0", name="ck_ticket_types_capacity"),
    CheckConstraint(
        "tickets_sold >= 0 AND tickets_held >= 0 AND (capacity IS NULL OR tickets_sold + tickets_held <= capacity)",
        name="ck_ticket_types_within_capacity",
    ),
    Index("ix_ticket_types_event", "event_id", "id"),
    sqlite_autoincrement=True,
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
    Column("currency", String(3), nullable=False),
    # While PENDING: the hold's deadline (kept afterwards as history; the API shows it only then).
    Column("expires_at", UTCDateTime(), nullable=True),
    Column("payment_status", String(16), nullable=False, server_default="none"),
    # Names this booking's payment to the provider (and on a bank transfer): 128 random bits.
    Column("payment_reference", String(64), nullable=True, unique=True),
    CheckConstraint("quantity > 0", name="ck_bookings_quantity"),
    CheckConstraint("status IN ('PENDING', 'CONFIRMED', 'EXPIRED', 'CANCELLED')", name="ck_bookings_status"),
    CheckConstraint("status <> 'PENDING' OR expires_at IS NOT NULL", name="ck_bookings_pending_expires"),
    CheckConstraint(
        "payment_status IN ('none', 'due', 'paid', 'refund_due', 'refunded')", name="ck_bookings_payment_status"
    ),
    UniqueConstraint("created_by", "idempotency_key", name="uq_bookings_idempotency"),
    Index("ix_bookings_user", "user_id", "id"),
    Index("ix_bookings_event", "event_id", "id"),
    # Only PENDING rows are in these (a CONFIRMED booking never touches them): the lazy release
    # of one event's expired holds and the sweeper's scan cost O(expired), not O(bookings).
    Index("ix_bookings_pending_event", "event_id", "expires_at", postgresql_where=text("status = 'PENDING'"),
          sqlite_where=text("status = 'PENDING'")),
    Index("ix_bookings_pending", "expires_at", postgresql_where=text("status = 'PENDING'"),
          sqlite_where=text("status = 'PENDING'")),
    sqlite_autoincrement=True,
)

# What a booking holds of each type, at the price of its moment. Never updated; its trigger moves
# the type's counters by its booking's state. Deleting a booking deletes its items first.
booking_items = Table(
    "booking_items",
    metadata,
    Column("booking_id", Id, ForeignKey("bookings.id"), primary_key=True, autoincrement=False),
    Column("ticket_type_id", Id, ForeignKey("ticket_types.id"), primary_key=True, autoincrement=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    CheckConstraint("quantity > 0", name="ck_booking_items_quantity"),
    CheckConstraint("unit_price_minor >= 0", name="ck_booking_items_price"),
    Index("ix_booking_items_type", "ticket_type_id"),
)

# One row per (event, user) while the event has a per-customer limit: the user's PENDING and
# CONFIRMED quantities, moved by the bookings trigger under the event's lock and refused past the
# limit there. Rebuilt from the bookings whenever the limit changes.
customer_usage = Table(
    "customer_usage",
    metadata,
    Column("event_id", Id, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    Column("quantity", Integer, nullable=False),
    CheckConstraint("quantity >= 0", name="ck_customer_usage_quantity"),
)

# Each provider event (webhook delivery id) once: its row is inserted first in the transaction that
# acts on it, so a redelivery, racing or late, finds it and answers the stored result.
payment_events = Table(
    "payment_events",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("booking_id", Id, ForeignKey("bookings.id"), nullable=True),
    Column("result_status", String(16), nullable=True),
    Column("received_at", UTCDateTime(), nullable=False),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("booking_id", Id, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", Id, ForeignKey("events.id"), nullable=False),
    Column("ticket_type_id", Id, ForeignKey("ticket_types.id"), nullable=True),
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

# Tickets by email: one row per message, written by the bookings trigger in the same transaction as
# the change it tells of (migration 0005); the sender delivers it (db/outbox.py, mail/sender.py).
# next_attempt_at is both when it is due and, while a sender holds it, the end of that lease.
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    # No foreign key: every booking inserts a row here, and its check would cost another lookup.
    Column("booking_id", Id, nullable=False),
    Column("status", String(8), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_token", String(32), nullable=True),
    # 128 random bits (122 where PostgreSQL's trigger makes it from gen_random_uuid): the Message-ID
    # is <message_key@mail domain>, the same on every attempt.
    Column("message_key", String(32), nullable=False),
    # Who asked for this copy (a resend); NULL for the message of a state change.
    Column("requested_by", Id, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    CheckConstraint("kind IN ('pending', 'confirmed', 'expired', 'cancelled', 'refund_due')", name="ck_mail_outbox_kind"),
    CheckConstraint("status IN ('pending', 'sent', 'failed', 'skipped')", name="ck_mail_outbox_status"),
    CheckConstraint("attempts >= 0", name="ck_mail_outbox_attempts"),
    Index("ix_mail_outbox_due", "next_attempt_at", "id", postgresql_where=text("status = 'pending'"),
          sqlite_where=text("status = 'pending'")),
    # Partial: an insert writes none of these two (the admin lists failed rows through the first).
    Index("ix_mail_outbox_failed", "id", postgresql_where=text("status = 'failed'"), sqlite_where=text("status = 'failed'")),
    Index("ix_mail_outbox_requested", "requested_by", "created_at", postgresql_where=text("requested_by IS NOT NULL"),
          sqlite_where=text("requested_by IS NOT NULL")),
    sqlite_autoincrement=True,
)
