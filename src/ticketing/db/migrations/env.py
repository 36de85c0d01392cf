"""Alembic environment: runs migrations on the async engine of either database."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ticketing.db.tables import metadata
from ticketing.db.urls import async_url

# Any constant will do: it only has to be the same for every process that migrates.
_MIGRATION_LOCK = 7_246_339_581


def _run(connection: Connection) -> None:
    is_pg = connection.dialect.name == "postgresql"
    if is_pg:
        # Two servers starting at once must not both migrate.
        connection.execute(text(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})"))
    else:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        # Table rebuilds (batch mode) must not cascade deletes into child tables.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=not is_pg)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if is_pg:
        connection.execute(text(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})"))
        connection.commit()
    else:
        problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"foreign key check failed after migration: {problems[:5]}")


async def _main() -> None:
    url: str | None = context.config.attributes.get("database_url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database URL: run migrations through `ticketing migrate`")
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported")
asyncio.run(_main())
