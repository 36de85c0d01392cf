"""Initial schema: users, events with a guarded sold counter, bookings, tickets, sign-in failures.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketing.db.types import Id, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The counter trigger is the database's own guard: whoever inserts, cancels or deletes a
# booking, by the application or by hand, tickets_sold follows the CONFIRMED quantities, and
# a sale past capacity fails with "exceeds available capacity".
PG_FUNCTION = """
CREATE FUNCTION ticketing_bookings_keep_sold() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    released integer := 0;
    taken integer := 0;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'CONFIRMED' THEN
        released := OLD.quantity;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'CONFIRMED' THEN
        taken := NEW.quantity;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.event_id = NEW.event_id THEN
        taken := taken - released;
        released := 0;
    END IF;
    IF released <> 0 THEN
        UPDATE events SET tickets_sold = tickets_sold - released WHERE id = OLD.event_id;
    END IF;
    IF taken > 0 THEN
        -- Under READ COMMITTED a blocked UPDATE re-checks this WHERE against the committed
        -- row, so concurrent bookings can neither oversell nor lose an increment.
        UPDATE events SET tickets_sold = tickets_sold + taken
        WHERE id = NEW.event_id AND tickets_sold + taken <= capacity;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'booking of % tickets for event % exceeds available capacity', taken, NEW.event_id
                USING ERRCODE = 'check_violation';
        END IF;
    ELSIF taken < 0 THEN
        UPDATE events SET tickets_sold = tickets_sold + taken WHERE id = NEW.event_id;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'CONFIRMED' AND NEW.status = 'CANCELLED' THEN
        UPDATE tickets SET status = 'VOID' WHERE booking_id = NEW.id AND status <> 'VOID';
    ELSIF TG_OP = 'UPDATE' AND OLD.status = 'CANCELLED' AND NEW.status = 'CONFIRMED' THEN
        UPDATE tickets SET status = 'VALID' WHERE booking_id = NEW.id AND status = 'VOID';
    END IF;
    RETURN NULL;
END
$$
"""

PG_TRIGGER = """
CREATE TRIGGER bookings_keep_sold
AFTER INSERT OR DELETE OR UPDATE OF status, quantity, event_id ON bookings
FOR EACH ROW EXECUTE FUNCTION ticketing_bookings_keep_sold()
"""

_SQLITE_REFUSE = (
    "SELECT RAISE(ABORT, 'booking exceeds available capacity') "
    "WHERE NEW.status = 'CONFIRMED' AND "
    "(SELECT tickets_sold + NEW.quantity > capacity FROM events WHERE id = NEW.event_id);"
)

# SQLite runs one writer at a time, so inside the trigger a read-then-update cannot race.
SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER bookings_sold_insert AFTER INSERT ON bookings WHEN NEW.status = 'CONFIRMED'
    BEGIN
        {_SQLITE_REFUSE}
        UPDATE events SET tickets_sold = tickets_sold + NEW.quantity WHERE id = NEW.event_id;
    END
    """,
    """
    CREATE TRIGGER bookings_sold_delete AFTER DELETE ON bookings WHEN OLD.status = 'CONFIRMED'
    BEGIN
        UPDATE events SET tickets_sold = tickets_sold - OLD.quantity WHERE id = OLD.event_id;
    END
    """,
    f"""
    CREATE TRIGGER bookings_sold_update AFTER UPDATE OF status, quantity, event_id ON bookings
    BEGIN
        UPDATE events SET tickets_sold = tickets_sold - OLD.quantity
        WHERE id = OLD.event_id AND OLD.status = 'CONFIRMED';
        {_SQLITE_REFUSE}
        UPDATE events SET tickets_sold = tickets_sold + NEW.quantity
        WHERE id = NEW.event_id AND NEW.status = 'CONFIRMED';
        UPDATE tickets SET status = 'VOID'
        WHERE booking_id = NEW.id AND status <> 'VOID' AND OLD.status = 'CONFIRMED' AND NEW.status = 'CANCELLED';
        UPDATE tickets SET status = 'VALID'
        WHERE booking_id = NEW.id AND status = 'VOID' AND OLD.status = 'CANCELLED' AND NEW.status = 'CONFIRMED';
    END
    """,
]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("venue", sa.String(200), nullable=False, server_default=""),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("price_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("max_per_booking", sa.Integer, nullable=False),
        sa.Column("tickets_sold", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("tickets_sold >= 0 AND tickets_sold <= capacity", name="ck_events_sold_within_capacity"),
        sa.CheckConstraint("capacity >= 0", name="ck_events_capacity"),
        sa.CheckConstraint("max_per_booking >= 1", name="ck_events_max_per_booking"),
        sa.CheckConstraint("price_minor >= 0", name="ck_events_price"),
    )
    op.create_index("ix_events_starts_at", "events", ["starts_at", "id"])
    op.create_table(
        "bookings",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("event_id", Id, sa.ForeignKey("events.id"), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("total_minor", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("booking_date", UTCDateTime(), nullable=False),
        sa.Column("created_by", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("request_fingerprint", sa.String(64), nullable=True),
        sa.CheckConstraint("quantity > 0", name="ck_bookings_quantity"),
        sa.CheckConstraint("status IN ('CONFIRMED', 'CANCELLED')", name="ck_bookings_status"),
        sa.UniqueConstraint("created_by", "idempotency_key", name="uq_bookings_idempotency"),
    )
    op.create_index("ix_bookings_user", "bookings", ["user_id", "id"])
    op.create_index("ix_bookings_event", "bookings", ["event_id", "id"])
    op.create_table(
        "tickets",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("booking_id", Id, sa.ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_id", Id, sa.ForeignKey("events.id"), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("checked_in_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('VALID', 'USED', 'VOID')", name="ck_tickets_status"),
    )
    op.create_index("ix_tickets_booking", "tickets", ["booking_id"])
    op.create_table(
        "sign_in_failures",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_sign_in_failures_key", "sign_in_failures", ["email", "client", "failed_at"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS bookings_keep_sold ON bookings")
        op.execute("DROP FUNCTION IF EXISTS ticketing_bookings_keep_sold()")
    for table in ("sign_in_failures", "tickets", "bookings", "events", "users"):
        op.drop_table(table)
