"""Narrow counter rows: the event's capacity and sold counter move to ``event_sales``; events
gain a time zone.

- ``event_sales``: one narrow row per event (``event_id``, ``capacity``, ``tickets_sold``,
  ``tickets_held``) with the CHECK ``tickets_sold + tickets_held <= capacity``. Every booking
  updates it; on PostgreSQL an update of the wide events row (a description of up to 5,000
  characters) stops being HOT under group commit and bookings/s drop (bench/README.md).
  ``capacity`` lives there only: one copy, next to the counters it bounds, so the CHECK and the
  trigger's guarded UPDATE read one row. ``tickets_held`` is 0 until holds exist; its CHECK is
  already the final one.
- The trigger on ``bookings`` now guards and moves ``event_sales`` (same behaviour, same
  "exceeds available capacity" error); an event without a sales row takes no booking.
- ``events`` loses ``capacity``, ``tickets_sold`` and their CHECKs, and gains ``timezone``
  (existing events get "UTC").

The downgrade puts the counter back on ``events`` (held tickets, none before checkout, are
dropped) with 0001's trigger, and drops ``timezone``.

On SQLite ``events`` is rebuilt (a column named in a CHECK cannot be dropped) as 0002 does it:
env.py turns foreign keys off and runs ``PRAGMA foreign_key_check`` after; the triggers are
dropped first and created again afterwards, each as ONE statement.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import CreateIndex, CreateTable

from ticketing.db.types import Id, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The counter trigger is the database's own guard: whoever inserts, cancels or deletes a
# booking, by the application or by hand, event_sales.tickets_sold follows the CONFIRMED
# quantities, and a sale past capacity (or of an event without a sales row) fails with
# "exceeds available capacity".
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ticketing_bookings_keep_sold() RETURNS trigger LANGUAGE plpgsql AS $$
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
        UPDATE event_sales SET tickets_sold = tickets_sold - released WHERE event_id = OLD.event_id;
    END IF;
    IF taken > 0 THEN
        -- Under READ COMMITTED a blocked UPDATE re-checks this WHERE against the committed
        -- row, so concurrent bookings can neither oversell nor lose an increment.
        UPDATE event_sales SET tickets_sold = tickets_sold + taken
        WHERE event_id = NEW.event_id AND tickets_sold + tickets_held + taken <= capacity;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'booking of % tickets for event % exceeds available capacity', taken, NEW.event_id
                USING ERRCODE = 'check_violation';
        END IF;
    ELSIF taken < 0 THEN
        UPDATE event_sales SET tickets_sold = tickets_sold + taken WHERE event_id = NEW.event_id;
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

# No sales row counts as no room: coalesce turns the missing row's NULL into a refusal.
_SQLITE_REFUSE = (
    "SELECT RAISE(ABORT, 'booking exceeds available capacity') "
    "WHERE NEW.status = 'CONFIRMED' AND coalesce("
    "(SELECT tickets_sold + tickets_held + NEW.quantity > capacity FROM event_sales WHERE event_id = NEW.event_id), 1);"
)

# SQLite runs one writer at a time, so inside the trigger a read-then-update cannot race.
SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER bookings_sold_insert AFTER INSERT ON bookings WHEN NEW.status = 'CONFIRMED'
    BEGIN
        {_SQLITE_REFUSE}
        UPDATE event_sales SET tickets_sold = tickets_sold + NEW.quantity WHERE event_id = NEW.event_id;
    END
    """,
    """
    CREATE TRIGGER bookings_sold_delete AFTER DELETE ON bookings WHEN OLD.status = 'CONFIRMED'
    BEGIN
        UPDATE event_sales SET tickets_sold = tickets_sold - OLD.quantity WHERE event_id = OLD.event_id;
    END
    """,
    f"""
    CREATE TRIGGER bookings_sold_update AFTER UPDATE OF status, quantity, event_id ON bookings
    BEGIN
        UPDATE event_sales SET tickets_sold = tickets_sold - OLD.quantity
        WHERE event_id = OLD.event_id AND OLD.status = 'CONFIRMED';
        {_SQLITE_REFUSE}
        UPDATE event_sales SET tickets_sold = tickets_sold + NEW.quantity
        WHERE event_id = NEW.event_id AND NEW.status = 'CONFIRMED';
        UPDATE tickets SET status = 'VOID'
        WHERE booking_id = NEW.id AND status <> 'VOID' AND OLD.status = 'CONFIRMED' AND NEW.status = 'CANCELLED';
        UPDATE tickets SET status = 'VALID'
        WHERE booking_id = NEW.id AND status = 'VOID' AND OLD.status = 'CANCELLED' AND NEW.status = 'CONFIRMED';
    END
    """,
]

_SQLITE_TRIGGER_NAMES = ("bookings_sold_insert", "bookings_sold_delete", "bookings_sold_update")

_EVENT_COLUMNS = ("id", "name", "description", "venue", "starts_at", "price_minor", "currency", "max_per_booking")


