"""A battery of hostile requests: each gets the contract's 4xx and code, changes nothing, and the
service keeps answering.

Malformed JSON, wrong types, nulls, huge and negative integers, 10k-character strings, NUL bytes,
SQL injection, path ids that are not integers or overflow 64 bits, bodies over 64 KiB (with and
without Content-Length), bad Idempotency-Key and X-Request-ID values, forged, expired and
``alg: none`` tokens. Each case compares a snapshot of every user, event, booking and ticket row
before and after, so "nothing created, nothing changed" is checked in the database itself.

In-process (httpx ASGITransport) against SQLite and PostgreSQL, on the suite's shared app; a few
raw-socket cases go to a real ``ticketing serve`` process, where uvicorn parses the bytes (marked
slow).
"""

from __future__ import annotations

import collections
import re
import socket
import time
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from tests.support.api import session_headers
from tests.support.credentials import PASSWORD, SECRET_KEY
from tests.support.raw_http import read_answer
from tests.support.server import ServerProcess
from tests.support.settings import settings_for
from tests.support.snapshots import Rows, table_rows
from ticketing.api.app import create_app
from ticketing.app.accounts import create_admin

KIB = 1024
LIMIT = 64 * KIB
GENERATED_REQUEST_ID = re.compile(r"[0-9a-f]{32}")
# What a response must never show: a traceback, or the names of the layers under the API.
LEAKS = ("Traceback", 'File "', "sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "psycopg")


# -- fixtures ---------------------------------------------------------------------------------
@dataclass
class Api:
    app: FastAPI
    http: httpx.AsyncClient
    admin: dict[str, str]
    customer: dict[str, str]
    admin_id: int
    customer_id: int
    event_id: int
    booking_id: int
    ticket_code: str

    def auth(self, who: str | None) -> dict[str, str]:
        return {"admin": self.admin, "customer": self.customer, None: {}}[who]


@pytest.fixture(scope="module")
async def api(app: FastAPI, module_client: httpx.AsyncClient) -> Api:
    """An admin, a customer, an event and a booking, made once: every case must leave them be."""
    services = app.state.services
    http = module_client
    admin = await create_admin(services.store, services.passwords, email="boss@example.com", password=PASSWORD, name="Boss",
                               now=datetime.now(UTC))
    registered = await http.post("/api/v1/auth/register", json={"email": "fan@example.com", "password": PASSWORD, "name": "Fan"})
    assert registered.status_code == 201, registered.text
    customer_id = registered.json()["id"]
    admin_headers = await session_headers(services, admin.id)
    customer_headers = await session_headers(services, customer_id)
    event = await http.post("/api/v1/events", headers=admin_headers, json={
        "name": "Hostile Night", "starts_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "capacity": 100, "price": "1500.00", "max_per_booking": 10,
    })
    assert event.status_code == 201, event.text
    booking = await http.post("/api/v1/bookings", headers=customer_headers, json={"event_id": event.json()["id"], "quantity": 2})
    assert booking.status_code == 201, booking.text
    return Api(
        app=app, http=http, admin=admin_headers, customer=customer_headers, admin_id=admin.id,
        customer_id=customer_id, event_id=event.json()["id"], booking_id=booking.json()["id"],
        ticket_code=booking.json()["tickets"][0]["code"],
    )


async def snapshot(api: Api) -> Rows:
    return await table_rows(api.app.state.services.db)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, f"expected {status} {code}, got {response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], (str, list)) and body["detail"], body
    if isinstance(body["detail"], list):  # validation errors: where and what, never the input echoed back
        assert all(set(item) == {"type", "loc", "msg"} for item in body["detail"]), body
    assert response.headers.get("x-request-id"), response.headers
    if code == "not_authenticated":
        assert response.headers.get("www-authenticate") == "Bearer", response.headers
    for leak in LEAKS:
        assert leak not in response.text, response.text
    return body


async def assert_still_serving(api: Api) -> None:
    health = await api.http.get("/healthz")
    assert health.status_code == 200, health.text
    me = await api.http.get("/api/v1/users/me", headers=api.customer)
    assert me.status_code == 200 and me.json()["id"] == api.customer_id, me.text
    event = await api.http.get(f"/api/v1/events/{api.event_id}")
    assert event.status_code == 200 and event.json()["id"] == api.event_id, event.text


# -- hostile tokens ---------------------------------------------------------------------------
def _token(sub: object = "ADMIN", *, key: str = SECRET_KEY, algorithm: str = "HS256", exp: object = "soon", **claims: Any) -> str:
    payload: dict[str, Any] = {"sub": sub, "iat": int(time.time()), **claims}
    if exp == "soon":
        payload["exp"] = int(time.time()) + 600
    elif exp is not None:
        payload["exp"] = exp
    return jwt.encode(payload, None if algorithm == "none" else key, algorithm=algorithm)


def _alg_none(sub: str) -> str:
    # The classic forgery: {"alg": "none"} and no signature, accepted by careless libraries.
    return _token(sub, algorithm="none")


def _tokens(api: Api) -> dict[str, str]:
    admin = str(api.admin_id)
    customer = _token(str(api.customer_id)).split(".")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        hs512 = _token(admin, algorithm="HS512")
    return {
        "forged-signature": _token(admin, key="not-the-server-key-but-just-as-long-as-it"),
        "expired": _token(admin, exp=int(time.time()) - 60),
        "alg-none": _alg_none(admin),
        "alg-none-with-a-signature": _alg_none(admin) + customer[2],
        "hs512-with-the-server-key": hs512,
        "no-exp": _token(admin, exp=None),
        "unknown-user": _token("987654321"),
        "non-numeric-sub": _token("admin"),
        "sub-over-64-bits": _token(str(2**64)),
        "sub-as-number": _token(api.admin_id),
        # A customer's genuine token with the payload swapped for the admin's: the signature no longer fits.
        "customer-token-with-admin-payload": ".".join([customer[0], _token(admin).split(".")[1], customer[2]]),
        "garbage": "not.a.jwt",
        "10k-characters": "a" * 10_000,
    }


TOKEN_KINDS = [
    "forged-signature", "expired", "alg-none", "alg-none-with-a-signature", "hs512-with-the-server-key", "no-exp",
    "unknown-user", "non-numeric-sub", "sub-over-64-bits", "sub-as-number", "customer-token-with-admin-payload",
    "garbage", "10k-characters",
]


# -- the battery ------------------------------------------------------------------------------
Build = Callable[[Api], dict[str, Any]]


@dataclass(frozen=True)
class Hostile:
    id: str
    method: str
    path: str  # may name {event_id}, {booking_id}, {ticket_code}
    who: str | None
    status: int
    code: str
    build: Build = lambda api: {}


def _json(raw: bytes | str, **headers: str) -> Build:
    body = raw.encode() if isinstance(raw, str) else raw
    return lambda api: {"content": body, "headers": {"content-type": "application/json", **headers}}


def _body(**fields: Any) -> Build:
    return lambda api: {"json": fields}


def _booking(**fields: Any) -> Build:
    return lambda api: {"json": {"event_id": api.event_id, "quantity": 1, **fields}}


def _event(**fields: Any) -> Build:
    def build(api: Api) -> dict[str, Any]:
        body = {"name": "E", "starts_at": "2031-01-01T20:00:00Z", "capacity": 10, "price": "10.00", **fields}
        return {"json": {k: v for k, v in body.items() if v is not _ABSENT}}
    return build


_ABSENT = object()


def _register(**fields: Any) -> Build:
    return lambda api: {"json": {"email": "new@example.com", "password": PASSWORD, "name": "New", **fields}}


def _idempotency_key(value: str | bytes) -> Build:
    raw = value.encode() if isinstance(value, str) else value
    return lambda api: {
        "json": {"event_id": api.event_id, "quantity": 1},
        "headers": [("Authorization", api.customer["Authorization"]), ("Idempotency-Key", raw)],
    }


def _token_header(name: str) -> Build:
    return lambda api: {
        "json": {"event_id": api.event_id, "quantity": 1},
        "headers": {"Authorization": f"Bearer {_tokens(api)[name]}"},
    }


def _chunked(total: int, *, content_type: str = "application/json", chunk: bytes = b" ") -> Build:
    async def chunks() -> AsyncIterator[bytes]:
        sent = 0
        while sent < total:
            piece = chunk * min(4 * KIB, total - sent)
            sent += len(piece)
            yield piece

    # An async generator has no length: httpx sends it chunked, without Content-Length.
    return lambda api: {"content": chunks(), "headers": {"content-type": content_type}}


def _padded_booking(size: int) -> Build:
    # Valid JSON, just large: only the size is wrong with it.
    return lambda api: {"content": b'{"event_id": %d, "quantity": 1}' % api.event_id + b" " * size,
                        "headers": {"content-type": "application/json"}}


BOOK = "/api/v1/bookings"
EVENTS = "/api/v1/events"
EVENT = "/api/v1/events/{event_id}"
V, NF, UA = "validation_error", "not_found", "not_authenticated"

BATTERY: list[Hostile] = [
    # malformed JSON and bodies that are not the object asked for
    Hostile("json-syntax-error", "POST", BOOK, "customer", 422, V, _json('{"event_id": 1,')),
    Hostile("json-array-body", "POST", BOOK, "customer", 422, V, _json("[]")),
    Hostile("json-null-body", "POST", BOOK, "customer", 422, V, _json("null")),
    Hostile("json-string-body", "POST", BOOK, "customer", 422, V, _json('"book me"')),
    Hostile("empty-body", "POST", BOOK, "customer", 422, V, _json(b"")),
    Hostile("body-not-utf8", "POST", BOOK, "customer", 422, V, _json(b'{"event_id": "\xff\xfe", "quantity": 1}')),
    Hostile("json-nested-50k-deep", "POST", BOOK, "customer", 422, V, _json(b"[" * 50_000)),
    Hostile("json-as-text-plain", "POST", BOOK, "customer", 422, V,
            lambda api: {"content": b'{"event_id": %d, "quantity": 1}' % api.event_id,
                         "headers": {"content-type": "text/plain"}}),
    # wrong types, nulls, out-of-range and huge numbers
    Hostile("event-id-as-string", "POST", BOOK, "customer", 422, V,
            lambda api: {"json": {"event_id": str(api.event_id), "quantity": 1}}),
    Hostile("quantity-as-string", "POST", BOOK, "customer", 422, V, _booking(quantity="2")),
    Hostile("quantity-fractional", "POST", BOOK, "customer", 422, V, _booking(quantity=1.5)),
    Hostile("quantity-boolean", "POST", BOOK, "customer", 422, V, _booking(quantity=True)),
    Hostile("quantity-null", "POST", BOOK, "customer", 422, V, _booking(quantity=None)),
    Hostile("quantity-zero", "POST", BOOK, "customer", 422, V, _booking(quantity=0)),
    Hostile("quantity-negative", "POST", BOOK, "customer", 422, V, _booking(quantity=-3)),
    Hostile("quantity-NaN-literal", "POST", BOOK, "customer", 422, V, _json('{"event_id": 1, "quantity": NaN}')),
    Hostile("quantity-1e400-infinity", "POST", BOOK, "customer", 422, V, _json('{"event_id": 1, "quantity": 1e400}')),
    Hostile("quantity-10^30", "POST", BOOK, "customer", 400, "quantity_above_limit", _booking(quantity=10**30)),
    Hostile("event-id-2^63", "POST", BOOK, "customer", 422, V, _body(event_id=2**63, quantity=1)),
    Hostile("event-id-minus-2^63", "POST", BOOK, "customer", 422, V, _body(event_id=-(2**63), quantity=1)),
    Hostile("event-id-null", "POST", BOOK, "customer", 422, V, _body(event_id=None, quantity=1)),
    Hostile("event-id-sql-injection", "POST", BOOK, "customer", 422, V, _body(event_id="1 OR 1=1", quantity=1)),
    Hostile("user-id-2^64", "POST", BOOK, "customer", 422, V, _booking(user_id=2**64)),
    Hostile("booking-with-own-price", "POST", BOOK, "customer", 422, V, _booking(total_amount="0.00")),
    Hostile("booking-status-smuggled", "POST", BOOK, "customer", 422, V, _booking(status="CANCELLED")),
    # events (as the admin: only the input is wrong)
    Hostile("event-name-10k", "POST", EVENTS, "admin", 422, V, _event(name="x" * 10_000)),
    Hostile("event-name-NUL", "POST", EVENTS, "admin", 422, V, _event(name="Jazz\x00Night")),
    Hostile("event-name-null", "POST", EVENTS, "admin", 422, V, _event(name=None)),
    Hostile("event-name-missing", "POST", EVENTS, "admin", 422, V, _event(name=_ABSENT)),
    Hostile("event-description-5001", "POST", EVENTS, "admin", 422, V, _event(description="d" * 5001)),
    Hostile("event-price-NaN", "POST", EVENTS, "admin", 422, V, _event(price="NaN")),
    Hostile("event-price-negative", "POST", EVENTS, "admin", 422, V, _event(price=-1)),
    Hostile("event-price-over-max", "POST", EVENTS, "admin", 422, V, _event(price="1000000.01")),
    Hostile("event-price-3-places", "POST", EVENTS, "admin", 422, V, _event(price=0.001)),
    Hostile("event-price-exponent", "POST", EVENTS, "admin", 422, V, _event(price="1e3")),
    Hostile("event-capacity-10^20", "POST", EVENTS, "admin", 422, V, _event(capacity=10**20)),
    Hostile("event-capacity-negative", "POST", EVENTS, "admin", 422, V, _event(capacity=-1)),
    Hostile("event-starts-at-garbage", "POST", EVENTS, "admin", 422, V, _event(starts_at="next tuesday")),
    Hostile("event-starts-at-number", "POST", EVENTS, "admin", 422, V, _event(starts_at=0)),
    Hostile("event-starts-at-year-10000", "POST", EVENTS, "admin", 422, V, _event(starts_at="10000-01-01T00:00:00Z")),
    Hostile("event-starts-at-overflows", "POST", EVENTS, "admin", 422, V, _event(starts_at="9999-12-31T23:59:59-23:59")),
    Hostile("event-currency-lowercase", "POST", EVENTS, "admin", 422, V, _event(currency="thb")),
    Hostile("event-max-per-booking-101", "POST", EVENTS, "admin", 422, V, _event(max_per_booking=101)),
    Hostile("event-tickets-sold-smuggled", "POST", EVENTS, "admin", 422, V, _event(tickets_sold=100)),
    Hostile("patch-capacity-null", "PATCH", EVENT, "admin", 422, V, _body(capacity=None)),
    Hostile("patch-capacity-string", "PATCH", EVENT, "admin", 422, V, _body(capacity="100")),
    Hostile("patch-capacity-below-sold", "PATCH", EVENT, "admin", 409, "capacity_below_sold", _body(capacity=1)),
    Hostile("patch-name-empty", "PATCH", EVENT, "admin", 422, V, _body(name="")),
    Hostile("patch-tickets-sold", "PATCH", EVENT, "admin", 422, V, _body(tickets_sold=0)),
    # accounts
    Hostile("register-email-sql-injection", "POST", "/api/v1/auth/register", None, 422, V,
            _register(email="x'; DROP TABLE users; --@example.com")),
    Hostile("register-email-10k", "POST", "/api/v1/auth/register", None, 422, V, _register(email="a" * 10_000 + "@example.com")),
    Hostile("register-password-7", "POST", "/api/v1/auth/register", None, 422, V, _register(password="1234567")),
    Hostile("register-password-10k", "POST", "/api/v1/auth/register", None, 422, V, _register(password="p" * 10_000)),
    Hostile("register-password-NUL", "POST", "/api/v1/auth/register", None, 422, V, _register(password="passw\x00rd123")),
    Hostile("register-name-lone-surrogate", "POST", "/api/v1/auth/register", None, 422, V,
            _json(b'{"email": "s@example.com", "password": "password123", "name": "\\ud800"}')),
    Hostile("register-as-admin", "POST", "/api/v1/auth/register", None, 422, V, _register(role="admin")),
    Hostile("register-taken-email-other-case", "POST", "/api/v1/auth/register", None, 409, "email_taken",
            _register(email="FAN@Example.COM")),
    Hostile("token-username-10k", "POST", "/api/v1/auth/token", None, 422, V,
            lambda api: {"data": {"username": "u" * 10_000, "password": PASSWORD}}),
    Hostile("token-username-NUL", "POST", "/api/v1/auth/token", None, 422, V,
            lambda api: {"data": {"username": "fan@example.com\x00", "password": PASSWORD}}),
    Hostile("token-sql-injection", "POST", "/api/v1/auth/token", None, 401, "invalid_credentials",
            lambda api: {"data": {"username": "' OR '1'='1' --", "password": "' OR '1'='1"}}),
    Hostile("token-as-json", "POST", "/api/v1/auth/token", None, 422, V,
            lambda api: {"json": {"username": "fan@example.com", "password": PASSWORD}}),
    Hostile("token-grant-type-other", "POST", "/api/v1/auth/token", None, 422, V,
            lambda api: {"data": {"username": "fan@example.com", "password": PASSWORD, "grant_type": "client_credentials"}}),
    # path ids and query parameters
    Hostile("path-event-id-word", "GET", "/api/v1/events/abc", None, 422, V),
    Hostile("path-event-id-2^63", "GET", f"/api/v1/events/{2**63}", None, 422, V),
    Hostile("path-event-id-2^64+1", "GET", f"/api/v1/events/{2**64 + 1}", None, 422, V),
    Hostile("path-event-id-30-digits", "GET", "/api/v1/events/" + "9" * 30, None, 422, V),
    Hostile("path-event-id-zero", "GET", "/api/v1/events/0", None, 422, V),
    Hostile("path-event-id-negative", "GET", "/api/v1/events/-1", None, 422, V),
    Hostile("path-event-id-fraction", "GET", "/api/v1/events/1.5", None, 422, V),
    Hostile("path-event-id-float-form", "GET", "/api/v1/events/{event_id}.0", None, 422, V),
    Hostile("path-event-id-underscore", "GET", "/api/v1/events/1_0", None, 422, V),
    Hostile("path-event-id-NUL", "GET", "/api/v1/events/%00", None, 422, V),
    Hostile("patch-event-id-overflow", "PATCH", f"/api/v1/events/{2**63}", "admin", 422, V, _body(name="x")),
    Hostile("booking-id-sql-injection", "GET", "/api/v1/bookings/1%20OR%201=1", "customer", 422, V),
    Hostile("booking-id-exponent", "GET", "/api/v1/bookings/1e3", "customer", 422, V),
    Hostile("cancel-booking-id-2^64", "POST", f"/api/v1/bookings/{2**64}/cancel", "customer", 422, V),
    Hostile("bookings-filter-sql-injection", "GET", "/api/v1/bookings?event_id=1;DROP%20TABLE%20bookings", "admin", 422, V),
    Hostile("events-limit-zero", "GET", "/api/v1/events?limit=0", None, 422, V),
    Hostile("events-limit-201", "GET", "/api/v1/events?limit=201", None, 422, V),
    Hostile("events-offset-negative", "GET", "/api/v1/events?offset=-1", None, 422, V),
    Hostile("events-offset-2^63", "GET", f"/api/v1/events?offset={2**63}", None, 422, V),
    # ticket codes that cannot exist
    Hostile("ticket-code-NUL", "GET", "/api/v1/tickets/%00", "customer", 404, "ticket_not_found"),
    Hostile("ticket-code-sql-injection", "GET", "/api/v1/tickets/' OR '1'='1", "customer", 404, "ticket_not_found"),
    Hostile("ticket-code-10k", "GET", "/api/v1/tickets/" + "A" * 10_000, "customer", 404, "ticket_not_found"),
    Hostile("ticket-code-unicode", "GET", "/api/v1/tickets/тикет", "customer", 404, "ticket_not_found"),
    Hostile("check-in-code-sql-injection", "POST", "/api/v1/tickets/x'%3B%20UPDATE%20tickets--/check-in", "admin", 404,
            "ticket_not_found"),
    Hostile("check-in-code-10k", "POST", "/api/v1/tickets/" + "B" * 10_000 + "/check-in", "admin", 404, "ticket_not_found"),
    # unknown routes and methods
    Hostile("unknown-api-route", "GET", "/api/v1/admin", None, 404, NF),
    Hostile("unknown-api-version", "GET", "/api/v2/events", None, 404, NF),
    Hostile("unknown-sub-resource", "POST", "/api/v1/bookings/{booking_id}/refund", "customer", 404, NF),
    Hostile("delete-an-event", "DELETE", EVENT, "admin", 405, "method_not_allowed"),
    # bodies over 64 KiB
    Hostile("body-over-64k-content-length", "POST", BOOK, "customer", 413, "payload_too_large", _padded_booking(LIMIT)),
    Hostile("body-over-64k-chunked", "POST", BOOK, "customer", 413, "payload_too_large", _chunked(LIMIT + 1)),
    Hostile("event-over-64k-content-length", "POST", EVENTS, "admin", 413, "payload_too_large",
            _event(description="d" * (LIMIT + 1))),
    Hostile("register-1mib-chunked", "POST", "/api/v1/auth/register", None, 413, "payload_too_large", _chunked(1024 * KIB)),
    Hostile("token-form-over-64k-chunked", "POST", "/api/v1/auth/token", None, 413, "payload_too_large",
            _chunked(LIMIT + 10, content_type="application/x-www-form-urlencoded", chunk=b"a")),
    Hostile("get-with-over-64k-body", "GET", "/api/v1/events", None, 413, "payload_too_large",
            lambda api: {"content": b"x" * (LIMIT + 1)}),
    # bad Idempotency-Key values
    Hostile("idempotency-key-empty", "POST", BOOK, None, 422, V, _idempotency_key("")),
    Hostile("idempotency-key-256", "POST", BOOK, None, 422, V, _idempotency_key("k" * 256)),
    Hostile("idempotency-key-10k", "POST", BOOK, None, 422, V, _idempotency_key("k" * 10_000)),
    Hostile("idempotency-key-space", "POST", BOOK, None, 422, V, _idempotency_key("my key")),
    Hostile("idempotency-key-tab", "POST", BOOK, None, 422, V, _idempotency_key("my\tkey")),
    Hostile("idempotency-key-non-ascii", "POST", BOOK, None, 422, V, _idempotency_key("ключ")),
    Hostile("idempotency-key-NUL", "POST", BOOK, None, 422, V, _idempotency_key(b"key\x00")),
    # missing, malformed, forged and expired tokens, on a booking that would otherwise succeed
    Hostile("no-token", "POST", BOOK, None, 401, UA, _booking()),
    Hostile("empty-bearer", "POST", BOOK, None, 401, UA, lambda api: {"json": {"event_id": api.event_id, "quantity": 1},
                                                                   "headers": {"Authorization": "Bearer "}}),
    Hostile("basic-auth", "POST", BOOK, None, 401, UA,
            lambda api: {"json": {"event_id": api.event_id, "quantity": 1},
                         "headers": {"Authorization": "Basic Ym9zc0BleGFtcGxlLmNvbTpwdw=="}}),
    *[Hostile(f"token-{name}", "POST", BOOK, None, 401, UA, _token_header(name)) for name in TOKEN_KINDS],
]


@pytest.mark.parametrize("case", BATTERY, ids=lambda case: case.id)
async def test_hostile_request_is_refused_and_changes_nothing(api: Api, case: Hostile) -> None:
    before = await snapshot(api)
    path = case.path.format(event_id=api.event_id, booking_id=api.booking_id, ticket_code=api.ticket_code)
    arguments = case.build(api)
    headers = arguments.pop("headers", {})
    if isinstance(headers, dict):
        headers = {**api.auth(case.who), **headers}
    response = await api.http.request(case.method, path, headers=headers, **arguments)

    assert_error(response, case.status, case.code)
    assert await snapshot(api) == before, "a refused request changed the database"
    await assert_still_serving(api)


def test_the_battery_is_large_enough() -> None:
    assert len(BATTERY) >= 40
    assert len({case.id for case in BATTERY}) == len(BATTERY), "case ids must be unique"


# -- outcomes that need more than one request -------------------------------------------------
async def test_sign_in_throttle_answers_429_with_retry_after_then_refuses_even_the_right_password(api: Api) -> None:
    email = "throttled@example.com"
    registered = await api.http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "T"})
    assert registered.status_code == 201, registered.text
    for _ in range(5):
        assert_error(await api.http.post("/api/v1/auth/token", data={"username": email, "password": "guess-1234"}),
                     401, "invalid_credentials")
    for password in ("guess-1234", PASSWORD):
        refused = await api.http.post("/api/v1/auth/token", data={"username": email, "password": password})
        assert_error(refused, 429, "too_many_requests")
        assert refused.headers.get("retry-after", "").isdigit() and int(refused.headers["retry-after"]) > 0
    # Only this email from this address is throttled.
    other = await api.http.post("/api/v1/auth/token", data={"username": "fan@example.com", "password": PASSWORD})
    assert other.status_code == 200, other.text
    await assert_still_serving(api)


