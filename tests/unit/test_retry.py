"""The write path retries lost lock races a bounded number of times, and only those."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from ticketing.db.database import Database
from ticketing.domain.errors import ServiceUnavailable


def _locked() -> OperationalError:
    return OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))


@pytest.fixture
async def db(tmp_path):  # type: ignore[no-untyped-def]
    database = Database(create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"), retries=3)
    yield database
    await database.dispose()


async def test_busy_database_is_retried_until_it_succeeds(db):
    attempts = []

    async def work(conn):  # type: ignore[no-untyped-def]
        attempts.append(1)
        if len(attempts) < 3:
            raise _locked()
        return "booked"

    assert await db.write(work) == "booked" and len(attempts) == 3


async def test_retries_are_bounded_and_end_in_unavailable(db):
    attempts = []

    async def work(conn):  # type: ignore[no-untyped-def]
        attempts.append(1)
        raise _locked()

    with pytest.raises(ServiceUnavailable):
        await db.write(work)
    assert len(attempts) == 4


async def test_other_errors_are_not_retried(db):
    attempts = []

    async def work(conn):  # type: ignore[no-untyped-def]
        attempts.append(1)
        raise IntegrityError("INSERT ...", {}, sqlite3.IntegrityError("exceeds available capacity"))

    with pytest.raises(IntegrityError):
        await db.write(work)
    assert len(attempts) == 1
