"""Pipelined group-commit batches on a real PostgreSQL (db/pipeline.py): a batch of calls of one
statement is ONE transaction answering each caller its own row, in both driver modes (statement
cache on, and off as behind PgBouncer in transaction mode); an error anywhere rolls it all back
and each call runs alone; a failure after the commit never runs it again; and batches that lock
rows take them in one order, with a control that deadlocks without the ordering.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from tests.support.databases import deadlocks_after_others_left, pg_rows
from tests.support.settings import settings_for
from ticketing.db import group_commit
from ticketing.db.database import Database
from ticketing.db.errors import is_unique_violation
from ticketing.db.pipeline import PgCall
from ticketing.domain.errors import ServiceUnavailable

MODES = ["session", "transaction"]  # TICKETING_DATABASE_POOLER: statement cache on / off


async def _sql(url: str, *statements: str) -> list[Any]:
    return [await pg_rows(url, statement) for statement in statements]


@pytest.fixture
async def db(pg_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    await _sql(pg_url, "CREATE TABLE seats (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)")
    database = Database.from_settings(settings_for(pg_url, database_pooler=getattr(request, "param", "session")))
    try:
        yield database
    finally:
        await database.dispose()


TAKE = "INSERT INTO seats (id) VALUES ($1) RETURNING id, txid_current() AS tx"


def take(seat: int) -> PgCall[tuple[int, int]]:
    return PgCall(TAKE, (seat,), lambda row: (row["id"], row["tx"]))


# Refused (no row from the inner statement) reads as a row of NULLs, as the booking's does.
EVEN = "SELECT e.v FROM (VALUES (1)) AS one (x) LEFT JOIN LATERAL (SELECT $1::int AS v WHERE $1::int % 2 = 0) AS e ON true"


def even(value: int) -> PgCall[int | None]:
    return PgCall(EVEN, (value,), lambda row: row["v"])


async def at_once(db: Database, calls: list[PgCall[Any]]) -> list[Any]:
    """Submitted together, before the queue's task runs: one batch of all."""
    return list(await asyncio.gather(*(db.write(call) for call in calls), return_exceptions=True))


@pytest.mark.parametrize("db", MODES, indirect=True)
async def test_a_batch_is_one_transaction_and_each_caller_gets_its_own_row(db: Database, pg_url: str) -> None:
    for _ in range(2):  # the second time on the statement prepared the first time
        start = int((await _sql(pg_url, "SELECT coalesce(max(id), 0) AS m FROM seats"))[0][0]["m"])
        seats = [start + i for i in range(1, 9)]
        taken = await at_once(db, [take(seat) for seat in seats])
        assert [seat for seat, _ in taken] == seats
        assert len({tx for _, tx in taken}) == 1, f"one batch, one transaction: {taken}"
    assert await at_once(db, [even(v) for v in range(6)]) == [0, None, 2, None, 4, None]


@pytest.mark.parametrize("db", MODES, indirect=True)
async def test_one_failing_call_rolls_the_batch_back_and_each_runs_alone(db: Database, pg_url: str) -> None:
    await _sql(pg_url, "INSERT INTO seats (id) VALUES (3)")
    results = await at_once(db, [take(seat) for seat in (1, 2, 3, 4)])
    duplicate = results[2]
    assert isinstance(duplicate, IntegrityError) and is_unique_violation(duplicate, "seats_pkey"), results
    kept = [result for result in results if not isinstance(result, Exception)]
    assert [seat for seat, _ in kept] == [1, 2, 4]
    assert len({tx for _, tx in kept}) == 3, "after the rollback each ran alone, in a transaction of its own"
    rows = (await _sql(pg_url, "SELECT id FROM seats ORDER BY id"))[0]
    assert [row["id"] for row in rows] == [1, 2, 3, 4], "each kept exactly once"


async def test_a_failure_after_the_commit_never_runs_the_batch_again(db: Database, pg_url: str) -> None:
    def broken(seat: int) -> PgCall[int]:
        def decode(row: Any) -> int:
            raise KeyError("a decoding bug")

        return PgCall(TAKE, (seat,), decode)

    results = await at_once(db, [take(1), broken(2), take(3)])
    assert all(isinstance(result, ServiceUnavailable) for result in results), results
    rows = (await _sql(pg_url, "SELECT id FROM seats ORDER BY id"))[0]
    assert [row["id"] for row in rows] == [1, 2, 3], "committed once, never run again"


# Locks its seat's row. The call that leads its batch then holds that row until the other batch
# has led too (the sequence counts arrivals and, unlike a table, is seen across uncommitted
# transactions) or another session waits for a lock: a condition, not a sleep. A call run again
# alone (its batch was the deadlock's victim) finds both arrivals counted and goes straight on.
HOLD = """
CREATE FUNCTION hold_seat(p_id int, p_lead boolean) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    UPDATE seats SET n = n + 1 WHERE id = p_id;
    IF p_lead THEN
        PERFORM nextval('arrivals');
        FOR i IN 1 .. 3000 LOOP  -- 30 s at most
            PERFORM pg_stat_clear_snapshot();
            EXIT WHEN (SELECT last_value FROM arrivals) >= 2 OR EXISTS (
                SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE NOT l.granted AND a.datname = current_database() AND l.pid <> pg_backend_pid());
            PERFORM pg_sleep(0.01);
        END LOOP;
    END IF;
    RETURN p_id;
END $$
"""


@pytest.mark.parametrize("ordered", [True, False], ids=["ordered", "control-unordered"])
async def test_pipelined_batches_in_opposite_orders_deadlock_only_without_lock_ordering(
    pg_url: str, ordered: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batch A holds seats 1 then 2, batch B 2 then 1, each one pipelined round trip: unordered,
    each leader holds one row and the other's wait closes the cycle (PostgreSQL's deadlock, one
    batch rolled back and run again); ordered, both start on seat 1 and one simply waits."""
    if not ordered:  # the control: each batch in arrival order
        monkeypatch.setattr(group_commit, "_lock_order", list)
    await _sql(pg_url, "CREATE TABLE seats (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)",
               "INSERT INTO seats (id) VALUES (1), (2)", "CREATE SEQUENCE arrivals", HOLD)
    before = await deadlocks_after_others_left(pg_url)
    first, second = (Database.from_settings(settings_for(pg_url)) for _ in range(2))

    def hold(seat: int, lead: bool) -> PgCall[int]:
        return PgCall("SELECT hold_seat($1, $2) AS s", (seat, lead), lambda row: int(row["s"]))

    async def batch(db: Database, seats: list[int]) -> list[int]:
        # The call that runs first in its batch leads: with the ordering, seat 1 in both.
        lead = min(seats) if ordered else seats[0]
        return list(await asyncio.gather(*(db.write(hold(seat, seat == lead), lock_key=(seat,)) for seat in seats)))

    try:
        done = await asyncio.wait_for(asyncio.gather(batch(first, [1, 2]), batch(second, [2, 1])), 90)
    finally:
        await first.dispose()
        await second.dispose()
    after = await deadlocks_after_others_left(pg_url)
    assert done == [[1, 2], [2, 1]], "each caller got its own result"
    counts = (await _sql(pg_url, "SELECT id, n FROM seats ORDER BY id"))[0]
    assert [(row["id"], row["n"]) for row in counts] == [(1, 2), (2, 2)], "each write kept exactly once"
    if ordered:
        assert after - before == 0, f"{after - before} deadlocks with lock ordering"
    else:
        assert after - before > 0, "the control must deadlock: pipelined batches locking rows in opposite orders"
