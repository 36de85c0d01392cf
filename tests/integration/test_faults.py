"""Faults during a storm: a worker killed, the whole server killed, the database crashed.

Each test drives load with the storm's runner, breaks something mid-storm, and then asserts on
the database's own final state (read directly, not through the service): every booking that
was answered 201 is there, CONFIRMED, with all its tickets, and the counters add up.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import IN_CI, create_pg_database, drop_pg_database, require_postgres
from tests.support.faults import (
    ThrowawayPostgres,
    admin_token,
    connections_by_worker,
    create_event,
    log_tail,
    make_admin,
    pg_bindir,
    read_db_state,
    unexpected_answers,
)
from tests.support.server import ServerProcess
from ticketing.storm import Api, QuantityPlan, Storm, checks, register_accounts
from ticketing.storm.runner import Outcome

pytestmark = pytest.mark.slow

SOLD_OUT = {(409, "sold_out")}
CONCURRENCY = 24
DB_TIMEOUT = 2.0  # connect, pool and statement timeouts of the server in the database tests
# Every way of waiting on the database, cut short, so an outage answers 503 quickly.
SHORT_DB_TIMEOUTS = {
    f"TICKETING_{name}_TIMEOUT": str(DB_TIMEOUT) for name in ("CONNECT", "POOL", "STATEMENT")
}
# The longest a request may take while the database is away or frozen: one wait for the pool or
# a statement (DB_TIMEOUT), then one connect (DB_TIMEOUT) or SQLAlchemy's graceful close of the
# timed-out connection (2 s, fixed in its asyncpg dialect), plus slack for a busy 2-core machine.
# The first failing database call ends the request with 503, so nothing should add up beyond.
SLOWEST_ALLOWED = DB_TIMEOUT + max(DB_TIMEOUT, 2.0) + 1.5


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/faults.db"
        return
    require_postgres()
    url = create_pg_database("ticketing_faults")
    yield url
    drop_pg_database(url)


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    bindir = pg_bindir()
    if bindir is None:
        if IN_CI:
            pytest.fail("initdb/pg_ctl not found (pg_config --bindir, /usr/lib/postgresql/*/bin) and CI=true")
        pytest.skip("initdb/pg_ctl not found")
    cluster = ThrowawayPostgres(bindir)
    try:
        cluster.init()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def serve(servers: list[ServerProcess], database_url: str, tmp_path: Path, workers: int = 1,
          env: dict[str, str] | None = None) -> ServerProcess:
    server = ServerProcess(database_url, workers, env, log_path=tmp_path / "server.log")
    servers.append(server)
    server.start()
    return server


async def wait_until_ready(url: str, within: float) -> float:
    """Seconds until /readyz answers 200, on a connection of its own; fails after ``within``."""
    started = time.monotonic()
    async with Api(url, concurrency=2, timeout=within) as probe:
        while time.monotonic() - started < within:
            if (await probe.ready()).status == 200:
                return time.monotonic() - started
            await asyncio.sleep(0.05)
    raise AssertionError(f"{url} did not answer /readyz 200 within {within}s")


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in outcomes:
        key = f"{o.status} {o.code or ''}".strip() if o.status is not None else f"no answer: {o.error}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def report(name: str, **facts: object) -> None:
    """What the test observed, printed for ``pytest -s`` and kept in the captured output."""
    print(f"\n[{name}] " + "; ".join(f"{k}={v}" for k, v in facts.items()))


# -- 1. one worker of four killed -----------------------------------------------------------------
async def test_worker_killed_mid_storm(pg_url: str, servers: list[ServerProcess], tmp_path: Path) -> None:
    capacity, requests = 400, 1000
    server = serve(servers, pg_url, tmp_path, workers=4)
    await make_admin(pg_url)
    async with Api(server.url, concurrency=CONCURRENCY, timeout=20) as api:
        admin = await admin_token(api)
        event_id = await create_event(api, admin, capacity)
        tokens = await register_accounts(api, 8)
        workers = server.worker_pids()
        assert len(workers) == 4, workers
        before = (await api.event(event_id)).body

        storm = Storm(api, event_id, tokens, [1] * requests, CONCURRENCY)
        running = asyncio.create_task(storm.run())
        await storm.reached(120)
        held = connections_by_worker(server)
        victim = max(held, key=held.__getitem__)  # the worker serving the most of the storm
        os.kill(victim, signal.SIGKILL)
        killed_at = storm.now()
        answered_after = await wait_until_ready(server.url, within=10)
        replaced_after = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pids = server.worker_pids()
            if len(pids) == 4 and victim not in pids:
                replaced_after = storm.now() - killed_at
                break
            await asyncio.sleep(0.1)
        result = await asyncio.wait_for(running, 120)
        after = (await api.event(event_id)).body
        all_bookings = await api.bookings(admin, event_id)

    state = await read_db_state(pg_url, event_id)
    lost = [o for o in result.outcomes if o.status is None]
    report("worker killed", answers=summary(result.outcomes), killed_at_s=round(killed_at, 2), connections=held,
           answered_again_after_s=round(answered_after, 2), worker_replaced_after_s=replaced_after and round(replaced_after, 2),
           db_bookings=len(state.bookings), tickets_sold=state.tickets_sold, created=len(result.created),
           lost_sent_after_kill_s=sorted(round(o.sent_at - killed_at, 3) for o in lost))

    assert unexpected_answers(result.outcomes, SOLD_OUT) == {}, log_tail(server.log_path)
    assert held[victim] > 0, f"the victim served none of the storm's connections: {held}"
    # Only the requests in flight on the victim may go unanswered.
    assert len(lost) <= held[victim], (held, summary(result.outcomes))
    assert all(o.sent_at <= killed_at + 0.25 for o in lost), [round(o.sent_at - killed_at, 3) for o in lost]
    assert state.problems(result.created) == []
    # Requests lost with the worker may or may not have booked: the database has every 201
    # and at most one booking per lost request besides.
    assert len(result.created) <= len(state.bookings) <= len(result.created) + len(lost)
    assert state.tickets_sold == capacity, "more was asked than the capacity: it must sell out"
    assert replaced_after is not None, "uvicorn did not replace the killed worker within 20 s"
    # The same invariants from outside, through the admin API (a lost request is expected here).
    verdicts = checks.check_all(result, before, after, all_bookings=all_bookings)
    assert [v for v in checks.broken(verdicts) if v.name != "every_request_answered"] == []


# -- 2. the whole server killed, then restarted -----------------------------------------------------
async def test_server_killed_mid_storm(database_url: str, servers: list[ServerProcess], tmp_path: Path) -> None:
    capacity, requests = 300, 800
    plan = QuantityPlan(1, 3)
    server = serve(servers, database_url, tmp_path, workers=2)
    await make_admin(database_url)
    async with Api(server.url, concurrency=CONCURRENCY, timeout=20) as api:
        admin = await admin_token(api)
        event_id = await create_event(api, admin, capacity, max_per_booking=4)
        tokens = await register_accounts(api, 8)
        storm = Storm(api, event_id, tokens, plan.draw(requests, seed=1), CONCURRENCY)
        running = asyncio.create_task(storm.run())
        await storm.reached(80)
        server.kill()
        storm.stop()
        first = await asyncio.wait_for(running, 60)

    crashed = await read_db_state(database_url, event_id)
    assert first.created, "the kill came before any booking succeeded: the test proves nothing"
    assert unexpected_answers(first.outcomes, SOLD_OUT) == {}, log_tail(server.log_path)
    assert crashed.problems(first.created) == []
    lost = [o for o in first.outcomes if o.status is None]
    assert len(first.created) <= len(crashed.bookings) <= len(first.created) + len(lost)

    started = time.monotonic()
    server.start()
    restart_s = time.monotonic() - started
    async with Api(server.url, concurrency=CONCURRENCY, timeout=20) as api:
        # After the restart the old tokens still work, and the sale goes on to the end.
        storm = Storm(api, event_id, tokens, plan.draw(requests, seed=2), CONCURRENCY)
        second = await asyncio.wait_for(storm.run(), 120)
        after = (await api.event(event_id)).body
        all_bookings = await api.bookings(admin, event_id)

    state = await read_db_state(database_url, event_id)
    report(f"server killed ({database_url.split(':')[0]})", first=summary(first.outcomes),
           db_bookings_after_kill=len(crashed.bookings), sold_after_kill=crashed.tickets_sold,
           restart_s=round(restart_s, 2), second=summary(second.outcomes), final_sold=state.tickets_sold,
           final_bookings=len(state.bookings))
    assert state.problems(first.created + second.created) == []
    assert set(crashed.bookings) <= set(state.bookings)
    assert unexpected_answers(second.outcomes, SOLD_OUT) == {}, log_tail(server.log_path)
    assert all(o.status is not None for o in second.outcomes), summary(second.outcomes)
    refused = [o.quantity for o in second.outcomes if o.code == "sold_out"]
    assert refused, "the second storm asked for more than was left: some requests must be refused"
    assert state.available < min(refused), f"{state.available} left unsold though {min(refused)} was refused"
    assert after["tickets_sold"] == state.tickets_sold
    assert {b["id"] for b in all_bookings} == set(state.bookings)


# -- 3. the database crashes and comes back -------------------------------------------------------
async def test_database_crash_mid_storm(own_postgres: ThrowawayPostgres, servers: list[ServerProcess], tmp_path: Path) -> None:
    capacity = 400
    database_url = own_postgres.url
    server = serve(servers, database_url, tmp_path, workers=2, env=SHORT_DB_TIMEOUTS)
    await make_admin(database_url)
    async with Api(server.url, concurrency=CONCURRENCY, timeout=30) as api, Api(server.url, concurrency=4, timeout=30) as probe:
        admin = await admin_token(api)
        event_id = await create_event(api, admin, capacity)
        tokens = await register_accounts(api, 6)

        storm = Storm(api, event_id, tokens, [1] * 3000, CONCURRENCY)
        running = asyncio.create_task(storm.run())
        await storm.reached(100)
        crash_started = storm.now()
        await asyncio.to_thread(own_postgres.crash)
        down_at = storm.now()

        # While it is down: readiness and bookings say 503 with Retry-After, quickly.
        probes = []
        for _ in range(3):
            probes.append(("readyz", await probe.ready()))
            probes.append(("booking", await probe.book(tokens[0], event_id, 1)))
            await asyncio.sleep(0.3)
        # The sale goes on against the dead database for 3 s, unless it ends before.
        await asyncio.wait({running}, timeout=max(0.0, 3.0 - (storm.now() - down_at)))
        storm.stop()
        first = await asyncio.wait_for(running, 60)

        await asyncio.to_thread(own_postgres.start)
        recovered_s = await wait_until_ready(server.url, within=20)
        # Recovered without a restart of the service: the same processes sell out the event.
        storm = Storm(api, event_id, tokens, [1] * 800, CONCURRENCY)
        second = await asyncio.wait_for(storm.run(), 120)

    state = await read_db_state(database_url, event_id)
    during = [o for o in first.outcomes if o.sent_at >= down_at]
    report("database crash", first=summary(first.outcomes), sent_while_down=summary(during),
           probes={f"{name} {a.status} {a.code or ''}".strip(): round(a.latency, 3) for name, a in probes},
           slowest_s=round(max(o.latency for o in first.outcomes), 3), recovered_after_s=round(recovered_s, 2),
           second=summary(second.outcomes), final_sold=state.tickets_sold, db_bookings=len(state.bookings))

    for name, answer in probes:
        assert answer.status == 503 and answer.code == "unavailable", (name, answer)
        assert answer.retry_after and answer.retry_after.isdigit(), (name, answer)
        assert answer.latency <= SLOWEST_ALLOWED, (name, answer)
    assert during, "no booking was sent while the database was down"
    assert all(o.status in (503, 409) for o in during), summary(during)
    assert all(o.retry_after for o in first.outcomes if o.status == 503)
    assert all(o.status is not None for o in first.outcomes), "the service itself must stay up"
    assert unexpected_answers(first.outcomes, SOLD_OUT | {(503, "unavailable")}) == {}, log_tail(server.log_path)
    assert max(o.latency for o in first.outcomes) <= SLOWEST_ALLOWED, sorted(o.latency for o in first.outcomes)[-5:]
    assert [o for o in first.created if o.sent_at > down_at] == [], "booked while the database was down?"

    assert state.problems(first.created + second.created) == []
    assert unexpected_answers(second.outcomes, SOLD_OUT) == {}, (summary(second.outcomes), log_tail(server.log_path))
    assert all(o.status is not None for o in second.outcomes)
    assert state.tickets_sold == capacity
    assert crash_started <= down_at


# -- 4. the database stops answering (frozen, not gone) -------------------------------------------
async def test_database_frozen_mid_storm(own_postgres: ThrowawayPostgres, servers: list[ServerProcess], tmp_path: Path) -> None:
    """SIGSTOP on every PostgreSQL process: TCP still connects, nothing answers. The service
    must turn that into 503 within its timeouts rather than hang, and recover on SIGCONT.
    (Not in the brief's list, but the harder form of "the database goes away": a crash refuses
    connections at once, a frozen or unreachable host makes every timeout matter.)"""
    capacity = 400
    database_url = own_postgres.url
    server = serve(servers, database_url, tmp_path, workers=2, env=SHORT_DB_TIMEOUTS)
    await make_admin(database_url)
    async with Api(server.url, concurrency=CONCURRENCY, timeout=30) as api, Api(server.url, concurrency=4, timeout=30) as probe:
        admin = await admin_token(api)
        event_id = await create_event(api, admin, capacity)
        tokens = await register_accounts(api, 6)

        storm = Storm(api, event_id, tokens, [1] * 3000, CONCURRENCY)
        running = asyncio.create_task(storm.run())
        await storm.reached(100)
        own_postgres.freeze()
        frozen_at = storm.now()
        try:
            probes = []
            for _ in range(2):
                probes.append(("readyz", await probe.ready()))
                probes.append(("booking", await probe.book(tokens[0], event_id, 1)))
            # The sale goes on against the frozen database for 6 s, unless it ends before.
            await asyncio.wait({running}, timeout=max(0.0, 6.0 - (storm.now() - frozen_at)))
            storm.stop()  # the rest of the sale is for after the thaw
        finally:
            own_postgres.thaw()
        thawed_at = storm.now()
        first = await asyncio.wait_for(running, 60)
        recovered_s = await wait_until_ready(server.url, within=20)
        storm = Storm(api, event_id, tokens, [1] * 800, CONCURRENCY)
        second = await asyncio.wait_for(storm.run(), 120)

    state = await read_db_state(database_url, event_id)
    during = [o for o in first.outcomes if frozen_at <= o.sent_at < thawed_at]
    report("database frozen", first=summary(first.outcomes), sent_while_frozen=summary(during),
           probes=[(name, a.status, a.code, round(a.latency, 3)) for name, a in probes],
           slowest_s=round(max(o.latency for o in first.outcomes), 3), recovered_after_s=round(recovered_s, 2),
           second=summary(second.outcomes), final_sold=state.tickets_sold, db_bookings=len(state.bookings))

    for name, answer in probes:
        assert answer.status == 503 and answer.code == "unavailable", (name, answer)
        assert answer.retry_after, (name, answer)
        assert answer.latency <= SLOWEST_ALLOWED, (name, answer)
    assert all(o.status is not None for o in first.outcomes), summary(first.outcomes)
    assert unexpected_answers(first.outcomes, SOLD_OUT | {(503, "unavailable")}) == {}, log_tail(server.log_path)
    slowest = sorted(round(o.latency, 2) for o in first.outcomes)[-5:]
    assert slowest[-1] <= SLOWEST_ALLOWED, (
        f"requests took {slowest} s with every database timeout at {DB_TIMEOUT} s: writes queued for group"
        " commit wait behind a batch that is timing out, then run again one by one"
    )
    assert state.problems(first.created + second.created) == []
    assert unexpected_answers(second.outcomes, SOLD_OUT) == {}, (summary(second.outcomes), log_tail(server.log_path))
    assert state.tickets_sold == capacity
