"""One booking answer, whichever way in: the booking door in front of the app (api/booking_door.py)
parses ordinary requests itself and hands them to the route's own ``answer_booking``; everything
else reaches the route. Either way, the same request gets the same answer."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.support.api import admin, bearer, book, create_event, customer, in_process_client
from tests.support.databases import wipe

BOOKINGS = ("POST", "/api/v1/bookings")
URL = "/api/v1/bookings"


@pytest.fixture
def routed(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The requests that went past the door to the FastAPI app."""
    door = app.door
    assert door is not None, "the booking door is on by default"
    inner = door.app
    seen: list[tuple[str, str]] = []

    async def counting(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            seen.append((scope["method"], scope["path"]))
        await inner(scope, receive, send)

    monkeypatch.setattr(door, "app", counting)
    return seen


async def test_ordinary_booking_is_answered_by_the_door_as_the_route_would(client, app, routed):
    event = await create_event(client, await admin(client, app), capacity=10, price="12.50")
    user, headers = await customer(client)
    created = await book(client, headers, event["id"], 3, idempotency_key="door-1")
    assert created.status_code == 201 and created.headers["content-type"] == "application/json"
    assert BOOKINGS not in routed
    # The route's own serialisation of the same booking, byte for byte.
    shown = await client.get(f"/api/v1/bookings/{created.json()['id']}", headers=headers)
    assert created.content == shown.content
    assert created.json()["user_id"] == user["id"] and created.json()["total_amount"] == "37.50"
    replay = await book(client, headers, event["id"], 3, idempotency_key="door-1")
    assert (replay.status_code, replay.json()["id"]) == (201, created.json()["id"])
    assert BOOKINGS not in routed


async def test_only_requests_the_door_cannot_parse_reach_the_route(client, app, routed):
    event = await create_event(client, await admin(client, app))
    _, headers = await customer(client)
    body = {"event_id": event["id"], "quantity": 1}
    unparsed = [
        await client.post(URL, json={**body, "quantity": "1"}, headers=headers),  # invalid body
        await client.post(URL, json=body),  # no token
        await client.post(URL, content=json.dumps(body).encode(), headers={**headers, "Content-Type": "text/plain"}),
        await client.post(URL, json=body, headers={**headers, "Idempotency-Key": "has space"}),
    ]
    assert [(r.status_code, r.json()["code"]) for r in unparsed] == [
        (422, "validation_error"), (401, "not_authenticated"), (422, "validation_error"), (422, "validation_error"),
    ]
    assert routed.count(BOOKINGS) == len(unparsed)


async def test_a_body_streamed_without_length_goes_to_the_route_and_books(client, app, routed):
    event = await create_event(client, await admin(client, app))
    _, headers = await customer(client)
    padded = b'{"event_id": %d, "quantity": 2}' % event["id"] + b" " * 3000  # valid JSON, over 1 KiB

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the body arrives in parts
        for start in range(0, len(padded), 700):
            yield padded[start:start + 700]

    response = await client.post(URL, content=chunks(), headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 201 and response.json()["quantity"] == 2
    assert routed.count(BOOKINGS) == 1


async def test_a_body_read_in_parts_reaches_the_route_whole(client, app, routed):
    """The door reads a body that came in two parts, cannot use it, and hands over both."""
    _, headers = await customer(client)
    body = b'{"event_id": 1, "quantity": "two"}'
    parts = [{"type": "http.request", "body": body[:10], "more_body": True},
             {"type": "http.request", "body": body[10:], "more_body": False}]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": URL, "raw_path": URL.encode(), "query_string": b"", "root_path": "",
        "client": ("203.0.113.7", 4711), "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"authorization", headers["Authorization"].encode())],
    }
    sent: list[dict[str, Any]] = []

    async def receive():  # type: ignore[no-untyped-def]
        return parts.pop(0) if parts else {"type": "http.disconnect"}

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 422
    detail = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert detail["code"] == "validation_error" and detail["detail"][0]["loc"] == ["body", "quantity"]
    assert routed.count(BOOKINGS) == 1


async def test_a_valid_token_of_an_account_that_is_gone_books_nothing_and_gets_401(client, app, routed):
    """The attack of issue "One booking path": it used to get 404 / 400 from the fast path."""
    event = await create_event(client, await admin(client, app), max_per_booking=2)
    user, headers = await customer(client)
    db = app.state.services.db
    async with db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": user["id"]})
    answers = [
        await book(client, headers, event["id"], 2, idempotency_key="ghost"),
        await book(client, headers, 999_999, 1),  # an event that does not exist
        await book(client, headers, event["id"], 3),  # above the event's limit
    ]
    for response in answers:
        assert (response.status_code, response.json()["code"]) == (401, "not_authenticated"), response.text
        assert response.headers["www-authenticate"] == "Bearer"
    assert BOOKINGS not in routed  # the door answered: 401 is the one answer, not the route's fallback
    # What the door cannot parse goes to the route, which reads the session before it refuses the
    # header: a token of an account that is gone is 401 there too, not 422.
    route = await client.post(URL, json={"event_id": event["id"], "quantity": 1}, headers={**headers, "Idempotency-Key": "a b"})
    assert (route.status_code, route.json()["code"]) == (401, "not_authenticated"), route.text
    assert routed.count(BOOKINGS) == 1
    after = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert after["tickets_sold"] == 0
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM bookings"))).scalar_one() == 0


async def test_a_body_longer_than_its_content_length_is_413_from_the_door_as_from_the_route(client, app, routed):
    """A Content-Length that says less than the body (an in-process client keeps the one it is
    given): the door believed a small body, and the size limit stopped its read past 64 KiB. It
    was a bare 500, no body, no X-Request-ID; it is the 413 the route answers without a token."""
    event = await create_event(client, await admin(client, app))
    _, headers = await customer(client)
    body = b'{"event_id": %d, "quantity": 1}' % event["id"]
    lying = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    answers = [await client.post(URL, content=body + b" " * 70_000, headers={**token, **lying}) for token in (headers, {})]
    for response in answers:
        assert response.status_code == 413, response.text
        assert response.json() == {"detail": "Request body is larger than 64 KiB.", "code": "payload_too_large"}
        assert response.headers["x-request-id"]
    assert routed.count(BOOKINGS) == 1  # only the request without a token went past the door
    assert (await client.get(f"/api/v1/events/{event['id']}")).json()["tickets_sold"] == 0


# -- the same requests through the door and through the route: the same answers --------------
async def _scenario(http: httpx.AsyncClient, app: Any) -> list[tuple[int, Any]]:
    """Every kind of booking answer, as (status, body with ids and codes made comparable)."""
    admin_headers = await admin(http, app)
    event = await create_event(http, admin_headers, capacity=5, max_per_booking=3, price="10.00")
    past = await create_event(http, admin_headers, starts_at="2020-01-01T00:00:00Z")
    _user, headers = await customer(http)
    other, other_headers = await customer(http)
    ghost, ghost_headers = await customer(http)
    async with app.state.services.db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": ghost["id"]})
    requests: list[tuple[dict[str, Any], dict[str, str]]] = [
        ({"event_id": event["id"], "quantity": 2}, {**headers, "Idempotency-Key": "k1"}),
        ({"event_id": event["id"], "quantity": 2}, {**headers, "Idempotency-Key": "k1"}),  # replay
        ({"event_id": event["id"], "quantity": 1}, {**headers, "Idempotency-Key": "k1"}),  # mismatch
        ({"event_id": event["id"], "quantity": 4}, headers),  # above the limit
        ({"event_id": past["id"], "quantity": 1}, headers),  # sales closed
        ({"event_id": 999_999, "quantity": 1}, headers),  # no such event
        ({"event_id": event["id"], "quantity": 1, "user_id": other["id"]}, headers),  # customer for another
        ({"event_id": event["id"], "quantity": 1, "user_id": 999_999}, admin_headers),  # admin, unknown user
        ({"event_id": event["id"], "quantity": 1, "user_id": other["id"]}, admin_headers),  # box office
        ({"event_id": event["id"], "quantity": 3}, other_headers),  # sold out: 2 left
        ({"event_id": event["id"], "quantity": 1}, ghost_headers),  # account gone
        ({"event_id": event["id"], "quantity": 1}, bearer("not-a-token")),
        ({"event_id": event["id"], "quantity": 0}, headers),  # invalid
    ]
    answers = []
    for body, sent_headers in requests:
        response = await http.post(URL, json=body, headers=sent_headers)
        answers.append((response.status_code, _comparable(response.json()), response.headers.get("www-authenticate")))
    return answers


def _comparable(body: Any) -> Any:
    text_ = json.dumps(body, sort_keys=True)
    text_ = re.sub(r'"(id|booking_id|event_id|user_id|ticket_type_id)": [0-9]+', r'"\1": 0', text_)
    text_ = re.sub(r'"email": "[^"]+"', '"email": "<email>"', text_)
    text_ = re.sub(r'"code": "[A-Za-z0-9_-]{22}"', '"code": "<ticket>"', text_)
    return json.loads(re.sub(r'"booking_date": "[^"]+"', '"booking_date": "<t>"', text_))


async def test_the_door_and_the_route_answer_every_booking_alike(app, make_app, database_url):
    db = app.state.services.db
    await wipe(db)
    async with in_process_client(app) as http:
        through_door = await _scenario(http, app)
    without_door = await make_app(database_url=database_url, booking_fast_path=False)
    assert without_door.door is None
    await wipe(db)
    async with in_process_client(without_door) as http:
        through_route = await _scenario(http, without_door)
    assert through_door == through_route
    statuses = [status for status, _, _ in through_door]
    assert statuses == [201, 201, 422, 400, 400, 404, 403, 404, 201, 409, 401, 401, 422]
