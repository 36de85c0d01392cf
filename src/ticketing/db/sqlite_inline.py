"""SQLite without a thread hop per call: an aiosqlite connection that runs some calls inline.

aiosqlite runs every driver call (cursor, execute, fetch, close, rollback) on its thread and
hands the result back through the event loop: about 30 thread hops and 70 context switches
per booking, most of the service's CPU on SQLite. The calls that cannot wait run inline on
the event loop instead (microseconds each): everything inside BEGIN IMMEDIATE (this
connection already holds the write lock), lone SELECTs (WAL readers read a snapshot and do
not wait for writers), fetches, cursor open/close and ROLLBACK. What can wait stays on the
thread: BEGIN (waits for the write lock, up to busy_timeout), COMMIT (the WAL fsync and
checkpoints), writes outside a transaction, connecting and closing.

This overrides aiosqlite's private ``Connection._execute`` and reads its private
``_connection``, ``_running`` and ``_thread``: tests/unit/test_sqlite_inline_pin.py fails when
an aiosqlite upgrade changes them, and pyproject.toml pins the version that test checked.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Any

import aiosqlite

# Only when the sqlite3 module may be used from more than one thread.
AVAILABLE = sqlite3.threadsafety > 0
_INLINE_CURSOR_CALLS = frozenset({"fetchone", "fetchmany", "fetchall", "close"})


class InlineSqliteConnection(aiosqlite.Connection):
    async def _execute(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]  # aiosqlite's own is unannotated
        connection = self._connection
        if connection is not None and self._running and runs_inline(connection, fn, args):
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]  # as above


def runs_inline(connection: sqlite3.Connection, fn: Any, args: tuple[Any, ...]) -> bool:
    """Whether the driver call ``fn(*args)`` on ``connection`` may run on the event loop."""
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


def connect(database: str, **kwargs: Any) -> aiosqlite.Connection:
    """The ``async_creator_fn`` for SQLAlchemy's aiosqlite dialect."""
    # The sqlite3 connection is made on aiosqlite's thread and also used from the event loop's
    # thread, never by both at once (one coroutine owns a pooled connection at a time).
    kwargs["check_same_thread"] = False
    connection = InlineSqliteConnection(partial(sqlite3.connect, database, **kwargs), 64)
    connection._thread.daemon = True
    return connection
