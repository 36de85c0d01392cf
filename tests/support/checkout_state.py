"""Checkout's invariants (5-8 of checkout.md), read straight from the database: no HTTP, no
application code, one snapshot. ``problems`` lists every way they are broken; empty when they hold."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

# (name, SQL): each query returns the rows that break one invariant (none when it holds).
CHECKS: list[tuple[str, str]] = [
    ("event counters = bookings' states (5)", """
        SELECT s.event_id, s.tickets_sold, s.tickets_held, s.capacity,
               coalesce(sum(b.quantity) FILTER (WHERE b.status = 'CONFIRMED'), 0),
               coalesce(sum(b.quantity) FILTER (WHERE b.status = 'PENDING'), 0)
        FROM event_sales s LEFT JOIN bookings b ON b.event_id = s.event_id
        GROUP BY s.event_id, s.tickets_sold, s.tickets_held, s.capacity
        HAVING s.tickets_sold <> coalesce(sum(b.quantity) FILTER (WHERE b.status = 'CONFIRMED'), 0)
            OR s.tickets_held <> coalesce(sum(b.quantity) FILTER (WHERE b.status = 'PENDING'), 0)
            OR s.tickets_sold + s.tickets_held > s.capacity"""),
    ("type counters = items' states (5)", """
        SELECT t.id, t.tickets_sold, t.tickets_held, t.capacity
        FROM ticket_types t
        LEFT JOIN booking_items i ON i.ticket_type_id = t.id LEFT JOIN bookings b ON b.id = i.booking_id
        GROUP BY t.id, t.tickets_sold, t.tickets_held, t.capacity
        HAVING t.tickets_sold <> coalesce(sum(i.quantity) FILTER (WHERE b.status = 'CONFIRMED'), 0)
            OR t.tickets_held <> coalesce(sum(i.quantity) FILTER (WHERE b.status = 'PENDING'), 0)
            OR (t.capacity IS NOT NULL AND t.tickets_sold + t.tickets_held > t.capacity)"""),
    ("types add up to their event (5)", """
        SELECT s.event_id FROM event_sales s JOIN ticket_types t ON t.event_id = s.event_id
        GROUP BY s.event_id, s.tickets_sold, s.tickets_held
        HAVING sum(t.tickets_sold) <> s.tickets_sold OR sum(t.tickets_held) <> s.tickets_held"""),
    ("items add up to their booking", """
        SELECT b.id FROM bookings b LEFT JOIN booking_items i ON i.booking_id = b.id
        GROUP BY b.id, b.quantity HAVING coalesce(sum(i.quantity), 0) <> b.quantity"""),
    ("CONFIRMED bookings have all their tickets, paid on a payment event (6)", """
        SELECT b.id FROM bookings b JOIN events e ON e.id = b.event_id
        WHERE b.status = 'CONFIRMED' AND (
            (SELECT count(*) FROM tickets k WHERE k.booking_id = b.id AND k.status IN ('VALID', 'USED')) <> b.quantity
            OR (e.checkout = 'payment' AND b.total_minor > 0 AND b.payment_status NOT IN ('paid', 'refund_due')))"""),
    ("no tickets outside CONFIRMED bookings (6)", """
        SELECT b.id FROM bookings b JOIN tickets k ON k.booking_id = b.id
        WHERE b.status <> 'CONFIRMED' AND k.status IN ('VALID', 'USED')"""),
    ("per-customer limit (7)", """
        SELECT b.event_id, b.user_id FROM bookings b JOIN event_sales s ON s.event_id = b.event_id
        WHERE s.per_customer_limit IS NOT NULL AND b.status IN ('PENDING', 'CONFIRMED')
        GROUP BY b.event_id, b.user_id, s.per_customer_limit HAVING sum(b.quantity) > s.per_customer_limit"""),
    ("usage rows = the buyers' PENDING + CONFIRMED (7)", """
        SELECT u.event_id, u.user_id FROM customer_usage u
        WHERE u.quantity <> (SELECT coalesce(sum(b.quantity), 0) FROM bookings b WHERE b.event_id = u.event_id
                             AND b.user_id = u.user_id AND b.status IN ('PENDING', 'CONFIRMED'))"""),
    ("every webhook event recorded with its result (8)", """
        SELECT p.id FROM payment_events p WHERE p.booking_id IS NULL OR p.result_status IS NULL"""),
]

PAST_DEADLINE = "SELECT count(*) FROM bookings WHERE status = 'PENDING' AND expires_at <= {now}"


async def problems(database_url: str) -> dict[str, list[Any]]:
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        return await asyncio.to_thread(_sqlite, url.database or "")
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                                 database=url.database, timeout=10)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            found = {name: [tuple(r) for r in await conn.fetch(sql)] for name, sql in CHECKS}
    finally:
        await conn.close()
    return {name: rows for name, rows in found.items() if rows}


async def holds_past_deadline(database_url: str) -> int:
    """PENDING bookings whose deadline has passed (the sweeper releases them)."""
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        def count() -> int:
            with sqlite3.connect(url.database or "", timeout=10) as conn:
                return int(conn.execute(PAST_DEADLINE.format(now="strftime('%Y-%m-%d %H:%M:%f', 'now')")).fetchone()[0])
        return await asyncio.to_thread(count)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                                 database=url.database, timeout=10)
    try:
        return int(await conn.fetchval(PAST_DEADLINE.format(now="now()")))
    finally:
        await conn.close()


def _sqlite(path: str) -> dict[str, list[Any]]:
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        conn.execute("BEGIN")  # one snapshot for every check
        found = {name: conn.execute(sql).fetchall() for name, sql in CHECKS}
        conn.execute("COMMIT")
    finally:
        conn.close()
    return {name: rows for name, rows in found.items() if rows}


async def corrupt_a_counter(database_url: str, event_id: int) -> None:
    """For a test's control: one ticket fewer sold on the event's row than its bookings have."""
    url = make_url(database_url)
    statement = "UPDATE event_sales SET tickets_sold = tickets_sold - 1 WHERE event_id = {p} AND tickets_sold > 0"
    if url.drivername.startswith("sqlite"):
        def run() -> None:
            with sqlite3.connect(url.database or "", timeout=10) as conn:
                conn.execute(statement.format(p="?"), (event_id,))
        await asyncio.to_thread(run)
        return
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                                 database=url.database, timeout=10)
    try:
        await conn.execute(statement.format(p="$1"), event_id)
    finally:
        await conn.close()
