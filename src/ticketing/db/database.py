"""Database: reads, writes as transactions, contention retries and group commit, on one
engine for reads and one for writes (see engine.py, group_commit.py and sqlite_inline.py)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ticketing.config import Settings
from ticketing.db.engine import WRITE_POOL_SIZE, create_engine
from ticketing.db.errors import ErrorKind, classify, is_dead_connection
from ticketing.db.group_commit import MAX_BATCH, BatchRolledBack, GroupCommit, LockKey
from ticketing.db.pipeline import PgCall, run_many
from ticketing.domain.errors import ServiceUnavailable

# MAX_BATCH and WRITE_POOL_SIZE live in group_commit.py and engine.py; importable from here as before.
__all__ = ["MAX_BATCH", "WRITE_POOL_SIZE", "Database", "LockKey"]

T = TypeVar("T")
log = logging.getLogger(__name__)


class _CommitUncertain(Exception):
    """COMMIT of a batch failed on the way: it may or may not have been kept."""


class Database:
    def __init__(self, engine: AsyncEngine, *, retries: int = 8, group_commit: bool = True, max_batch: int = 32,
                 write_engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        self.write_engine = write_engine or engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.retries = retries
        # SQLite has one writer at a time: queue writers of this process here, where waiting
        # is cheap, rather than in SQLite's busy handler, which sleeps and polls.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self._group_commit = (
            GroupCommit(self._write_alone, self._write_batch, max_batch) if group_commit and max_batch > 1 else None
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        engine = create_engine(settings)
        # An in-memory SQLite database lives in its one connection: no second pool there.
        in_memory = settings.is_sqlite and settings.sqlite_path is None
        # The write pool checks a connection that sat idle before lending it (PostgreSQL): after a
        # database restart its idle connections are dead, and no read goes through it to find
        # that out. Under load its connections are never idle and nothing is pinged (engine.py).
        write_engine = engine if in_memory else create_engine(
            settings, pool_size=min(WRITE_POOL_SIZE, settings.pool_size), pre_ping=not settings.is_sqlite)
        return cls(engine, retries=settings.contention_retries, group_commit=settings.group_commit,
                   max_batch=MAX_BATCH[engine.dialect.name], write_engine=write_engine)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Runs read-only work; each statement sees committed data."""
        # A read that lost a race for a lock is not retried and is not made a 503 either: it
        # goes through as it is, as it always has.
        with _service_errors(lost_race_is_final=False):
            try:
                async with self.engine.connect() as conn:
                    return await work(conn)
            except Exception as error:
                # A pooled connection found dead (the database restarted since it was last used):
                # SQLAlchemy has just invalidated the whole pool, so a read, which changes
                # nothing, runs once more on a fresh connection instead of answering 503. The
                # read pool has no pre-ping (a round trip on every read); the write pool has.
                # A timeout is not retried: the database is slow or frozen, and waiting again
                # would only double the wait before the 503.
                if not is_dead_connection(error):
                    raise
                log.info("a pooled connection was dead; reading again on a new one")
                async with self.engine.connect() as conn:
                    return await work(conn)

    async def write(
        self, work: Callable[[AsyncConnection], Awaitable[T]], *, lock_key: LockKey | None = None, alone: bool = False
    ) -> T:
        """Runs ``work`` as one transaction, retrying it when it loses a race for a lock.

        On PostgreSQL ``work`` must be a single statement (alone it runs in autocommit). On
        SQLite it may be several, inside BEGIN IMMEDIATE. ``work`` may run more than once (a
        retry, or a group-commit batch that was rolled back), so it must only touch the
        database through ``conn`` and return what it read.

        ``lock_key`` names, in order, the contended rows ``work`` locks (``(event_id,)`` for a
        booking): a group-commit batch runs its works sorted by it, so that two processes'
        batches never wait for each other's locks in a cycle (see group_commit._lock_order).

        ``alone`` keeps ``work`` out of group-commit batches: a status change locks its booking's
        row before its event's, and two of them in one batch could wait for each other's rows.
        """
        if self._group_commit is not None and not alone:
            return await self._group_commit.submit(work, lock_key)
        return await self._write_alone(work)

    async def transaction(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Runs ``work``, several statements, as ONE transaction of its own (never batched), with
        the contention retries of a write: BEGIN IMMEDIATE on SQLite, BEGIN ... COMMIT on
        PostgreSQL (READ COMMITTED: each statement sees what committed before it began). An
        exception from ``work`` rolls everything back and is raised as it is."""
        if self.is_sqlite:
            return await self._write_alone(work)

        async def in_transaction(conn: AsyncConnection) -> T:
            return await _pg_transaction(conn, lambda: work(conn), "transaction")

        return await self._write_alone(in_transaction)

    async def _write_alone(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        with _service_errors():
            for attempt in range(self.retries + 1):
                try:
                    if self._write_lock is None:
                        async with self.write_engine.connect() as conn:
                            return await work(conn)
                    async with self._write_lock:
                        return await self._sqlite_transaction(work)
                except Exception as error:
                    # Only a lost race is run again; when the retries are spent it is still
                    # raised as contention, and _service_errors makes it a 503.
                    if classify(error) is not ErrorKind.CONTENTION or attempt == self.retries:
                        raise
                    log.info("write lost a race (attempt %d), retrying", attempt + 1)
                    await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise AssertionError("unreachable")

    async def _sqlite_transaction(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self.write_engine.connect() as conn:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                result = await work(conn)
            except BaseException:
                await conn.rollback()
                raise
            await conn.commit()
            return result

    async def _write_batch(self, works: list[Callable[[AsyncConnection], Awaitable[Any]]]) -> list[Any]:
        """All ``works`` in ONE transaction, for GroupCommit.

        Raises BatchRolledBack when it was rolled back and each work may run alone, and
        ServiceUnavailable when the database cannot be reached or timed out (running each
        write again would only wait out the timeout again) or the COMMIT's fate is unknown.
        """
        with _service_errors():
            try:
                if self._write_lock is not None:
                    async with self._write_lock:
                        return await self._sqlite_batch(works)
                return await self._pg_batch(works)
            except ServiceUnavailable:
                raise
            except _CommitUncertain as error:
                # Whether it was kept is unknown: run nothing again, tell every caller.
                log.warning("group commit of %d writes: COMMIT failed (%r)", len(works), error.__cause__)
                raise
            except Exception as error:
                if classify(error) is ErrorKind.UNAVAILABLE:
                    log.warning("group commit of %d writes failed: database unavailable (%s)",
                                len(works), type(error).__name__)
                    raise
                log.info("group commit of %d writes rolled back (%s), running them one by one",
                         len(works), type(error).__name__)
                raise BatchRolledBack() from error

    async def _sqlite_batch(self, works: list[Callable[[AsyncConnection], Awaitable[Any]]]) -> list[Any]:
        async with self.write_engine.connect() as conn:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                results = [await work(conn) for work in works]
            except BaseException:
                await conn.rollback()
                raise
            try:
                await conn.commit()
            except Exception:
                # A refused COMMIT leaves SQLite's transaction open: roll it back, then
                # nothing of the batch was kept and each work can safely run alone.
                await conn.rollback()
                raise
            return results

    async def _pg_batch(self, works: list[Callable[[AsyncConnection], Awaitable[Any]]]) -> list[Any]:
        # The engine runs in autocommit. A batch of calls of one statement (bookings) is ONE
        # round trip, one implicit transaction (pipeline.py). Any other batch opens its own
        # transaction on the driver's connection, and each work's statement runs inside it.
        first = works[0]
        if isinstance(first, PgCall) and all(isinstance(w, PgCall) and w.sql == first.sql for w in works):
            calls = cast(list[PgCall[Any]], works)
            async with self.write_engine.connect() as conn:
                rows = await run_many(conn, calls)
            # Committed: a failure from here on must not run the batch again.
            try:
                if len(rows) != len(calls):
                    raise RuntimeError(f"{len(calls)} calls answered {len(rows)} rows, not one each")
                return [call.decode(row) for call, row in zip(calls, rows, strict=True)]
            except Exception as error:
                raise _CommitUncertain() from error
        async with self.write_engine.connect() as conn:
            async def each_work() -> list[Any]:
                return [await work(conn) for work in works]

            return await _pg_transaction(conn, each_work, "group commit")

    # Not asyncio.timeout(): that would wait for the cancelled probe to finish cleaning up.
    async def ping(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Whether the database answers within ``timeout`` seconds.

        Answers at the timeout: closing a connection that timed out can take the driver
        seconds more, and that clean-up goes on in the background without the caller.
        """
        probe = asyncio.ensure_future(self.read(lambda conn: conn.execute(text("SELECT 1"))))
        probe.add_done_callback(lambda task: task.cancelled() or task.exception())
        done, _ = await asyncio.wait({probe}, timeout=timeout)
        if not done:
            probe.cancel()
            return False
        return not probe.cancelled() and probe.exception() is None


async def _pg_transaction(conn: AsyncConnection, run: Callable[[], Awaitable[T]], what: str) -> T:
    """``run``'s statements as one transaction on the driver's connection of ``conn`` (the engine
    runs in autocommit): BEGIN, ``run``, COMMIT. On an error ``run``'s work is rolled back and the
    error raised; a COMMIT whose fate is unknown raises _CommitUncertain."""
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None  # a connection checked out of the pool is open
    try:
        await raw.execute("BEGIN")
    except BaseException:
        await conn.invalidate()  # nothing was sent on it that could have been kept
        raise
    try:
        result = await run()
    except BaseException as error:
        if isinstance(error, Exception) and classify(error) is not ErrorKind.UNAVAILABLE:
            try:
                await raw.execute("ROLLBACK")
            except BaseException:
                await conn.invalidate()
        else:
            # Timed out, cut off or cancelled: a ROLLBACK would wait out another
            # timeout; closing the connection ends the transaction just as well.
            await conn.invalidate()
        raise
    try:
        status = await raw.execute("COMMIT")
    except BaseException as error:
        await conn.invalidate()
        raise _CommitUncertain() from error
    if status != "COMMIT":  # the transaction had failed: PostgreSQL rolled it back
        raise RuntimeError(f"{what} ended in {status}")
    return result


@contextmanager
def _service_errors(*, lost_race_is_final: bool = True) -> Iterator[None]:
    """The one place where driver errors become the service's own: a database that cannot be
    reached or timed out, a race for a lock still lost after every retry (the write paths let
    it through only then) and a COMMIT whose fate is unknown are ServiceUnavailable (503 with
    Retry-After). Everything else, including BatchRolledBack, goes through as it is."""
    try:
        yield
    except ServiceUnavailable:
        raise
    except _CommitUncertain as error:
        raise ServiceUnavailable() from error.__cause__
    except Exception as error:
        kind = classify(error)
        if kind is ErrorKind.UNAVAILABLE or (kind is ErrorKind.CONTENTION and lost_race_is_final):
            raise ServiceUnavailable() from error
        raise
