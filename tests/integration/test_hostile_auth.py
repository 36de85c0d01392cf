"""Attacks on sign-in and tokens (issue 9, items 1, 2, 4, 5), each on SQLite and PostgreSQL:
a sign-in burst must not stall the process, the failed-sign-in limit must hold under
concurrency, over-long input must be a 422 (never a 500), and ids (with the tokens naming
them) must never pass to another account."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import text

from tests.support.api import admin, book, create_event, customer, in_process_client, session_headers, unique_email
from tests.support.credentials import PASSWORD
from tests.support.server import ServerProcess
from ticketing.api import auth_first
from ticketing.api.app import API_PREFIX, API_ROUTERS
from ticketing.app.accounts import create_admin
from ticketing.db.migrate import upgrade

TOKEN = "/api/v1/auth/token"
REGISTER = "/api/v1/auth/register"


async def until(condition: Callable[[], bool], what: str, limit: float = 60) -> None:
    """Waits (without blocking the loop) for ``condition``; the limit only keeps a broken build
    from hanging, it is no timing assertion."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        if loop.time() > deadline:
            pytest.fail(f"never happened: {what}")
        await asyncio.sleep(0.01)


class GatedHashing:
    """The app's real argon2 (pwdlib), except that each verify first waits for ``open``: the
    test holds sign-ins in the middle of their password check for as long as it needs."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.open = threading.Event()
        self.waiting = 0
        self.hashes = 0
        self._lock = threading.Lock()

    def verify(self, password: str, password_hash: str) -> bool:
        with self._lock:
            self.waiting += 1
        # On the event loop (the bug) this wait stalls everything: bounded, so the test ends.
        self.open.wait(timeout=20)
        with self._lock:
            self.waiting -= 1
        return bool(self.real.verify(password, password_hash))

    def hash(self, password: str) -> str:
        with self._lock:
            self.hashes += 1
        return str(self.real.hash(password))


def gate_hashing(app: Any) -> GatedHashing:
    passwords = app.state.services.passwords
    gate = GatedHashing(passwords._hash)
    passwords._hash = gate
    return gate


# -- item 1: hashing off the event loop, bounded, rate-limited ---------------------------------
async def test_bookings_and_healthz_are_answered_while_sign_ins_hash(make_app, database_url):
    app = await make_app(database_url=database_url, password_hash_threads=2, password_hash_max_in_flight=3)
    services = app.state.services
    async with in_process_client(app) as http:
        boss = await create_admin(services.store, services.passwords, email=unique_email("boss"), password=PASSWORD,
                                  name="Boss", now=datetime.now(UTC))
        event = await create_event(http, await session_headers(services, boss.id))
        user, headers = await customer(http)
        gate = gate_hashing(app)
        sign_ins = [asyncio.create_task(http.post(TOKEN, data={"username": user["email"], "password": PASSWORD}))
                    for _ in range(3)]
        # Both hashing threads hold a sign-in mid-check; the third waits for a thread.
        await until(lambda: gate.waiting == 2, "two sign-ins hashing at once")
        health = await http.get("/healthz")
        booked = await book(http, headers, event["id"], 1)
        # A fourth would be more than may be in flight: refused at once, not queued.
        busy = await http.post(TOKEN, data={"username": user["email"], "password": PASSWORD})
        still_checking = [task for task in sign_ins if not task.done()]
        gate.open.set()
        answers = await asyncio.gather(*sign_ins)
    assert health.status_code == 200
    assert booked.status_code == 201, booked.text
    assert busy.status_code == 503 and busy.json()["code"] == "unavailable", busy.text
    assert int(busy.headers["Retry-After"]) >= 1
    assert len(still_checking) == 3, "the sign-ins were answered before /healthz and the booking"
    assert [a.status_code for a in answers] == [200, 200, 200]


async def test_a_taken_email_is_refused_before_any_hashing(client, app):
    user, _ = await customer(client)
    gate = gate_hashing(app)
    try:
        again = await client.post(REGISTER, json={"email": user["email"], "password": "another long one", "name": "B"})
    finally:
        app.state.services.passwords._hash = gate.real
    assert again.status_code == 409 and again.json()["code"] == "email_taken"
    assert gate.hashes == 0


async def test_sign_in_and_sign_up_are_limited_per_client_address(make_app, database_url):
    app = await make_app(database_url=database_url, sign_in_rate_limit="3/minute", register_rate_limit="2/minute")
    other_address = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("198.51.100.9", 4711)),
        base_url="http://testserver",
    )
    async with in_process_client(app) as http, other_address:
        registered = [await http.post(REGISTER, json={"email": unique_email(), "password": PASSWORD, "name": "A"})
                      for _ in range(3)]
        email = registered[0].json()["email"]
        signed = [await http.post(TOKEN, data={"username": email, "password": PASSWORD}) for _ in range(4)]
        elsewhere = await other_address.post(TOKEN, data={"username": email, "password": PASSWORD})
    assert [r.status_code for r in registered] == [201, 201, 429]
    assert [r.status_code for r in signed] == [200, 200, 200, 429]
    for refused in (registered[2], signed[3]):
        assert refused.json()["code"] == "too_many_requests"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert elsewhere.status_code == 200  # another address has its own count


# -- item 2: the failed-sign-in limit holds under concurrency ----------------------------------
async def test_concurrent_wrong_passwords_get_at_most_five_401(client):
    user, _ = await customer(client)
    attempts = [client.post(TOKEN, data={"username": user["email"], "password": f"wrong guess {i}"}) for i in range(12)]
    statuses = sorted(r.status_code for r in await asyncio.gather(*attempts))
    assert statuses.count(401) <= 5, statuses
    assert set(statuses) <= {401, 429} and statuses.count(401) + statuses.count(429) == 12
    assert (await client.post(TOKEN, data={"username": user["email"], "password": PASSWORD})).status_code == 429


async def test_control_check_then_act_lets_the_burst_through(client, app, monkeypatch):
    """The control of the test above: with the guard turned off — the count read first and the
    attempt recorded after, as the service did before (check, then act) — the same burst of 12
    gets more than five 401s, so that test can catch the race. A barrier lines the 12 reads up
    before any write, the worst interleaving a busy server can produce."""
    from ticketing.app import accounts
    from ticketing.domain.errors import TooManySignInAttempts

    user, _ = await customer(client)
    db = app.state.services.db
    reads = asyncio.Barrier(12)

    async def check_then_act(store, email, client_address, now, max_failures, window):  # type: ignore[no-untyped-def]
        async with db.engine.connect() as conn:
            failures = (await conn.execute(
                text("SELECT COALESCE(MAX(failures), 0) FROM sign_in_failures WHERE email = :e AND client = :c"),
                {"e": email, "c": client_address})).scalar_one()
        await reads.wait()
        if failures >= max_failures:
            raise TooManySignInAttempts(60)
        await store.sign_in_failures.count_attempt(email, client_address, now, now - window)

    monkeypatch.setattr(accounts, "_admit_attempt", check_then_act)
    attempts = [client.post(TOKEN, data={"username": user["email"], "password": f"wrong guess {i}"}) for i in range(12)]
    statuses = [r.status_code for r in await asyncio.gather(*attempts)]
    assert statuses.count(401) > 5, statuses


@pytest.mark.slow
def test_concurrent_wrong_passwords_across_server_processes(tmp_path: Path):
    """Several worker processes of one server, one database: the limit is the database's."""
    server = ServerProcess(f"sqlite:///{tmp_path / 'throttle.db'}", workers=3, log_path=tmp_path / "server.log")
    server.start()
    try:
        email = unique_email()
        created = httpx.post(f"{server.url}{REGISTER}", json={"email": email, "password": PASSWORD, "name": "T"})
        assert created.status_code == 201, created.text

        async def burst() -> list[int]:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                answers = await asyncio.gather(*(
                    http.post(TOKEN, data={"username": email, "password": f"wrong guess {i}"}) for i in range(16)
                ))
            return sorted(a.status_code for a in answers)

        statuses = asyncio.run(burst())
    finally:
        server.stop()
    assert statuses.count(401) <= 5 and set(statuses) <= {401, 429}, statuses


