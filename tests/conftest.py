"""Fixtures shared by the suite: a migrated database per backend, the in-process app on it and
clients for it, and apps built with settings of a test's own. The plain functions behind them
live in tests/support/."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.support.api import in_process_client
from tests.support.databases import BACKENDS, create_pg_database, drop_pg_database, make_database, require_postgres, wipe
from tests.support.server import ServerProcess
from tests.support.settings import settings_for
from ticketing.api.app import create_app


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = make_database(request.param, tmp_path_factory.mktemp(request.param))
    yield url
    if request.param == "postgres":
        drop_pg_database(url)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """An empty PostgreSQL database of the test's own (not migrated), dropped afterwards."""
    require_postgres()
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="session")
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(settings_for(database_url))
    yield application
    await application.state.services.db.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client on empty tables: each test starts from nothing."""
    await wipe(app.state.services.db)
    async with in_process_client(app) as http:
        yield http


@pytest.fixture(scope="module")
async def module_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """One client for a whole module whose tests share what a module fixture set up (the tables
    are emptied once, before): for batteries of hundreds of cases that each change nothing."""
    await wipe(app.state.services.db)
    async with in_process_client(app) as http:
        yield http


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real `ticketing serve` on an SQLite file of its own, for what only a socket shows; its
    tests are marked slow. Tests that need a fresh server or another backend start their own."""
    directory = tmp_path_factory.mktemp("live")
    server = ServerProcess(f"sqlite:///{directory / 'live.db'}", log_path=directory / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def make_app(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[FastAPI]]]:
    """``await make_app(**overrides)``: an app with the test settings changed by ``overrides``, on
    a fresh migrated SQLite file unless ``database_url`` is among them; disposed after the test."""
    built: list[FastAPI] = []

    async def make(**overrides: Any) -> FastAPI:
        if "database_url" not in overrides:
            directory = tmp_path / f"app{len(built)}"
            directory.mkdir()
            # Alembic runs its own event loop: not on this one.
            overrides["database_url"] = await asyncio.to_thread(make_database, "sqlite", directory)
        application = create_app(settings_for(**overrides))
        built.append(application)
        return application

    yield make
    for application in built:
        await application.state.services.db.dispose()


@pytest.hookimpl(tryfirst=True)  # before `-m` selects, so that "not slow" leaves the browser tests out
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)  # they start `ticketing serve` (and a web build)
            # One worker runs them all (-n 2): they share the session's web build and servers.
            item.add_marker(pytest.mark.xdist_group("browser"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under --dist loadgroup xdist marks a grouped test's node id with "@group"; on pytest 9.2 it
    silently cannot (pytest-xdist #1386), and a group's tests would run on both workers at once
    and collide somewhere obscure. Such a test fails here instead, saying why."""
    if getattr(item.config.option, "loadgroup", False) and item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
        pytest.fail("xdist_group marks are not honoured (pytest-xdist #1386): pyproject.toml keeps pytest below 9.2 "
                    "for this", pytrace=False)
