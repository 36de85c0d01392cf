"""The engine, connections for reads and writes, and the contention retry loop."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ticketing.config import Settings
from ticketing.db.errors import is_contention, is_unavailable
from ticketing.db.urls import async_url
from ticketing.domain.errors import ServiceUnavailable

T = TypeVar("T")
log = logging.getLogger(__name__)


def create_engine(settings: Settings) -> AsyncEngine:
    url = async_url(settings.database_url)
    if settings.is_sqlite:
        engine = create_async_engine(
            url,
            pool_size=settings.pool_size,
            max_overflow=0,
            pool_timeout=settings.pool_timeout,
            connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
        )
        _prepare_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    return create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=0,
        pool_timeout=settings.pool_timeout,
        # Every statement here is its own transaction: one round trip, no BEGIN/COMMIT.
        isolation_level="AUTOCOMMIT",
        connect_args={
            "timeout": settings.connect_timeout,
            "command_timeout": settings.statement_timeout,
            "server_settings": {"application_name": "ticketing"},
        },
    )


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


class Database:
    def __init__(self, engine: AsyncEngine, *, retries: int = 8) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.retries = retries
        # SQLite has one writer at a time: queue writers of this process here, where waiting
        # is cheap, rather than in SQLite's busy handler, which sleeps and polls.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(create_engine(settings), retries=settings.contention_retries)

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.engine.connect() as conn:
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

        On PostgreSQL ``work`` must be a single statement (it runs in autocommit). On SQLite it
        may be several, inside BEGIN IMMEDIATE.
        """
        for attempt in range(self.retries + 1):
            try:
                if self._write_lock is None:
                    async with self._connection() as conn:
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
        async with self._connection() as conn:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                result = await work(conn)
            except BaseException:
                await conn.rollback()
                raise
            await conn.commit()
            return result

    async def ping(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await self.read(lambda conn: conn.execute(text("SELECT 1")))
            return True
        except Exception:
            return False
