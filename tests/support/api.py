"""Small steps that many API tests take: an in-process client, sign up, sign in, make an admin,
create an event, book."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.support.credentials import PASSWORD
from ticketing.app import accounts
from ticketing.db import tables as t
from ticketing.domain.models import Caller

# A documentation address (RFC 5737): the sign-in throttle keys on the caller's address.
CLIENT_ADDRESS = ("203.0.113.7", 4711)
_serial = itertools.count()


def in_process_client(app: Any) -> httpx.AsyncClient:
    """A client that calls the ASGI app directly; an unhandled error is answered 500, as a server would."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=CLIENT_ADDRESS)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_serial)}-{uuid.uuid4().hex[:6]}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


async def customer(client: httpx.AsyncClient, email: str | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Registers a customer; returns (user body, auth headers)."""
    email = email or unique_email()
    response = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "Fan"})
    assert response.status_code == 201, response.text
    return response.json(), await sign_in(client, email)


async def admin(client: httpx.AsyncClient, app: Any) -> dict[str, str]:
    services = app.state.services
    email = unique_email("admin")
    await accounts.create_admin(services.store, services.passwords, email=email, password=PASSWORD, name="Boss",
                                now=datetime.now(UTC))
    return await sign_in(client, email)


async def session_headers(services: Any, user_id: int) -> dict[str, str]:
    """Auth headers for ``user_id`` without a sign-in (no password hashing): a new session, and
    a token for it, as sign-in would issue."""
    now = datetime.now(UTC)
    session_id = await services.store.sessions.start(user_id, now, now + services.tokens.lifetime)
    return bearer(services.tokens.issue(Caller(user_id, session_id), now))


def event_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Jazz Night",
        "description": "Three bands.",
        "venue": "Lumpini Park",
        "starts_at": (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).isoformat(),
        "capacity": 100,
        "price": "1500.00",
        "max_per_booking": 10,
    }
    body.update(overrides)
    return body


async def create_event(client: httpx.AsyncClient, admin_headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/events", json=event_body(**overrides), headers=admin_headers)
    assert response.status_code == 201, response.text
    return response.json()


async def book(
    client: httpx.AsyncClient, headers: dict[str, str], event_id: int, quantity: int = 1, **extra: Any
) -> httpx.Response:
    key = extra.pop("idempotency_key", None)
    all_headers = {**headers, **({"Idempotency-Key": key} if key else {})}
    return await client.post("/api/v1/bookings", json={"event_id": event_id, "quantity": quantity, **extra}, headers=all_headers)


async def deadline_passes(app: Any, booking_id: int) -> None:
    """The hold's deadline moved into the past, as if its minutes had gone by; nothing else
    changes (no sweeper runs in the in-process app, so the row stays PENDING)."""
    past = datetime.now(UTC) - timedelta(seconds=5)

    async def work(conn: AsyncConnection) -> None:
        await conn.execute(update(t.bookings).where(t.bookings.c.id == booking_id).values(expires_at=past))

    await app.state.services.db.transaction(work)
