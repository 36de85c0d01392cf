"""Checkout under concurrency, against real ``ticketing serve --workers 2`` processes, on both
databases: the races checkout.md's invariants 5-8 must survive, each with its CONTROL.

- Many buyers on one capped type and the shared capacity: no type or event oversold, nothing
  left unsold because of contention.
- One buyer firing parallel bookings against a per-customer limit: never over it.
- Confirmations racing expiry at the boundary (1 s holds, webhooks fired 150 ms either side of
  each deadline, sweepers and buyers releasing at the same time): each booking ends in one
  state that agrees with what its webhook was answered, counters equal the states.
- The same webhook event delivered 20 times at once: one effect, 20 identical 200 answers.
- Cancel racing confirm: every answer 200, every booking CANCELLED and owed its money back.

A control runs each scenario with the guard it tests turned off and must see it break, so each
test is shown able to catch its race. The payment and release guards are switched off by
putting check-then-act versions of those writes (tests/support/checkout_controls.py) in their
place in the server processes, through a ``sitecustomize`` module on their PYTHONPATH. The
capacity and limit guards are the database's own (CHECK constraints and the bookings trigger): their controls
drop them with SQL, leaving the booking statement's own check in its snapshot (check, then act),
with each write alone (no group commit: the most statements at once) and a 10 ms pause in the
trigger between check and act. On SQLite that check runs inside BEGIN IMMEDIATE, the one
writer's lock, where nothing can interleave with it: those two controls are PostgreSQL's. A
control that could miss an interleaving by chance runs a few rounds and must break in one.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support import checkout_controls
from tests.support.credentials import PASSWORD
from tests.support.databases import drop_pg_database, make_database
from tests.support.payments import WEBHOOK, notice, signed
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow

BACKENDS = ["sqlite", "postgres"]
# No keep-alive: a connection left idle between bursts may be closed by the server at the very
# moment it is reused (an httpx.ReadError that says nothing about checkout).
LIMITS = httpx.Limits(max_connections=400, max_keepalive_connections=0)


# -- a server and its database ----------------------------------------------------------------
@dataclass
class Site:
    url: str  # the database's
    http: httpx.AsyncClient
    admin: dict[str, str]
    buyers: list[dict[str, str]]  # auth headers
    buyer_ids: list[int]

    async def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        return await run_sql(self.url, query, *args)


async def run_sql(url: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    """``query`` (``?`` placeholders) straight on the database, no application code."""
    if url.startswith("sqlite"):
        def run() -> list[tuple[Any, ...]]:
            with sqlite3.connect(url.split("///", 1)[1], timeout=30) as db:
                return [tuple(r) for r in db.execute(query, args).fetchall()]
        return await asyncio.to_thread(run)
    numbered = query
    for n in range(1, len(args) + 1):
        numbered = numbered.replace("?", f"${n}", 1)
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(numbered, *args)]
    finally:
        await conn.close()


def control_env(tmp_path: Path, *controls: str) -> dict[str, str]:
    """The server environment that puts the named controls (tests/support/checkout_controls.py)
    in place of the guarded writes in every server process."""
    return checkout_controls.sitecustomize_env(tmp_path / "control", *controls)


@asynccontextmanager
async def site(backend: str, tmp_path: Path, buyers: int, env: dict[str, str] | None = None) -> AsyncIterator[Site]:
    url = await asyncio.to_thread(make_database, backend, tmp_path)
    server = ServerProcess(url, workers=2, env=env, log_path=tmp_path / "server.log")
    try:
        await asyncio.to_thread(server.start)
        async with httpx.AsyncClient(base_url=server.url, limits=LIMITS, timeout=60) as http:
            headers = await sign_up(http, ["boss@example.com"] + [f"buyer{i}@example.com" for i in range(buyers)], url)
            ids = [row[0] for row in await run_sql(url, "SELECT id FROM users WHERE email LIKE 'buyer%' ORDER BY id")]
            yield Site(url, http, headers[0], headers[1:], ids)
    finally:
        await asyncio.to_thread(server.stop)
        if backend == "postgres":
            await asyncio.to_thread(drop_pg_database, url)


async def sign_up(http: httpx.AsyncClient, emails: list[str], url: str) -> list[dict[str, str]]:
    gate = asyncio.Semaphore(8)

    async def register(email: str) -> None:
        async with gate:
            made = await http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "R"})
            assert made.status_code == 201, made.text

    async def sign_in(email: str) -> dict[str, str]:
        async with gate:
            token = await http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
            assert token.status_code == 200, token.text
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

    await asyncio.gather(*(register(e) for e in emails))
    await run_sql(url, "UPDATE users SET role = 'admin' WHERE email = ?", emails[0])
    return list(await asyncio.gather(*(sign_in(e) for e in emails)))


async def new_event(s: Site, types: list[dict[str, Any]], **settings: Any) -> dict[str, Any]:
    body = {"name": "Race", "starts_at": "2031-01-01T20:00:00Z", "checkout": "payment", "max_per_booking": 4,
            "ticket_types": types, **settings}
    made = await s.http.post("/api/v1/events", json=body, headers=s.admin)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def at_once(calls: list[Callable[[], Awaitable[httpx.Response]]]) -> list[httpx.Response]:
    """Every call started together, behind one gate."""
    gate = asyncio.Event()

    async def one(call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        await gate.wait()
        return await call()

    tasks = [asyncio.create_task(one(c)) for c in calls]
    await asyncio.sleep(0)  # every task reaches the gate
    gate.set()
    return list(await asyncio.gather(*tasks))


def webhook(s: Site, body: bytes) -> Callable[[], Awaitable[httpx.Response]]:
    return lambda: s.http.post(WEBHOOK, content=body, headers=signed(body))


# -- invariants 5-7, read from the database itself ---------------------------------------------------
async def broken_invariants(s: Site, event_id: int) -> list[str]:
    """Every way the event breaks invariants 5, 6 and 7 (and loses money); empty when it holds."""
    found: list[str] = []
    capacity, sold, held, limit = (await s.sql(
        "SELECT capacity, tickets_sold, tickets_held, per_customer_limit FROM event_sales WHERE event_id = ?", event_id))[0]
    bookings = {r[0]: r[1:] for r in await s.sql(
        "SELECT id, status, quantity, user_id, payment_status, total_minor FROM bookings WHERE event_id = ?", event_id)}
    items = await s.sql("SELECT i.booking_id, i.ticket_type_id, i.quantity FROM booking_items i "
                        "JOIN bookings b ON b.id = i.booking_id WHERE b.event_id = ?", event_id)
    live = dict(await s.sql("SELECT booking_id, count(*) FROM tickets WHERE event_id = ? AND status IN ('VALID', 'USED') "
                            "GROUP BY booking_id", event_id))
    types = await s.sql("SELECT id, capacity, tickets_sold, tickets_held FROM ticket_types WHERE event_id = ?", event_id)
    usage = dict(await s.sql("SELECT user_id, quantity FROM customer_usage WHERE event_id = ?", event_id))

    def total(state: str) -> int:
        return sum(q for status, q, *_ in bookings.values() if status == state)

    if (sold, held) != (total("CONFIRMED"), total("PENDING")):
        found.append(f"event sold/held {sold}/{held} != CONFIRMED/PENDING {total('CONFIRMED')}/{total('PENDING')}")
    if sold + held > capacity:
        found.append(f"event oversold: {sold} + {held} > {capacity}")
    by_type: dict[int, Counter[str]] = defaultdict(Counter)
    for booking_id, type_id, quantity in items:
        by_type[type_id][bookings[booking_id][0]] += quantity
    for type_id, cap, type_sold, type_held in types:
        if (type_sold, type_held) != (by_type[type_id]["CONFIRMED"], by_type[type_id]["PENDING"]):
            found.append(f"type {type_id} sold/held {type_sold}/{type_held} != its items {dict(by_type[type_id])}")
        if cap is not None and type_sold + type_held > cap:
            found.append(f"type {type_id} oversold: {type_sold} + {type_held} > {cap}")
    if (sum(t[2] for t in types), sum(t[3] for t in types)) != (sold, held):
        found.append("the types' counters do not add up to the event's")
    for booking_id, (status, quantity, _, payment, total_minor) in bookings.items():
        if live.get(booking_id, 0) != (quantity if status == "CONFIRMED" else 0):
            found.append(f"booking {booking_id} {status} x{quantity} has {live.get(booking_id, 0)} live tickets")
        if status == "CONFIRMED" and total_minor > 0 and payment not in ("paid", "refund_due"):
            found.append(f"booking {booking_id} CONFIRMED unpaid ({payment})")
        if status != "CONFIRMED" and payment == "paid":
            found.append(f"booking {booking_id} {status} kept a payment (paid): money lost")
    if limit is not None:
        per_user = Counter({u: 0 for u in usage})
        for status, quantity, user_id, *_ in bookings.values():
            if status in ("PENDING", "CONFIRMED"):
                per_user[user_id] += quantity
        over = {u: q for u, q in per_user.items() if q > limit}
        if over:
            found.append(f"over the per-customer limit {limit}: {over}")
        if dict(per_user) != usage:
            found.append(f"customer_usage {usage} != bookings {dict(per_user)}")
    return found


def _code(answer: httpx.Response) -> str | None:
    if answer.status_code < 400:
        return None
    try:
        return str(answer.json().get("code"))
    except ValueError:
        return answer.text[:80]


def bad_answers(answers: list[httpx.Response], allowed: set[tuple[int, str | None]]) -> list[str]:
    seen = Counter((a.status_code, _code(a)) for a in answers)
    return [f"unexpected answers {dict(seen)}"] if set(seen) - allowed else []


# -- scenarios: each returns what went wrong (empty: nothing) ------------------------------------------
VIP_CAP = 6
SHARED = 30


async def capped_type_rush(s: Site, seed: int) -> list[str]:
    """240 bookings at once, two in three of them for a type capped at 6, on 30 seats in all:
    the capped type's last tickets are fought for by the first writes of both processes."""
    event = await new_event(s, [{"name": "VIP", "price": "500.00", "capacity": VIP_CAP},
                                {"name": "Floor", "price": "200.00"}], capacity=SHARED)
    vip, floor = (t["id"] for t in event["ticket_types"])
    rng = random.Random(seed)
    asks = []
    for i in range(240):
        kind = i % 3
        asks.append({vip: rng.randint(1, 2)} if kind == 0 else {floor: rng.randint(1, 3)} if kind == 1 else {
            vip: 1, floor: rng.randint(1, 2)})

    def buy(i: int) -> Callable[[], Awaitable[httpx.Response]]:
        body = {"event_id": event["id"], "items": [{"ticket_type_id": k, "quantity": q} for k, q in asks[i].items()]}
        return lambda: s.http.post("/api/v1/bookings", json=body, headers=s.buyers[i % len(s.buyers)])

    answers = await at_once([buy(i) for i in range(len(asks))])
    found = bad_answers(answers, {(201, None), (409, "sold_out")})
    found += await broken_invariants(s, event["id"])
    # Availability only falls here (no hold expires, none is cancelled): a request refused while
    # it fitted would still fit now. Nothing may be left unsold because of contention.
    left = {type_id: (cap - sold - held if cap is not None else SHARED) for type_id, cap, sold, held in await s.sql(
        "SELECT id, capacity, tickets_sold, tickets_held FROM ticket_types WHERE event_id = ?", event["id"])}
    (taken,), = await s.sql("SELECT tickets_sold + tickets_held FROM event_sales WHERE event_id = ?", event["id"])
    for ask, answer in zip(asks, answers, strict=True):
        fits = all(q <= left[t] for t, q in ask.items()) and sum(ask.values()) <= SHARED - taken
        if answer.status_code == 409 and fits:
            found.append(f"refused {ask} yet it fits: types left {left}, event left {SHARED - taken}")
    booked = [a.json() for a in answers if a.status_code == 201]
    if sum(b["quantity"] for b in booked) != taken:
        found.append(f"answered 201 for {sum(b['quantity'] for b in booked)} tickets, the database holds {taken}")
    return found


