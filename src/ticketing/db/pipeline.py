"""PostgreSQL: one statement run for many writes in ONE round trip (the bookings of a batch).

A group-commit batch used to be BEGIN, one round trip per booking, COMMIT: the first booking
locks its event's sales row, and the row stays locked while every later booking and the COMMIT
travel to the server and back. Behind PgBouncer each of those trips is two more hops, so the
hot row's lock was held mostly for the network. ``run_many`` sends the batch as asyncpg's
``fetchmany``: one Bind/Execute per call and a single Sync. Outside a transaction block
PostgreSQL runs everything before the Sync as ONE implicit transaction, committed at the Sync,
so the row is locked only while the server itself works, and an error in any call rolls the
whole batch back (then each runs alone, as before: group_commit.py).

The statement is prepared once per connection and kept in the connection's ``info``: a named
server-side statement when asyncpg's statement cache is on; behind a pooler in transaction mode
(cache off, engine.py) an unnamed one that asyncpg parses again inside every pipeline, so each
round trip is self-contained on whichever server connection PgBouncer gives it.

Driver errors come out as SQLAlchemy's (IntegrityError, OperationalError, ...), exactly as a
statement run through SQLAlchemy would raise them, so errors.py sorts them the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")
_PREPARED = "ticketing.pipeline.prepared"


@dataclass(frozen=True, eq=False)
class PgCall(Generic[T]):
    """A write that is one PostgreSQL statement (``$n`` parameters) answering exactly ONE row,
    which ``decode`` turns into the write's result. Called with a connection it runs alone, as
    any write does; ``Database`` runs a batch of calls of the same statement with ``run_many``."""

    sql: str
    args: tuple[Any, ...]
    decode: Callable[[Any], T]

    async def __call__(self, conn: AsyncConnection) -> T:
        return self.decode((await run_many(conn, [self]))[0])


async def run_many(conn: AsyncConnection, calls: Sequence[PgCall[Any]]) -> list[Any]:
    """Runs ``calls`` (all of one statement) in order in one round trip; their rows, undecoded.

    Outside a transaction block they are one transaction, committed when this returns: whatever
    fails after that (decoding) must not make the caller run them again."""
    sql = calls[0].sql
    if any(call.sql != sql for call in calls):
        raise ValueError("run_many runs one statement")
    fairy = await conn.get_raw_connection()
    driver = fairy.driver_connection
    assert driver is not None  # a connection checked out of the pool is open
    prepared: dict[str, Any] = conn.info.setdefault(_PREPARED, {})
    try:
        statement = prepared.get(sql)
        if statement is None:
            statement = prepared[sql] = await driver.prepare(sql)
        records: list[Any] = await statement.fetchmany([call.args for call in calls])
    except Exception as error:
        raise await _as_sqlalchemy_error(conn, fairy.dbapi_connection, sql, error) from error
    return records


async def _as_sqlalchemy_error(conn: AsyncConnection, adapted: Any, sql: str, error: Exception) -> Exception:
    """The error SQLAlchemy would have raised for ``error``; a lost connection is invalidated
    (as SQLAlchemy does), so the pool never lends it again."""
    dbapi = conn.dialect.loaded_dbapi
    dbapi_error: Exception = error
    try:
        adapted._handle_exception(error)  # SQLAlchemy's asyncpg adapter: raises the DB-API error
    except Exception as translated:  # whatever it raised is what we wrap
        dbapi_error = translated
    if not isinstance(dbapi_error, dbapi.Error):
        return error  # a timeout or the like: errors.py knows it as it is
    lost = conn.dialect.is_disconnect(dbapi_error, adapted, None)
    if lost:
        await conn.invalidate()
    return DBAPIError.instance(sql, None, dbapi_error, dbapi.Error, connection_invalidated=lost, dialect=conn.dialect)
