"""Group commit: who runs with whom, in which order, and who gets which answer.

Most tests give the queue fake ``run_alone`` / ``run_batch`` callables over an in-memory list
(a batch's writes are kept only when all of it succeeded); the crash test runs the real
Database on an SQLite file.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from ticketing.db import group_commit
from ticketing.db.database import Database
from ticketing.db.group_commit import BatchRolledBack, GroupCommit, Work
from ticketing.domain.errors import ServiceUnavailable


class FakeStore:
    """Transactions over a list: a work appends to the staged list it is given."""

    def __init__(self) -> None:
        self.committed: list[Any] = []
        self.batches: list[list[Work]] = []
        self.alone: list[Work] = []

    async def run_alone(self, work: Work) -> Any:
        self.alone.append(work)
        staged: list[Any] = []
        result = await work(staged)
        self.committed.extend(staged)
        return result

    async def run_batch(self, works: list[Work]) -> list[Any]:
        self.batches.append(list(works))
        staged: list[Any] = []
        try:
            results = [await work(staged) for work in works]
        except Exception as error:
            raise BatchRolledBack() from error
        self.committed.extend(staged)
        return results


def writes(value: Any) -> Work:
    async def work(staged: list[Any]) -> Any:
        staged.append(value)
        return f"done {value}"

    work.__qualname__ = f"writes({value!r})"
    return work


class SoldOut(Exception):
    pass


def refused(value: Any) -> Work:
    async def work(staged: list[Any]) -> Any:
        staged.append(value)  # written, then refused: the transaction must not keep it
        raise SoldOut(value)

    return work


async def test_a_batch_commits_all_of_its_works_at_once() -> None:
    store = FakeStore()
    queue = GroupCommit(store.run_alone, store.run_batch, max_batch=8)

    results = await asyncio.gather(*(queue.submit(writes(i)) for i in range(5)))

    assert results == [f"done {i}" for i in range(5)]
    assert len(store.batches) == 1 and len(store.batches[0]) == 5, "five writes queued together are one batch"
    assert store.alone == []
    assert sorted(store.committed) == [0, 1, 2, 3, 4]


async def test_one_failing_work_rolls_the_batch_back_and_each_runs_again_alone() -> None:
    store = FakeStore()
    queue = GroupCommit(store.run_alone, store.run_batch, max_batch=8)
    works = [writes("a"), refused("b"), writes("c")]

    results = await asyncio.gather(*(queue.submit(work) for work in works), return_exceptions=True)

    assert results[0] == "done a" and results[2] == "done c"
    assert isinstance(results[1], SoldOut) and results[1].args == ("b",)
    assert len(store.batches) == 1 and len(store.batches[0]) == 3
    assert store.alone == works, "every member of the rolled-back batch runs again alone"
    # Nothing of the rolled-back batch was kept; each success was kept exactly once.
    assert sorted(store.committed) == ["a", "c"]


async def test_a_batch_never_takes_more_than_its_cap() -> None:
    store = FakeStore()
    queue = GroupCommit(store.run_alone, store.run_batch, max_batch=8)

    results = await asyncio.gather(*(queue.submit(writes(i)) for i in range(20)))

    assert results == [f"done {i}" for i in range(20)]
    assert [len(batch) for batch in store.batches] == [8, 8, 4]
    assert sorted(store.committed) == list(range(20))


async def test_a_lone_work_runs_on_the_ordinary_path() -> None:
    store = FakeStore()
    queue = GroupCommit(store.run_alone, store.run_batch, max_batch=8)

    assert await queue.submit(writes("x")) == "done x"
    assert store.batches == [] and len(store.alone) == 1


async def test_an_unavailable_database_answers_the_batch_and_everything_queued_meanwhile() -> None:
    running, crash = asyncio.Event(), asyncio.Event()
    later_ran: list[Work] = []

    async def run_batch(works: list[Work]) -> list[Any]:
        running.set()
        await crash.wait()
        raise ServiceUnavailable()  # what Database's run_batch raises when the connection dies

    async def run_alone(work: Work) -> Any:
        later_ran.append(work)
        return await work([])

    queue = GroupCommit(run_alone, run_batch, max_batch=8)
    batch = [asyncio.ensure_future(queue.submit(writes(i))) for i in range(3)]
    await running.wait()
    meanwhile = [asyncio.ensure_future(queue.submit(writes(i))) for i in range(3, 6)]
    await asyncio.sleep(0)  # one loop turn: each new task runs up to its wait in the queue
    assert len(queue._queue) == len(meanwhile)
    crash.set()

    results = await asyncio.gather(*batch, *meanwhile, return_exceptions=True)

    assert all(isinstance(result, ServiceUnavailable) for result in results), results
    assert later_ran == [], "the works queued meanwhile are answered without running"


async def test_a_connection_lost_mid_batch_on_a_real_database_answers_every_waiter(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}")
    async with engine.begin() as conn:
        await conn.exec_driver_sql("CREATE TABLE rows (v INTEGER)")
    db = Database(engine, retries=2, max_batch=8)
    entered, crash = asyncio.Event(), asyncio.Event()

    def insert(value: int) -> Work:
        async def work(conn: Any) -> int:
            await conn.exec_driver_sql(f"INSERT INTO rows VALUES ({value})")
            return value

        return work

    async def dies(conn: Any) -> int:
        entered.set()
        await crash.wait()
        raise OperationalError("INSERT ...", {}, sqlite3.OperationalError("disk I/O error"))

    try:
        batch = [asyncio.ensure_future(db.write(work)) for work in (insert(1), dies, insert(2))]
        await entered.wait()
        meanwhile = [asyncio.ensure_future(db.write(insert(v))) for v in (3, 4)]
        await asyncio.sleep(0)  # one loop turn: each new task runs up to its wait in the queue
        assert len(db._group_commit._queue) == len(meanwhile)  # type: ignore[union-attr]
        crash.set()
        results = await asyncio.gather(*batch, *meanwhile, return_exceptions=True)
        assert all(isinstance(result, ServiceUnavailable) for result in results), results
        # Rolled back, and nothing queued meanwhile ran.
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("SELECT COUNT(*) FROM rows")).scalar_one() == 0
    finally:
        await db.dispose()


async def test_a_batch_runs_its_works_in_lock_key_order() -> None:
    store = FakeStore()
    queue = GroupCommit(store.run_alone, store.run_batch, max_batch=8)
    keys: list[tuple[int, ...] | None] = [(5,), (2,), None, (9,), (2,), (1, 7)]
    works = [writes(i) for i in range(len(keys))]

    results = await asyncio.gather(*(queue.submit(work, key) for work, key in zip(works, keys, strict=True)))

    assert results == [f"done {i}" for i in range(len(keys))], "each caller gets its own result back"
    # Unkeyed first, then ascending keys; equal keys keep their arrival order.
    assert store.batches == [[works[2], works[5], works[1], works[4], works[0], works[3]]]


async def test_the_test_control_runs_a_batch_in_arrival_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadlock tests' control replaces the ordering with ``list``: the queue then runs each
    batch in arrival order (what the control relies on to deadlock)."""
    monkeypatch.setattr(group_commit, "_lock_order", list)
    store = FakeStore()
    queue = GroupCommit(store.run_alone, store.run_batch, max_batch=8)
    works = [writes(i) for i in range(3)]

    await asyncio.gather(*(queue.submit(work, (3 - i,)) for i, work in enumerate(works)))

    assert store.batches == [works]