# -- item 4: over-long input is a 422, never a 500 ---------------------------------------------
async def test_usernames_longer_than_an_email_column_are_refused_as_input(client):
    for username, status in [
        ("a" * 320, 401),  # as long as the column: a failed sign-in like any other
        ("a" * 321, 422),
        ("a" * 5000, 422),
        # 200 characters that lower-case to 400 (the stored form of an email is lower case).
        ("\u0130" * 200, 422),
    ]:
        response = await client.post(TOKEN, data={"username": username, "password": "whatever it is"})
        assert response.status_code == status, (len(username), response.text)
        if status == 422:
            assert response.json()["code"] == "validation_error"
            assert response.json()["detail"][0]["loc"] == ["body", "username"]


async def test_the_longest_accepted_inputs_are_stored(client, app):
    """The boundaries of what the API accepts against the columns that store them."""
    name = "n" * 200
    local = "l" * 64
    email = f"{local}@{'d' * 63}.{'e' * 63}.{'f' * 50}.example"  # as long as an address may be
    created = await client.post(REGISTER, json={"email": email, "password": "p" * 127 + "Q", "name": name})
    assert created.status_code == 201, created.text
    assert (await client.post(TOKEN, data={"username": email, "password": "p" * 127 + "Q"})).status_code == 200
    boss = await create_admin(app.state.services.store, app.state.services.passwords, email=unique_email("boss"),
                              password=PASSWORD, name="Boss", now=datetime.now(UTC))
    headers = await session_headers(app.state.services, boss.id)
    event = await create_event(client, headers, name="e" * 200, venue="v" * 200, description="d" * 5000)
    key = "k" * 255
    booked = await book(client, headers, event["id"], 1, idempotency_key=key)
    assert booked.status_code == 201, booked.text


