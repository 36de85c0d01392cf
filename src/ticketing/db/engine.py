"""The SQLAlchemy engines: pools, connect arguments and the per-connection SQLite set-up."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from ticketing.config import Settings
from ticketing.db import sqlite_inline
from ticketing.db.urls import async_url

# Writes get a pool of their own: a group-commit batch must not queue for a connection behind
# hundreds of reads, and a few writers on one hot row are faster than many.
WRITE_POOL_SIZE = 2

# Behind a pooler in transaction mode (PgBouncer before 1.21 keeps no prepared statements) no
# statement may outlive its transaction, and with autocommit every statement is one. Named
# statements (asyncpg's own __asyncpg_stmt_N__, or the uuid names of SQLAlchemy's PgBouncer
# recipe) outlive it: they collide on, or are missing from, the next server connection PgBouncer
# hands out. So: asyncpg's statement cache off and every statement unnamed (an empty name). asyncpg
# then marks such a statement "unprepared" and sends its Parse again in the very
# Parse/Bind/Execute/Sync that runs it (asyncpg >= 0.29; its FAQ on PgBouncer), so each execution
# is self-contained on whichever server connection runs it. SQLAlchemy's own cache of those
# statement objects stays on: it keeps the column types asyncpg described the first time, so only
# a connection's first use of a statement costs the extra Describe round trip; after that the
# price of this mode is PostgreSQL parsing each statement again (bench/README.md, "Many hosts").
TRANSACTION_POOLER_ARGS: dict[str, object] = {"statement_cache_size": 0, "prepared_statement_name_func": lambda: ""}


def create_private_file(path: Path | None) -> None:
    """Creates the SQLite file readable by its owner only (it holds password hashes), before
    SQLite would create it with the umask's mode; SQLite gives its -wal and -shm files the mode
    of the database file. An existing file is left as it is."""
    if path is None or path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


# The write pool pings a connection before lending it only when it has sat idle this long: after a
# database restart its idle connections are dead, while one given back a moment ago under load was
# alive then. (SQLAlchemy's pool_pre_ping pinged before every batch: a round trip, two behind a
# pooler in transaction mode, on the hot path; bench/README.md.) A connection that dies within the
# second costs the write on it a 503, which clients retry.
PING_WHEN_IDLE_FOR = 1.0
_GIVEN_BACK_AT = "ticketing.given_back_at"


def create_engine(settings: Settings, *, pool_size: int | None = None, pre_ping: bool = False) -> AsyncEngine:
    url = async_url(settings.database_url)
    pool_size = pool_size or settings.pool_size
    if settings.is_sqlite:
        create_private_file(settings.sqlite_path)
        # An in-memory database lives in its one connection, so it gets a one-connection pool.
        pooling: dict[str, object] = (
            {"poolclass": StaticPool}
            if settings.sqlite_path is None
            else {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": settings.pool_timeout}
        )
        connect_args: dict[str, object] = {"timeout": settings.sqlite_busy_timeout_ms / 1000}
        if settings.sqlite_path is not None and settings.sqlite_inline and sqlite_inline.AVAILABLE:
            connect_args["async_creator_fn"] = sqlite_inline.connect
        engine = create_async_engine(url, connect_args=connect_args, **pooling)
        _prepare_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    connect_args = {
        "timeout": settings.connect_timeout,
        "command_timeout": settings.statement_timeout,
        "server_settings": {"application_name": "ticketing"},
    }
    if settings.database_pooler == "transaction":
        connect_args.update(TRANSACTION_POOLER_ARGS)
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=settings.pool_timeout,
        # Every statement here is its own transaction: one round trip, no BEGIN/COMMIT.
        isolation_level="AUTOCOMMIT",
        connect_args=connect_args,
    )
    if pre_ping:
        _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """SQLAlchemy's documented checkout-event ping, for connections idle PING_WHEN_IDLE_FOR or
    more: a failed ping raises DisconnectionError, and the pool lends a new connection instead."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _given_back(_dbapi_connection: Any, record: Any) -> None:
        record.info[_GIVEN_BACK_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _lent(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        given_back = record.info.get(_GIVEN_BACK_AT)
        if given_back is None or time.monotonic() - given_back < PING_WHEN_IDLE_FOR:
            return  # just connected, or in use a moment ago
        try:
            dbapi_connection.ping()  # the adapter's ping, as pool_pre_ping's
        except Exception as error:
            raise DisconnectionError("a pooled connection was dead") from error


def _prepare_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    # SQLAlchemy's documented recipe: stop the driver from beginning transactions on its own,
    # so that writes can take the lock up front with BEGIN IMMEDIATE.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:  # the driver's own connection
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()
