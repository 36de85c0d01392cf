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
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from ticketing.app.ports import NewBookingValues
from ticketing.db import rows
from ticketing.db.pipeline import PgCall
from ticketing.db.types import UTCDateTime
from ticketing.domain.models import Booking, BookingRequest, Buyer

# PostgreSQL: the statement is the function ticketing_book (migration 0004), so that its plan is
# made once per server connection, also behind PgBouncer in transaction mode. What it does, in one
# statement: req, the items asked for, or for v1's form (no items) every type of the event, which
# must then be exactly one; items, those that are of this event and fit their type's cap in the
# statement's snapshot (a cheap early refusal: the CHECK on ticket_types is the guard that counts,
# under the row lock); ev, the event, if every rule allows the booking (sales open, the quantity
# within max_per_booking, the event's room, the buyer's per-customer limit, a live session); then
# the booking (PENDING with its deadline and payment reference on a payment event with a total
# above zero, else CONFIRMED), its items (in type order: their trigger locks the types in that
# order) and, when CONFIRMED, its tickets. The function returns one row, or none when refused;
# the LEFT JOIN makes that one row of NULLs, so that every booking of a pipelined batch answers
# exactly one row, in order (pipeline.py).
PG_BOOK = (
    "SELECT b.* FROM (VALUES (1)) AS one (x) LEFT JOIN LATERAL ticketing_book("
    ":event_id, :user_id, :caller_id, :session_id, :quantity, CAST(:type_ids AS bigint[]), "
    "CAST(:quantities AS integer[]), :at, :idempotency_key, :fingerprint, CAST(:codes AS text[]), :reference, "
    ":hold_seconds) AS b ON true"
)
# Its parameters in order, and the statement as asyncpg takes it ($1, $2, ...).
PG_BOOK_NAMES = tuple(dict.fromkeys(re.findall(r"(?<!:):(\w+)", PG_BOOK)))
PG_BOOK_SQL = re.sub(r"(?<!:):(\w+)", lambda m: f"${PG_BOOK_NAMES.index(m.group(1)) + 1}", PG_BOOK)

# SQLite: the same steps inside BEGIN IMMEDIATE (one writer: what the first read finds cannot
# change before the writes), positional, for the driver itself (see insert_booking_sqlite).
_SQLITE_TYPES = """
    SELECT e.checkout, e.hold_minutes, e.currency, t.id, t.name, t.price_minor, t.capacity,
           t.tickets_sold, t.tickets_held
    FROM events e JOIN ticket_types t ON t.event_id = e.id WHERE e.id = ?1 ORDER BY t.id
"""

_SQLITE_BOOK = """
    INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date, created_by,
                          idempotency_key, request_fingerprint, currency, expires_at, payment_status,
                          payment_reference)
    SELECT ?1, e.id, ?2, ?9, ?10, ?3, ?4, ?5, ?6, e.currency, ?11, ?12, ?13
    FROM events e JOIN event_sales s ON s.event_id = e.id
    WHERE e.id = ?7 AND e.starts_at > ?3 AND e.max_per_booking >= ?2
      AND s.tickets_sold + s.tickets_held + ?2 <= s.capacity
      AND (s.per_customer_limit IS NULL OR coalesce((SELECT u.quantity FROM customer_usage u
           WHERE u.event_id = e.id AND u.user_id = ?1), 0) + ?2 <= s.per_customer_limit)
      AND EXISTS (SELECT 1 FROM sessions WHERE id = ?8 AND user_id = ?4 AND revoked_at IS NULL)
    RETURNING id, (SELECT name FROM users WHERE id = ?1), (SELECT email FROM users WHERE id = ?1)
"""


@functools.cache
def _sqlite_items(count: int) -> str:
    rows = ", ".join(["(?, ?, ?, ?)"] * count)
    return f"INSERT INTO booking_items (booking_id, ticket_type_id, quantity, unit_price_minor) VALUES {rows}"


@functools.cache
def _sqlite_tickets(count: int) -> str:
    rows = ", ".join(["(?, ?, ?, ?, 'VALID')"] * count)
    columns = "code, booking_id, event_id, ticket_type_id, status"
    return f"INSERT INTO tickets ({columns}) VALUES {rows} RETURNING id, code, ticket_type_id"


def _params(request: BookingRequest, at: datetime) -> dict[str, object]:
    return {
        "event_id": request.event_id,
        "user_id": request.user_id,
        "quantity": request.quantity,
        "caller_id": request.caller_id,
        "idempotency_key": request.idempotency_key,
        "fingerprint": request.stored_fingerprint,
        "at": at,
        "session_id": request.session_id,
        "type_ids": [type_id for type_id, _ in request.items],
        "quantities": [quantity for _, quantity in request.items],
    }


