"""Contract: booking, sold out, limits, idempotency, listing, cancelling."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.api import admin, book, create_event, customer
from tests.support.credentials import PASSWORD


async def test_booking_creates_tickets_with_unguessable_codes(client, app):
    event = await create_event(client, await admin(client, app), price="1500.00")
    user, headers = await customer(client)
    response = await book(client, headers, event["id"], 3)
    assert response.status_code == 201
    booking = response.json()
    assert booking["user_id"] == user["id"] and booking["status"] == "CONFIRMED"
    assert booking["quantity"] == 3 and booking["total_amount"] == "4500.00"
    assert booking["booking_date"].endswith(("Z", "+00:00"))
    codes = [t["code"] for t in booking["tickets"]]
    assert len(set(codes)) == 3 and all(len(c) >= 16 for c in codes)
    assert {t["status"] for t in booking["tickets"]} == {"VALID"}
    assert all(t["booking_id"] == booking["id"] and t["event_id"] == event["id"] for t in booking["tickets"])
    after = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert (after["tickets_sold"], after["available"]) == (3, event["capacity"] - 3)


async def test_total_uses_the_price_at_booking_time(client, app):
    admin_headers = await admin(client, app)
    event = await create_event(client, admin_headers, price="10.00")
    _, headers = await customer(client)
    first = (await book(client, headers, event["id"], 2)).json()
    await client.patch(f"/api/v1/events/{event['id']}", json={"price": "99.99"}, headers=admin_headers)
    second = (await book(client, headers, event["id"], 2)).json()
    assert (first["total_amount"], second["total_amount"]) == ("20.00", "199.98")
    assert (await client.get(f"/api/v1/bookings/{first['id']}", headers=headers)).json()["total_amount"] == "20.00"


async def test_sold_out_is_all_or_nothing(client, app):
    event = await create_event(client, await admin(client, app), capacity=5)
    _, headers = await customer(client)
    assert (await book(client, headers, event["id"], 4)).status_code == 201
    refused = await book(client, headers, event["id"], 2)
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": "Tickets are no longer available. Please try again.", "code": "sold_out", "available": 1,
        "items": [{"ticket_type_id": event["ticket_types"][0]["id"], "available": 1}],
    }
    assert (await book(client, headers, event["id"], 1)).status_code == 201
    assert (await client.get(f"/api/v1/events/{event['id']}")).json()["available"] == 0


async def test_quantity_rules(client, app):
    event = await create_event(client, await admin(client, app), max_per_booking=4)
    _, headers = await customer(client)
    above = await book(client, headers, event["id"], 5)
    assert above.status_code == 400 and above.json()["code"] == "quantity_above_limit"
    for quantity in (0, -1, 1.5, "2", None):
        response = await client.post("/api/v1/bookings", json={"event_id": event["id"], "quantity": quantity}, headers=headers)
        assert response.status_code == 422, quantity
        assert response.json()["code"] == "validation_error"
    huge = await book(client, headers, event["id"], 10**30)
    assert huge.status_code == 400 and huge.json()["code"] == "quantity_above_limit"
    # JSON has one kind of number: 2.0 is the integer 2, as the OpenAPI schema's "integer" says.
    whole = await book(client, headers, event["id"], 2.0)
    assert whole.status_code == 201 and whole.json()["quantity"] == 2 and len(whole.json()["tickets"]) == 2


async def test_unknown_event_and_closed_sales(client, app):
    admin_headers = await admin(client, app)
    _, headers = await customer(client)
    missing = await book(client, headers, 987654, 1)
    assert missing.status_code == 404 and missing.json()["code"] == "event_not_found"
    past = await create_event(client, admin_headers, starts_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    closed = await book(client, headers, past["id"], 1)
    assert closed.status_code == 400 and closed.json()["code"] == "sales_closed"


async def test_booking_for_another_user(client, app):
    admin_headers = await admin(client, app)
    event = await create_event(client, admin_headers)
    fan, fan_headers = await customer(client)
    other, _ = await customer(client)
    box_office = await book(client, admin_headers, event["id"], 2, user_id=fan["id"])
    assert box_office.status_code == 201 and box_office.json()["user_id"] == fan["id"]
    own_id = await book(client, fan_headers, event["id"], 1, user_id=fan["id"])
    assert own_id.status_code == 201
    denied = await book(client, fan_headers, event["id"], 1, user_id=other["id"])
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    unknown = await book(client, admin_headers, event["id"], 1, user_id=99999999)
    assert unknown.status_code == 404 and unknown.json()["code"] == "user_not_found"
    assert (await client.get(f"/api/v1/events/{event['id']}")).json()["tickets_sold"] == 3


async def test_booking_requires_authentication(client, app):
    event = await create_event(client, await admin(client, app))
    response = await client.post("/api/v1/bookings", json={"event_id": event["id"], "quantity": 1})
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


# Each way a booking's token is not valid: none, forged, or signed by the service for a session
# that has since ended (signed out, ended by a password change, or by signing out everywhere).
_ENDED_BY = {
    "signed-out": ("/api/v1/auth/logout", None),
    "password-changed": ("/api/v1/users/me/password", {"current_password": PASSWORD, "new_password": "a new passphrase"}),
    "signed-out-everywhere": ("/api/v1/users/me/sign-out-everywhere", None),
}
_INVALID_TOKENS = ["none", "forged", *_ENDED_BY]
_VALID_BODY = b'{"event_id": 1, "quantity": 1}'
# (body, extra headers): requests wrong in themselves in each way the route judges, and one that is not.
_REQUESTS = {
    "empty-object": (b"{}", {}),
    "zero-quantity": (b'{"event_id": 1, "quantity": 0}', {}),
    "wrong-type": (b'{"event_id": "x"}', {}),
    "not-json": (b'{"event_id": 1,', {}),
    "not-utf8": (b'{"event_id": "\xff", "quantity": 1}', {}),
    "bad-key": (_VALID_BODY, {"Idempotency-Key": "a b"}),
    "good-body": (_VALID_BODY, {}),
}


async def _token_headers(client, kind: str) -> dict[str, str]:
    if kind == "none":
        return {}
    if kind == "forged":
        return {"Authorization": "Bearer forged.token.here"}
    _, headers = await customer(client)
    path, body = _ENDED_BY[kind]
    assert (await client.post(path, json=body, headers=headers)).status_code == 204
    return headers


@pytest.mark.parametrize("request_kind", list(_REQUESTS))
@pytest.mark.parametrize("token", _INVALID_TOKENS)
async def test_a_booking_without_a_valid_token_is_401_whatever_its_body(client, token, request_kind):
    """The token is judged before the body and the headers (as on every route that needs one): a
    client that lost its sign-in learns that, not what else is wrong with its request. A token
    whose session ended "gets 401 from then on", though the route reads no session for a valid
    booking (the booking write checks it): a request it refuses reads the session first."""
    body, extra = _REQUESTS[request_kind]
    headers = {**await _token_headers(client, token), **extra, "Content-Type": "application/json"}
    response = await client.post("/api/v1/bookings", content=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated"), response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_idempotent_replay_creates_nothing(client, app):
    event = await create_event(client, await admin(client, app))
    _, headers = await customer(client)
    first = await book(client, headers, event["id"], 2, idempotency_key="order-1")
    again = await book(client, headers, event["id"], 2, idempotency_key="order-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    mismatch = await book(client, headers, event["id"], 3, idempotency_key="order-1")
    assert mismatch.status_code == 422 and mismatch.json()["code"] == "idempotency_key_mismatch"
    assert (await client.get(f"/api/v1/events/{event['id']}")).json()["tickets_sold"] == 2


async def test_idempotency_keys_are_per_caller(client, app):
    event = await create_event(client, await admin(client, app))
    _, alice = await customer(client)
    _, bob = await customer(client)
    a = await book(client, alice, event["id"], 1, idempotency_key="same")
    b = await book(client, bob, event["id"], 1, idempotency_key="same")
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


async def test_concurrent_requests_with_one_key_book_once(client, app):
    event = await create_event(client, await admin(client, app))
    _, headers = await customer(client)
    responses = await asyncio.gather(*[book(client, headers, event["id"], 2, idempotency_key="race") for _ in range(8)])
    ok = [r for r in responses if r.status_code == 201]
    assert ok and {r.json()["id"] for r in ok} == {ok[0].json()["id"]}
    assert all(r.status_code == 201 or r.json()["code"] == "request_in_progress" for r in responses)
    assert (await client.get(f"/api/v1/events/{event['id']}")).json()["tickets_sold"] == 2


async def test_bad_idempotency_keys_are_422(client, app):
    event = await create_event(client, await admin(client, app))
    _, headers = await customer(client)
    for key in ("", "x" * 256, "has space", "tab\tkey", "ключ"):
        response = await client.post(
            "/api/v1/bookings", json={"event_id": event["id"], "quantity": 1},
            headers={**headers, "Idempotency-Key": key.encode()},
        )
        assert response.status_code == 422, key
        assert response.json()["code"] == "validation_error"
    assert (await client.get(f"/api/v1/events/{event['id']}")).json()["tickets_sold"] == 0


async def test_listing_newest_first_and_admin_filters(client, app):
    admin_headers = await admin(client, app)
    first_event = await create_event(client, admin_headers)
    second_event = await create_event(client, admin_headers)
    alice, alice_headers = await customer(client)
    bob, bob_headers = await customer(client)
    a1 = (await book(client, alice_headers, first_event["id"])).json()
    a2 = (await book(client, alice_headers, second_event["id"])).json()
    b1 = (await book(client, bob_headers, first_event["id"])).json()
    mine = (await client.get("/api/v1/bookings", headers=alice_headers)).json()
    assert [b["id"] for b in mine["items"]] == [a2["id"], a1["id"]] and mine["total"] == 2
    assert mine["items"][0]["tickets"]
    snooping = (await client.get("/api/v1/bookings", params={"user_id": bob["id"]}, headers=alice_headers)).json()
    assert snooping["items"] == [] and snooping["total"] == 0
    everything = (await client.get("/api/v1/bookings", headers=admin_headers)).json()
    assert [b["id"] for b in everything["items"]] == [b1["id"], a2["id"], a1["id"]]
    by_event = (await client.get("/api/v1/bookings", params={"event_id": first_event["id"]}, headers=admin_headers)).json()
    assert {b["id"] for b in by_event["items"]} == {a1["id"], b1["id"]}
    by_user = (await client.get("/api/v1/bookings", params={"user_id": alice["id"], "limit": 1}, headers=admin_headers)).json()
    assert [b["id"] for b in by_user["items"]] == [a2["id"]] and by_user["total"] == 2 and by_user["limit"] == 1


async def test_someone_elses_booking_is_not_found(client, app):
    event = await create_event(client, await admin(client, app))
    _, alice = await customer(client)
    _, bob = await customer(client)
    booking = (await book(client, alice, event["id"])).json()
    for response in (
        await client.get(f"/api/v1/bookings/{booking['id']}", headers=bob),
        await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=bob),
        await client.get("/api/v1/bookings/55555555", headers=alice),
    ):
        assert response.status_code == 404 and response.json()["code"] == "booking_not_found"
    assert (await client.get(f"/api/v1/bookings/{booking['id']}", headers=alice)).json()["status"] == "CONFIRMED"


async def test_cancel_releases_once_and_voids_tickets(client, app):
    admin_headers = await admin(client, app)
    event = await create_event(client, admin_headers, capacity=5)
    _, headers = await customer(client)
    booking = (await book(client, headers, event["id"], 3)).json()
    cancelled = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200
    body = cancelled.json()
    assert body["status"] == "CANCELLED" and {t["status"] for t in body["tickets"]} == {"VOID"}
    again = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=admin_headers)
    assert again.status_code == 200 and again.json()["status"] == "CANCELLED"
    assert (await client.get(f"/api/v1/events/{event['id']}")).json()["available"] == 5


async def test_racing_cancels_release_once(client, app):
    event = await create_event(client, await admin(client, app), capacity=10)
    _, headers = await customer(client)
    booking = (await book(client, headers, event["id"], 4)).json()
    await book(client, headers, event["id"], 2)
    cancel = f"/api/v1/bookings/{booking['id']}/cancel"
    responses = await asyncio.gather(*[client.post(cancel, headers=headers) for _ in range(6)])
    assert {r.status_code for r in responses} == {200}
    assert (await client.get(f"/api/v1/events/{event['id']}")).json()["tickets_sold"] == 2
