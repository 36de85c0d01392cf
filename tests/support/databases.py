"""Throwaway databases for tests: an SQLite file, or a PostgreSQL database made and dropped;
migrated or empty; and emptied again between tests."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from ticketing.db.database import Database
from ticketing.db.migrate import upgrade

PG_ADMIN_URL = os.environ.get("TICKETING_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ("sqlite", "postgres")
# Children first, so that deleting row by row never trips a foreign key.
# Children before parents (SQLite deletes row by row, its foreign keys on).
_TABLES = ("sign_in_failures", "sessions", "payment_events", "customer_usage", "booking_items", "tickets", "bookings",
           "ticket_types", "event_sales", "events", "users")


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used (the error), or None when it answers."""
    try:
        asyncio.run(_admin("SELECT 1"))
        return None
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def create_pg_database(prefix: str = "ticketing_test") -> str:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return _pg_url(name)


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def require_postgres() -> None:
    """Skips without PostgreSQL on a developer's machine; with CI=true its absence is a failure."""
    problem = postgres_problem()
    if problem is None:
        return
    message = f"PostgreSQL at 127.0.0.1:5432 is not reachable ({problem})"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a missing database is a failure)")
    pytest.skip(message)


@contextmanager
def temporary_database(backend: str, tmp_dir: Path, prefix: str = "ticketing_test") -> Iterator[str]:
    """An empty database (not migrated) of either backend, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_dir / f'{prefix}.db'}"
        return
    require_postgres()
    url = create_pg_database(prefix)
    try:
        yield url
    finally:
        drop_pg_database(url)


def make_database(backend: str, tmp_dir: Path) -> str:
    """A migrated database of either backend; a PostgreSQL one is the caller's to drop."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_dir / 'ticketing.db'}"
    else:
        require_postgres()
        url = create_pg_database()
    upgrade(url)
    return url


async def wipe(db: Database) -> None:
    """Empties every table, so that a test starts from nothing whatever ran before it."""
    async with db.engine.connect() as conn:
        if db.is_sqlite:
            present = {row[0] for row in (await conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('alembic_version', 'sqlite_sequence')"
            )).all()}
            for table in [*(t for t in present if t not in _TABLES), *_TABLES]:  # tables added later go first
                await conn.exec_driver_sql(f"DELETE FROM {table}")
            await conn.commit()
        else:
            present = (await conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
            ))).scalars().all()
            await conn.execute(text(f"TRUNCATE {', '.join(present)} RESTART IDENTITY CASCADE"))


async def pg_rows(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    """``query`` on a connection of its own (autocommitted), outside whatever the test runs."""
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def deadlocks_after_others_left(url: str) -> int:
    """PostgreSQL's deadlock count for this database, once every other session on it is gone.

    A backend adds its deadlocks to pg_stat_database when idle or at exit; waiting until the
    servers' (or engines') sessions have ended makes the count complete.
    """
    conn = await asyncpg.connect(url)
    try:
        others = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        for _ in range(300):
            if await conn.fetchval(others) == 0:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("other sessions on the test database did not end within 30 s")
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        return int(await conn.fetchval("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"))
    finally:
        await conn.close()
