"""Group-commit batches on PostgreSQL take their event-row locks in one order: no deadlocks.

Each booking locks its event's sales row (the trigger moves ``event_sales.tickets_sold``) until its batch
commits. Two processes' batches over several events that lock rows in opposite orders
deadlock (40P01, each costing deadlock_timeout). The first test books on ten events through
two real server processes and counts PostgreSQL's deadlocks; it also proves
batches spanning several events really formed (bookings of one batch share one transaction
id, ``xmin``). The control runs two batches in opposite orders on purpose, at the group-commit
level where their interleaving can be forced: they deadlock with the ordering turned off and
do not with it on (a server-level run without ordering deadlocks only by chance).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.support.credentials import PASSWORD
from tests.support.databases import deadlocks_after_others_left, pg_rows
from tests.support.server import ServerProcess, run_cli
from tests.support.settings import settings_for
from ticketing.db import group_commit
from ticketing.db.database import Database
from ticketing.db.migrate import upgrade

pytestmark = pytest.mark.slow

EVENTS = 10
ACCOUNTS = 16
REQUESTS = 1000
IN_FLIGHT = 128


async def _deadlocks_now(url: str) -> int:
    """The deadlock count now (the servers are up and idle: nothing has been booked yet)."""
    rows = await pg_rows(url, "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
    return int(rows[0]["deadlocks"])


async def _tokens(http: httpx.AsyncClient, count: int) -> list[str]:
    gate = asyncio.Semaphore(8)

    async def one(i: int) -> str:
        async with gate:
            email = f"fan{i}@example.com"
            created = await http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": f"F{i}"})
            assert created.status_code == 201, created.text
            token = await http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
            assert token.status_code == 200, token.text
            return str(token.json()["access_token"])

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def test_batches_over_many_events_from_many_processes_never_deadlock(pg_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    await asyncio.to_thread(upgrade, pg_url)
    await asyncio.to_thread(run_cli, pg_url, "create-admin", "--email", "boss@example.com", "--password", PASSWORD)
    # Two server processes, each with its own group-commit queue: their batches are the ones
    # that could lock event rows in opposite orders.
    servers = [ServerProcess(pg_url, workers=1, log_path=tmp_path / f"server{i}.log") for i in range(2)]
    try:
        await asyncio.gather(*(asyncio.to_thread(server.start) for server in servers))
        async with httpx.AsyncClient(base_url=servers[0].url, timeout=60) as http:
            admin = await http.post("/api/v1/auth/token", data={"username": "boss@example.com", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
            event_ids = []
            for i in range(EVENTS):
                created = await http.post("/api/v1/events", headers=headers, json={
                    "name": f"Stage {i}", "starts_at": "2030-01-01T20:00:00Z", "capacity": 10_000,
                    "price": "10.00", "max_per_booking": 3})
                assert created.status_code == 201, created.text
                event_ids.append(created.json()["id"])
            tokens = await _tokens(http, ACCOUNTS)
        before = await _deadlocks_now(pg_url)
        ready = time.monotonic()

        rng = random.Random(8)
        asks = [(rng.choice(event_ids), rng.randint(1, 3), tokens[i % ACCOUNTS], servers[i % 2].url) for i in range(REQUESTS)]
        gate = asyncio.Semaphore(IN_FLIGHT)
        # Idle connections are dropped well before uvicorn's 5 s keep-alive ends: reusing one at
        # the moment the server closes it is a ReadError that says nothing about the service.
        limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT, keepalive_expiry=2)
        async with httpx.AsyncClient(limits=limits, timeout=60) as http:

            async def buy(event_id: int, quantity: int, token: str, base: str) -> tuple[int, int, int]:
                async with gate:
                    response = await http.post(f"{base}/api/v1/bookings", json={"event_id": event_id, "quantity": quantity},
                                               headers={"Authorization": f"Bearer {token}"})
                return response.status_code, event_id, quantity

            results = await asyncio.gather(*(buy(*ask) for ask in asks))
    finally:
        for server in servers:
            await asyncio.to_thread(server.stop)
    booked = time.monotonic()
    after = await deadlocks_after_others_left(pg_url)

    statuses = {status for status, _, _ in results}
    assert statuses == {201}, f"every booking fits (capacity 10,000 each): {sorted(statuses)}"
    rows = await pg_rows(pg_url, """
        SELECT e.event_id AS id, e.tickets_sold,
               (SELECT COALESCE(SUM(quantity), 0) FROM bookings b
                WHERE b.event_id = e.event_id AND b.status = 'CONFIRMED') AS confirmed,
               (SELECT COUNT(*) FROM tickets t WHERE t.event_id = e.event_id AND t.status IN ('VALID', 'USED')) AS live
        FROM event_sales e""")
    sold = {event_id: 0 for event_id in event_ids}
    for _, event_id, quantity in results:
        sold[event_id] += quantity
    for row in rows:
        assert row["tickets_sold"] == row["confirmed"] == row["live"] == sold[row["id"]], dict(row)
    # Batches formed, and some of them spanned several events: the case that could deadlock.
    batches = await pg_rows(pg_url, """
        SELECT xmin::text AS xid, COUNT(*) AS bookings, COUNT(DISTINCT event_id) AS events
        FROM bookings GROUP BY xmin::text HAVING COUNT(*) > 1""")
    multi_event = [b for b in batches if b["events"] > 1]
    print(f"\n{len(batches)} batches of 2+ bookings, {len(multi_event)} over 2+ events; deadlocks {before} -> {after}; "
          f"set-up {ready - started:.1f} s, {REQUESTS} bookings {booked - ready:.1f} s")
    assert multi_event, "no group-commit batch spanned two events: the load did not exercise lock ordering"
    assert after - before == 0, f"{after - before} deadlocks detected"


def _database(url: str) -> Database:
    return Database.from_settings(settings_for(url))


async def _opposite_batches(url: str) -> list[tuple[str, int]]:
    """Two processes' worth of group commit, batch A locking rows 1 then 2, batch B 2 then 1.

    Each batch's first work, once its row is locked, waits until the other batch's first
    statement has either locked its row too or is blocked waiting for a lock (seen in
    pg_stat_activity): without ordering each then holds one row and wants the other's, a
    certain deadlock; with ordering both start on row 1 and one simply waits. Returns every
    run of a work; a work that ran twice belonged to a batch that was rolled back.
    """
    first, second = _database(url), _database(url)
    runs: list[tuple[str, int]] = []
    began = {"A": asyncio.Event(), "B": asyncio.Event()}
    locked = {"A": asyncio.Event(), "B": asyncio.Event()}
    watcher = await asyncpg.connect(url)

    async def other_went_ahead(other: str) -> None:
        await began[other].wait()
        for _ in range(1500):  # 30 s at most
            if locked[other].is_set() or await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"batch {other} neither locked its first row nor waited for it")

    def work(name: str, other: str, row: int) -> Any:
        async def run(conn: AsyncConnection) -> int:
            runs.append((name, row))
            leads = not began[name].is_set()
            began[name].set()
            await conn.execute(text("UPDATE slots SET n = n + 1 WHERE id = :id"), {"id": row})
            if leads:
                locked[name].set()
                await other_went_ahead(other)
            return row

        return run

    async def batch(db: Database, name: str, other: str, rows: list[int]) -> list[int]:
        # Submitted together, before the queue's task runs: one batch of both.
        return list(await asyncio.gather(*(db.write(work(name, other, row), lock_key=(row,)) for row in rows)))

    try:
        done = await asyncio.wait_for(
            asyncio.gather(batch(first, "A", "B", [1, 2]), batch(second, "B", "A", [2, 1])), timeout=60)
    finally:
        await watcher.close()
        await first.dispose()
        await second.dispose()
    assert done == [[1, 2], [2, 1]], "each caller got its own result"
    return runs


async def _slots(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE slots (id int PRIMARY KEY, n int NOT NULL)")
        await conn.execute("INSERT INTO slots VALUES (1, 0), (2, 0)")
    finally:
        await conn.close()


@pytest.mark.parametrize("ordered", [True, False], ids=["ordered", "control-unordered"])
async def test_opposite_batches_deadlock_only_without_lock_ordering(pg_url, ordered, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    if not ordered:  # the control: each batch in arrival order
        monkeypatch.setattr(group_commit, "_lock_order", list)
    await _slots(pg_url)
    before = await deadlocks_after_others_left(pg_url)

    runs = await _opposite_batches(pg_url)

    after = await deadlocks_after_others_left(pg_url)
    counts = await pg_rows(pg_url, "SELECT id, n FROM slots ORDER BY id")
    # Whatever happened, each of the four writes was kept exactly once.
    assert [(row["id"], row["n"]) for row in counts] == [(1, 2), (2, 2)]
    if ordered:
        assert after - before == 0, f"{after - before} deadlocks with lock ordering"
        assert len(runs) == 4, f"no batch was rolled back: {runs}"
    else:
        assert after - before > 0, "the control must deadlock: batches locking rows in opposite orders"
        assert len(runs) > 4, f"the deadlock victim's batch ran again alone: {runs}"