def _secured_operations() -> list[tuple[str, str]]:
    # The schema depends on code only: an app that never opens its database serves it.
    app = create_app(settings_for("sqlite:////nonexistent/never-opened.db"))
    return [
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
        if operation.get("security")
    ]


@pytest.mark.parametrize(("method", "path"), _secured_operations(), ids=lambda v: v)
@pytest.mark.parametrize("token", ["missing", "alg-none", "expired"])
async def test_every_secured_operation_refuses_a_bad_token(api: Api, method: str, path: str, token: str) -> None:
    before = await snapshot(api)
    headers = {} if token == "missing" else {"Authorization": f"Bearer {_tokens(api)[token]}"}
    ids = collections.defaultdict(lambda: 1, event_id=api.event_id, booking_id=api.booking_id, code=api.ticket_code)
    concrete = path.format_map(ids)
    body = {"event_id": api.event_id, "quantity": 1} if method in {"POST", "PATCH"} else None
    response = await api.http.request(method, concrete, headers=headers, json=body)
    assert_error(response, 401, "not_authenticated")
    assert await snapshot(api) == before


@pytest.mark.parametrize(
    "sent",
    [b"r" * 129, b"r" * 10_000, b"", b"has space", b"tab\there", "ключ".encode(), b"nul\x00", b"\xff\xfe"],
    ids=["129-chars", "10k-chars", "empty", "space", "tab", "non-ascii", "NUL", "not-utf8"],
)
async def test_invalid_request_id_is_replaced_by_a_fresh_one(api: Api, sent: bytes) -> None:
    for path in ("/healthz", "/api/v1/nowhere"):
        response = await api.http.get(path, headers=[(b"X-Request-ID", sent)])
        assert response.status_code in (200, 404)
        assert GENERATED_REQUEST_ID.fullmatch(response.headers["x-request-id"]), response.headers


