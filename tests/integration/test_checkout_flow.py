"""Checkout end to end through the API (contract v1.1, checkout.md), on both databases: ticket
types, a hold on a payment event, payment by webhook and by hand, expiry, limits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.support.api import admin, customer, event_body, in_process_client
from tests.support.payments import deliver, notice
from ticketing.db import tables as t

THREE_TYPES = [
    {"name": "Front row", "price": "3500.00", "capacity": 2},
    {"name": "Standing", "price": "1200.00"},
    {"name": "Student", "price": "600.00"},
]


async def payment_event(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    full = event_body(**{"capacity": 5, "checkout": "payment", "ticket_types": THREE_TYPES, **overrides})
    full.pop("price")
    response = await client.post("/api/v1/events", json=full, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def items(event: dict[str, Any], *quantities: int) -> list[dict[str, int]]:
    return [{"ticket_type_id": t["id"], "quantity": q} for t, q in zip(event["ticket_types"], quantities, strict=False) if q]


async def hold(client: httpx.AsyncClient, headers: dict[str, str], event: dict[str, Any], *quantities: int) -> httpx.Response:
    return await client.post("/api/v1/bookings", json={"event_id": event["id"], "items": items(event, *quantities)},
                             headers=headers)


async def test_types_are_listed_with_what_is_left(client, app):
    event = await payment_event(client, await admin(client, app))
    assert [t["name"] for t in event["ticket_types"]] == ["Front row", "Standing", "Student"]
    assert event["price"] == "600.00" and event["checkout"] == "payment" and event["hold_minutes"] == 15
    assert [t["available"] for t in event["ticket_types"]] == [2, 5, 5]
    assert event["tickets_held"] == 0 and event["per_customer_limit"] is None


async def test_a_hold_is_pending_then_paid_by_webhook_once(client, app):
    event = await payment_event(client, await admin(client, app))
    _, headers = await customer(client)
    held = await hold(client, headers, event, 1, 2)
    assert held.status_code == 201, held.text
    booking = held.json()
    assert booking["status"] == "PENDING" and booking["tickets"] == []
    assert booking["total_amount"] == "5900.00"
    assert booking["payment"]["status"] == "due" and len(booking["payment"]["reference"]) >= 16
    expires = datetime.fromisoformat(booking["expires_at"])
    assert timedelta(minutes=14) < expires - datetime.now(UTC) <= timedelta(minutes=15)
    after = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert after["tickets_held"] == 3 and after["available"] == 2
    assert [t["tickets_held"] for t in after["ticket_types"]] == [1, 2, 0]

    body = notice(booking, event_id="evt_1")
    answers = [await deliver(client, body) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.json()["status"] for a in answers} == {"CONFIRMED"}
    paid = (await client.get(f"/api/v1/bookings/{booking['id']}", headers=headers)).json()
    assert paid["status"] == "CONFIRMED" and paid["payment"]["status"] == "paid" and paid["expires_at"] is None
    front, standing = event["ticket_types"][0]["id"], event["ticket_types"][1]["id"]
    assert sorted(t["ticket_type_id"] for t in paid["tickets"]) == sorted([front, standing, standing])
    final = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert final["tickets_held"] == 0 and final["tickets_sold"] == 3


async def test_a_capped_type_and_the_event_are_all_or_nothing(client, app):
    event = await payment_event(client, await admin(client, app))
    _, headers = await customer(client)
    refused = await hold(client, headers, event, 3, 1)
    assert refused.status_code == 409 and refused.json()["code"] == "sold_out"
    assert refused.json()["available"] == 5
    assert refused.json()["items"] == [{"ticket_type_id": event["ticket_types"][0]["id"], "available": 2},
                                       {"ticket_type_id": event["ticket_types"][1]["id"], "available": 5}]
    unchanged = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert unchanged["tickets_held"] == 0


@pytest.mark.slow  # waits for a real one-second hold to expire
async def test_an_expired_hold_gives_its_tickets_back(client, make_app, database_url):
    application = await make_app(database_url=database_url, hold_seconds=1)
    async with in_process_client(application) as c:
        event = await payment_event(c, await admin(c, application), capacity=2)
        _, first = await customer(c)
        _, second = await customer(c)
        held = (await hold(c, first, event, 0, 2)).json()
        assert held["status"] == "PENDING"
        assert (await hold(c, second, event, 0, 1)).status_code == 409
        # Waits for the deadline itself (a condition of the clock, not a guess at how long work takes).
        await asyncio.sleep(max(0.0, (datetime.fromisoformat(held["expires_at"]) - datetime.now(UTC)).total_seconds()) + 0.05)
        shown = (await c.get(f"/api/v1/bookings/{held['id']}", headers=first)).json()
        assert shown["status"] == "EXPIRED" and shown["expires_at"] is None
        taken = await hold(c, second, event, 0, 2)  # releases the expired hold, then holds
        assert taken.status_code == 201, taken.text
        # A late payment for the expired hold cannot take the tickets again: refund_due.
        late = await deliver(c, notice(held))
        assert late.status_code == 200 and late.json() == {"booking_id": held["id"], "status": "EXPIRED"}
        after = (await c.get(f"/api/v1/bookings/{held['id']}", headers=first)).json()
        assert after["payment"]["status"] == "refund_due"


async def test_per_customer_limit_across_bookings(client, app):
    event = await payment_event(client, await admin(client, app), per_customer_limit=3, capacity=50)
    _, headers = await customer(client)
    assert (await hold(client, headers, event, 0, 2)).status_code == 201
    over = await hold(client, headers, event, 0, 0, 2)
    assert over.status_code == 409 and over.json()["code"] == "customer_limit_reached" and over.json()["remaining"] == 1
    mine = (await client.get(f"/api/v1/events/{event['id']}", headers=headers)).json()
    assert mine["my_remaining"] == 1


async def test_v1_form_on_several_types_and_foreign_types(client, app):
    boss = await admin(client, app)
    event = await payment_event(client, boss)
    other = await payment_event(client, boss)
    _, headers = await customer(client)
    v1 = await client.post("/api/v1/bookings", json={"event_id": event["id"], "quantity": 1}, headers=headers)
    assert v1.status_code == 422 and v1.json()["code"] == "ticket_type_required"
    foreign = await client.post("/api/v1/bookings", json={"event_id": event["id"], "items": items(other, 1)}, headers=headers)
    assert foreign.status_code == 404 and foreign.json()["code"] == "ticket_type_not_found"


async def test_signature_amount_and_reference_checks(client, app):
    event = await payment_event(client, await admin(client, app))
    _, headers = await customer(client)
    booking = (await hold(client, headers, event, 0, 1)).json()
    body = notice(booking)
    assert (await deliver(client, body, secret="whsec_wrong_0123456789")).json()["code"] == "invalid_signature"
    assert (await deliver(client, body, at=int(datetime.now(UTC).timestamp()) - 301)).status_code == 400
    unsigned = await client.post("/api/v1/payments/webhook", content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 400 and unsigned.json()["code"] == "invalid_signature"
    wrong_amount = await deliver(client, notice(booking, amount="1.00"))
    assert wrong_amount.status_code == 409 and wrong_amount.json()["code"] == "amount_mismatch"
    unknown = await deliver(client, notice(booking, reference="nope"))
    assert unknown.status_code == 404 and unknown.json()["code"] == "booking_not_found"
    failed = await deliver(client, notice(booking, kind="payment.failed"))
    assert failed.status_code == 200 and failed.json()["status"] == "PENDING"


async def test_mark_paid_cancel_refund(client, app):
    boss = await admin(client, app)
    event = await payment_event(client, boss)
    _, headers = await customer(client)
    booking = (await hold(client, headers, event, 0, 1)).json()
    paid = await client.post(f"/api/v1/bookings/{booking['id']}/mark-paid", headers=boss)
    assert paid.status_code == 200 and paid.json()["status"] == "CONFIRMED" and len(paid.json()["tickets"]) == 1
    again = await client.post(f"/api/v1/bookings/{booking['id']}/mark-paid", headers=boss)
    assert again.status_code == 200 and len(again.json()["tickets"]) == 1
    cancelled = (await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers)).json()
    assert cancelled["status"] == "CANCELLED" and cancelled["payment"]["status"] == "refund_due"
    refunded = await client.post(f"/api/v1/bookings/{booking['id']}/mark-refunded", headers=boss)
    assert refunded.status_code == 200 and refunded.json()["payment"]["status"] == "refunded"
    event_now = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert event_now["tickets_sold"] == 0 and event_now["tickets_held"] == 0


@pytest.mark.parametrize("released", [False, True], ids=["past-its-deadline", "released-by-a-sweep"])
async def test_a_late_payment_for_an_expired_hold_its_owner_cancelled_is_owed_back(client, app, released):
    """The owner cancels a hold whose deadline has passed (still PENDING in its row, or released
    EXPIRED already): it reads EXPIRED, nothing is due any more, and a payment that still arrives
    is owed back instead of confirming what its owner cancelled."""
    boss = await admin(client, app)
    event = await payment_event(client, boss)
    _, headers = await customer(client)
    booking = (await hold(client, headers, event, 0, 1)).json()
    past = datetime.now(UTC) - timedelta(seconds=5)
    services = app.state.services
    await services.db.transaction(lambda conn: conn.execute(
        update(t.bookings).where(t.bookings.c.id == booking["id"]).values(expires_at=past)))
    if released:
        assert await services.store.bookings.release_expired(event["id"], datetime.now(UTC), 10) == 1

    cancelled = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers)

    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["payment"]["status"]) == ("EXPIRED", "none")
    late = await deliver(client, notice(booking))
    assert (late.status_code, late.json()["status"]) == (200, "EXPIRED"), late.text
    now = (await client.get(f"/api/v1/bookings/{booking['id']}", headers=headers)).json()
    assert (now["status"], now["payment"]["status"], now["tickets"]) == ("EXPIRED", "refund_due", [])
    after = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert (after["tickets_sold"], after["tickets_held"]) == (0, 0)


async def test_a_late_payment_takes_back_tickets_another_expired_hold_still_counts(client, app):
    """Hold A expires and is released; hold B takes the same tickets and expires too, not yet
    released (no sweeper here). A's late payment releases B first, as a booking that needs the
    tickets would, and confirms A, instead of owing the money back."""
    boss = await admin(client, app)
    event = await payment_event(client, boss, capacity=2)
    _, alice = await customer(client)
    _, bob = await customer(client)
    services = app.state.services

    async def deadline_passes(booking_id: int) -> None:
        past = datetime.now(UTC) - timedelta(seconds=5)
        await services.db.transaction(lambda conn: conn.execute(
            update(t.bookings).where(t.bookings.c.id == booking_id).values(expires_at=past)))

    first = (await hold(client, alice, event, 0, 2)).json()
    await deadline_passes(first["id"])
    assert await services.store.bookings.release_expired(event["id"], datetime.now(UTC), 10) == 1
    second = (await hold(client, bob, event, 0, 2)).json()
    assert second["status"] == "PENDING"
    await deadline_passes(second["id"])

    late = await deliver(client, notice(first))

    assert (late.status_code, late.json()["status"]) == (200, "CONFIRMED"), late.text
    paid = (await client.get(f"/api/v1/bookings/{first['id']}", headers=alice)).json()
    assert (paid["status"], paid["payment"]["status"], len(paid["tickets"])) == ("CONFIRMED", "paid", 2)
    assert (await client.get(f"/api/v1/bookings/{second['id']}", headers=bob)).json()["status"] == "EXPIRED"
    after = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert (after["tickets_sold"], after["tickets_held"]) == (2, 0)


async def test_money_paid_again_after_a_refund_is_owed_back(client, app):
    """A cancelled booking refunded and then paid again (a provider's late or duplicate charge,
    under a new event id): the new money is owed back, not lost; the booking stays CANCELLED."""
    boss = await admin(client, app)
    event = await payment_event(client, boss)
    _, headers = await customer(client)
    booking = (await hold(client, headers, event, 0, 1)).json()
    assert (await deliver(client, notice(booking))).json()["status"] == "CONFIRMED"
    assert (await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers)).status_code == 200
    refunded = await client.post(f"/api/v1/bookings/{booking['id']}/mark-refunded", headers=boss)
    assert refunded.json()["payment"]["status"] == "refunded"

    again = await deliver(client, notice(booking))

    assert (again.status_code, again.json()["status"]) == (200, "CANCELLED"), again.text
    now = (await client.get(f"/api/v1/bookings/{booking['id']}", headers=headers)).json()
    assert (now["status"], now["payment"]["status"]) == ("CANCELLED", "refund_due")
    # Refunded again, it is settled; a third charge would be owed back the same way.
    assert (await client.post(f"/api/v1/bookings/{booking['id']}/mark-refunded", headers=boss)).json()[
        "payment"]["status"] == "refunded"
