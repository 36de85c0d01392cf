"""The engine, connections for reads and writes, and the contention retry loop."""

from __future__ import annotations

import asyncio
import collections
import contextvars
import logging
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from ticketing.config import Settings
from ticketing.db.errors import is_contention, is_unavailable
from ticketing.db.urls import async_url
from ticketing.domain.errors import ServiceUnavailable

T = TypeVar("T")
log = logging.getLogger(__name__)


# Writes get a pool of their own: a group-commit batch must not queue for a connection behind
# hundreds of reads, and a few writers on one hot row are faster than many.
WRITE_POOL_SIZE = 2
# The most writes one group-commit batch takes. On PostgreSQL every booking of a batch leaves a
# version of the event row that cannot be pruned before the batch commits; past about 8 (with a
# second worker's batch waiting on the row) they overflow the row's page, updates stop being
# HOT, the events table bloats and every later booking of that event gets slower. Measured on
# one event, four 8 s runs in a row: batches of 32 went 1,042 -> 753 bookings/s (the 1-row table
# grew to 82 pages), 16 went 1,225 -> 839, 8 held 1,060-1,240 (2 pages). See bench/README.md.
MAX_BATCH = {"postgresql": 8, "sqlite": 32}


def create_engine(settings: Settings, *, pool_size: int | None = None, pre_ping: bool = False) -> AsyncEngine:
    url = async_url(settings.database_url)
    pool_size = pool_size or settings.pool_size
    if settings.is_sqlite:
        # An in-memory database lives in its one connection, so it gets a one-connection pool.
        pooling: dict[str, object] = (
            {"poolclass": StaticPool}
            if settings.sqlite_path is None
            else {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": settings.pool_timeout}
        )
        connect_args: dict[str, object] = {"timeout": settings.sqlite_busy_timeout_ms / 1000}
        if settings.sqlite_path is not None and settings.sqlite_inline and _INLINE_SQLITE:
            connect_args["async_creator_fn"] = _connect_inline
        engine = create_async_engine(url, connect_args=connect_args, **pooling)
        _prepare_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=settings.pool_timeout,
        pool_pre_ping=pre_ping,
        # Every statement here is its own transaction: one round trip, no BEGIN/COMMIT.
        isolation_level="AUTOCOMMIT",
        connect_args={
            "timeout": settings.connect_timeout,
            "command_timeout": settings.statement_timeout,
            "server_settings": {"application_name": "ticketing"},
        },
    )


# -- SQLite without a thread hop per call ---------------------------------------------------
# aiosqlite runs every driver call (cursor, execute, fetch, close, rollback) on its thread and
# hands the result back through the event loop: about 30 thread hops and 70 context switches
# per booking, most of the service's CPU on SQLite. The calls that cannot wait run inline on
# the event loop instead (microseconds each): everything inside BEGIN IMMEDIATE (this
# connection already holds the write lock), lone SELECTs (WAL readers read a snapshot and do
# not wait for writers), fetches, cursor open/close and ROLLBACK. What can wait stays on the
# thread: BEGIN (waits for the write lock, up to busy_timeout), COMMIT (the WAL fsync and
# checkpoints), writes outside a transaction, connecting and closing.
# Only when the sqlite3 module may be used from more than one thread.
_INLINE_SQLITE = sqlite3.threadsafety > 0
_INLINE_CURSOR_CALLS = frozenset({"fetchone", "fetchmany", "fetchall", "close"})


class _InlineSqliteConnection(aiosqlite.Connection):
    async def _execute(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        connection = self._connection
        if connection is not None and self._running and _runs_inline(connection, fn, args):
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)


def _runs_inline(connection: sqlite3.Connection, fn: Any, args: tuple[Any, ...]) -> bool:
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", "")
    if isinstance(owner, sqlite3.Cursor):
        if name in _INLINE_CURSOR_CALLS:
            return True
        if name in ("execute", "executemany") and args and isinstance(args[0], str):
            head = args[0].lstrip()[:8].upper()
            if head.startswith(("BEGIN", "COMMIT", "END", "SAVEPOIN", "RELEASE", "PRAGMA", "VACUUM", "ATTACH")):
                return False
            return connection.in_transaction or head.startswith("SELECT")
        return False
    return isinstance(owner, sqlite3.Connection) and name in ("cursor", "rollback")


