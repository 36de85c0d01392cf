"""End-to-end fixtures: a built web app, a real `ticketing serve`, and Debian's headless Chromium."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.e2e.api import Api
from tests.e2e.browser import CHROMIUM_ARGS, ensure_chromium, ensure_thai_font
from tests.support.credentials import PASSWORD
from tests.support.server import run_cli, run_server

ROOT = Path(__file__).resolve().parents[2]
WEB_INDEX = ROOT / "web" / "dist" / "web" / "browser" / "index.html"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ADMIN_EMAIL = "admin@e2e.example.com"
# Long enough to see the countdown and take its screenshots, short enough to wait for.
SHORT_HOLD_SECONDS = 30


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    name: str


@pytest.fixture(scope="session")
def web_app() -> Path:
    """Builds the app (quick when up to date); without a build the tests fail, never skip."""
    subprocess.run([str(ROOT / "scripts" / "web-build")], check=True, timeout=900)
    if not WEB_INDEX.is_file():
        pytest.fail(f"the web app was not built: {WEB_INDEX} is missing (is Node >= 20.19 installed?)")
    return WEB_INDEX


@pytest.fixture(scope="session")
def base_url(web_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'ticketing.db'}"
    run_cli(database_url, "create-admin", "--email", ADMIN_EMAIL, "--password", PASSWORD, "--name", "Door Staff")
    with run_server(database_url) as url:
        yield url


@pytest.fixture(scope="session")
def api(base_url: str) -> Iterator[Api]:
    client = Api(base_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def admin() -> Account:
    return Account(ADMIN_EMAIL, PASSWORD, "Door Staff")


@pytest.fixture(scope="session")
def admin_token(api: Api, admin: Account) -> str:
    return api.token(admin.email, admin.password)


@pytest.fixture
def new_account(api: Api) -> Callable[[], Account]:
    """A fresh registered customer (registration itself is tested through the UI)."""

    def make() -> Account:
        account = Account(f"fan-{uuid.uuid4().hex[:10]}@e2e.example.com", PASSWORD, "E2E Fan")
        api.register(account.email, account.password, account.name)
        return account

    return make


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, and a Thai font for the screenshots: installed once, when missing."""
    ensure_thai_font()
    return ensure_chromium()


# Per module, not per session: Playwright's sync API keeps an event loop running on the main thread
# while it lives, and no asyncio test can run in that process until it stops; the worker that runs
# the browser tests (-n 2) runs asyncio tests after them.
@pytest.fixture(scope="module")
def playwright_driver(chromium: Path) -> Iterator[Playwright]:
    """One Playwright for the module (Chromium installed first): tests that need a Chromium with
    other flags launch their own."""
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright, chromium: Path) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
    yield launched
    launched.close()


@pytest.fixture
def new_page(browser: Browser, base_url: str) -> Iterator[Callable[..., Page]]:
    """Opens pages in separate browser contexts (separate sessions), closed after the test; `url`
    points one at another server (the shop's)."""
    contexts: list[BrowserContext] = []

    def make(viewport: dict[str, int] | None = None, locale: str = "en-GB", url: str | None = None) -> Page:
        context = browser.new_context(
            base_url=url or base_url,
            viewport=viewport or {"width": 1280, "height": 900},
            locale=locale,
            timezone_id="Asia/Bangkok",
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def shot() -> Callable[[Page, str], Path]:
    """Saves a full-page screenshot under tests/e2e/artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page: Page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@dataclass(frozen=True)
class Shop:
    """A server with the checkout's test settings, its API client and its admin's token."""

    url: str
    api: Api
    admin_token: str


@contextmanager
def shop_server(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Iterator[Shop]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('e2e-shop') / 'ticketing.db'}"
    run_cli(database_url, "create-admin", "--email", ADMIN_EMAIL, "--password", PASSWORD, "--name", "Door Staff")
    with run_server(database_url, env=env) as url:
        client = Api(url)
        try:
            yield Shop(url, client, client.token(ADMIN_EMAIL, PASSWORD))
        finally:
            client.close()


@pytest.fixture(scope="session")
def shop(web_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """The service with development payments on (its page plays the payment provider)."""
    with shop_server(tmp_path_factory, {"TICKETING_DEV_PAYMENTS": "true"}) as server:
        yield server


@pytest.fixture(scope="session")
def short_hold_shop(web_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """Every hold lasts SHORT_HOLD_SECONDS (TICKETING_HOLD_SECONDS), to watch one expire."""
    env = {"TICKETING_DEV_PAYMENTS": "true", "TICKETING_HOLD_SECONDS": str(SHORT_HOLD_SECONDS)}
    with shop_server(tmp_path_factory, env) as server:
        yield server
