"""Property-based fuzzing of every operation in the service's own OpenAPI schema (schemathesis).

Each operation gets a bounded, derandomized run with a valid admin bearer token (so the
authenticated paths are reached, not just the 401s) and must never answer 5xx, must answer only
the statuses its schema declares, and its bodies and headers must match the declared schemas.
The app runs in-process on schemathesis' own event loop, against SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import tempfile
import concurrent.futures
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ticketing.api.app import create_app
from ticketing.app.accounts import create_admin, register
from ticketing.app.ports import NewEvent
from ticketing.config import Settings
from ticketing.db.migrate import upgrade
from ticketing.domain.models import Booking, BookingRequest, new_ticket_code
from tests.support.databases import IN_CI, create_pg_database, drop_pg_database, postgres_available

SECRET = "schemathesis-secret-key-long-enough-for-hs256"
MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


def _in_thread(factory: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Runs a coroutine on a private loop in another thread, away from any test runner's loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, factory()).result()


def _settings(url: str) -> Settings:
    return Settings(database_url=url, secret_key=SECRET, argon2_time_cost=1, argon2_memory_kib=8192, log_level="CRITICAL")


async def _seed(url: str) -> str:
    """An admin (whose token the run uses), a customer with a booking, and an event on sale."""
    app = create_app(_settings(url))
    services = app.state.services
    try:
        admin = await create_admin(services.store, services.passwords, email="fuzz-admin@example.com", password="fuzz-admin-pw", name="Fuzz Admin")
        customer = await register(services.store, services.passwords, email="fuzz-customer@example.com", password="fuzz-customer-pw", name="Fuzz Customer")
        event = await services.store.events.add(NewEvent(
            name="Fuzz fest", description="", venue="", starts_at=datetime.now(UTC) + timedelta(days=365),
            capacity=1000, price=Decimal("10.00"), currency="THB", max_per_booking=10,
        ))
        booking: Booking = await services.store.bookings.book(
            BookingRequest(customer.id, customer.id, event.id, 2), [new_ticket_code() for _ in range(2)], datetime.now(UTC)
        )
        assert booking.tickets
        return services.tokens.issue(admin.id)  # type: ignore[no-any-return]
    finally:
        await services.db.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("schemathesis") / "fuzz.db"
        yield f"sqlite:///{path}"
        return
    if not postgres_available():
        if IN_CI:
            pytest.fail("PostgreSQL is not reachable, and CI requires it")
        pytest.skip("PostgreSQL is not reachable")
    url = create_pg_database("ticketing_fuzz")
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="module")
def token_and_app(database_url: str) -> Iterator[tuple[str, Any]]:
    upgrade(database_url)
    token = _in_thread(lambda: _seed(database_url))
    app = create_app(_settings(database_url))
    yield token, app
    # schemathesis ran the app's lifespan on its own loop; shutting that down disposes the engine.
    from schemathesis.python import asgi

    asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
def api_schema(token_and_app: tuple[str, Any]) -> Any:
    _, app = token_and_app
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _operations() -> list[tuple[str, str]]:
    # The schema depends on code only, so an app that never touches its database can list it.
    spec = create_app(_settings(f"sqlite:///{tempfile.gettempdir()}/ticketing-schema-only.db")).openapi()
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda v: v)
def test_operation_conforms_to_its_schema(
    method: str, path: str, mode: GenerationMode, api_schema: Any, token_and_app: tuple[str, Any]
) -> None:
    token, _ = token_and_app
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
