"""Two payment answers an audit found wrong, on SQLite and PostgreSQL.

- A provider event delivered again answers what its first delivery did (checkout.md: "the same
  answer, no second effect"): the status stored with the event id is the one the first answer
  showed, a PENDING hold past its deadline as EXPIRED (every read shows it so), and a repeat is
  answered from that stored value alone, whatever became of the booking or the clock since.
- A booking with nothing to pay (a zero total) never becomes ``paid`` nor ``refund_due``:
  mark-paid answers ``200`` with the booking as it is, as a repeated mark-paid does
  (docs/payments.md), while a booking with a total keeps "money taken is never lost"."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.support.api import admin, book, create_event, customer, deadline_passes, event_body
from tests.support.payments import deliver, notice
from ticketing.db import tables as t

# (booking, the buyer's headers, an admin's headers)
Made = tuple[dict[str, Any], dict[str, str], dict[str, str]]


async def _held(client: httpx.AsyncClient, app: Any, **overrides: Any) -> Made:
    """A PENDING hold of 2 tickets on a payment event: (booking, buyer's headers, admin's headers)."""
    boss = await admin(client, app)
    event = await create_event(client, boss, capacity=5, checkout="payment", **overrides)
    _, buyer = await customer(client)
    answer = await book(client, buyer, event["id"], 2)
    assert answer.status_code == 201 and answer.json()["status"] == "PENDING", answer.text
    return answer.json(), buyer, boss


async def _stored(app: Any, event_id: str) -> str | None:
    """The result stored with a provider event id (payment_events.result_status)."""
    async def work(conn: AsyncConnection) -> str | None:
        query = select(t.payment_events.c.result_status).where(t.payment_events.c.id == event_id)
        found: str | None = (await conn.execute(query)).scalar_one()
        return found

    return await app.state.services.db.read(work)


async def _booking(client: httpx.AsyncClient, headers: dict[str, str], booking_id: int) -> dict[str, Any]:
    answer = await client.get(f"/api/v1/bookings/{booking_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


# -- the same provider event id, the same answer --------------------------------------------------
@pytest.mark.parametrize("confirmed_by", ["mark-paid", "late-payment"])
async def test_a_failed_payment_past_the_deadline_is_answered_expired_again_after_the_hold_is_confirmed(
    client, app, confirmed_by
):
    booking, buyer, boss = await _held(client, app)
    await deadline_passes(app, booking["id"])
    body = notice(booking, event_id="evt_failed", kind="payment.failed")
    first = await deliver(client, body)
    assert (first.status_code, first.json()) == (200, {"booking_id": booking["id"], "status": "EXPIRED"})
    assert await _stored(app, "evt_failed") == "EXPIRED"  # what the answer showed, in its own transaction
    # The hold was never released (no sweeper ran): an admin's mark-paid or a late payment by
    # another event id still confirms it.
    if confirmed_by == "mark-paid":
        confirmed = await client.post(f"/api/v1/bookings/{booking['id']}/mark-paid", headers=boss)
        assert confirmed.status_code == 200 and confirmed.json()["status"] == "CONFIRMED"
    else:
        confirmed = await deliver(client, notice(booking, event_id="evt_succeeded"))
        assert confirmed.json() == {"booking_id": booking["id"], "status": "CONFIRMED"}
    again = await deliver(client, body)
    assert (again.status_code, again.json()) == (200, first.json())
    assert await _stored(app, "evt_failed") == "EXPIRED"
    read = await _booking(client, buyer, booking["id"])
    assert (read["status"], read["payment"]["status"]) == ("CONFIRMED", "paid")  # no second effect


async def test_a_failed_payment_before_the_deadline_is_answered_pending_again_after_it(client, app):
    booking, buyer, _ = await _held(client, app)
    body = notice(booking, event_id="evt_early", kind="payment.failed")
    first = await deliver(client, body)
    assert (first.status_code, first.json()) == (200, {"booking_id": booking["id"], "status": "PENDING"})
    await deadline_passes(app, booking["id"])
    assert (await _booking(client, buyer, booking["id"]))["status"] == "EXPIRED"  # as reads show it now
    again = await deliver(client, body)
    assert (again.status_code, again.json()) == (200, first.json())
    assert await _stored(app, "evt_early") == "PENDING"


# -- nothing to pay: never paid, never refund_due -------------------------------------------------
async def _zero_total(client: httpx.AsyncClient, app: Any, checkout: str) -> Made:
    boss = await admin(client, app)
    body = event_body(capacity=5, checkout=checkout, ticket_types=[{"name": "Invitation", "price": "0.00"}])
    body.pop("price")
    made = await client.post("/api/v1/events", json=body, headers=boss)
    assert made.status_code == 201, made.text
    _, buyer = await customer(client)
    answer = await book(client, buyer, made.json()["id"], 2)
    assert answer.status_code == 201, answer.text
    booking = answer.json()
    assert (booking["status"], booking["total_amount"], booking["payment"]["status"]) == ("CONFIRMED", "0.00", "none")
    assert booking["payment"].get("reference") is None  # so no provider event can name it
    return booking, buyer, boss


async def _refunds_due(client: httpx.AsyncClient, boss: dict[str, str]) -> list[int]:
    listed = await client.get("/api/v1/bookings", params={"payment_status": "refund_due"}, headers=boss)
    assert listed.status_code == 200, listed.text
    return [b["id"] for b in listed.json()["items"]]


async def test_mark_paid_leaves_a_zero_total_booking_as_it_is_and_a_cancel_owes_nothing(client, app):
    for checkout in ("payment", "instant"):
        booking, buyer, boss = await _zero_total(client, app, checkout)
        before = await _booking(client, boss, booking["id"])
        for _ in range(2):  # as a repeated mark-paid: 200, the booking unchanged
            marked = await client.post(f"/api/v1/bookings/{booking['id']}/mark-paid", headers=boss)
            assert (marked.status_code, marked.json()) == (200, before), checkout
        cancelled = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=buyer)
        assert cancelled.status_code == 200
        assert (cancelled.json()["status"], cancelled.json()["payment"]["status"]) == ("CANCELLED", "none"), checkout
        # Marked paid after its cancel: still nothing to pay, so nothing is owed back.
        late = await client.post(f"/api/v1/bookings/{booking['id']}/mark-paid", headers=boss)
        assert (late.status_code, late.json()) == (200, cancelled.json()), checkout
        assert booking["id"] not in await _refunds_due(client, boss)


async def test_a_zero_total_booking_marked_paid_before_the_fix_owes_nothing_when_cancelled(client, app):
    booking, buyer, boss = await _zero_total(client, app, "payment")

    async def work(conn: AsyncConnection) -> None:  # a row the old mark-paid left behind
        await conn.execute(update(t.bookings).where(t.bookings.c.id == booking["id"]).values(payment_status="paid"))

    await app.state.services.db.transaction(work)
    cancelled = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=buyer)
    assert (cancelled.json()["status"], cancelled.json()["payment"]["status"]) == ("CANCELLED", "none")
    assert booking["id"] not in await _refunds_due(client, boss)


async def test_money_for_a_cancelled_booking_with_a_total_is_still_owed_back(client, app):
    booking, buyer, boss = await _held(client, app)
    cancelled = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=buyer)
    assert (cancelled.json()["status"], cancelled.json()["payment"]["status"]) == ("CANCELLED", "none")
    marked = await client.post(f"/api/v1/bookings/{booking['id']}/mark-paid", headers=boss)
    assert marked.status_code == 200
    assert (marked.json()["status"], marked.json()["payment"]["status"]) == ("CANCELLED", "refund_due")
    assert await _refunds_due(client, boss) == [booking["id"]]
    # An instant booking with a total paid at the box office is still paid.
    event = await create_event(client, boss, capacity=5)
    door = (await book(client, buyer, event["id"], 1)).json()
    paid = await client.post(f"/api/v1/bookings/{door['id']}/mark-paid", headers=boss)
    assert paid.status_code == 200 and paid.json()["payment"]["status"] == "paid"
