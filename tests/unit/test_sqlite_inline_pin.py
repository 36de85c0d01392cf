"""db/sqlite_inline.py leans on aiosqlite's private parts; these fail loudly when they change.

If one of these fails after an aiosqlite upgrade: read aiosqlite's new ``Connection`` (its
``_execute``, ``_connection``, ``_running`` and ``_thread``), fix InlineSqliteConnection and
connect() to match, then add the version to CHECKED and move the pin in pyproject.toml.
"""

from __future__ import annotations

import inspect
import sqlite3
import threading
from importlib.metadata import version

import aiosqlite
from sqlalchemy.ext.asyncio import create_async_engine

from ticketing.db import sqlite_inline

# aiosqlite versions whose private API the override was read against.
CHECKED = {"0.22.1"}
INSTALLED = version("aiosqlite")
WHY = f"aiosqlite {INSTALLED}: db/sqlite_inline.py relies on its private Connection API (see this test's docstring)"


def test_the_installed_aiosqlite_is_one_the_override_was_checked_against() -> None:
    assert INSTALLED in CHECKED, f"{WHY}; checked only against {sorted(CHECKED)}"


def test_execute_still_takes_a_function_and_its_arguments() -> None:
    signature = str(inspect.signature(aiosqlite.Connection._execute))
    assert signature == "(self, fn, *args, **kwargs)", f"{WHY}: Connection._execute is now {signature}"
    assert inspect.iscoroutinefunction(aiosqlite.Connection._execute), f"{WHY}: Connection._execute is no longer async"


def test_the_constructor_still_takes_a_connector_and_a_chunk_size() -> None:
    parameters = list(inspect.signature(aiosqlite.Connection.__init__).parameters)
    assert parameters[:3] == ["self", "connector", "iter_chunk_size"], f"{WHY}: Connection.__init__ is now {parameters}"


async def test_a_live_connection_has_the_attributes_the_override_reads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    connection = await sqlite_inline.connect(str(tmp_path / "pin.db"))
    try:
        assert isinstance(connection, sqlite_inline.InlineSqliteConnection)
        assert isinstance(connection._connection, sqlite3.Connection), f"{WHY}: no sqlite3 connection in _connection"
        assert connection._running is True, f"{WHY}: _running is not True on an open connection"
        assert isinstance(connection._thread, threading.Thread), f"{WHY}: _thread is not the worker thread"
        assert connection._thread.daemon, "connect() makes the worker thread a daemon"
        cursor = await connection.execute("SELECT 41 + 1")
        assert await cursor.fetchone() == (42,)
        await cursor.close()
    finally:
        await connection.close()
    assert not connection._running or connection._connection is None, f"{WHY}: a closed connection still looks open"


class _NotingCursor(sqlite3.Cursor):
    """Notes the thread each fetch runs on."""

    threads: list[int]

    def fetchall(self) -> list[object]:
        self.threads.append(threading.get_ident())
        return super().fetchall()


async def test_calls_that_cannot_wait_run_on_the_event_loop_thread(tmp_path) -> None:  # type: ignore[no-untyped-def]
    connection = await sqlite_inline.connect(str(tmp_path / "inline.db"))
    try:
        raw = connection._connection
        assert raw is not None
        cursor = raw.cursor(_NotingCursor)
        cursor.threads = []
        cursor.execute("SELECT 1")
        assert await connection._execute(cursor.fetchall) == [(1,)]
        assert cursor.threads == [threading.get_ident()], f"{WHY}: a fetch no longer runs inline"
        # What can wait still goes to aiosqlite's thread.
        assert await connection._execute(threading.get_ident) != threading.get_ident()
        assert not sqlite_inline.runs_inline(raw, cursor.execute, ("BEGIN IMMEDIATE",))
        cursor.close()
    finally:
        await connection.close()


async def test_sqlalchemy_reads_and_writes_through_the_override(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'sa.db'}", connect_args={"async_creator_fn": sqlite_inline.connect}
    )
    try:
        async with engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert isinstance(raw, sqlite_inline.InlineSqliteConnection)
            await conn.exec_driver_sql("CREATE TABLE t (v INTEGER)")
            await conn.exec_driver_sql("INSERT INTO t VALUES (7)")
            await conn.commit()
            assert (await conn.exec_driver_sql("SELECT v FROM t")).scalar_one() == 7
    finally:
        await engine.dispose()