# -- item 5: ids are never reused, and tokens name more than an id -------------------------------
async def test_a_deleted_accounts_id_and_token_never_pass_to_the_next_account(client, app):
    gone, gone_headers = await customer(client)
    db = app.state.services.db
    async with db.engine.connect() as conn:
        await conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": gone["id"]})
        await conn.commit()
    newcomer, _ = await customer(client)
    assert newcomer["id"] > gone["id"]
    me = await client.get("/api/v1/users/me", headers=gone_headers)
    assert me.status_code == 401 and me.json()["code"] == "not_authenticated"


def test_the_sqlite_upgrade_keeps_rows_and_triggers_and_stops_reusing_ids(tmp_path: Path):
    path = tmp_path / "old.db"
    upgrade(f"sqlite:///{path}", "0001")
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES "
                     "(1, 'a@x.example', 'A', 'customer', 'h', '2026-01-01 00:00:00'), "
                     "(2, 'b@x.example', 'B', 'customer', 'h', '2026-01-01 00:00:00')")
        conn.execute("INSERT INTO events (id, name, starts_at, capacity, price_minor, currency, max_per_booking) "
                     "VALUES (1, 'E', '2099-01-01 00:00:00', 10, 100, 'THB', 5)")
        conn.execute("INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date, created_by) "
                     "VALUES (1, 1, 2, 200, 'CONFIRMED', '2026-01-01 00:00:00', 1)")
        conn.execute("DELETE FROM users WHERE id = 2")  # the highest id, gone before the upgrade
    upgrade(f"sqlite:///{path}", "0003")  # the schema this test is about (0004 changes bookings)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        assert conn.execute("SELECT tickets_sold FROM event_sales").fetchone() == (2,)
        # The counter trigger still guards capacity and follows new bookings.
        conn.execute("INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date, created_by) "
                     "VALUES (1, 1, 3, 300, 'CONFIRMED', '2026-01-01 00:00:00', 1)")
        with pytest.raises(sqlite3.IntegrityError, match="exceeds available capacity"):
            conn.execute("INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date, "
                         "created_by) VALUES (1, 1, 6, 600, 'CONFIRMED', '2026-01-01 00:00:00', 1)")
        assert conn.execute("SELECT tickets_sold FROM event_sales").fetchone() == (5,)
        conn.execute("DELETE FROM bookings")
        conn.execute("DELETE FROM users WHERE id = 1")
        conn.execute("INSERT INTO users (email, name, role, password_hash, created_at) "
                     "VALUES ('c@x.example', 'C', 'customer', 'h', '2026-01-01 00:00:00')")
        assert conn.execute("SELECT id FROM users").fetchall() == [(2,)]  # not 1: AUTOINCREMENT
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE sql LIKE '%AUTOINCREMENT%'")}
        assert {"users", "events", "bookings", "tickets", "sessions"} <= tables
    finally:
        conn.close()


# -- who asks, before what is asked ------------------------------------------------------------
def _json_routes_that_need_a_caller() -> list[tuple[str, str, bool]]:
    """(method, path with ids filled in, admin only) of every route that takes a JSON body and
    needs a signed-in caller, read from the routers the app serves, so a new route is covered
    without an edit."""
    found = []
    for route in (route for router in API_ROUTERS for route in router.routes):
        if not isinstance(route, APIRoute) or route.body_field is None:
            continue
        judge = auth_first._judge(route.dependant)
        if judge is None or "application/x-www-form-urlencoded" in str(route.body_field.field_info):
            continue
        path = API_PREFIX + re.sub(r"\{\w+\}", "1", route.path)
        found.extend((method, path, judge is auth_first._admin_judge) for method in sorted(route.methods))
    return found


async def test_a_body_that_is_not_json_is_judged_after_the_caller_on_every_route(client, app):
    """FastAPI parses a JSON body before it runs a route's dependencies: a body that is not JSON
    at all was 422 whatever the token (none, a signed-out one, a customer's on an admin route).
    Now the caller is judged first on every route that needs one (api/auth_first.py)."""
    routes = _json_routes_that_need_a_caller()
    assert len(routes) >= 6 and ("POST", "/api/v1/bookings", False) in routes, routes
    _, buyer = await customer(client)
    _, gone = await customer(client)
    assert (await client.post("/api/v1/auth/logout", headers=gone)).status_code == 204
    boss = await admin(client, app)
    for method, path, admin_only in routes:
        for who, headers, expected in [
            ("no token", {}, 401), ("signed out", gone, 401),
            ("customer", buyer, 403 if admin_only else 422), ("admin", boss, 422),
        ]:
            answer = await client.request(method, path, content=b'{"not json',
                                          headers={**headers, "Content-Type": "application/json"})
            assert answer.status_code == expected, (method, path, who, answer.text)
            code = {401: "not_authenticated", 403: "forbidden", 422: "validation_error"}[expected]
            assert answer.json()["code"] == code, (method, path, who, answer.text)