LIMIT = 5


async def limit_rush(s: Site, seed: int) -> list[str]:
    """One buyer's 30 bookings at once (and 6 box-office bookings for them) against a limit of 5."""
    event = await new_event(s, [{"name": "Floor", "price": "100.00"}], capacity=200, per_customer_limit=LIMIT)
    rng = random.Random(seed)
    buyer, buyer_id = s.buyers[0], s.buyer_ids[0]
    asks = [rng.randint(1, 2) for _ in range(36)]

    def buy(i: int) -> Callable[[], Awaitable[httpx.Response]]:
        body: dict[str, Any] = {"event_id": event["id"], "quantity": asks[i]}
        if i >= 30:
            body["user_id"] = buyer_id
        return lambda: s.http.post("/api/v1/bookings", json=body, headers=s.admin if i >= 30 else buyer)

    answers = await at_once([buy(i) for i in range(len(asks))])
    found = bad_answers(answers, {(201, None), (409, "customer_limit_reached")})
    found += await broken_invariants(s, event["id"])
    (used,), = await s.sql("SELECT COALESCE(SUM(quantity), 0) FROM bookings WHERE event_id = ? AND user_id = ? "
                           "AND status IN ('PENDING', 'CONFIRMED')", event["id"], buyer_id)
    if used > LIMIT:
        found.append(f"the buyer holds {used} > limit {LIMIT}")
    refused = [q for q, a in zip(asks, answers, strict=True) if a.status_code == 409]
    if any(q <= LIMIT - used for q in refused):
        found.append(f"refused asks {sorted(refused)} with {LIMIT - used} left to the buyer")
    if any(a.json()["remaining"] < 0 for a in answers if a.status_code == 409):
        found.append("a refusal said a negative remaining")
    return found


