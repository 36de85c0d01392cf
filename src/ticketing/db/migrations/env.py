"""Alembic environment: runs migrations on the async engine of either database."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ticketing.db.engine import TRANSACTION_POOLER_ARGS
from ticketing.db.tables import metadata
from ticketing.db.urls import async_url

# Any constant will do: it only has to be the same for every process that migrates.
_MIGRATION_LOCK = 7_246_339_581


def _run(connection: Connection) -> None:
    is_pg = connection.dialect.name == "postgresql"
    if not is_pg:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        # Table rebuilds (batch mode) must not cascade deletes into child tables.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=not is_pg)
    with context.begin_transaction():
        if is_pg:
            # Two servers starting at once must not both migrate. A transaction-level lock, held
            # by the migration's own transaction and released by its COMMIT or ROLLBACK: behind
            # PgBouncer in transaction mode a session-level lock's unlock could run on another
            # server connection and leave the lock held for good.
            connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
        context.run_migrations()
    connection.commit()
    if not is_pg:
        problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"foreign key check failed after migration: {problems[:5]}")


async def _main() -> None:
    url: str | None = context.config.attributes.get("database_url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database URL: run migrations through `ticketing migrate`")
    # The migration runs in one transaction, but its statements must not outlive it either
    # (PgBouncer in transaction mode): no statement caches, whatever the pooler (engine.py).
    target = async_url(url)
    connect_args = TRANSACTION_POOLER_ARGS if target.get_backend_name() == "postgresql" else {}
    engine = create_async_engine(target, poolclass=NullPool, connect_args=connect_args)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported")
asyncio.run(_main())