async def test_a_valid_request_id_of_128_visible_characters_is_echoed(api: Api) -> None:
    sent = "".join(chr(33 + i % 94) for i in range(128))
    for path in ("/healthz", "/api/v1/events/abc"):
        response = await api.http.get(path, headers={"X-Request-ID": sent})
        assert response.headers["x-request-id"] == sent


async def test_sql_injection_in_accepted_text_is_stored_verbatim(api: Api) -> None:
    name = "Robert'); DROP TABLE events; --"
    description = "1' OR '1'='1'; UPDATE events SET capacity = 0; --"
    created = await api.http.post("/api/v1/events", headers=api.admin, json={
        "name": name, "description": description, "starts_at": "2031-01-01T20:00:00Z", "capacity": 5, "price": "1.00",
    })
    assert created.status_code == 201, created.text
    shown = await api.http.get(f"/api/v1/events/{created.json()['id']}")
    assert (shown.json()["name"], shown.json()["description"]) == (name, description)
    listed = await api.http.get("/api/v1/events", params={"limit": 200})
    assert listed.status_code == 200 and listed.json()["total"] >= 2
    await assert_still_serving(api)


async def test_exactly_64_kib_is_still_accepted(api: Api) -> None:
    body = (b'{"event_id": %d, "quantity": 1}' % api.event_id).ljust(LIMIT)
    assert len(body) == LIMIT
    response = await api.http.post("/api/v1/bookings", content=body, headers={**api.customer, "content-type": "application/json"})
    assert response.status_code == 201, response.text
    cancelled = await api.http.post(f"/api/v1/bookings/{response.json()['id']}/cancel", headers=api.customer)
    assert cancelled.status_code == 200, cancelled.text