async def confirm_against_expiry(s: Site, seed: int) -> list[str]:
    """24 one-second holds (8 on a type capped at 8) on 30 seats; each hold's webhook fired within
    150 ms either side of its deadline while free bookings take released seats and the sweepers
    release holds every 10 ms."""
    event = await new_event(s, [{"name": "Front", "price": "300.00", "capacity": 8}, {"name": "Back", "price": "100.00"},
                                {"name": "Crew", "price": "0.00"}], capacity=30)
    front, back, crew = (t["id"] for t in event["ticket_types"])
    rng = random.Random(seed)

    def hold(i: int) -> Callable[[], Awaitable[httpx.Response]]:
        body = {"event_id": event["id"], "items": [{"ticket_type_id": front if i < 8 else back, "quantity": 1}]}
        return lambda: s.http.post("/api/v1/bookings", json=body, headers=s.buyers[i % len(s.buyers)])

    held = await at_once([hold(i) for i in range(24)])
    assert all(h.status_code == 201 and h.json()["status"] == "PENDING" for h in held), [h.text for h in held]
    holds = [h.json() for h in held]
    deadlines = [datetime.fromisoformat(h["expires_at"]).timestamp() for h in holds]
    first = min(deadlines)

    async def at(moment: float, call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        await asyncio.sleep(max(moment - time.time(), 0))  # a scheduled firing time, not a wait for a result
        return await call()

    def crew_booking(i: int) -> Callable[[], Awaitable[httpx.Response]]:
        body = {"event_id": event["id"], "items": [{"ticket_type_id": crew, "quantity": 1 + i % 2}]}
        return lambda: s.http.post("/api/v1/bookings", json=body, headers=s.buyers[(i + 3) % len(s.buyers)])

    paid = [at(d + rng.uniform(-0.15, 0.15), webhook(s, notice(h))) for h, d in zip(holds, deadlines, strict=True)]
    taking = [at(first + rng.uniform(0, 0.3), crew_booking(i)) for i in range(10)]
    answers = await asyncio.gather(*paid, *taking)
    payments, bookings = answers[:len(paid)], answers[len(paid):]
    found = bad_answers(payments, {(200, None)}) + bad_answers(bookings, {(201, None), (409, "sold_out")})
    # Every hold is past its deadline: the sweepers release what is left within their interval.
    for _ in range(200):
        (left,), = await s.sql("SELECT count(*) FROM bookings WHERE event_id = ? AND status = 'PENDING'", event["id"])
        if left == 0:
            break
        await asyncio.sleep(0.05)
    else:
        found.append(f"{left} holds still PENDING well past their deadline")
    states = {r[0]: (r[1], r[2]) for r in await s.sql(
        "SELECT id, status, payment_status FROM bookings WHERE event_id = ?", event["id"])}
    for hold_body, answer in zip(holds, payments, strict=True):
        if answer.status_code != 200:
            continue
        said = answer.json()["status"]
        expected = {"CONFIRMED": ("CONFIRMED", "paid"), "EXPIRED": ("EXPIRED", "refund_due")}.get(said)
        if states[hold_body["id"]] != expected:
            found.append(f"hold {hold_body['id']}: the webhook answered {said}, the booking is {states[hold_body['id']]}")
    said = Counter(a.json()["status"] if a.status_code == 200 else a.status_code for a in payments)
    took = Counter(a.status_code for a in bookings)
    print(f"\nconfirm against expiry: webhooks answered {dict(said)}, free bookings {dict(took)}")
    found += await broken_invariants(s, event["id"])
    return found


async def webhook_storm(s: Site, seed: int) -> list[str]:
    """5 holds, each paid by one provider event delivered 20 times at once (100 deliveries)."""
    del seed
    event = await new_event(s, [{"name": "Floor", "price": "100.00"}], capacity=50)
    holds = []
    for i in range(5):
        made = await s.http.post("/api/v1/bookings", json={"event_id": event["id"], "quantity": 1 + i % 3},
                                 headers=s.buyers[i % len(s.buyers)])
        assert made.status_code == 201, made.text
        holds.append(made.json())
    bodies = [notice(h, event_id=f"evt_storm_{h['id']}") for h in holds]
    answers = await at_once([webhook(s, body) for body in bodies for _ in range(20)])
    found = []
    for n, hold in enumerate(holds):
        mine = answers[n * 20:(n + 1) * 20]
        seen = Counter((a.status_code, a.text if a.status_code != 200 else str(a.json())) for a in mine)
        wanted = (200, str({"booking_id": hold["id"], "status": "CONFIRMED"}))
        if seen != Counter({wanted: 20}):
            found.append(f"booking {hold['id']}: answers {dict(seen)}")
        recorded = await s.sql("SELECT booking_id, result_status FROM payment_events WHERE id = ?", f"evt_storm_{hold['id']}")
        if recorded != [(hold["id"], "CONFIRMED")]:
            found.append(f"booking {hold['id']}: provider event recorded as {recorded}")
    (tickets,), = await s.sql("SELECT count(*) FROM tickets WHERE event_id = ?", event["id"])
    if tickets != sum(h["quantity"] for h in holds):
        found.append(f"{tickets} tickets issued for {sum(h['quantity'] for h in holds)} paid")
    found += await broken_invariants(s, event["id"])
    return found


async def cancel_against_confirm(s: Site, seed: int) -> list[str]:
    """20 holds, each cancelled by its buyer while its payment arrives."""
    event = await new_event(s, [{"name": "Front", "price": "300.00", "capacity": 10}, {"name": "Back", "price": "100.00"}],
                            capacity=40)
    rng = random.Random(seed)
    holds = []
    for i in range(20):
        body = {"event_id": event["id"], "items": [{"ticket_type_id": event["ticket_types"][i % 2]["id"],
                                                    "quantity": rng.randint(1, 2) if i % 2 else 1}]}
        made = await s.http.post("/api/v1/bookings", json=body, headers=s.buyers[i % len(s.buyers)])
        assert made.status_code == 201, made.text
        holds.append((made.json(), s.buyers[i % len(s.buyers)]))

    def cancel(hold: dict[str, Any], headers: dict[str, str]) -> Callable[[], Awaitable[httpx.Response]]:
        return lambda: s.http.post(f"/api/v1/bookings/{hold['id']}/cancel", headers=headers)

    calls = []
    for hold, headers in holds:
        pair = [cancel(hold, headers), webhook(s, notice(hold))]
        rng.shuffle(pair)
        calls += pair
    answers = await at_once(calls)
    found = bad_answers(answers, {(200, None)})
    states = {r[0]: (r[1], r[2]) for r in await s.sql(
        "SELECT id, status, payment_status FROM bookings WHERE event_id = ?", event["id"])}
    for hold, _ in holds:
        if states[hold["id"]] != ("CANCELLED", "refund_due"):
            found.append(f"booking {hold['id']} ended {states[hold['id']]}, not CANCELLED and owed back")
    said = Counter(a.json().get("status") for a in answers if a.request.url.path == WEBHOOK and a.status_code == 200)
    if set(said) - {"CONFIRMED", "CANCELLED"}:
        found.append(f"webhook answers {dict(said)}")
    found += await broken_invariants(s, event["id"])
    return found


# -- the tests ---------------------------------------------------------------------------------------
Scenario = Callable[[Site, int], Awaitable[list[str]]]


async def must_hold(scenario: Scenario, backend: str, tmp_path: Path, env: dict[str, str] | None = None,
                    buyers: int = 12) -> None:
    async with site(backend, tmp_path, buyers, env) as s:
        found = await scenario(s, 20261202)
    assert found == [], found


async def must_break(scenario: Scenario, backend: str, tmp_path: Path, env: dict[str, str] | None = None,
                     rounds: int = 3, buyers: int = 12, unguard: Callable[[Site], Awaitable[None]] | None = None) -> list[str]:
    """The control: with the guard off, the same scenario breaks in one of ``rounds`` runs."""
    async with site(backend, tmp_path, buyers, env) as s:
        if unguard is not None:
            await unguard(s)
        for n in range(rounds):
            found = await scenario(s, n)
            if found:
                print(f"\ncontrol broke in round {n + 1}: {found[:3]}")
                return found
    pytest.fail(f"the control never broke in {rounds} rounds: the test could not catch this race")


# Each write alone (no group commit): on PostgreSQL many booking statements then run at once in
# every process, each with its own snapshot, the most interleavings the capacity guards face.
# A group-commit batch runs its statements one after another, and only the first of a batch can
# hold a snapshot older than another process's last commit.
ALONE = {"TICKETING_GROUP_COMMIT": "false"}
WRITE_PATHS = [("sqlite", None), ("postgres", None), ("postgres", ALONE)]
WRITE_PATH_IDS = ["sqlite", "postgres", "postgres-alone"]


@pytest.mark.parametrize(("backend", "env"), WRITE_PATHS, ids=WRITE_PATH_IDS)
async def test_many_buyers_on_a_capped_type_and_the_shared_capacity(
    backend: str, env: dict[str, str] | None, tmp_path: Path
) -> None:
    await must_hold(capped_type_rush, backend, tmp_path, env=env)


async def _drop_capacity_guards(s: Site) -> None:
    """The database's guards off: the types' CHECK and the trigger's capacity condition."""
    await s.sql("ALTER TABLE ticket_types DROP CONSTRAINT ck_ticket_types_within_capacity")
    guard = "\n       AND tickets_sold + tickets_held + qty * (is_sold + is_held - was_sold - was_held) <= capacity"
    await _rewrite_trigger(s, guard, "")


async def _rewrite_trigger(s: Site, old: str, new: str) -> None:
    """The bookings trigger with ``old`` (a guard) replaced by ``new``. What is left is the
    statement's own check in its snapshot, then the trigger's act: check, then act. A 10 ms pause
    before the act widens that window as a busy server's would, so the control breaks every run
    rather than most runs (the guard, where it is on, holds whatever the timing)."""
    (source,), = await s.sql("SELECT pg_get_functiondef('ticketing_bookings_keep_sold'::regproc)")
    assert old in source and source.count("\nBEGIN\n") == 1, "the trigger changed: update its control"
    await s.sql(source.replace(old, new).replace("\nBEGIN\n", "\nBEGIN\n    PERFORM pg_sleep(0.01);\n"))


async def test_control_capped_type_without_the_database_guards_oversells(tmp_path: Path) -> None:
    found = await must_break(capped_type_rush, "postgres", tmp_path, env=ALONE, rounds=6, unguard=_drop_capacity_guards)
    assert any("oversold" in f for f in found), found


@pytest.mark.parametrize(("backend", "env"), WRITE_PATHS, ids=WRITE_PATH_IDS)
async def test_one_buyer_in_parallel_never_passes_the_limit(backend: str, env: dict[str, str] | None, tmp_path: Path) -> None:
    await must_hold(limit_rush, backend, tmp_path, env=env, buyers=1)


async def _drop_limit_guard(s: Site) -> None:
    await _rewrite_trigger(s, "\n        WHERE u.quantity + EXCLUDED.quantity <= lim;", ";")


async def test_control_limit_without_the_trigger_guard_is_passed(tmp_path: Path) -> None:
    found = await must_break(limit_rush, "postgres", tmp_path, env=ALONE, rounds=6, buyers=1, unguard=_drop_limit_guard)
    assert any("limit" in f for f in found), found


HOLDS_OF_ONE_SECOND = {"TICKETING_HOLD_SECONDS": "1", "TICKETING_SWEEP_INTERVAL_SECONDS": "0.01"}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_confirm_racing_expiry_ends_each_booking_in_one_state(backend: str, tmp_path: Path) -> None:
    await must_hold(confirm_against_expiry, backend, tmp_path, env=HOLDS_OF_ONE_SECOND)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_control_release_by_check_then_act_loses_a_payment(backend: str, tmp_path: Path) -> None:
    env = {**HOLDS_OF_ONE_SECOND, **control_env(tmp_path, "release")}
    await must_break(confirm_against_expiry, backend, tmp_path, env=env, rounds=4)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_one_webhook_event_delivered_20_times_at_once_has_one_effect(backend: str, tmp_path: Path) -> None:
    await must_hold(webhook_storm, backend, tmp_path)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_control_webhook_without_claim_and_lock(backend: str, tmp_path: Path) -> None:
    await must_break(webhook_storm, backend, tmp_path, env=control_env(tmp_path, "pay"))


@pytest.mark.parametrize("backend", BACKENDS)
async def test_cancel_racing_confirm(backend: str, tmp_path: Path) -> None:
    await must_hold(cancel_against_confirm, backend, tmp_path)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_control_cancel_racing_an_unlocked_confirm(backend: str, tmp_path: Path) -> None:
    await must_break(cancel_against_confirm, backend, tmp_path, env=control_env(tmp_path, "pay"))