def _connect_inline(database: str, **kwargs: Any) -> aiosqlite.Connection:
    # The sqlite3 connection is made on aiosqlite's thread and also used from the event loop's
    # thread, never by both at once (one coroutine owns a pooled connection at a time).
    kwargs["check_same_thread"] = False
    connection = _InlineSqliteConnection(partial(sqlite3.connect, database, **kwargs), 64)
    connection._thread.daemon = True
    return connection


def _prepare_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    # SQLAlchemy's documented recipe: stop the driver from beginning transactions on its own,
    # so that writes can take the lock up front with BEGIN IMMEDIATE.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()


class _RunAlone(Exception):
    """A group-commit batch failed before COMMIT (so nothing of it was kept): run each work alone."""


class _CommitUncertain(Exception):
    """COMMIT of a batch failed on the way: it may or may not have been kept."""


class _GroupCommit:
    """Application-level group commit: writes that queue up while one transaction runs are
    done together, as ONE transaction with one COMMIT (one WAL flush) for all of them.

    Each work keeps its own all-or-nothing outcome: if any work of a batch raises, the whole
    transaction is rolled back (nothing of the batch is kept) and every work of it is run again
    alone, on the ordinary one-write-one-transaction path, with the ordinary retries. A work's
    result is handed back only after its COMMIT succeeded, so a 201 is as durable as before,
    and a read after ``write`` returns sees it. If the COMMIT itself fails, nobody can tell
    whether it was kept: the error goes to every caller of the batch and nothing is run again.
    One batch runs at a time per process; the batch is taken from the queue in arrival order.
    """

    def __init__(self, db: Database, max_batch: int) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: collections.deque[tuple[Callable[[AsyncConnection], Awaitable[Any]], asyncio.Future[Any]]] = collections.deque()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((work, future))
        if self._task is None or self._task.done():
            # A task of its own, started outside any transaction, in an empty context (the log
            # lines of a batch belong to no single request), with its own connections.
            self._task = loop.create_task(self._drain(), context=contextvars.Context())
        result = await future
        if result is _RUN_ALONE:
            return await self._db._write_alone(work)
        return result  # type: ignore[no-any-return]

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = []
                while self._queue and len(batch) < self._max_batch:
                    work, future = self._queue.popleft()
                    if not future.done():  # the caller went away before its turn
                        batch.append((work, future))
                if not batch:
                    continue
                try:
                    if len(batch) == 1:
                        results = [await self._db._write_alone(batch[0][0])]
                    else:
                        results = await self._db._write_batch([work for work, _ in batch])
                except _RunAlone:
                    for _, future in batch:
                        _settle(future, _RUN_ALONE)
                except Exception as error:
                    for _, future in batch:
                        _settle(future, error=error)
                    if isinstance(error, ServiceUnavailable):
                        # The database is gone or stuck: the writes queued meanwhile would
                        # each wait for their own timeout; answer them now (503, Retry-After).
                        while self._queue:
                            _settle(self._queue.popleft()[1], error=ServiceUnavailable())
                else:
                    for (_, future), result in zip(batch, results, strict=True):
                        _settle(future, result)
        finally:
            # Cancelled (shutdown): whoever still waits runs alone rather than hanging.
            while self._queue:
                _settle(self._queue.popleft()[1], _RUN_ALONE)


_RUN_ALONE = object()


def _after_failed_batch(error: Exception, size: int) -> Exception:
    """What the callers of a batch that was rolled back get: 503 when the database cannot be
    reached or timed out (running each write again would only wait out the timeout again),
    else an order to run each write alone, where its own error (sold out, duplicate key, ...)
    or a retry of a lost race decides its answer."""
    if isinstance(error, ServiceUnavailable) or (is_unavailable(error) and not is_contention(error)):
        log.warning("group commit of %d writes failed: database unavailable (%s)", size, type(error).__name__)
        return error if isinstance(error, ServiceUnavailable) else ServiceUnavailable()
    log.info("group commit of %d writes rolled back (%s), running them one by one", size, type(error).__name__)
    return _RunAlone()