# -- over a real socket -----------------------------------------------------------------------
def _raw_exchange(server: ServerProcess, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Sends raw bytes, reads one HTTP/1.1 response (status, lower-cased headers, body)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head + body)
        return read_answer(sock)


@pytest.mark.slow  # a real `ticketing serve` process
def test_live_huge_content_length_is_refused_before_the_body_is_sent(live_server: ServerProcess) -> None:
    # The client announces 100 MB and sends nothing: the answer must not wait for the body.
    head = (b"POST /api/v1/bookings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000000\r\n\r\n")
    started = time.monotonic()
    status, headers, body = _raw_exchange(live_server, head)
    assert status == 413 and b'"payload_too_large"' in body, (status, body)
    assert headers.get("x-request-id")
    assert time.monotonic() - started < 10
    assert httpx.get(f"{live_server.url}/healthz", timeout=5).status_code == 200


@pytest.mark.slow  # a real `ticketing serve` process
def test_live_chunked_body_over_64_kib_is_refused(live_server: ServerProcess) -> None:
    head = (b"POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    piece = b" " * (4 * KIB)
    chunk = b"%x\r\n" % len(piece) + piece + b"\r\n"
    body = chunk * (LIMIT // len(piece) + 1) + b"0\r\n\r\n"
    status, headers, answer = _raw_exchange(live_server, head, body)
    assert status == 413 and b'"payload_too_large"' in answer, (status, answer)
    assert headers.get("x-request-id")
    users = httpx.get(f"{live_server.url}/healthz", timeout=5)
    assert users.status_code == 200


@pytest.mark.slow  # a real `ticketing serve` process
def test_live_malformed_json_and_bad_request_id(live_server: ServerProcess) -> None:
    body = b'{"email": "a@example.com", "password": '
    head = (b"POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"X-Request-ID: " + b"\xff" * 20 + b"\r\nContent-Length: %d\r\n\r\n" % len(body))
    status, headers, answer = _raw_exchange(live_server, head, body)
    assert status == 422 and b'"validation_error"' in answer, (status, answer)
    assert GENERATED_REQUEST_ID.fullmatch(headers["x-request-id"]), headers
