"""Migration 0003 on both databases: the counters move to ``event_sales`` with their values,
the trigger guards and moves the new row, ``events`` loses the old columns and gains a time zone;
and back again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from tests.support.databases import BACKENDS, temporary_database
from ticketing.db.migrate import downgrade, upgrade
from ticketing.db.urls import async_url

_BOOK = ("INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date, created_by) "
         "VALUES (1, :event, :quantity, 0, :status, '2026-01-01 00:00:00', 1)")


async def _run(url: str, statements: list[tuple[str, dict[str, object]]]) -> None:
    engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for sql, params in statements:
                await conn.execute(text(sql), params)
    finally:
        await engine.dispose()


async def _after_upgrade(conn: AsyncConnection) -> None:
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("PRAGMA foreign_keys = ON")
    sales = (await conn.execute(text(
        "SELECT event_id, capacity, tickets_sold, tickets_held FROM event_sales ORDER BY event_id"
    ))).all()
    assert [tuple(r) for r in sales] == [(1, 5, 3, 0), (2, 10, 0, 0)]
    columns = await conn.run_sync(lambda sync: {c["name"] for c in inspect(sync).get_columns("events")})
    assert "timezone" in columns and not {"capacity", "tickets_sold"} & columns
    zones = (await conn.execute(text("SELECT DISTINCT timezone FROM events"))).scalars().all()
    assert zones == ["UTC"]
    # The trigger now guards the sales row: 2 more fit event 1, a third does not.
    await conn.execute(text(_BOOK), {"event": 1, "quantity": 2, "status": "CONFIRMED"})
    with pytest.raises(DBAPIError, match="exceeds available capacity"):
        await conn.execute(text(_BOOK), {"event": 1, "quantity": 1, "status": "CONFIRMED"})
    await conn.execute(text("UPDATE bookings SET status = 'CANCELLED' WHERE event_id = 1 AND quantity = 3"))
    sold = (await conn.execute(text("SELECT tickets_sold FROM event_sales WHERE event_id = 1"))).scalar_one()
    assert sold == 2
    voided = (await conn.execute(text("SELECT COUNT(*) FROM tickets WHERE status = 'VOID'"))).scalar_one()
    assert voided == 1  # the cancel still voids the booking's tickets
    if conn.dialect.name == "sqlite":
        assert (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all() == []
        autoincrement = (await conn.exec_driver_sql(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'events' AND sql LIKE '%AUTOINCREMENT%'"
        )).scalar_one()
        assert autoincrement == 1, "events keeps AUTOINCREMENT: ids are never reused"
    else:
        options = (await conn.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'event_sales'"))).scalar_one()
        assert options == ["fillfactor=50"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_0003_moves_the_counters_and_keeps_the_guard(backend: str, tmp_path: Path) -> None:
    with temporary_database(backend, tmp_path, prefix="ticketing_mig3") as url:
        upgrade(url, "0002")
        asyncio.run(_run(url, [
            ("INSERT INTO users (id, email, name, role, password_hash, created_at) "
             "VALUES (1, 'a@x.example', 'A', 'customer', 'h', '2026-01-01 00:00:00')", {}),
            ("INSERT INTO events (id, name, starts_at, capacity, price_minor, currency, max_per_booking) VALUES "
             "(1, 'Small', '2099-01-01 00:00:00', 5, 100, 'THB', 5), (2, 'Big', '2099-01-01 00:00:00', 10, 100, 'THB', 5)",
             {}),
            (_BOOK, {"event": 1, "quantity": 3, "status": "CONFIRMED"}),
            (_BOOK, {"event": 2, "quantity": 4, "status": "CANCELLED"}),
            ("INSERT INTO tickets (code, booking_id, event_id, status) "
             "SELECT 'code-' || CAST(id AS VARCHAR), id, event_id, 'VALID' FROM bookings WHERE event_id = 1", {}),
        ]))
        upgrade(url, "0003")

        async def check() -> None:
            engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
            try:
                async with engine.connect() as conn:
                    await _after_upgrade(conn)
            finally:
                await engine.dispose()

        asyncio.run(check())


async def _after_downgrade(conn: AsyncConnection) -> None:
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("PRAGMA foreign_keys = ON")
    tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert "event_sales" not in tables
    events = (await conn.execute(text("SELECT id, capacity, tickets_sold FROM events ORDER BY id"))).all()
    assert [tuple(r) for r in events] == [(1, 5, 2), (2, 10, 0)]
    # 0001's trigger guards the events row again.
    await conn.execute(text(_BOOK), {"event": 1, "quantity": 3, "status": "CONFIRMED"})
    with pytest.raises(DBAPIError, match="exceeds available capacity"):
        await conn.execute(text(_BOOK), {"event": 1, "quantity": 1, "status": "CONFIRMED"})
    sold = (await conn.execute(text("SELECT tickets_sold FROM events WHERE id = 1"))).scalar_one()
    assert sold == 5
    with pytest.raises(DBAPIError, match="ck_events_sold_within_capacity"):
        await conn.execute(text("UPDATE events SET tickets_sold = 6 WHERE id = 1"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_0003_downgrades_to_the_counter_on_events(backend: str, tmp_path: Path) -> None:
    with temporary_database(backend, tmp_path, prefix="ticketing_mig3down") as url:
        upgrade(url, "0002")
        asyncio.run(_run(url, [
            ("INSERT INTO users (id, email, name, role, password_hash, created_at) "
             "VALUES (1, 'a@x.example', 'A', 'customer', 'h', '2026-01-01 00:00:00')", {}),
            ("INSERT INTO events (id, name, starts_at, capacity, price_minor, currency, max_per_booking) VALUES "
             "(1, 'Small', '2099-01-01 00:00:00', 5, 100, 'THB', 5), (2, 'Big', '2099-01-01 00:00:00', 10, 100, 'THB', 5)",
             {}),
        ]))
        upgrade(url, "0003")
        asyncio.run(_run(url, [(_BOOK, {"event": 1, "quantity": 2, "status": "CONFIRMED"})]))
        downgrade(url, "0002")

        async def check() -> None:
            engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
            try:
                async with engine.connect() as conn:
                    await _after_downgrade(conn)
            finally:
                await engine.dispose()

        asyncio.run(check())
        upgrade(url, "0003")  # and up again
