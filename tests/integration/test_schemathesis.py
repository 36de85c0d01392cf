"""Property-based fuzzing of every operation in the service's own OpenAPI schema (schemathesis 4).

Each operation runs schemathesis' examples, coverage (boundary values, wrong types, nulls,
unsupported methods) and fuzzing phases, with valid and invalid data, derandomized and bounded.
Requests carry a valid admin bearer token, so the authenticated paths are reached and not only
the 401s. Every answer must: not be a 5xx; have a status the schema declares for the operation;
match the declared body schema, content type and headers; and reject data the schema calls
invalid. (schemathesis' ignored_auth check skips OAuth2 schemes; test_hostile.py checks every
secured operation without a token instead.) The app runs in-process on schemathesis' own event
loop, against SQLite and against PostgreSQL.

The schema is the one the app serves at /openapi.json; it depends on code only, so it is read
at import from an app that never opens its database.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.databases import temporary_database
from ticketing.api.app import create_app
from ticketing.app.accounts import create_admin, register
from ticketing.app.ports import NewEvent
from ticketing.config import Settings
from ticketing.db.migrate import upgrade
from ticketing.domain.models import BookingRequest, new_ticket_code

SECRET = "schemathesis-secret-key-long-enough-for-hs256"
# Fuzzing examples per operation; the coverage and examples phases add their own, bounded, cases.
MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url, secret_key=SECRET, argon2_time_cost=1, argon2_memory_kib=8192, log_level="WARNING"
    )


SPEC = create_app(_settings(f"sqlite:///{tempfile.gettempdir()}/ticketing-schema-only.db")).openapi()
schema = schemathesis.openapi.from_dict(SPEC)
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE], deterministic=True
)


def _in_thread(factory: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Runs a coroutine on a private loop in another thread, away from any test runner's loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, factory()).result()


async def _seed(url: str) -> str:
    """An admin (whose token the run uses), a customer with a booking, an event on sale."""
    app = create_app(_settings(url))
    services = app.state.services
    try:
        admin = await create_admin(
            services.store, services.passwords, email="fuzz-admin@example.com", password="fuzz-admin-pw", name="Fuzz"
        )
        customer = await register(
            services.store, services.passwords, email="fuzz-customer@example.com", password="fuzz-customer-pw",
            name="Fuzz Customer",
        )
        event = await services.store.events.add(NewEvent(
            name="Fuzz fest", description="", venue="", starts_at=datetime.now(UTC) + timedelta(days=365),
            capacity=1000, price=Decimal("10.00"), currency="THB", max_per_booking=10,
        ))
        await services.store.bookings.book(
            BookingRequest(customer.id, customer.id, event.id, 2), [new_ticket_code() for _ in range(2)],
            datetime.now(UTC),
        )
        return services.tokens.issue(admin.id)  # type: ignore[no-any-return]
    finally:
        await services.db.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with temporary_database(request.param, tmp_path_factory.mktemp("schemathesis"), "ticketing_fuzz") as url:
        yield url

@pytest.fixture(scope="module")
def fuzz_target(fuzz_database_url: str) -> Iterator[tuple[str, FastAPI]]:
    """A migrated, seeded database; the admin's token; the app under test."""
    upgrade(fuzz_database_url)
    token = _in_thread(lambda: _seed(fuzz_database_url))
    app = create_app(_settings(fuzz_database_url))
    assert app.openapi() == SPEC, "the served schema differs from the one the tests were generated from"
    yield token, app
    # schemathesis ran the app's lifespan on its own loop; ending it disposes the app's engine.
    asgi.shutdown_lifespans()


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_operation_conforms_to_its_schema(case: schemathesis.Case, fuzz_target: tuple[str, FastAPI]) -> None:
    token, app = fuzz_target
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
