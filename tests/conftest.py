"""Fixtures shared by the suite: a migrated database per backend and an in-process API client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import text

from tests.support.databases import create_pg_database, drop_pg_database, require_postgres
from tests.support.server import TEST_ENV
from ticketing.api.app import create_app
from ticketing.config import Settings
from ticketing.db.migrate import upgrade

BACKENDS = ("sqlite", "postgres")


def make_database(backend: str, tmp_dir) -> str:  # type: ignore[no-untyped-def]
    if backend == "sqlite":
        url = f"sqlite:///{tmp_dir / 'ticketing.db'}"
    else:
        require_postgres()
        url = create_pg_database()
    upgrade(url)
    return url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = make_database(request.param, tmp_path_factory.mktemp(request.param))
    yield url
    if request.param == "postgres":
        drop_pg_database(url)


def settings_for(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_ENV["TICKETING_SECRET_KEY"],
        argon2_time_cost=int(TEST_ENV["TICKETING_ARGON2_TIME_COST"]),
        argon2_memory_kib=int(TEST_ENV["TICKETING_ARGON2_MEMORY_KIB"]),
        log_level="WARNING",
    )


@pytest.fixture(scope="session")
async def app(database_url: str) -> AsyncIterator:  # type: ignore[type-arg]
    application = create_app(settings_for(database_url))
    yield application
    await application.state.services.db.dispose()


_TABLES = ("sign_in_failures", "tickets", "bookings", "events", "users")


async def wipe(app) -> None:  # type: ignore[no-untyped-def]
    db = app.state.services.db
    async with db.engine.connect() as conn:
        if db.is_sqlite:
            for table in _TABLES:
                await conn.exec_driver_sql(f"DELETE FROM {table}")
            await conn.commit()
        else:
            await conn.execute(text(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    await wipe(app)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.7", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Playwright's sync API keeps an event loop running on the main thread while its browser
    # lives, and no asyncio test can run after that: the browser tests go last.
    items.sort(key=lambda item: "e2e" in item.path.parts)
