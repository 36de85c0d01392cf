"""503 when no connection can be had in time; secret key handling; the SPA fallback."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.support.api import in_process_client
from tests.support.settings import settings_for
from ticketing.config import ConfigError, Settings
from ticketing.db.migrate import upgrade

MakeApp = Callable[..., Awaitable[FastAPI]]


async def test_exhausted_pool_answers_503_with_retry_after(make_app: MakeApp) -> None:
    app = await make_app(pool_size=1, pool_timeout=0.2)
    engine = app.state.services.db.engine
    async with in_process_client(app) as client:
        assert (await client.get("/api/v1/events")).status_code == 200
        async with engine.connect():  # the only connection, held
            busy = await client.get("/api/v1/events")
            not_ready = await client.get("/readyz")
        assert busy.status_code == 503
        assert busy.json() == {"detail": busy.json()["detail"], "code": "unavailable"}
        assert int(busy.headers["Retry-After"]) > 0
        assert not_ready.status_code == 503 and not_ready.json()["code"] == "unavailable"
        assert (await client.get("/api/v1/events")).status_code == 200


def test_sqlite_key_is_generated_once_and_private(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'k.db'}", secret_key=None)
    key = settings.signing_key()
    key_file = tmp_path / "k.db.secret"
    assert len(key) >= 32 and key_file.read_text() == key
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert Settings(database_url=f"sqlite:///{tmp_path / 'k.db'}", secret_key=None).signing_key() == key


def test_postgres_without_a_key_refuses_to_start():
    with pytest.raises(ConfigError, match="TICKETING_SECRET_KEY"):
        Settings(database_url="postgresql://postgres@127.0.0.1/x", secret_key=None).signing_key()


async def test_web_app_is_served_with_deep_links(make_app: MakeApp, tmp_path: Path) -> None:
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<app-root></app-root>")
    (web / "assets" / "main.js").write_text("console.log(1)")
    app = await make_app(web_dir=web)
    async with in_process_client(app) as client:
        assert (await client.get("/")).text == "<app-root></app-root>"
        assert (await client.get("/events/12")).text == "<app-root></app-root>"
        assert (await client.get("/assets/main.js")).text == "console.log(1)"
        assert (await client.get("/assets/missing.js")).status_code == 404
        assert (await client.get("/../../etc/passwd")).status_code in (404, 200)
        assert "root:" not in (await client.get("/%2e%2e/%2e%2e/etc/passwd")).text
        api_404 = await client.get("/api/v1/unknown")
        assert api_404.status_code == 404 and api_404.json()["code"] == "not_found"
        assert (await client.get("/api/v1/events")).status_code == 200


async def test_ping_answers_at_its_timeout_even_if_clean_up_is_slow(tmp_path):
    import time

    from ticketing.db.database import Database

    url = f"sqlite:///{tmp_path / 'ping.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database.from_settings(settings_for(url))
    assert await db.ping(timeout=2)

    async def stuck(work):  # type: ignore[no-untyped-def]
        try:
            await asyncio.sleep(60)
        finally:
            await asyncio.shield(asyncio.sleep(1.5))  # a slow close, as asyncpg's is

    db.read = stuck  # type: ignore[method-assign]
    started = time.monotonic()
    assert not await db.ping(timeout=0.2)
    assert time.monotonic() - started < 1.0
    await db.dispose()