def _events_v3() -> sa.Table:
    """events as this revision leaves it (frozen here: later changes to db/tables.py must not
    change what this migration did)."""
    return sa.Table(
        "events", sa.MetaData(),
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("venue", sa.String(200), nullable=False, server_default=""),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("price_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("max_per_booking", sa.Integer, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.CheckConstraint("max_per_booking >= 1", name="ck_events_max_per_booking"),
        sa.CheckConstraint("price_minor >= 0", name="ck_events_price"),
        sa.Index("ix_events_starts_at", "starts_at", "id"),
        sqlite_autoincrement=True,
    )


def _create_event_sales() -> None:
    op.create_table(
        "event_sales",
        sa.Column("event_id", Id, sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("tickets_sold", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tickets_held", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("capacity >= 0", name="ck_event_sales_capacity"),
        sa.CheckConstraint(
            "tickets_sold >= 0 AND tickets_held >= 0 AND tickets_sold + tickets_held <= capacity",
            name="ck_event_sales_within_capacity",
        ),
        # Half of each page left free: a group-commit batch writes a new version of a hot row
        # per booking, and they stay HOT only while they fit on the row's own page.
        postgresql_with={"fillfactor": 50},
    )
    op.execute(
        "INSERT INTO event_sales (event_id, capacity, tickets_sold, tickets_held) "
        "SELECT id, capacity, tickets_sold, 0 FROM events"
    )


def _upgrade_sqlite() -> None:
    conn = op.get_bind()
    for name in _SQLITE_TRIGGER_NAMES:
        conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}"')
    _create_event_sales()
    table = _events_v3()
    create = str(CreateTable(table).compile(dialect=conn.dialect)).strip()
    prefix = "CREATE TABLE events ("
    assert create.startswith(prefix), create
    conn.exec_driver_sql("CREATE TABLE events_new (" + create[len(prefix):])
    columns = ", ".join(_EVENT_COLUMNS)
    conn.exec_driver_sql(f"INSERT INTO events_new ({columns}) SELECT {columns} FROM events")
    conn.exec_driver_sql("DROP TABLE events")
    conn.exec_driver_sql("ALTER TABLE events_new RENAME TO events")
    for index in table.indexes:
        conn.exec_driver_sql(str(CreateIndex(index).compile(dialect=conn.dialect)))
    for trigger in SQLITE_TRIGGERS:
        conn.exec_driver_sql(trigger)  # one CREATE TRIGGER statement each


def _upgrade_pg() -> None:
    _create_event_sales()
    op.execute(PG_FUNCTION)  # the trigger itself (bookings_keep_sold) stays; its function moves
    op.drop_constraint("ck_events_sold_within_capacity", "events", type_="check")
    op.drop_constraint("ck_events_capacity", "events", type_="check")
    op.drop_column("events", "tickets_sold")
    op.drop_column("events", "capacity")
    op.add_column("events", sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _upgrade_sqlite()
    else:
        _upgrade_pg()


def _revision_0001() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ticketing_revision_0001", Path(__file__).with_name("0001_initial.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _events_v2() -> sa.Table:
    """events as 0002 left it (the counter and capacity on the row), for the downgrade."""
    return sa.Table(
        "events", sa.MetaData(),
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
        sa.Index("ix_events_starts_at", "starts_at", "id"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    # Held tickets (none before checkout) have nowhere to go in 0002's schema: they are dropped.
    # The trigger goes back to 0001's, read from that revision's own file.
    v1 = _revision_0001()
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.add_column("events", sa.Column("capacity", sa.Integer, nullable=True))
        op.add_column("events", sa.Column("tickets_sold", sa.Integer, nullable=False, server_default="0"))
        op.execute("UPDATE events SET capacity = s.capacity, tickets_sold = s.tickets_sold "
                   "FROM event_sales s WHERE s.event_id = events.id")
        op.execute("UPDATE events SET capacity = tickets_sold WHERE capacity IS NULL")
        op.alter_column("events", "capacity", nullable=False)
        op.create_check_constraint("ck_events_sold_within_capacity", "events", "tickets_sold >= 0 AND tickets_sold <= capacity")
        op.create_check_constraint("ck_events_capacity", "events", "capacity >= 0")
        op.execute(v1.PG_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
        op.drop_table("event_sales")
        op.drop_column("events", "timezone")
        return
    for name in _SQLITE_TRIGGER_NAMES:
        conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}"')
    table = _events_v2()
    create = str(CreateTable(table).compile(dialect=conn.dialect)).strip()
    prefix = "CREATE TABLE events ("
    assert create.startswith(prefix), create
    conn.exec_driver_sql("CREATE TABLE events_new (" + create[len(prefix):])
    columns = ", ".join(_EVENT_COLUMNS)
    conn.exec_driver_sql(
        f"INSERT INTO events_new ({columns}, capacity, tickets_sold) "
        f"SELECT {', '.join('e.' + c for c in _EVENT_COLUMNS)}, coalesce(s.capacity, 0), coalesce(s.tickets_sold, 0) "
        "FROM events e LEFT JOIN event_sales s ON s.event_id = e.id"
    )
    conn.exec_driver_sql("DROP TABLE event_sales")
    conn.exec_driver_sql("DROP TABLE events")
    conn.exec_driver_sql("ALTER TABLE events_new RENAME TO events")
    for index in table.indexes:
        conn.exec_driver_sql(str(CreateIndex(index).compile(dialect=conn.dialect)))
    for trigger in v1.SQLITE_TRIGGERS:
        conn.exec_driver_sql(trigger)
