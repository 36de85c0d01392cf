"""The database is the last line: raw SQL that bypasses the service cannot oversell, and the
sold counter (on the event's narrow ``event_sales`` row) follows the CONFIRMED bookings through
inserts, cancels and deletes."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from ticketing.db.urls import async_url

pytestmark = pytest.mark.usefixtures("client")  # the client fixture wipes the tables first


@pytest.fixture
async def conn(database_url: str):  # type: ignore[no-untyped-def]
    engine = create_async_engine(async_url(database_url), isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            await connection.exec_driver_sql("PRAGMA foreign_keys = ON")
        yield connection
    await engine.dispose()


async def _seed(conn: AsyncConnection, capacity: int | None = 5) -> int:
    """User 1 and event 1 with ``capacity`` on its sales row (None: an event without one)."""
    await conn.execute(text(
        "INSERT INTO users (id, email, name, role, password_hash, created_at) "
        "VALUES (1, 'raw@example.com', 'Raw', 'customer', 'x', '2026-01-01 00:00:00')"
    ))
    await conn.execute(text(
        "INSERT INTO events (id, name, description, venue, starts_at, price_minor, currency, max_per_booking) "
        "VALUES (1, 'Raw', '', '', '2030-01-01 00:00:00', 100, 'THB', 10)"
    ))
    if capacity is not None:
        await conn.execute(text(
            "INSERT INTO event_sales (event_id, capacity, tickets_sold, tickets_held) VALUES (1, :capacity, 0, 0)"
        ), {"capacity": capacity})
    return 1


async def _insert_booking(conn: AsyncConnection, quantity: int, status: str = "CONFIRMED") -> int:
    result = await conn.execute(text(
        "INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date, created_by) "
        "VALUES (1, 1, :quantity, 0, :status, '2026-01-01 00:00:00', 1) RETURNING id"
    ), {"quantity": quantity, "status": status})
    return int(result.scalar_one())


async def _sold(conn: AsyncConnection) -> tuple[int, int]:
    sold = (await conn.execute(text("SELECT tickets_sold FROM event_sales WHERE event_id = 1"))).scalar_one()
    confirmed = (await conn.execute(text(
        "SELECT COALESCE(SUM(quantity), 0) FROM bookings WHERE event_id = 1 AND status = 'CONFIRMED'"
    ))).scalar_one()
    return int(sold), int(confirmed)


async def test_raw_insert_past_capacity_is_refused(conn):
    await _seed(conn, capacity=5)
    await _insert_booking(conn, 3)
    with pytest.raises(DBAPIError, match="exceeds available capacity"):
        await _insert_booking(conn, 3)
    assert await _sold(conn) == (3, 3)
    await _insert_booking(conn, 2)
    with pytest.raises(DBAPIError, match="exceeds available capacity"):
        await _insert_booking(conn, 1)
    assert await _sold(conn) == (5, 5)


async def test_counter_follows_inserts_cancels_and_deletes(conn):
    await _seed(conn, capacity=10)
    first = await _insert_booking(conn, 4)
    second = await _insert_booking(conn, 3)
    await _insert_booking(conn, 2, status="CANCELLED")  # a cancelled booking holds nothing
    assert await _sold(conn) == (7, 7)
    await conn.execute(text("UPDATE bookings SET status = 'CANCELLED' WHERE id = :id"), {"id": first})
    assert await _sold(conn) == (3, 3)
    await conn.execute(text("UPDATE bookings SET status = 'CANCELLED' WHERE id = :id"), {"id": first})
    assert await _sold(conn) == (3, 3)
    await conn.execute(text("DELETE FROM bookings WHERE id = :id"), {"id": second})
    assert await _sold(conn) == (0, 0)
    await conn.execute(text("DELETE FROM bookings WHERE id = :id"), {"id": first})  # cancelled: no change
    assert await _sold(conn) == (0, 0)


async def test_reconfirming_past_capacity_is_refused(conn):
    await _seed(conn, capacity=4)
    cancelled = await _insert_booking(conn, 3)
    await conn.execute(text("UPDATE bookings SET status = 'CANCELLED' WHERE id = :id"), {"id": cancelled})
    await _insert_booking(conn, 2)
    with pytest.raises(DBAPIError, match="exceeds available capacity"):
        await conn.execute(text("UPDATE bookings SET status = 'CONFIRMED' WHERE id = :id"), {"id": cancelled})
    assert await _sold(conn) == (2, 2)
    with pytest.raises(DBAPIError, match="exceeds available capacity"):
        await conn.execute(text("UPDATE bookings SET quantity = 5 WHERE status = 'CONFIRMED'"))
    assert await _sold(conn) == (2, 2)


async def test_check_constraint_guards_the_counter_itself(conn):
    await _seed(conn, capacity=5)
    for bad in ("tickets_sold = 6", "tickets_sold = -1", "tickets_held = -1", "capacity = -1", "capacity = 2"):
        if bad == "capacity = 2":
            await _insert_booking(conn, 3)
        with pytest.raises(DBAPIError, match="ck_event_sales"):
            await conn.execute(text(f"UPDATE event_sales SET {bad} WHERE event_id = 1"))
    assert await _sold(conn) == (3, 3)


async def test_check_constraint_counts_held_tickets_against_capacity(conn):
    await _seed(conn, capacity=5)
    await _insert_booking(conn, 3)
    await conn.execute(text("UPDATE event_sales SET tickets_held = 2 WHERE event_id = 1"))  # 3 + 2 = 5 fits
    with pytest.raises(DBAPIError, match="ck_event_sales_within_capacity"):
        await conn.execute(text("UPDATE event_sales SET tickets_held = 3 WHERE event_id = 1"))  # 3 + 3 > 5
    with pytest.raises(DBAPIError, match="ck_event_sales_within_capacity"):
        await conn.execute(text("UPDATE event_sales SET tickets_sold = 4 WHERE event_id = 1"))  # 4 + 2 > 5
    held = (await conn.execute(text("SELECT tickets_held FROM event_sales WHERE event_id = 1"))).scalar_one()
    assert (held, await _sold(conn)) == (2, (3, 3))
    # The trigger's own guard counts the held tickets too: nothing is left to book.
    with pytest.raises(DBAPIError, match="exceeds available capacity"):
        await _insert_booking(conn, 1)


async def test_an_event_without_a_sales_row_takes_no_booking(conn):
    await _seed(conn, capacity=None)
    with pytest.raises(DBAPIError, match="exceeds available capacity"):
        await _insert_booking(conn, 1)
    await _insert_booking(conn, 1, status="CANCELLED")  # holds nothing, needs no room


async def test_the_sales_row_goes_with_its_event(conn):
    await _seed(conn, capacity=5)
    await conn.execute(text("DELETE FROM events WHERE id = 1"))
    assert (await conn.execute(text("SELECT COUNT(*) FROM event_sales"))).scalar_one() == 0


async def test_cancelling_by_hand_voids_the_tickets(conn):
    await _seed(conn)
    booking = await _insert_booking(conn, 2)
    for code in ("raw-a", "raw-b"):
        await conn.execute(text(
            "INSERT INTO tickets (code, booking_id, event_id, status) VALUES (:code, :booking, 1, 'VALID')"
        ), {"code": code, "booking": booking})
    await conn.execute(text("UPDATE bookings SET status = 'CANCELLED' WHERE id = :id"), {"id": booking})
    statuses = (await conn.execute(text("SELECT status FROM tickets WHERE booking_id = :id"), {"id": booking})).scalars()
    assert set(statuses) == {"VOID"}