def book_pg(request: BookingRequest, new: NewBookingValues, at: datetime) -> PgCall[Booking | None]:
    """The booking with its items and tickets, or None if refused: one call of ticketing_book,
    which Database runs alone or pipelined with the rest of its batch."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # as UTCDateTime takes it
    values = {**_params(request, aware), "codes": new.codes, "reference": new.reference,
              "hold_seconds": new.hold_seconds}
    return PgCall(PG_BOOK_SQL, tuple(values[name] for name in PG_BOOK_NAMES), _booking_pg)


def _booking_pg(row: rows.Row) -> Booking | None:
    if row["id"] is None:  # refused: the LEFT JOIN's row of NULLs
        return None
    items = [
        {"ticket_type_id": type_id, "name": name, "quantity": quantity, "unit_price_minor": price}
        for type_id, name, quantity, price in zip(
            row["item_type_ids"], row["item_names"], row["item_quantities"], row["item_prices"], strict=True)
    ]
    tickets = [
        {"id": ticket_id, "code": code, "booking_id": row["id"], "event_id": row["event_id"], "status": "VALID",
         "checked_in_at": None, "ticket_type_id": type_id}
        for ticket_id, code, type_id in zip(row["ticket_ids"], row["ticket_codes"], row["ticket_type_ids"], strict=True)
    ]
    return rows.booking(row, [rows.ticket(t) for t in tickets], items, _buyer(row))


def _buyer(row: rows.Row) -> Buyer:
    return Buyer(row["user_id"], row["buyer_name"], row["buyer_email"])


async def insert_booking_sqlite(
    conn: AsyncConnection, request: BookingRequest, new: NewBookingValues, at: datetime
) -> Booking | None:
    """Inside BEGIN IMMEDIATE: the event's types, then the booking row, its items and tickets.
    The same answer as the PG form.

    Through the driver's own connection: on SQLite, SQLAlchemy's statement and result handling
    cost more CPU than SQLite's work (bench/README.md). Driver errors are raised as SQLAlchemy
    wraps them, so callers sort them as they do every other database error.
    """
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None  # a connection checked out of the pool is open
    stamp = _sqlite_time(conn.dialect)
    statement: str = _SQLITE_TYPES
    params: tuple[object, ...] = (request.event_id,)
    try:
        async with driver.execute(statement, params) as cursor:
            types = await cursor.fetchall()
        wanted = _sqlite_items_of(types, request)
        if wanted is None:
            return None
        checkout, hold_minutes, currency = types[0][0], types[0][1], types[0][2]
        total = sum(quantity * price for _, _, quantity, price in wanted)
        pending = checkout == "payment" and total > 0
        expires_at = at + (timedelta(seconds=new.hold_seconds) if new.hold_seconds is not None
                           else timedelta(minutes=hold_minutes)) if pending else None
        status, payment = ("PENDING", "due") if pending else ("CONFIRMED", "none")
        reference = new.reference if pending else None
        statement = _SQLITE_BOOK
        params = (
            request.user_id, request.quantity, stamp(at), request.caller_id, request.idempotency_key,
            request.stored_fingerprint, request.event_id, request.session_id,
            total, status, None if expires_at is None else stamp(expires_at), payment, reference,
        )
        async with driver.execute(statement, params) as cursor:
            booked = await cursor.fetchone()
        if booked is None:
            return None
        booking_id, buyer_name, buyer_email = booked
        statement = _sqlite_items(len(wanted))
        params = tuple(v for type_id, _, quantity, price in wanted for v in (booking_id, type_id, quantity, price))
        async with driver.execute(statement, params):
            pass
        tickets: list[tuple[int, str, int]] = []
        if not pending:
            type_of = [type_id for type_id, _, quantity, _ in wanted for _ in range(quantity)]
            statement = _sqlite_tickets(len(type_of))
            params = tuple(v for code, type_id in zip(new.codes, type_of, strict=True)
                           for v in (code, booking_id, request.event_id, type_id))
            async with driver.execute(statement, params) as cursor:
                tickets = sorted(await cursor.fetchall())  # RETURNING's order is not promised
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement, params, error, sqlite3.Error) from error
    head = {
        "id": booking_id, "user_id": request.user_id, "event_id": request.event_id, "quantity": request.quantity,
        "total_minor": total, "status": status, "request_fingerprint": request.stored_fingerprint,
        "booking_date": at.astimezone(UTC), "currency": currency,
        "expires_at": None if expires_at is None else expires_at.astimezone(UTC), "payment_status": payment,
        "payment_reference": reference,
    }
    items = [{"ticket_type_id": t, "name": name, "quantity": q, "unit_price_minor": p} for t, name, q, p in wanted]
    made = [
        rows.ticket({"id": ticket_id, "code": code, "booking_id": booking_id, "event_id": request.event_id,
                     "status": "VALID", "checked_in_at": None, "ticket_type_id": type_id})
        for ticket_id, code, type_id in tickets
    ]
    return rows.booking(head, made, items, Buyer(request.user_id, buyer_name, buyer_email))


def _sqlite_items_of(types: list[Any], request: BookingRequest) -> list[tuple[int, str, int, int]] | None:
    """(type id, name, quantity, unit price) of each item asked for, or None when the request
    names a type not of this event, uses v1's form on an event with several types, or an item
    does not fit its type's cap (the write would be refused: nothing is written)."""
    by_id = {row[3]: row for row in types}
    if request.items:
        asked = request.items
    elif len(types) == 1:
        asked = ((types[0][3], request.quantity),)
    else:  # no such event, or v1's form on an event with several types
        return None
    wanted = []
    for type_id, quantity in asked:
        row = by_id.get(type_id)
        if row is None:
            return None
        _, _, _, _, name, price, capacity, sold, held = row
        if capacity is not None and sold + held + quantity > capacity:
            return None
        wanted.append((type_id, name, quantity, price))
    return wanted


@functools.cache
def _sqlite_time(dialect: Dialect) -> Callable[[datetime], object]:
    """How SQLAlchemy stores a UTCDateTime on this dialect, so ``starts_at > ?`` compares alike."""
    process = UTCDateTime().bind_processor(dialect)
    assert process is not None
    return process
