from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.unit.fakes import FakeStore, PlainPasswords
from ticketing.app.ports import NewEvent
from ticketing.domain.models import Role, User

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def passwords() -> PlainPasswords:
    return PlainPasswords()


async def add_user(store: FakeStore, role: Role = Role.CUSTOMER) -> User:
    return await store.users.add(f"{role.value}{len(store.users.rows)}@example.com", "N", "h", role)


async def add_event(store: FakeStore, capacity: int = 10, max_per_booking: int = 4, starts_in: timedelta = timedelta(days=1)):  # type: ignore[no-untyped-def]
    return await store.events.add(
        NewEvent("Gig", "", "", NOW + starts_in, capacity, Decimal("150.00"), "THB", max_per_booking)
    )
