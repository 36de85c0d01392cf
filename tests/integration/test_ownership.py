"""Ownership and roles: a customer can neither see nor change another customer's bookings or
tickets (404, exactly as if they did not exist: no 403 that would confirm an id), and cannot
create or change events or check tickets in (403 forbidden). Every refusal leaves the database
as it was; the admin's successful access to the same objects shows the refusals are about who
asks, not about the objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.support.api import session_headers, sign_in
from tests.support.credentials import PASSWORD
from tests.support.snapshots import Rows, table_rows
from ticketing.app.accounts import create_admin


@dataclass
class Customer:
    id: int
    headers: dict[str, str]
    booking: dict[str, Any]

    @property
    def code(self) -> str:
        return str(self.booking["tickets"][0]["code"])


@dataclass
class World:
    app: FastAPI
    http: httpx.AsyncClient
    admin: dict[str, str]
    alice: Customer
    bob: Customer
    event: dict[str, Any]


async def _customer(http: httpx.AsyncClient, name: str, event_id: int, quantity: int) -> Customer:
    email = f"{name}@example.com"
    registered = await http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": name})
    assert registered.status_code == 201, registered.text
    headers = await sign_in(http, email)
    booking = await http.post("/api/v1/bookings", headers=headers, json={"event_id": event_id, "quantity": quantity})
    assert booking.status_code == 201, booking.text
    return Customer(id=registered.json()["id"], headers=headers, booking=booking.json())


@pytest.fixture(scope="module")
async def world(app: FastAPI, module_client: httpx.AsyncClient) -> World:
    """An admin, an event, and Alice and Bob with a booking each, made once for the module."""
    services = app.state.services
    boss = await create_admin(services.store, services.passwords, email="boss@example.com", password=PASSWORD, name="B",
                              now=datetime.now(UTC))
    admin = await session_headers(services, boss.id)
    event = await module_client.post("/api/v1/events", headers=admin, json={
        "name": "Private Affair", "starts_at": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
        "capacity": 50, "price": "100.00", "max_per_booking": 5,
    })
    assert event.status_code == 201, event.text
    alice = await _customer(module_client, "alice", event.json()["id"], 2)
    bob = await _customer(module_client, "bob", event.json()["id"], 1)
    return World(app=app, http=module_client, admin=admin, alice=alice, bob=bob, event=event.json())


async def snapshot(world: World) -> Rows:
    return await table_rows(world.app.state.services.db)


def assert_refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, f"expected {status} {code}, got {response.status_code}: {response.text}"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


# -- another customer's bookings and tickets: 404, indistinguishable from a missing one ---------
async def test_a_customer_cannot_see_another_customers_booking(world: World) -> None:
    before = await snapshot(world)
    others = await world.http.get(f"/api/v1/bookings/{world.alice.booking['id']}", headers=world.bob.headers)
    missing = await world.http.get("/api/v1/bookings/987654321", headers=world.bob.headers)
    assert_refused(others, 404, "booking_not_found")
    assert (others.status_code, others.json()) == (missing.status_code, missing.json()), "404s must not differ"
    assert "alice" not in others.text and str(world.alice.id) not in others.text
    own = await world.http.get(f"/api/v1/bookings/{world.bob.booking['id']}", headers=world.bob.headers)
    assert own.status_code == 200 and own.json()["user_id"] == world.bob.id
    assert await snapshot(world) == before


async def test_a_customer_cannot_cancel_another_customers_booking(world: World) -> None:
    before = await snapshot(world)
    event_before = (await world.http.get(f"/api/v1/events/{world.event['id']}")).json()
    refused = await world.http.post(f"/api/v1/bookings/{world.alice.booking['id']}/cancel", headers=world.bob.headers)
    missing = await world.http.post("/api/v1/bookings/987654321/cancel", headers=world.bob.headers)
    assert_refused(refused, 404, "booking_not_found")
    assert refused.json() == missing.json()
    assert await snapshot(world) == before, "the refused cancel changed something"
    still = await world.http.get(f"/api/v1/bookings/{world.alice.booking['id']}", headers=world.alice.headers)
    assert still.json()["status"] == "CONFIRMED"
    assert {t["status"] for t in still.json()["tickets"]} == {"VALID"}
    event = await world.http.get(f"/api/v1/events/{world.event['id']}")
    assert event.json() == event_before


async def test_a_customer_cannot_see_another_customers_ticket(world: World) -> None:
    others = await world.http.get(f"/api/v1/tickets/{world.alice.code}", headers=world.bob.headers)
    missing = await world.http.get("/api/v1/tickets/NoSuchTicketCode0123456", headers=world.bob.headers)
    assert_refused(others, 404, "ticket_not_found")
    assert others.json() == missing.json()
    own = await world.http.get(f"/api/v1/tickets/{world.bob.code}", headers=world.bob.headers)
    assert own.status_code == 200 and own.json()["booking_id"] == world.bob.booking["id"]


@pytest.mark.parametrize(
    "query", ["", "?user_id={alice}", "?event_id={event}", "?user_id={alice}&event_id={event}", "?limit=200"]
)
async def test_a_customers_booking_list_holds_only_their_own(world: World, query: str) -> None:
    url = "/api/v1/bookings" + query.format(alice=world.alice.id, event=world.event["id"])
    listed = await world.http.get(url, headers=world.bob.headers)
    assert listed.status_code == 200, listed.text
    assert {b["user_id"] for b in listed.json()["items"]} <= {world.bob.id}
    assert world.alice.booking["id"] not in {b["id"] for b in listed.json()["items"]}
    assert listed.json()["total"] == len(listed.json()["items"])
    if "user_id" in query:  # a filter naming someone else finds nothing, rather than their bookings
        assert listed.json()["total"] == 0
    else:
        assert world.bob.booking["id"] in {b["id"] for b in listed.json()["items"]}


async def test_a_customer_cannot_book_for_another_customer(world: World) -> None:
    before = await snapshot(world)
    for user_id in (world.alice.id, 987654321):  # someone else, or no one: the same 403, no oracle
        refused = await world.http.post("/api/v1/bookings", headers=world.bob.headers, json={
            "event_id": world.event["id"], "quantity": 1, "user_id": user_id,
        })
        assert_refused(refused, 403, "forbidden")
    assert await snapshot(world) == before


async def test_an_idempotency_key_belongs_to_its_caller(world: World) -> None:
    # Bob reuses the key Alice used: he must get a booking of his own, never a replay of hers.
    body = {"event_id": world.event["id"], "quantity": 1}
    key = {"Idempotency-Key": "shared-key-0001"}
    alices = await world.http.post("/api/v1/bookings", headers={**world.alice.headers, **key}, json=body)
    bobs = await world.http.post("/api/v1/bookings", headers={**world.bob.headers, **key}, json=body)
    assert alices.status_code == 201 and bobs.status_code == 201, (alices.text, bobs.text)
    assert bobs.json()["id"] != alices.json()["id"]
    assert (alices.json()["user_id"], bobs.json()["user_id"]) == (world.alice.id, world.bob.id)
    assert not {t["code"] for t in alices.json()["tickets"]} & {t["code"] for t in bobs.json()["tickets"]}
    for who, booking in ((world.alice, alices), (world.bob, bobs)):
        cancelled = await world.http.post(f"/api/v1/bookings/{booking.json()['id']}/cancel", headers=who.headers)
        assert cancelled.status_code == 200, cancelled.text


# -- what only an admin may do: 403 forbidden ---------------------------------------------------
async def test_a_customer_cannot_create_an_event(world: World) -> None:
    before = await snapshot(world)
    refused = await world.http.post("/api/v1/events", headers=world.bob.headers, json={
        "name": "Bob's party", "starts_at": "2031-01-01T20:00:00Z", "capacity": 10, "price": "0.00",
    })
    assert_refused(refused, 403, "forbidden")
    assert await snapshot(world) == before


@pytest.mark.parametrize(
    "change", [{"capacity": 1_000_000}, {"price": "0.00"}, {"name": "Mine now"}, {}], ids=["capacity", "price", "name", "empty"]
)
async def test_a_customer_cannot_change_an_event(world: World, change: dict[str, Any]) -> None:
    before = await snapshot(world)
    refused = await world.http.patch(f"/api/v1/events/{world.event['id']}", headers=world.bob.headers, json=change)
    assert_refused(refused, 403, "forbidden")
    assert await snapshot(world) == before


@pytest.mark.parametrize("whose", ["own", "another customer's", "unknown"])
async def test_a_customer_cannot_check_a_ticket_in(world: World, whose: str) -> None:
    code = {"own": world.bob.code, "another customer's": world.alice.code, "unknown": "NoSuchTicketCode0123456"}[whose]
    before = await snapshot(world)
    refused = await world.http.post(f"/api/v1/tickets/{code}/check-in", headers=world.bob.headers)
    assert_refused(refused, 403, "forbidden")
    assert await snapshot(world) == before


# -- the same objects are reachable for the admin -------------------------------------------------
async def test_the_admin_reaches_what_the_customers_may_not(world: World) -> None:
    booking = await world.http.get(f"/api/v1/bookings/{world.alice.booking['id']}", headers=world.admin)
    assert booking.status_code == 200 and booking.json()["user_id"] == world.alice.id
    ticket = await world.http.get(f"/api/v1/tickets/{world.alice.code}", headers=world.admin)
    assert ticket.status_code == 200 and ticket.json()["booking_id"] == world.alice.booking["id"]
    listed = await world.http.get("/api/v1/bookings", params={"user_id": world.alice.id}, headers=world.admin)
    assert world.alice.booking["id"] in {b["id"] for b in listed.json()["items"]}
    # Changes go to a booking and an event of their own, so the other tests' objects stay as they were.
    fresh = await world.http.post(
        "/api/v1/bookings", headers=world.alice.headers, json={"event_id": world.event["id"], "quantity": 1}
    )
    assert fresh.status_code == 201, fresh.text
    code = fresh.json()["tickets"][0]["code"]
    checked_in = await world.http.post(f"/api/v1/tickets/{code}/check-in", headers=world.admin)
    assert checked_in.status_code == 200 and checked_in.json()["status"] == "USED"
    assert (await world.http.get(f"/api/v1/tickets/{code}", headers=world.alice.headers)).json()["status"] == "USED"
    assert (await world.http.get(f"/api/v1/tickets/{code}", headers=world.bob.headers)).status_code == 404
    cancelled = await world.http.post(f"/api/v1/bookings/{fresh.json()['id']}/cancel", headers=world.admin)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    created = await world.http.post("/api/v1/events", headers=world.admin, json={
        "name": "Admin's own", "starts_at": "2031-01-01T20:00:00Z", "capacity": 10, "price": "0.00",
    })
    assert created.status_code == 201, created.text
    patched = await world.http.patch(f"/api/v1/events/{created.json()['id']}", headers=world.admin, json={"capacity": 60})
    assert patched.status_code == 200 and patched.json()["capacity"] == 60
