"""The booking write: the one place where tickets are sold.

The statement books only while the caller's sign-in session is live (not signed out) and the
event's rules allow it (it exists, sales are open, the quantity is within its limit, the
tickets are there); otherwise it writes nothing and returns no row, and the use case reads the
session and the event to say why. The session check is part of the statement (an index
lookup by primary key), so a revoked token books nothing and costs no extra round trip. That check is a cheap early refusal; the
guard that counts is the database's. The application never writes ``tickets_sold``. It
inserts the booking and its tickets; the ``bookings`` trigger (see the migrations) moves the
counter with a conditional update that refuses an oversell. The hot rules (capacity, sold,
held) are read from the event's narrow ``event_sales`` row, the cold ones (starts_at,
max_per_booking, price) from ``events``, which a booking never writes. On PostgreSQL the whole
booking is ONE statement: the trigger fires at the end of it, so the sales row is locked only
for the counter update and the commit (alone, autocommitted), or until the COMMIT of the
group-commit batch it joined, with no round trip to the application inside the statement.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from ticketing.db import rows
from ticketing.db.types import UTCDateTime
from ticketing.domain.models import Booking, BookingRequest

# Explicit casts: asyncpg infers one type per parameter, and :quantity is used twice.
_PG_BOOK = text(
    """
    WITH ev AS (
        SELECT e.id, e.price_minor FROM events e JOIN event_sales s ON s.event_id = e.id
        WHERE e.id = CAST(:event_id AS bigint) AND e.starts_at > CAST(:at AS timestamptz)
          AND e.max_per_booking >= CAST(:quantity AS integer)
          AND s.tickets_sold + s.tickets_held + CAST(:quantity AS integer) <= s.capacity
          AND EXISTS (SELECT 1 FROM sessions WHERE id = CAST(:session_id AS bigint)
                      AND user_id = CAST(:caller_id AS bigint) AND revoked_at IS NULL)
    ), b AS (
        INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date,
                              created_by, idempotency_key, request_fingerprint)
        SELECT CAST(:user_id AS bigint), ev.id, CAST(:quantity AS integer),
               ev.price_minor * CAST(:quantity AS integer), 'CONFIRMED', CAST(:at AS timestamptz),
               CAST(:caller_id AS bigint), CAST(:idempotency_key AS varchar), CAST(:fingerprint AS varchar)
        FROM ev
        RETURNING id, user_id, event_id, quantity, total_minor, status, booking_date,
                  request_fingerprint
    ), tk AS (
        INSERT INTO tickets (code, booking_id, event_id, status)
        SELECT c.code, b.id, b.event_id, 'VALID'
        FROM b, unnest(CAST(:codes AS text[])) AS c(code)
        RETURNING id, code, booking_id, event_id, status, checked_in_at
    )
    SELECT b.id, b.user_id, b.event_id, b.quantity, b.total_minor, b.status, b.booking_date,
           b.request_fingerprint, tk.id AS ticket_id, tk.code, tk.status AS ticket_status,
           tk.checked_in_at
    FROM b JOIN tk ON tk.booking_id = b.id
    ORDER BY tk.id
    """
).bindparams(bindparam("at", type_=UTCDateTime())).columns(booking_date=UTCDateTime(), checked_in_at=UTCDateTime())

# Positional, for the driver itself (see insert_booking_sqlite).
_SQLITE_BOOK = """
    INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date,
                          created_by, idempotency_key, request_fingerprint)
    SELECT ?1, e.id, ?2, e.price_minor * ?2, 'CONFIRMED', ?3, ?4, ?5, ?6
    FROM events e JOIN event_sales s ON s.event_id = e.id
    WHERE e.id = ?7 AND e.starts_at > ?3 AND e.max_per_booking >= ?2
      AND s.tickets_sold + s.tickets_held + ?2 <= s.capacity
      AND EXISTS (SELECT 1 FROM sessions WHERE id = ?8 AND user_id = ?4 AND revoked_at IS NULL)
    RETURNING id, user_id, event_id, quantity, total_minor, status, request_fingerprint
"""


_SQLITE_BOOKING_COLUMNS = ("id", "user_id", "event_id", "quantity", "total_minor", "status", "request_fingerprint")


@functools.cache
def _sqlite_tickets(count: int) -> str:
    rows = ", ".join(["(?, ?, ?, 'VALID')"] * count)
    return f"INSERT INTO tickets (code, booking_id, event_id, status) VALUES {rows} RETURNING id, code, status"


def _params(request: BookingRequest, at: datetime) -> dict[str, object]:
    return {
        "event_id": request.event_id,
        "user_id": request.user_id,
        "quantity": request.quantity,
        "caller_id": request.caller_id,
        "idempotency_key": request.idempotency_key,
        "fingerprint": request.fingerprint if request.idempotency_key else None,
        "at": at,
        "session_id": request.session_id,
    }


async def insert_booking_pg(conn: AsyncConnection, request: BookingRequest, codes: list[str], at: datetime) -> Booking | None:
    """The booking with its tickets, or None if refused."""
    result = await conn.execute(_PG_BOOK, {**_params(request, at), "codes": codes})
    return rows.booked(result.mappings().all())


async def insert_booking_sqlite(conn: AsyncConnection, request: BookingRequest, codes: list[str], at: datetime) -> Booking | None:
    """Inside BEGIN IMMEDIATE: the booking row, then its tickets. The same answer as the PG form.

    Through the driver's own connection: on SQLite, SQLAlchemy's statement and result handling
    cost more CPU than SQLite's work (bench/README.md). Driver errors are raised as SQLAlchemy
    wraps them, so callers sort them as they do every other database error.
    """
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None  # a connection checked out of the pool is open
    stamp = _sqlite_time(conn.dialect)(at)
    params: tuple[object, ...] = (
        request.user_id, request.quantity, stamp, request.caller_id, request.idempotency_key,
        request.fingerprint if request.idempotency_key else None, request.event_id, request.session_id,
    )
    statement = _SQLITE_BOOK
    try:
        async with driver.execute(statement, params) as cursor:
            booking = await cursor.fetchone()
        if booking is None:
            return None
        booking_id, event_id = booking[0], booking[2]
        statement = _sqlite_tickets(len(codes))
        params = tuple(value for code in codes for value in (code, booking_id, event_id))
        async with driver.execute(statement, params) as cursor:
            tickets = await cursor.fetchall()
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement, params, error, sqlite3.Error) from error
    head = dict(zip(_SQLITE_BOOKING_COLUMNS, booking, strict=True))
    head["booking_date"] = at.astimezone(UTC)  # what was stored, as a read would return it
    return rows.booked([
        {**head, "ticket_id": ticket_id, "code": code, "ticket_status": status, "checked_in_at": None}
        for ticket_id, code, status in sorted(tickets)  # RETURNING's order is not promised
    ])


@functools.cache
def _sqlite_time(dialect: Dialect) -> Callable[[datetime], object]:
    """How SQLAlchemy stores a UTCDateTime on this dialect, so ``starts_at > ?`` compares alike."""
    process = UTCDateTime().bind_processor(dialect)
    assert process is not None
    return process
