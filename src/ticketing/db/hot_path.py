"""The booking write: the one place where tickets are sold.

The statement books only while the event's rules allow it (it exists, sales are open, the
quantity is within its limit, the tickets are there); otherwise it writes nothing and returns
no row, and the use case reads the event to say why. That check is a cheap early refusal; the
guard that counts is the database's. The application never writes ``tickets_sold``. It inserts the booking and its tickets; the
``bookings`` trigger (see the migrations) moves the counter with a conditional update that
refuses an oversell. On PostgreSQL the whole booking is ONE autocommitted statement: the
trigger fires at the end of it, so the event row is locked only for the counter update and
the commit, with no round trip to the application in between.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from ticketing.db import tables as t
from ticketing.db.types import UTCDateTime
from ticketing.domain.models import BookingRequest

# Explicit casts: asyncpg infers one type per parameter, and :quantity is used twice.
_PG_BOOK = text(
    """
    WITH ev AS (
        SELECT id, price_minor FROM events
        WHERE id = CAST(:event_id AS bigint) AND starts_at > CAST(:at AS timestamptz)
          AND max_per_booking >= CAST(:quantity AS integer)
          AND tickets_sold + CAST(:quantity AS integer) <= capacity
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

_SQLITE_BOOK = text(
    """
    INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date,
                          created_by, idempotency_key, request_fingerprint)
    SELECT :user_id, id, :quantity, price_minor * :quantity, 'CONFIRMED', :at,
           :caller_id, :idempotency_key, :fingerprint
    FROM events
    WHERE id = :event_id AND starts_at > :at AND max_per_booking >= :quantity
      AND tickets_sold + :quantity <= capacity
    RETURNING id, user_id, event_id, quantity, total_minor, status, booking_date,
              request_fingerprint
    """
).bindparams(bindparam("at", type_=UTCDateTime())).columns(booking_date=UTCDateTime())


def _params(request: BookingRequest, at: datetime) -> dict[str, object]:
    return {
        "event_id": request.event_id,
        "user_id": request.user_id,
        "quantity": request.quantity,
        "caller_id": request.caller_id,
        "idempotency_key": request.idempotency_key,
        "fingerprint": request.fingerprint if request.idempotency_key else None,
        "at": at,
    }


async def insert_booking_pg(conn: AsyncConnection, request: BookingRequest, codes: list[str], at: datetime):  # type: ignore[no-untyped-def]
    """Returns one row per ticket (booking columns repeated), or no rows if refused."""
    result = await conn.execute(_PG_BOOK, {**_params(request, at), "codes": codes})
    return result.mappings().all()


async def insert_booking_sqlite(conn: AsyncConnection, request: BookingRequest, codes: list[str], at: datetime):  # type: ignore[no-untyped-def]
    """Inside BEGIN IMMEDIATE: the booking row, then its tickets. Same rows as the PG form."""
    booking = (await conn.execute(_SQLITE_BOOK, _params(request, at))).mappings().first()
    if booking is None:
        return []
    inserted = await conn.execute(
        t.tickets.insert().returning(
            t.tickets.c.id, t.tickets.c.code, t.tickets.c.status, t.tickets.c.checked_in_at,
            sort_by_parameter_order=True,
        ),
        [{"code": code, "booking_id": booking["id"], "event_id": booking["event_id"], "status": "VALID"} for code in codes],
    )
    return [
        {**booking, "ticket_id": r.id, "code": r.code, "ticket_status": r.status, "checked_in_at": r.checked_in_at}
        for r in inserted
    ]
