"""Contract: tickets, check-in at the door."""

from __future__ import annotations

import asyncio

from tests.support.api import admin, book, create_event, customer


async def _booked_ticket(client, app):  # type: ignore[no-untyped-def]
    admin_headers = await admin(client, app)
    event = await create_event(client, admin_headers)
    _, headers = await customer(client)
    booking = (await book(client, headers, event["id"], 1)).json()
    return admin_headers, headers, booking


async def test_owner_and_admin_see_a_ticket_others_do_not(client, app):
    admin_headers, headers, booking = await _booked_ticket(client, app)
    code = booking["tickets"][0]["code"]
    assert (await client.get(f"/api/v1/tickets/{code}", headers=headers)).json() == booking["tickets"][0]
    assert (await client.get(f"/api/v1/tickets/{code}", headers=admin_headers)).status_code == 200
    _, stranger = await customer(client)
    for path in (f"/api/v1/tickets/{code}", "/api/v1/tickets/does-not-exist", "/api/v1/tickets/bad%20code!"):
        response = await client.get(path, headers=stranger)
        assert response.status_code == 404 and response.json()["code"] == "ticket_not_found"


async def test_check_in_once_then_already_checked_in(client, app):
    admin_headers, headers, booking = await _booked_ticket(client, app)
    code = booking["tickets"][0]["code"]
    denied = await client.post(f"/api/v1/tickets/{code}/check-in", headers=headers)
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    first = await client.post(f"/api/v1/tickets/{code}/check-in", headers=admin_headers)
    assert first.status_code == 200
    assert first.json()["status"] == "USED" and first.json()["checked_in_at"].endswith(("Z", "+00:00"))
    second = await client.post(f"/api/v1/tickets/{code}/check-in", headers=admin_headers)
    assert second.status_code == 409 and second.json()["code"] == "already_checked_in"
    missing = await client.post("/api/v1/tickets/nope/check-in", headers=admin_headers)
    assert missing.status_code == 404 and missing.json()["code"] == "ticket_not_found"


async def test_void_ticket_cannot_check_in(client, app):
    admin_headers, headers, booking = await _booked_ticket(client, app)
    await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers)
    code = booking["tickets"][0]["code"]
    response = await client.post(f"/api/v1/tickets/{code}/check-in", headers=admin_headers)
    assert response.status_code == 409 and response.json()["code"] == "ticket_void"


async def test_racing_check_ins_admit_exactly_one(client, app):
    admin_headers, _, booking = await _booked_ticket(client, app)
    code = booking["tickets"][0]["code"]
    responses = await asyncio.gather(*[client.post(f"/api/v1/tickets/{code}/check-in", headers=admin_headers) for _ in range(8)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 7
