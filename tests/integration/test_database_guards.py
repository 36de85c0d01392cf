"""The database is the last line: raw SQL that bypasses the service cannot oversell, and the
counters (on the event's narrow ``event_sales`` row and its ``ticket_types`` rows) follow the
bookings' states through inserts, status changes and deletes."""

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
        "INSERT INTO events (id, name, description, venue, starts_at, price_minor, currency, max_per_booking, checkout) "
        "VALUES (1, 'Raw', '', '', '2030-01-01 00:00:00', 100, 'THB', 10, 'payment')"
    ))
    if capacity is not None:
        await conn.execute(text(
            "INSERT INTO event_sales (event_id, capacity, tickets_sold, tickets_held) VALUES (1, :capacity, 0, 0)"
        ), {"capacity": capacity})
    await conn.execute(text(
        "INSERT INTO ticket_types (id, event_id, name, price_minor, capacity, tickets_sold, tickets_held) "
        "VALUES (1, 1, 'General admission', 100, NULL, 0, 0), (2, 1, 'Front row', 300, 2, 0, 0)"
    ))
    return 1


async def _insert_booking(conn: AsyncConnection, quantity: int, status: str = "CONFIRMED", type_id: int = 1) -> int:
    """A booking and its one item, as the service writes them on event 1, a payment event (the
    item moves its type's counters): a hold has a total to pay, a free booking is CONFIRMED at
    once (on PostgreSQL the bookings trigger refuses a mode the event's checkout does not give)."""
    pending = status == "PENDING"
    expires = "'2030-01-01 00:00:00'" if pending else "NULL"
    result = await conn.execute(text(
        "INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date, created_by, currency, "
        f"expires_at) VALUES (1, 1, :quantity, :total, :status, '2026-01-01 00:00:00', 1, 'THB', {expires}) RETURNING id"
    ), {"quantity": quantity, "total": 100 * quantity if pending else 0, "status": status})
    booking = int(result.scalar_one())
    await conn.execute(text(
        "INSERT INTO booking_items (booking_id, ticket_type_id, quantity, unit_price_minor) VALUES (:b, :t, :q, 0)"
    ), {"b": booking, "t": type_id, "q": quantity})
    return booking


async def _delete_booking(conn: AsyncConnection, booking: int) -> None:
    await conn.execute(text("DELETE FROM booking_items WHERE booking_id = :id"), {"id": booking})
    await conn.execute(text("DELETE FROM bookings WHERE id = :id"), {"id": booking})


async def _types(conn: AsyncConnection) -> list[tuple[int, int]]:
    found = await conn.execute(text("SELECT tickets_sold, tickets_held FROM ticket_types ORDER BY id"))
    return [(int(sold), int(held)) for sold, held in found.all()]


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
    assert await _types(conn) == [(3, 0), (0, 0)]
    await _delete_booking(conn, second)
    assert await _sold(conn) == (0, 0)
    await _delete_booking(conn, first)  # cancelled: no change
    assert await _sold(conn) == (0, 0) and await _types(conn) == [(0, 0), (0, 0)]


async def test_holds_count_as_held_and_move_to_sold_or_back(conn):
    await _seed(conn, capacity=5)
    held = await _insert_booking(conn, 2, status="PENDING", type_id=2)
    assert await _types(conn) == [(0, 0), (0, 2)]
    with pytest.raises(DBAPIError, match="ck_ticket_types_within_capacity"):
        await _insert_booking(conn, 1, type_id=2)  # the type's cap of 2 is taken by the hold
    # (Autocommitted statement by statement here, the refused item left its booking behind.)
    await conn.execute(text("DELETE FROM bookings WHERE id NOT IN (SELECT booking_id FROM booking_items)"))
    with pytest.raises(DBAPIError, match="exceeds available capacity"):
        await _insert_booking(conn, 4)  # 2 held + 4 > 5
    await conn.execute(text("UPDATE bookings SET status = 'CONFIRMED' WHERE id = :id"), {"id": held})
    assert await _types(conn) == [(0, 0), (2, 0)]
    other = await _insert_booking(conn, 3, status="PENDING")
    await conn.execute(text("UPDATE bookings SET status = 'EXPIRED' WHERE id = :id"), {"id": other})
    sales = (await conn.execute(text("SELECT tickets_sold, tickets_held FROM event_sales"))).one()
    assert tuple(sales) == (2, 0) and await _types(conn) == [(0, 0), (2, 0)]
    # An item must be of its booking's event's types, and items never change.
    await conn.execute(text("INSERT INTO events (id, name, description, venue, starts_at, price_minor, currency, "
                            "max_per_booking) VALUES (2, 'Other', '', '', '2030-01-01 00:00:00', 1, 'THB', 1)"))
    await conn.execute(text("INSERT INTO ticket_types (id, event_id, name, price_minor) VALUES (3, 2, 'X', 1)"))
    with pytest.raises(DBAPIError, match="ticket type of its booking"):
        await _insert_booking(conn, 1, type_id=3, status="CANCELLED")
    with pytest.raises(DBAPIError, match="never change"):
        await conn.execute(text("UPDATE booking_items SET quantity = 1"))


async def test_reconfirming_past_capacity_is_refused(conn):
    await _seed(conn, capacity=4)
    cancelled = await _insert_booking(conn, 3)
    await conn.execute(text("UPDATE bookings SET status = 'CANCELLED' WHERE id = :id"), {"id": cancelled})
    await _insert_booking(conn, 2)
    with pytest.raises(DBAPIError, match="exceeds available capacity"):
        await conn.execute(text("UPDATE bookings SET status = 'CONFIRMED' WHERE id = :id"), {"id": cancelled})
    assert await _sold(conn) == (2, 2)
    with pytest.raises(DBAPIError, match="never change"):
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
    assert await _types(conn) == [(0, 0), (0, 0)]
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
