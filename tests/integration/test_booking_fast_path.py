"""The booking fast path answers ordinary bookings itself, exactly as the route would, and hands
everything else to the route (api/booking_fast_path.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tests.support.api import admin, bearer, book, create_event, customer
from ticketing.api.booking_fast_path import BookingFastPath


@pytest.fixture
def routed(app, monkeypatch):  # type: ignore[no-untyped-def]
    """The requests that reached the FastAPI route, i.e. that the fast path handed over."""
    if app.middleware_stack is None:
        app.middleware_stack = app.build_middleware_stack()
    fast = app.middleware_stack.app
    assert isinstance(fast, BookingFastPath)
    inner = fast.app
    seen: list[tuple[str, str]] = []

    async def counting(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            seen.append((scope["method"], scope["path"]))
        await inner(scope, receive, send)

    monkeypatch.setattr(fast, "app", counting)
    return seen


BOOKINGS = ("POST", "/api/v1/bookings")


async def test_ordinary_booking_is_answered_as_the_route_answers_it(client, app, routed):
    event = await create_event(client, await admin(client, app), capacity=10, price="12.50")
    user, headers = await customer(client)
    created = await book(client, headers, event["id"], 3, idempotency_key="fast-1")
    assert created.status_code == 201 and created.headers["content-type"] == "application/json"
    assert BOOKINGS not in routed
    # The route's own serialisation of the same booking, byte for byte.
    shown = await client.get(f"/api/v1/bookings/{created.json()['id']}", headers=headers)
    assert created.content == shown.content
    assert created.json()["user_id"] == user["id"] and created.json()["total_amount"] == "37.50"
    replay = await book(client, headers, event["id"], 3, idempotency_key="fast-1")
    assert (replay.status_code, replay.json()["id"]) == (201, created.json()["id"])
    assert BOOKINGS not in routed


async def test_refusals_carry_the_contract_codes(client, app, routed):
    admin_headers = await admin(client, app)
    event = await create_event(client, admin_headers, capacity=3, max_per_booking=2)
    past = await create_event(client, admin_headers, starts_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    _, headers = await customer(client)
    assert (await book(client, headers, event["id"], 2)).status_code == 201
    answers = {
        "sold_out": await book(client, headers, event["id"], 2),
        "quantity_above_limit": await book(client, headers, event["id"], 3),
        "event_not_found": await book(client, headers, 999_999, 1),
        "idempotency_key_mismatch": None,
    }
    await book(client, headers, event["id"], 1, idempotency_key="k")
    answers["idempotency_key_mismatch"] = await book(client, headers, event["id"], 2, idempotency_key="k")
    assert {code: (r.status_code, r.json()["code"]) for code, r in answers.items()} == {
        "sold_out": (409, "sold_out"),
        "quantity_above_limit": (400, "quantity_above_limit"),
        "event_not_found": (404, "event_not_found"),
        "idempotency_key_mismatch": (422, "idempotency_key_mismatch"),
    }
    assert answers["sold_out"].json()["available"] == 1
    closed = await book(client, headers, past["id"], 1)
    assert (closed.status_code, closed.json()["code"]) == (400, "sales_closed")
    assert BOOKINGS not in routed


async def test_everything_else_is_handed_to_the_route(client, app, routed):
    admin_headers = await admin(client, app)
    event = await create_event(client, admin_headers)
    other, headers = await customer(client)
    url = "/api/v1/bookings"
    body = {"event_id": event["id"], "quantity": 1}
    answers = [
        await client.post(url, json={**body, "quantity": "1"}, headers=headers),  # invalid body
        await client.post(url, json=body, headers=bearer("not-a-token")),
        await client.post(url, json=body),  # no token
        await client.post(url, content=b'{"event_id": 1, "quantity": 1}', headers={**headers, "Content-Type": "text/plain"}),
        await client.post(url, json=body, headers={**headers, "Idempotency-Key": "has space"}),
        await client.post(url, json={**body, "user_id": other["id"] + 1000}, headers=headers),  # someone else
    ]
    assert [(r.status_code, r.json()["code"]) for r in answers] == [
        (422, "validation_error"), (401, "not_authenticated"), (401, "not_authenticated"),
        (422, "validation_error"), (422, "validation_error"), (403, "forbidden"),
    ]
    assert answers[1].headers["www-authenticate"] == "Bearer"
    assert routed.count(BOOKINGS) == len(answers)
    # An admin's box-office booking for another user goes through the route too, and succeeds.
    box_office = await client.post(url, json={**body, "user_id": other["id"]}, headers=admin_headers)
    assert box_office.status_code == 201 and box_office.json()["user_id"] == other["id"]
    assert routed.count(BOOKINGS) == len(answers) + 1


async def test_a_valid_token_of_an_account_that_is_gone_books_nothing(client, app, routed):
    event = await create_event(client, await admin(client, app))
    user, headers = await customer(client)
    db = app.state.services.db
    async with db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": user["id"]})
    response = await book(client, headers, event["id"], 2, idempotency_key="ghost")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    assert routed.count(BOOKINGS) == 1  # refused by the database in the fast path, answered by the route
    after = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert after["tickets_sold"] == 0
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM bookings"))).scalar_one() == 0



async def test_a_streamed_body_goes_to_the_route(client, app, routed):
    event = await create_event(client, await admin(client, app))
    _, headers = await customer(client)
    padded = b'{"event_id": %d, "quantity": 2}' % event["id"] + b" " * 3000  # valid JSON, over 1 KiB

    async def chunks():  # no Content-Length: the body arrives in parts, as a stream would send it
        for start in range(0, len(padded), 700):
            yield padded[start:start + 700]

    response = await client.post("/api/v1/bookings", content=chunks(), headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 201 and response.json()["quantity"] == 2
    assert routed.count(BOOKINGS) == 1


async def test_a_body_read_in_parts_reaches_the_route_whole(client, app, routed):
    """The fast path reads a body that came in two parts, cannot use it, and hands over both."""
    _, headers = await customer(client)
    body = b'{"event_id": 1, "quantity": "two"}'
    parts = [{"type": "http.request", "body": body[:10], "more_body": True},
             {"type": "http.request", "body": body[10:], "more_body": False}]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/api/v1/bookings", "raw_path": b"/api/v1/bookings", "query_string": b"", "root_path": "",
        "client": ("203.0.113.7", 4711), "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"authorization", headers["Authorization"].encode())],
    }
    sent: list[dict] = []

    async def receive():  # type: ignore[no-untyped-def]
        return parts.pop(0) if parts else {"type": "http.disconnect"}

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 422
    detail = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert detail["code"] == "validation_error" and detail["detail"][0]["loc"] == ["body", "quantity"]
    assert routed.count(BOOKINGS) == 1
