"""Checkout's contract line by line (checkout.md, v1.1, and the lead's extras), on both databases:
what tests/integration/test_checkout_flow.py does not already walk through. Each error code of
the page, the event and type settings, payment states, the list filters, the development
payment page, and invariant 5 read back through the API after a mix of operations."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.support.api import admin, book, create_event, customer, event_body, in_process_client
from tests.support.payments import deliver, notice

THREE_TYPES = [
    {"name": "Front row", "price": "3500.00", "capacity": 2},
    {"name": "Standing", "price": "1200.00"},
    {"name": "Student", "price": "600.00"},
]


async def payment_event(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = event_body(**{"capacity": 5, "checkout": "payment", "ticket_types": THREE_TYPES, **overrides})
    body.pop("price")
    response = await client.post("/api/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def hold(client: httpx.AsyncClient, headers: dict[str, str], event: dict[str, Any], *quantities: int,
               **extra: Any) -> httpx.Response:
    items = [{"ticket_type_id": t["id"], "quantity": q} for t, q in zip(event["ticket_types"], quantities, strict=False) if q]
    return await client.post("/api/v1/bookings", json={"event_id": event["id"], "items": items, **extra}, headers=headers)


async def held_booking(
    client: httpx.AsyncClient, headers: dict[str, str], event: dict[str, Any], *quantities: int
) -> dict[str, Any]:
    response = await hold(client, headers, event, *quantities)
    assert response.status_code == 201, response.text
    return response.json()


async def get_event(client: httpx.AsyncClient, event_id: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await client.get(f"/api/v1/events/{event_id}", headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


async def get_booking(client: httpx.AsyncClient, headers: dict[str, str], booking_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/bookings/{booking_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def type_url(event: dict[str, Any], type_id: int | None = None) -> str:
    base = f"/api/v1/events/{event['id']}/ticket-types"
    return base if type_id is None else f"{base}/{type_id}"


async def until_past(deadline: str) -> None:
    """Waits until the clock is past ``deadline`` (an ISO instant): a known moment, not a guess."""
    moment = datetime.fromisoformat(deadline) + timedelta(milliseconds=20)
    await asyncio.sleep(max((moment - datetime.now(UTC)).total_seconds(), 0))


# -- ticket types --------------------------------------------------------------------------------
async def test_a_type_is_added_with_its_fields_and_a_21st_is_refused(client, app):
    boss = await admin(client, app)
    event = await payment_event(client, boss)
    added = await client.post(type_url(event), json={"name": "Balcony", "price": "900.00", "capacity": 4}, headers=boss)
    assert added.status_code == 201, added.text
    body = added.json()
    assert set(body) == {"id", "event_id", "name", "price", "capacity", "tickets_sold", "tickets_held", "available"}
    assert (body["event_id"], body["name"], body["price"], body["capacity"]) == (event["id"], "Balcony", "900.00", 4)
    assert body["available"] == 4 and body["tickets_sold"] == body["tickets_held"] == 0
    for i in range(16):  # 4 now; up to 20
        made = await client.post(type_url(event), json={"name": f"Tier {i}", "price": "100.00"}, headers=boss)
        assert made.status_code == 201, made.text
    refused = await client.post(type_url(event), json={"name": "One too many", "price": "100.00"}, headers=boss)
    assert refused.status_code == 409 and refused.json()["code"] == "ticket_type_limit"
    after = await get_event(client, event["id"])
    assert len(after["ticket_types"]) == 20 and after["price"] == "100.00"  # the lowest of the types


async def test_an_event_is_created_with_at_most_20_types(client, app):
    boss = await admin(client, app)
    many = [{"name": f"T{i}", "price": "10.00"} for i in range(21)]
    refused = await client.post("/api/v1/events", json={**event_body(ticket_types=many)} | {"price": "10.00"}, headers=boss)
    assert refused.status_code == 422
    made = await client.post("/api/v1/events", json=event_body(ticket_types=many[:20], price="10.00"), headers=boss)
    assert made.status_code == 201 and len(made.json()["ticket_types"]) == 20


async def test_only_admins_change_types(client, app):
    event = await payment_event(client, await admin(client, app))
    _, headers = await customer(client)
    assert (await client.post(type_url(event), json={"name": "X", "price": "1.00"}, headers=headers)).status_code == 403
    type_id = event["ticket_types"][0]["id"]
    assert (await client.patch(type_url(event, type_id), json={"price": "1.00"}, headers=headers)).status_code == 403
    assert (await client.delete(type_url(event, type_id), headers=headers)).status_code == 403
    assert (await client.post(type_url(event), json={"name": "X", "price": "1.00"})).status_code == 401


async def test_type_available_is_the_least_of_its_cap_and_the_event(client, app):
    event = await payment_event(client, await admin(client, app), capacity=5)
    _, headers = await customer(client)
    await held_booking(client, headers, event, 0, 2)
    shown = await get_event(client, event["id"])
    # Front row: cap 2, nothing of its own taken, but only 3 left in the event.
    assert [t["available"] for t in shown["ticket_types"]] == [2, 3, 3]
    await held_booking(client, headers, event, 1, 1)
    shown = await get_event(client, event["id"])
    assert [t["available"] for t in shown["ticket_types"]] == [1, 1, 1]
    assert shown["available"] == 1 and shown["tickets_held"] == 4 and shown["tickets_sold"] == 0


async def test_type_capacity_below_its_sold_and_held_is_refused(client, app):
    boss = await admin(client, app)
    event = await payment_event(client, boss, capacity=20)
    standing = event["ticket_types"][1]
    await client.patch(type_url(event, standing["id"]), json={"capacity": 6}, headers=boss)
    _, headers = await customer(client)
    sold = await held_booking(client, headers, event, 0, 2)
    assert (await client.post(f"/api/v1/bookings/{sold['id']}/mark-paid", headers=boss)).status_code == 200
    await held_booking(client, headers, event, 0, 1)  # 2 sold + 1 held
    below = await client.patch(type_url(event, standing["id"]), json={"capacity": 2}, headers=boss)
    assert below.status_code == 409 and below.json()["code"] == "capacity_below_sold"
    exact = await client.patch(type_url(event, standing["id"]), json={"capacity": 3}, headers=boss)
    assert exact.status_code == 200 and exact.json()["capacity"] == 3 and exact.json()["available"] == 0
    assert exact.json()["tickets_sold"] == 2 and exact.json()["tickets_held"] == 1
    uncapped = await client.patch(type_url(event, standing["id"]), json={"capacity": None}, headers=boss)
    assert uncapped.status_code == 200 and uncapped.json()["capacity"] is None
    assert uncapped.json()["available"] == 17  # the event's: 20 - 3
    renamed = await client.patch(type_url(event, standing["id"]), json={"name": "Floor", "price": "1300.00"}, headers=boss)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Floor" and renamed.json()["price"] == "1300.00"
    missing = await client.patch(type_url(event, 999999), json={"name": "Ghost"}, headers=boss)
    assert missing.status_code == 404 and missing.json()["code"] == "ticket_type_not_found"
    # No such event: event_not_found, as DELETE on the same path answers.
    ghost = {"id": 999999}
    for answer in (await client.patch(type_url(ghost, standing["id"]), json={"name": "Ghost"}, headers=boss),
                   await client.delete(type_url(ghost, standing["id"]), headers=boss)):
        assert (answer.status_code, answer.json()["code"]) == (404, "event_not_found"), answer.text


async def test_event_capacity_below_sold_and_held_is_refused(client, app):
    boss = await admin(client, app)
    event = await payment_event(client, boss, capacity=10)
    _, headers = await customer(client)
    sold = await held_booking(client, headers, event, 0, 3)
    await client.post(f"/api/v1/bookings/{sold['id']}/mark-paid", headers=boss)
    await held_booking(client, headers, event, 0, 0, 2)  # 3 sold + 2 held
    below = await client.patch(f"/api/v1/events/{event['id']}", json={"capacity": 4}, headers=boss)
    assert below.status_code == 409 and below.json()["code"] == "capacity_below_sold"
    exact = await client.patch(f"/api/v1/events/{event['id']}", json={"capacity": 5}, headers=boss)
    assert exact.status_code == 200 and exact.json()["capacity"] == 5 and exact.json()["available"] == 0


async def test_a_type_named_by_any_booking_or_the_last_type_is_not_deleted(client, app):
    boss = await admin(client, app)
    event = await payment_event(client, boss)
    front, standing, student = (t["id"] for t in event["ticket_types"])
    _, headers = await customer(client)
    booking = await held_booking(client, headers, event, 1)
    cancelled = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers)
    assert cancelled.json()["status"] == "CANCELLED"
    in_use = await client.delete(type_url(event, front), headers=boss)
    assert in_use.status_code == 409 and in_use.json()["code"] == "ticket_type_in_use"
    gone = await client.delete(type_url(event, student), headers=boss)
    assert gone.status_code == 204 and gone.content == b""
    assert [t["id"] for t in (await get_event(client, event["id"]))["ticket_types"]] == [front, standing]
    again = await client.delete(type_url(event, student), headers=boss)
    assert again.status_code == 404 and again.json()["code"] == "ticket_type_not_found"

    lone = await create_event(client, boss)  # v1's form: one type
    last = await client.delete(type_url(lone, lone["ticket_types"][0]["id"]), headers=boss)
    assert last.status_code == 409 and last.json()["code"] == "ticket_type_in_use"


async def test_deleting_the_cheapest_type_moves_the_event_price(client, app):
    boss = await admin(client, app)
    event = await payment_event(client, boss)
    assert event["price"] == "600.00"
    assert (await client.delete(type_url(event, event["ticket_types"][2]["id"]), headers=boss)).status_code == 204
    assert (await get_event(client, event["id"]))["price"] == "1200.00"


# -- event settings --------------------------------------------------------------------------
async def test_event_has_the_new_fields_with_their_defaults(client, app):
    event = await create_event(client, await admin(client, app))
    for field in ("ticket_types", "tickets_held", "checkout", "hold_minutes", "per_customer_limit", "timezone"):
        assert field in event, field
    assert (event["checkout"], event["hold_minutes"], event["per_customer_limit"], event["timezone"]) == (
        "instant", 15, None, "UTC")
    assert event["available"] == event["capacity"] - event["tickets_sold"] - event["tickets_held"]


async def test_default_timezone_comes_from_the_setting(make_app, database_url):
    application = await make_app(database_url=database_url, default_timezone="Asia/Bangkok")
    async with in_process_client(application) as c:
        event = await create_event(c, await admin(c, application))
    assert event["timezone"] == "Asia/Bangkok"


async def test_an_unknown_timezone_is_refused(client, app):
    boss = await admin(client, app)
    refused = await client.post("/api/v1/events", json=event_body(timezone="Mars/Olympus_Mons"), headers=boss)
    assert refused.status_code == 422
    event = await create_event(client, boss, timezone="Asia/Bangkok")
    assert event["timezone"] == "Asia/Bangkok"
    patched = await client.patch(f"/api/v1/events/{event['id']}", json={"timezone": "Not/AZone"}, headers=boss)
    assert patched.status_code == 422
    moved = await client.patch(f"/api/v1/events/{event['id']}", json={"timezone": "Europe/Paris"}, headers=boss)
    assert moved.status_code == 200 and moved.json()["timezone"] == "Europe/Paris"


async def test_price_sent_with_types_must_be_the_lowest(client, app):
    boss = await admin(client, app)
    wrong = await client.post("/api/v1/events", json=event_body(ticket_types=THREE_TYPES, price="1200.00"), headers=boss)
    assert wrong.status_code == 422
    right = await client.post("/api/v1/events", json=event_body(ticket_types=THREE_TYPES, price="600.00"), headers=boss)
    assert right.status_code == 201 and right.json()["price"] == "600.00"
    no_price = event_body()
    no_price.pop("price")
    assert (await client.post("/api/v1/events", json=no_price, headers=boss)).status_code == 422


async def test_patch_price_reprices_the_only_type_and_needs_a_type_with_several(client, app):
    boss = await admin(client, app)
    single = await create_event(client, boss, price="1500.00")
    repriced = await client.patch(f"/api/v1/events/{single['id']}", json={"price": "1800.00"}, headers=boss)
    assert repriced.status_code == 200
    assert repriced.json()["price"] == "1800.00" and repriced.json()["ticket_types"][0]["price"] == "1800.00"
    several = await payment_event(client, boss)
    refused = await client.patch(f"/api/v1/events/{several['id']}", json={"price": "100.00"}, headers=boss)
    assert refused.status_code == 422 and refused.json()["code"] == "ticket_type_required"
    assert (await get_event(client, several["id"]))["price"] == "600.00"


async def test_checkout_changes_only_while_the_event_has_no_bookings(client, app):
    boss = await admin(client, app)
    event = await create_event(client, boss)
    switched = await client.patch(f"/api/v1/events/{event['id']}", json={"checkout": "payment", "hold_minutes": 30},
                                  headers=boss)
    assert switched.status_code == 200
    assert switched.json()["checkout"] == "payment" and switched.json()["hold_minutes"] == 30
    _, headers = await customer(client)
    booking = (await book(client, headers, event["id"], 1)).json()
    assert booking["status"] == "PENDING"
    await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers)  # cancelled ones count too
    locked = await client.patch(f"/api/v1/events/{event['id']}", json={"checkout": "instant"}, headers=boss)
    assert locked.status_code == 409 and locked.json()["code"] == "checkout_locked"
    same = await client.patch(f"/api/v1/events/{event['id']}", json={"checkout": "payment"}, headers=boss)
    assert same.status_code == 200  # no change asked for
    assert (await get_event(client, event["id"]))["checkout"] == "payment"


async def test_hold_minutes_and_limit_are_checked_on_input(client, app):
    boss = await admin(client, app)
    for bad in ({"hold_minutes": 0}, {"hold_minutes": 121}, {"per_customer_limit": 0}, {"per_customer_limit": 101},
                {"checkout": "later"}):
        answer = await client.post("/api/v1/events", json=event_body(**bad), headers=boss)
        assert answer.status_code == 422, bad
    event = await create_event(client, boss, checkout="payment", hold_minutes=5)
    _, headers = await customer(client)
    booking = (await book(client, headers, event["id"], 1)).json()
    left = datetime.fromisoformat(booking["expires_at"]) - datetime.fromisoformat(booking["booking_date"])
    assert left == timedelta(minutes=5)


async def test_a_null_per_customer_limit_clears_it(client, app):
    boss = await admin(client, app)
    event = await payment_event(client, boss, capacity=50, per_customer_limit=2)
    _, headers = await customer(client)
    await held_booking(client, headers, event, 0, 2)
    over = await hold(client, headers, event, 0, 1)
    assert over.status_code == 409 and over.json()["code"] == "customer_limit_reached" and over.json()["remaining"] == 0
    cleared = await client.patch(f"/api/v1/events/{event['id']}", json={"per_customer_limit": None}, headers=boss)
    assert cleared.status_code == 200 and cleared.json()["per_customer_limit"] is None
    assert (await hold(client, headers, event, 0, 3)).status_code == 201
    assert (await get_event(client, event["id"], headers))["my_remaining"] is None
    # Set again: what the buyer holds already counts against it.
    again = await client.patch(f"/api/v1/events/{event['id']}", json={"per_customer_limit": 6}, headers=boss)
    assert again.status_code == 200 and again.json()["per_customer_limit"] == 6
    assert (await get_event(client, event["id"], headers))["my_remaining"] == 1
    assert (await get_event(client, event["id"]))["my_remaining"] is None  # anonymous
    # A signed-out token is no token: the catalogue answers as to anyone, never 401.
    signed_out = (await customer(client))[1]
    assert (await client.post("/api/v1/auth/logout", headers=signed_out)).status_code in (200, 204)
    assert (await get_event(client, event["id"], signed_out))["my_remaining"] is None
    refused = await hold(client, headers, event, 0, 2)
    assert refused.status_code == 409 and refused.json()["remaining"] == 1


async def test_a_limit_below_what_a_buyer_has_booked_is_refused(client, app):
    """Invariant 7 holds at every moment: lowering the limit under one buyer's PENDING +
    CONFIRMED quantity is refused with nothing changed; to exactly that quantity it is allowed."""
    boss = await admin(client, app)
    event = await payment_event(client, boss, capacity=50, per_customer_limit=6)
    _, alice = await customer(client)
    _, bob = await customer(client)
    paid = await held_booking(client, alice, event, 0, 2)
    await client.post(f"/api/v1/bookings/{paid['id']}/mark-paid", headers=boss)
    await held_booking(client, alice, event, 0, 0, 2)  # alice: 2 sold + 2 held
    await held_booking(client, bob, event, 0, 1)
    cancelled = await held_booking(client, bob, event, 0, 5)
    await client.post(f"/api/v1/bookings/{cancelled['id']}/cancel", headers=bob)  # bob: 1 (5 cancelled)

    below = await client.patch(f"/api/v1/events/{event['id']}", json={"per_customer_limit": 3}, headers=boss)

    assert (below.status_code, below.json()["code"]) == (409, "limit_below_booked"), below.text
    assert "4 tickets" in below.json()["detail"]
    assert (await get_event(client, event["id"]))["per_customer_limit"] == 6
    exact = await client.patch(f"/api/v1/events/{event['id']}", json={"per_customer_limit": 4}, headers=boss)
    assert exact.status_code == 200 and exact.json()["per_customer_limit"] == 4
    assert (await get_event(client, event["id"], alice))["my_remaining"] == 0
    assert (await get_event(client, event["id"], bob))["my_remaining"] == 3


async def test_box_office_bookings_count_against_the_buyers_limit(client, app):
    boss = await admin(client, app)
    event = await payment_event(client, boss, capacity=50, per_customer_limit=3)
    user, headers = await customer(client)
    at_box_office = await hold(client, boss, event, 0, 2, user_id=user["id"])
    assert at_box_office.status_code == 201 and at_box_office.json()["buyer"]["id"] == user["id"]
    over = await hold(client, headers, event, 0, 2)
    assert over.status_code == 409 and over.json()["code"] == "customer_limit_reached" and over.json()["remaining"] == 1
    also_over = await hold(client, boss, event, 0, 0, 2, user_id=user["id"])
    assert also_over.status_code == 409 and also_over.json()["remaining"] == 1
    # A cancelled hold gives the buyer's allowance back.
    await client.post(f"/api/v1/bookings/{at_box_office.json()['id']}/cancel", headers=boss)
    assert (await get_event(client, event["id"], headers))["my_remaining"] == 3


# -- booking with items -----------------------------------------------------------------------
async def test_items_are_checked(client, app):
    boss = await admin(client, app)
    event = await payment_event(client, boss, capacity=50, max_per_booking=4)
    _, headers = await customer(client)
    standing = event["ticket_types"][1]["id"]
    cases = [
        [],  # at least one item
        [{"ticket_type_id": standing, "quantity": 1}, {"ticket_type_id": standing, "quantity": 1}],  # distinct
        [{"ticket_type_id": standing, "quantity": 0}],
        [{"ticket_type_id": standing, "quantity": 1}] + [{"ticket_type_id": 10_000 + i, "quantity": 1} for i in range(20)],
    ]
    for items in cases:
        answer = await client.post("/api/v1/bookings", json={"event_id": event["id"], "items": items}, headers=headers)
        assert answer.status_code == 422, (items, answer.text)
    both = await client.post("/api/v1/bookings", json={"event_id": event["id"], "quantity": 1,
                                                       "items": [{"ticket_type_id": standing, "quantity": 1}]},
                             headers=headers)
    assert both.status_code == 422
    too_many = await hold(client, headers, event, 0, 3, 2)  # 5 in all, above max_per_booking
    assert too_many.status_code == 400 and too_many.json()["code"] == "quantity_above_limit"
    assert (await get_event(client, event["id"]))["tickets_held"] == 0


async def test_a_booking_carries_its_items_total_and_buyer(client, app):
    event = await payment_event(client, await admin(client, app))
    user, headers = await customer(client)
    booking = await held_booking(client, headers, event, 1, 0, 2)
    assert booking["items"] == [
        {"ticket_type_id": event["ticket_types"][0]["id"], "name": "Front row", "quantity": 1, "unit_price": "3500.00"},
        {"ticket_type_id": event["ticket_types"][2]["id"], "name": "Student", "quantity": 2, "unit_price": "600.00"},
    ]
    assert booking["total_amount"] == "4700.00" and booking["quantity"] == 3 and booking["currency"] == "THB"
    assert booking["buyer"] == {"id": user["id"], "name": user["name"], "email": user["email"]}
    assert booking["payment"]["amount"] == "4700.00" and booking["payment"]["currency"] == "THB"
    # A later price change does not change what was booked.
    boss = await admin(client, app)
    await client.patch(type_url(event, event["ticket_types"][2]["id"]), json={"price": "700.00"}, headers=boss)
    again = await get_booking(client, headers, booking["id"])
    assert again["items"][1]["unit_price"] == "600.00" and again["total_amount"] == "4700.00"


async def test_a_v1_request_short_of_tickets_lists_its_type(client, app):
    boss = await admin(client, app)
    event = await create_event(client, boss, capacity=2)
    _, headers = await customer(client)
    refused = await book(client, headers, event["id"], 3)
    assert refused.status_code == 409 and refused.json()["code"] == "sold_out"
    assert refused.json()["available"] == 2
    assert refused.json()["items"] == [{"ticket_type_id": event["ticket_types"][0]["id"], "available": 2}]


# -- checkout modes, payment states --------------------------------------------------------------
async def test_v1_clients_are_unchanged(client, app):
    boss = await admin(client, app)
    event = await create_event(client, boss, price="1500.00", capacity=10)
    assert [(t["name"], t["price"], t["capacity"]) for t in event["ticket_types"]] == [("General admission", "1500.00", None)]
    assert event["checkout"] == "instant" and event["price"] == "1500.00"
    _, headers = await customer(client)
    answer = await book(client, headers, event["id"], 2)
    assert answer.status_code == 201, answer.text
    booking = answer.json()
    for field in ("id", "user_id", "event_id", "quantity", "total_amount", "status", "booking_date", "tickets"):
        assert field in booking, field
    assert booking["status"] == "CONFIRMED" and booking["total_amount"] == "3000.00" and len(booking["tickets"]) == 2
    assert booking["expires_at"] is None and booking["payment"]["status"] == "none"
    assert {t["ticket_type_id"] for t in booking["tickets"]} == {event["ticket_types"][0]["id"]}
    shown = await get_event(client, event["id"])
    assert shown["tickets_sold"] == 2 and shown["tickets_held"] == 0 and shown["available"] == 8
    cancelled = (await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers)).json()
    assert cancelled["status"] == "CANCELLED" and cancelled["payment"]["status"] == "none"  # nothing was paid
    assert (await get_event(client, event["id"]))["tickets_sold"] == 0


async def test_a_zero_total_on_a_payment_event_is_confirmed_at_once(client, app):
    boss = await admin(client, app)
    types = [{"name": "Invitation", "price": "0.00"}, {"name": "Paid", "price": "500.00"}]
    event = await payment_event(client, boss, ticket_types=types)
    _, headers = await customer(client)
    free = await held_booking(client, headers, event, 2)
    assert free["status"] == "CONFIRMED" and len(free["tickets"]) == 2 and free["expires_at"] is None
    assert free["payment"]["status"] == "none" and free["total_amount"] == "0.00"
    paid = await held_booking(client, headers, event, 1, 1)
    assert paid["status"] == "PENDING" and paid["payment"]["status"] == "due" and paid["tickets"] == []
    shown = await get_event(client, event["id"])
    assert shown["tickets_sold"] == 2 and shown["tickets_held"] == 2


async def test_references_are_unguessable_and_distinct(client, app):
    event = await payment_event(client, await admin(client, app), capacity=50)
    _, headers = await customer(client)
    references = [(await held_booking(client, headers, event, 0, 1))["payment"]["reference"] for _ in range(5)]
    assert len(set(references)) == 5
    assert all(len(r) >= 16 for r in references)  # 96 bits need at least 16 base64 characters


async def test_cancelling_a_pending_booking_releases_its_hold(client, app):
    event = await payment_event(client, await admin(client, app))
    _, headers = await customer(client)
    booking = await held_booking(client, headers, event, 2, 1)
    assert (await get_event(client, event["id"]))["tickets_held"] == 3
    cancelled = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "CANCELLED" and cancelled.json()["expires_at"] is None
    assert cancelled.json()["payment"]["status"] != "due"
    shown = await get_event(client, event["id"])
    assert shown["tickets_held"] == 0 and shown["available"] == 5
    assert [t["tickets_held"] for t in shown["ticket_types"]] == [0, 0, 0]
    # Cancelling twice changes nothing more.
    again = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers)
    assert again.status_code == 200 and again.json()["status"] == "CANCELLED"
    assert (await get_event(client, event["id"]))["tickets_held"] == 0


async def test_someone_else_cannot_cancel_or_pay(client, app):
    event = await payment_event(client, await admin(client, app))
    _, owner = await customer(client)
    _, other = await customer(client)
    booking = await held_booking(client, owner, event, 0, 1)
    assert (await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=other)).status_code == 404
    assert (await client.post(f"/api/v1/bookings/{booking['id']}/mark-paid", headers=owner)).status_code == 403
    assert (await client.post(f"/api/v1/bookings/{booking['id']}/mark-refunded", headers=owner)).status_code == 403
    assert (await get_booking(client, owner, booking["id"]))["status"] == "PENDING"


async def test_a_redelivery_after_cancel_answers_the_first_result(client, app):
    event = await payment_event(client, await admin(client, app))
    _, headers = await customer(client)
    booking = await held_booking(client, headers, event, 0, 1)
    body = notice(booking, event_id="evt_redelivered")
    first = await deliver(client, body)
    assert first.status_code == 200 and first.json() == {"booking_id": booking["id"], "status": "CONFIRMED"}
    cancelled = (await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers)).json()
    assert cancelled["status"] == "CANCELLED" and cancelled["payment"]["status"] == "refund_due"
    again = await deliver(client, body)
    assert again.status_code == 200 and again.json() == first.json()
    after = await get_booking(client, headers, booking["id"])
    assert after["status"] == "CANCELLED" and after["payment"]["status"] == "refund_due"
    assert {t["status"] for t in after["tickets"]} == {"VOID"}
    assert (await get_event(client, event["id"]))["tickets_sold"] == 0


async def test_a_failed_payment_keeps_the_hold_until_it_is_paid(client, app):
    event = await payment_event(client, await admin(client, app))
    _, headers = await customer(client)
    booking = await held_booking(client, headers, event, 0, 2)
    failed = await deliver(client, notice(booking, kind="payment.failed"))
    assert failed.status_code == 200 and failed.json() == {"booking_id": booking["id"], "status": "PENDING"}
    still = await get_booking(client, headers, booking["id"])
    assert still["status"] == "PENDING" and still["payment"]["status"] == "due"
    assert still["expires_at"] == booking["expires_at"]
    assert (await get_event(client, event["id"]))["tickets_held"] == 2
    paid = await deliver(client, notice(booking))  # the buyer tries again, and pays
    assert paid.json()["status"] == "CONFIRMED"


async def test_a_payment_for_a_cancelled_booking_is_owed_back(client, app):
    event = await payment_event(client, await admin(client, app))
    _, headers = await customer(client)
    booking = await held_booking(client, headers, event, 0, 1)
    await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers)
    late = await deliver(client, notice(booking))
    assert late.status_code == 200 and late.json() == {"booking_id": booking["id"], "status": "CANCELLED"}
    after = await get_booking(client, headers, booking["id"])
    assert after["status"] == "CANCELLED" and after["payment"]["status"] == "refund_due" and after["tickets"] == []
    shown = await get_event(client, event["id"])
    assert shown["tickets_sold"] == 0 and shown["tickets_held"] == 0


async def test_mark_refunded_needs_a_refund_due(client, app):
    boss = await admin(client, app)
    event = await payment_event(client, boss)
    _, headers = await customer(client)
    pending = await held_booking(client, headers, event, 0, 1)
    conflict = await client.post(f"/api/v1/bookings/{pending['id']}/mark-refunded", headers=boss)
    assert conflict.status_code == 409 and conflict.json()["code"] == "payment_conflict"
    await client.post(f"/api/v1/bookings/{pending['id']}/mark-paid", headers=boss)
    paid = await client.post(f"/api/v1/bookings/{pending['id']}/mark-refunded", headers=boss)
    assert paid.status_code == 409 and paid.json()["code"] == "payment_conflict"
    missing = await client.post("/api/v1/bookings/999999/mark-refunded", headers=boss)
    assert missing.status_code == 404 and missing.json()["code"] == "booking_not_found"
    await client.post(f"/api/v1/bookings/{pending['id']}/cancel", headers=boss)
    first = await client.post(f"/api/v1/bookings/{pending['id']}/mark-refunded", headers=boss)
    again = await client.post(f"/api/v1/bookings/{pending['id']}/mark-refunded", headers=boss)
    assert first.status_code == again.status_code == 200
    assert again.json()["payment"]["status"] == "refunded"


async def test_an_instant_booking_paid_at_the_box_office(client, app):
    boss = await admin(client, app)
    event = await create_event(client, boss)
    _, headers = await customer(client)
    booking = (await book(client, headers, event["id"], 1)).json()
    paid = await client.post(f"/api/v1/bookings/{booking['id']}/mark-paid", headers=boss)
    assert paid.status_code == 200 and paid.json()["payment"]["status"] == "paid"
    assert len(paid.json()["tickets"]) == 1 and (await get_event(client, event["id"]))["tickets_sold"] == 1
    missing = await client.post("/api/v1/bookings/999999/mark-paid", headers=boss)
    assert missing.status_code == 404 and missing.json()["code"] == "booking_not_found"


async def test_a_currency_that_differs_is_a_mismatch(client, app):
    event = await payment_event(client, await admin(client, app))
    _, headers = await customer(client)
    booking = await held_booking(client, headers, event, 0, 1)
    mismatch = await deliver(client, notice(booking, currency="USD"))
    assert mismatch.status_code == 409 and mismatch.json()["code"] == "amount_mismatch"
    assert (await get_booking(client, headers, booking["id"]))["status"] == "PENDING"
    # Nothing was recorded of it: the same provider event, right this time, still pays.
    body = notice(booking, event_id="evt_fixed")
    wrong = notice(booking, event_id="evt_fixed", amount="1.00")
    assert (await deliver(client, wrong)).status_code == 409
    assert (await deliver(client, body)).json()["status"] == "CONFIRMED"


def amount_written(booking: dict[str, Any], literal: str, **overrides: Any) -> bytes:
    """A notice whose amount is the JSON text ``literal``, as written: json.dumps would turn a
    Decimal away and write a float its own way."""
    return notice(booking, amount=None, **overrides).replace(b'"amount": null', b'"amount": ' + literal.encode())


async def test_a_lower_case_currency_pays(client, app):
    event = await payment_event(client, await admin(client, app))
    _, headers = await customer(client)
    booking = await held_booking(client, headers, event, 0, 1)
    assert booking["payment"]["currency"] == "THB"
    paid = await deliver(client, notice(booking, currency="thb"))  # as Stripe writes it
    assert paid.status_code == 200 and paid.json() == {"booking_id": booking["id"], "status": "CONFIRMED"}
    after = await get_booking(client, headers, booking["id"])
    assert after["payment"]["status"] == "paid" and len(after["tickets"]) == 1


async def test_any_amount_or_currency_but_the_bookings_is_a_mismatch_that_changes_nothing(client, app):
    event = await payment_event(client, await admin(client, app))
    _, headers = await customer(client)
    booking = await held_booking(client, headers, event, 0, 1)
    assert (booking["payment"]["amount"], booking["payment"]["currency"]) == ("1200.00", "THB")
    others = [
        notice(booking, event_id="evt_retried", currency="USD"),
        notice(booking, event_id="evt_retried", currency="baht"),
        notice(booking, event_id="evt_retried", currency=" THB"),  # only the case is forgiven
        notice(booking, event_id="evt_retried", amount="-1200.00"),
        amount_written(booking, "-1200", event_id="evt_retried"),
        notice(booking, event_id="evt_retried", amount="1200000.00"),  # a thousand times too much
        amount_written(booking, "120000", event_id="evt_retried"),  # minor units
        notice(booking, event_id="evt_retried", amount="1200.001"),  # would round to the booking's
        amount_written(booking, "1200.001", event_id="evt_retried"),
        amount_written(booking, "1200.0049", event_id="evt_retried"),
        # As large as is accepted: far more minor units than the database's bigint holds.
        notice(booking, event_id="evt_retried", amount="999999999999999999.99999999"),
        amount_written(booking, "1e18", event_id="evt_retried"),
        amount_written(booking, "-1e18", event_id="evt_retried"),
        amount_written(booking, "1e-300", event_id="evt_retried"),
    ]
    for body in others:
        answer = await deliver(client, body)
        assert answer.status_code == 409 and answer.json()["code"] == "amount_mismatch", (body, answer.text)
    still = await get_booking(client, headers, booking["id"])
    assert still["status"] == "PENDING" and still["payment"]["status"] == "due" and still["tickets"] == []
    assert (await get_event(client, event["id"]))["tickets_held"] == 1
    # None of them was recorded: the same provider event id, with the booking's amount, pays.
    paid = await deliver(client, notice(booking, event_id="evt_retried"))
    assert paid.status_code == 200 and paid.json()["status"] == "CONFIRMED"


async def test_a_webhook_amount_that_is_no_number_or_an_empty_currency_is_refused(client, app):
    event = await payment_event(client, await admin(client, app))
    _, headers = await customer(client)
    booking = await held_booking(client, headers, event, 0, 1)
    missing = json.loads(notice(booking, event_id="evt_refused"))
    del missing["amount"]
    refused = [
        notice(booking, event_id="evt_refused", amount="abc"),
        notice(booking, event_id="evt_refused", amount=True),
        notice(booking, event_id="evt_refused", amount=None),
        json.dumps(missing).encode(),
        notice(booking, event_id="evt_refused", amount="1.2e3"),
        notice(booking, event_id="evt_refused", amount=" 1200.00"),
        notice(booking, event_id="evt_refused", amount="NaN"),
        amount_written(booking, "NaN", event_id="evt_refused"),
        amount_written(booking, "1e400", event_id="evt_refused"),  # a double's infinity
        amount_written(booking, "2e18", event_id="evt_refused"),
        notice(booking, event_id="evt_refused", amount="1" * 10_000),
        amount_written(booking, "1" * 10_000, event_id="evt_refused"),
        notice(booking, event_id="evt_refused", amount="1200.000000001"),  # 9 decimals
        notice(booking, event_id="evt_refused", currency=""),
        notice(booking, event_id="evt_refused", currency="T" * 17),
        notice(booking, event_id="evt_refused", currency="TH\x00B"),
    ]
    for body in refused:
        answer = await deliver(client, body)
        assert answer.status_code == 422 and answer.json()["code"] == "validation_error", (body[:200], answer.text)
    assert (await get_booking(client, headers, booking["id"]))["status"] == "PENDING"
    paid = await deliver(client, notice(booking, event_id="evt_refused"))
    assert paid.status_code == 200 and paid.json()["status"] == "CONFIRMED"


async def test_the_webhook_is_unavailable_without_its_secret(make_app, database_url):
    application = await make_app(database_url=database_url, payment_webhook_secret=None)
    async with in_process_client(application) as c:
        body = b'{"id": "evt", "type": "payment.succeeded", "reference": "r", "amount": "1.00", "currency": "THB"}'
        answer = await deliver(c, body)
    assert answer.status_code == 503 and answer.json()["code"] == "unavailable"


@pytest.mark.slow  # waits for a real one-second hold to expire
async def test_a_late_payment_takes_the_tickets_again_when_they_are_free(make_app, database_url):
    application = await make_app(database_url=database_url, hold_seconds=1)
    async with in_process_client(application) as c:
        boss = await admin(c, application)
        event = await payment_event(c, boss, capacity=2)
        _, headers = await customer(c)
        booking = await held_booking(c, headers, event, 0, 2)
        await until_past(booking["expires_at"])
        shown = await get_booking(c, headers, booking["id"])
        assert shown["status"] == "EXPIRED" and shown["payment"]["status"] == "due"
        listed = (await c.get("/api/v1/bookings", params={"status": "EXPIRED"}, headers=headers)).json()
        assert [b["id"] for b in listed["items"]] == [booking["id"]]
        late = await deliver(c, notice(booking))
        assert late.status_code == 200 and late.json() == {"booking_id": booking["id"], "status": "CONFIRMED"}
        paid = await get_booking(c, headers, booking["id"])
        assert paid["status"] == "CONFIRMED" and paid["payment"]["status"] == "paid" and len(paid["tickets"]) == 2
        shown_event = await get_event(c, event["id"])
        assert shown_event["tickets_sold"] == 2 and shown_event["tickets_held"] == 0


@pytest.mark.slow  # waits for a real one-second hold to expire
async def test_a_late_mark_paid_without_room_is_owed_back(make_app, database_url):
    application = await make_app(database_url=database_url, hold_seconds=1)
    async with in_process_client(application) as c:
        boss = await admin(c, application)
        event = await payment_event(c, boss, capacity=2, per_customer_limit=2)
        _, first = await customer(c)
        booking = await held_booking(c, first, event, 0, 2)
        await until_past(booking["expires_at"])
        # The buyer books again: the expired hold is released first, the limit leaves no room for it.
        assert (await hold(c, first, event, 0, 0, 2)).status_code == 201
        late = await c.post(f"/api/v1/bookings/{booking['id']}/mark-paid", headers=boss)
        assert late.status_code == 200
        assert late.json()["status"] == "EXPIRED" and late.json()["payment"]["status"] == "refund_due"
        refunded = await c.post(f"/api/v1/bookings/{booking['id']}/mark-refunded", headers=boss)
        assert refunded.json()["payment"]["status"] == "refunded"
        shown = await get_event(c, event["id"])
        assert shown["tickets_held"] == 2 and shown["tickets_sold"] == 0


# -- lists, buyer, config, development payments -----------------------------------------------
async def test_bookings_are_filtered_by_status_payment_and_reference(client, app):
    boss = await admin(client, app)
    event = await payment_event(client, boss, capacity=50)
    user, headers = await customer(client)
    _, other = await customer(client)
    pending = await held_booking(client, headers, event, 0, 1)
    paid = await held_booking(client, headers, event, 0, 1)
    await deliver(client, notice(paid))
    cancelled = await held_booking(client, headers, event, 0, 1)
    await client.post(f"/api/v1/bookings/{cancelled['id']}/cancel", headers=headers)
    theirs = await held_booking(client, other, event, 0, 1)

    async def ids(who: dict[str, str], **params: Any) -> list[int]:
        answer = await client.get("/api/v1/bookings", params=params, headers=who)
        assert answer.status_code == 200, answer.text
        assert answer.json()["total"] == len(answer.json()["items"])
        return [b["id"] for b in answer.json()["items"]]

    assert await ids(headers, status="PENDING") == [pending["id"]]
    assert await ids(headers, status="CONFIRMED") == [paid["id"]]
    assert await ids(headers, status="CANCELLED") == [cancelled["id"]]
    assert await ids(headers, status="EXPIRED") == []
    assert await ids(headers, payment_status="paid") == [paid["id"]]
    assert await ids(headers, payment_status="due") == [pending["id"]]
    assert await ids(headers, reference=pending["payment"]["reference"]) == [pending["id"]]
    assert await ids(headers, reference=theirs["payment"]["reference"]) == []  # only one's own
    assert await ids(boss, reference=theirs["payment"]["reference"]) == [theirs["id"]]
    assert await ids(boss, event_id=event["id"], status="PENDING") == [theirs["id"], pending["id"]]
    assert await ids(boss, user_id=user["id"], payment_status="due") == [pending["id"]]
    listed = (await client.get("/api/v1/bookings", params={"event_id": event["id"]}, headers=boss)).json()["items"]
    other_email = (await client.get("/api/v1/users/me", headers=other)).json()["email"]
    assert {b["buyer"]["email"] for b in listed} == {user["email"], other_email}
    for bad in ({"status": "LOST"}, {"payment_status": "owed"}, {"reference": "has space"}):
        assert (await client.get("/api/v1/bookings", params=bad, headers=headers)).status_code == 422, bad


async def test_config_says_whether_development_payments_are_on(client, make_app, database_url):
    assert (await client.get("/api/v1/config")).json() == {"dev_payments": False}
    application = await make_app(database_url=database_url, dev_payments=True)
    async with in_process_client(application) as c:
        assert (await c.get("/api/v1/config")).json() == {"dev_payments": True}


async def test_development_payments_are_404_unless_turned_on(client, app):
    event = await payment_event(client, await admin(client, app))
    _, headers = await customer(client)
    booking = await held_booking(client, headers, event, 0, 1)
    answer = await client.post("/api/v1/dev/payments", json={"reference": booking["payment"]["reference"],
                                                             "outcome": "succeeded"}, headers=headers)
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert (await get_booking(client, headers, booking["id"]))["status"] == "PENDING"


async def test_development_payments_play_the_provider(make_app, database_url):
    application = await make_app(database_url=database_url, dev_payments=True)
    async with in_process_client(application) as c:
        event = await payment_event(c, await admin(c, application))
        _, owner = await customer(c)
        _, stranger = await customer(c)
        booking = await held_booking(c, owner, event, 0, 1)
        body = {"reference": booking["payment"]["reference"], "outcome": "failed"}
        assert (await c.post("/api/v1/dev/payments", json=body)).status_code == 401
        foreign = await c.post("/api/v1/dev/payments", json=body, headers=stranger)
        assert foreign.status_code == 404 and foreign.json()["code"] == "booking_not_found"
        failed = await c.post("/api/v1/dev/payments", json=body, headers=owner)
        assert failed.status_code == 200 and failed.json() == {"booking_id": booking["id"], "status": "PENDING"}
        paid = await c.post("/api/v1/dev/payments", json={**body, "outcome": "succeeded"}, headers=owner)
        assert paid.status_code == 200 and paid.json() == {"booking_id": booking["id"], "status": "CONFIRMED"}
        shown = await get_booking(c, owner, booking["id"])
        assert shown["status"] == "CONFIRMED" and shown["payment"]["status"] == "paid"


# -- invariant 5 after a mix of operations ----------------------------------------------------
async def test_counters_equal_the_bookings_after_a_mix_of_operations(client, app):
    boss = await admin(client, app)
    event = await payment_event(client, boss, capacity=30, per_customer_limit=10)
    buyers = [await customer(client) for _ in range(3)]
    made: list[dict[str, Any]] = []
    for n, (_, headers) in enumerate(buyers):
        for quantities in ((1, 1, 0), (0, 2, 1), (0, 0, 3)):
            answer = await hold(client, headers, event, *quantities)
            if answer.status_code == 201:
                made.append(answer.json())
            else:
                assert answer.json()["code"] in {"sold_out", "customer_limit_reached"}, answer.text
        if n == 0:
            await client.post(f"/api/v1/bookings/{made[-1]['id']}/cancel", headers=headers)
    await deliver(client, notice(made[0]))
    await client.post(f"/api/v1/bookings/{made[1]['id']}/mark-paid", headers=boss)
    await client.post(f"/api/v1/bookings/{made[1]['id']}/cancel", headers=boss)  # paid, then cancelled
    await deliver(client, notice(made[3], kind="payment.failed"))
    await deliver(client, notice(made[4]))
    await client.patch(type_url(event, event["ticket_types"][1]["id"]), json={"capacity": 12}, headers=boss)
    _, box_office = buyers[2]
    door_buyer = (await client.get("/api/v1/users/me", headers=box_office)).json()["id"]
    confirmed_at_door = await hold(client, boss, event, 0, 1, user_id=door_buyer)
    assert confirmed_at_door.status_code == 201
    await client.post(f"/api/v1/bookings/{confirmed_at_door.json()['id']}/mark-paid", headers=boss)

    shown = await get_event(client, event["id"])
    listed = (await client.get("/api/v1/bookings", params={"event_id": event["id"], "limit": 100}, headers=boss)).json()
    assert listed["total"] == len(listed["items"])
    bookings = listed["items"]
    sold = {t["id"]: 0 for t in shown["ticket_types"]}
    held = {t["id"]: 0 for t in shown["ticket_types"]}
    for booking in bookings:
        counted = sold if booking["status"] == "CONFIRMED" else held if booking["status"] == "PENDING" else None
        for item in booking["items"]:
            if counted is not None:
                counted[item["ticket_type_id"]] += item["quantity"]
        live = [t for t in booking["tickets"] if t["status"] != "VOID"]
        assert len(live) == (booking["quantity"] if booking["status"] == "CONFIRMED" else 0), booking
        if booking["status"] == "CONFIRMED":
            assert booking["payment"]["status"] in {"paid", "refund_due"}, booking
    assert {t["id"]: t["tickets_sold"] for t in shown["ticket_types"]} == sold
    assert {t["id"]: t["tickets_held"] for t in shown["ticket_types"]} == held
    assert shown["tickets_sold"] == sum(sold.values()) == sum(t["tickets_sold"] for t in shown["ticket_types"])
    assert shown["tickets_held"] == sum(held.values()) == sum(t["tickets_held"] for t in shown["ticket_types"])
    assert shown["tickets_sold"] + shown["tickets_held"] <= shown["capacity"]
    assert shown["available"] == shown["capacity"] - shown["tickets_sold"] - shown["tickets_held"]
    for t in shown["ticket_types"]:
        if t["capacity"] is not None:
            assert t["tickets_sold"] + t["tickets_held"] <= t["capacity"]
    per_buyer: dict[int, int] = {}
    for booking in bookings:
        if booking["status"] in {"PENDING", "CONFIRMED"}:
            per_buyer[booking["buyer"]["id"]] = per_buyer.get(booking["buyer"]["id"], 0) + booking["quantity"]
    assert all(used <= 10 for used in per_buyer.values()), per_buyer
    assert sum(Decimal(b["total_amount"]) for b in bookings) > 0


@pytest.mark.slow  # waits for a real one-second hold to expire
async def test_a_late_payment_refused_by_a_type_cap_is_owed_back(make_app, database_url):
    application = await make_app(database_url=database_url, hold_seconds=1)
    async with in_process_client(application) as c:
        event = await payment_event(c, await admin(c, application), capacity=50)  # Front row: cap 2
        _, first = await customer(c)
        _, second = await customer(c)
        booking = await held_booking(c, first, event, 2)
        await until_past(booking["expires_at"])
        assert (await hold(c, second, event, 2)).status_code == 201  # releases the expired hold first
        late = await deliver(c, notice(booking))
        assert late.status_code == 200, late.text
        assert late.json() == {"booking_id": booking["id"], "status": "EXPIRED"}
        assert (await get_booking(c, first, booking["id"]))["payment"]["status"] == "refund_due"
        assert [t["tickets_held"] for t in (await get_event(c, event["id"]))["ticket_types"]] == [2, 0, 0]


@pytest.mark.slow  # waits for a real one-second hold to expire
async def test_a_late_payment_refused_by_the_buyers_limit_is_owed_back(make_app, database_url):
    application = await make_app(database_url=database_url, hold_seconds=1)
    async with in_process_client(application) as c:
        event = await payment_event(c, await admin(c, application), capacity=50, per_customer_limit=2)
        _, buyer = await customer(c)
        booking = await held_booking(c, buyer, event, 0, 2)
        await until_past(booking["expires_at"])
        assert (await hold(c, buyer, event, 0, 0, 2)).status_code == 201  # the limit's room, taken again
        late = await deliver(c, notice(booking))
        assert late.status_code == 200, late.text
        assert late.json() == {"booking_id": booking["id"], "status": "EXPIRED"}
        assert (await get_booking(c, buyer, booking["id"]))["payment"]["status"] == "refund_due"
        assert (await get_event(c, event["id"], buyer))["my_remaining"] == 0


@pytest.mark.slow  # waits for a real one-second hold to expire
async def test_an_expired_hold_is_released_with_no_one_acting(make_app, database_url):
    """The server's sweeper (its lifespan's task) gives the tickets back within 1 s of the deadline."""
    application = await make_app(database_url=database_url, hold_seconds=1, sweep_interval_seconds=0.1)
    async with application.api.router.lifespan_context(application.api), in_process_client(application) as c:
        event = await payment_event(c, await admin(c, application))
        _, headers = await customer(c)
        booking = await held_booking(c, headers, event, 1, 1)
        deadline = datetime.fromisoformat(booking["expires_at"])
        for _ in range(100):  # until the counters show the release (or 5 s)
            shown = await get_event(c, event["id"])
            if shown["tickets_held"] == 0:
                break
            await asyncio.sleep(0.05)
        released_by = datetime.now(UTC)
        assert shown["tickets_held"] == 0 and [t["tickets_held"] for t in shown["ticket_types"]] == [0, 0, 0]
        assert released_by <= deadline + timedelta(seconds=1), released_by - deadline
        assert (await get_booking(c, headers, booking["id"]))["status"] == "EXPIRED"


async def test_a_signature_from_the_future_is_refused(client, app):
    event = await payment_event(client, await admin(client, app))
    _, headers = await customer(client)
    booking = await held_booking(client, headers, event, 0, 1)
    # 302: still more than 300 s ahead once the server's clock has moved on from the rounded-down second.
    ahead = await deliver(client, notice(booking), at=int(datetime.now(UTC).timestamp()) + 302)
    assert ahead.status_code == 400 and ahead.json()["code"] == "invalid_signature"
    assert (await get_booking(client, headers, booking["id"]))["status"] == "PENDING"