def _settle(future: asyncio.Future[Any], result: Any = None, *, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


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
        self._group_commit = _GroupCommit(self, max_batch) if group_commit and max_batch > 1 else None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        engine = create_engine(settings)
        # An in-memory SQLite database lives in its one connection: no second pool there.
        in_memory = settings.is_sqlite and settings.sqlite_path is None
        # The write pool checks a connection before lending it (PostgreSQL): after a database
        # restart its idle connections are dead, and no read goes through it to find that out.
        # One round trip per transaction, outside any lock, shared by a whole batch.
        write_engine = engine if in_memory else create_engine(
            settings, pool_size=min(WRITE_POOL_SIZE, settings.pool_size), pre_ping=not settings.is_sqlite)
        return cls(engine, retries=settings.contention_retries, group_commit=settings.group_commit,
                   max_batch=MAX_BATCH[engine.dialect.name], write_engine=write_engine)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()

    @asynccontextmanager
    async def _connection(self, engine: AsyncEngine | None = None) -> AsyncIterator[AsyncConnection]:
        try:
            async with (engine or self.engine).connect() as conn:
                yield conn
        except Exception as error:
            if is_unavailable(error) and not is_contention(error):
                raise ServiceUnavailable() from error
            raise

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Runs read-only work; each statement sees committed data."""
        async with self._connection() as conn:
            return await work(conn)

    async def write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Runs ``work`` as one transaction, retrying it when it loses a race for a lock.

        On PostgreSQL ``work`` must be a single statement (alone it runs in autocommit). On
        SQLite it may be several, inside BEGIN IMMEDIATE. ``work`` may run more than once (a
        retry, or a group-commit batch that was rolled back), so it must only touch the
        database through ``conn`` and return what it read.
        """
        if self._group_commit is not None:
            return await self._group_commit.submit(work)
        return await self._write_alone(work)

    async def _write_alone(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        for attempt in range(self.retries + 1):
            try:
                if self._write_lock is None:
                    async with self._connection(self.write_engine) as conn:
                        return await work(conn)
                async with self._write_lock:
                    return await self._sqlite_transaction(work)
            except Exception as error:
                if not is_contention(error) or attempt == self.retries:
                    if is_contention(error):
                        raise ServiceUnavailable() from error
                    raise
                log.info("write lost a race (attempt %d), retrying", attempt + 1)
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise AssertionError("unreachable")

    async def _sqlite_transaction(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self._connection(self.write_engine) as conn:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                result = await work(conn)
            except BaseException:
                await conn.rollback()
                raise
            await conn.commit()
            return result

    async def _write_batch(self, works: list[Callable[[AsyncConnection], Awaitable[Any]]]) -> list[Any]:
        """All ``works`` in ONE transaction. Raises _RunAlone when it was rolled back."""
        if self._write_lock is not None:
            async with self._write_lock:
                return await self._sqlite_batch(works)
        return await self._pg_batch(works)

    async def _sqlite_batch(self, works: list[Callable[[AsyncConnection], Awaitable[Any]]]) -> list[Any]:
        try:
            async with self._connection(self.write_engine) as conn:
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
        except Exception as error:
            raise _after_failed_batch(error, len(works)) from error

    async def _pg_batch(self, works: list[Callable[[AsyncConnection], Awaitable[Any]]]) -> list[Any]:
        # The engine runs in autocommit; the batch opens its own transaction on the driver's
        # connection, and each work's statement runs inside it.
        try:
            async with self._connection(self.write_engine) as conn:
                raw = (await conn.get_raw_connection()).driver_connection
                try:
                    await raw.execute("BEGIN")
                except BaseException:
                    await conn.invalidate()  # nothing was sent on it that could have been kept
                    raise
                try:
                    results = [await work(conn) for work in works]
                except BaseException as error:
                    if isinstance(error, Exception) and not is_unavailable(error):
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
                    raise RuntimeError(f"group commit ended in {status}")
                return results
        except _CommitUncertain as error:
            # Whether it was kept is unknown: run nothing again, tell every caller.
            log.warning("group commit of %d writes: COMMIT failed (%r)", len(works), error.__cause__)
            raise ServiceUnavailable() from error.__cause__
        except Exception as error:
            raise _after_failed_batch(error, len(works)) from error

    async def ping(self, timeout: float) -> bool:
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
