"""Three hosts behind HAProxy and PgBouncer (transaction pooling), each in a network namespace of
its own (scripts/cluster, src/ticketing/cluster.py): storms, paid holds with every host's sweeper
and mail sender at work, a crashed host, a PgBouncer restart and a rolling restart, with the
contract's invariants checked in the database itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.support.credentials import PASSWORD
from tests.support.databases import IN_CI, create_pg_database, drop_pg_database, pg_rows, require_postgres
from tests.support.faults import ADMIN_EMAIL, admin_token, create_event, make_admin, read_db_state
from tests.support.server import TICKETING, cli_env, free_port
from tests.support.settings import TEST_ENV, settings_for
from tests.support.smtp import Inbox, smtp_server, until
from tests.support.storm_cli import PAY_CHECKS, payment_event, storm_cli
from ticketing import cluster as clusters
from ticketing.db.engine import create_engine
from ticketing.storm import Answer, Api, Storm, register_accounts

# One worker runs them in turn (-n 2): they share fixed namespace names and a subnet.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cluster")]

HOSTS = 3
# Not the subnet a hand-made `scripts/cluster up` uses, so that both can run at once.
SUBNET = "10.213.77"
RETRYABLE = {502, 503, 504}
HOLD_SECONDS = 2  # short holds (payment events only): late payments and the sweepers meet them
MAIL_DOMAIN = "example.com"  # names every Message-ID: <message_key@MAIL_DOMAIN>


def _missing_part() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth links)"
    if shutil.which("ip") is None:
        return "needs iproute2's `ip`"
    if shutil.which("apt-get") is None and not all(Path(f"/usr/sbin/{n}").exists() for n in ("haproxy", "pgbouncer")):
        return "needs haproxy and pgbouncer, or apt-get to install them"
    return None


@pytest.fixture(scope="module")
def smtp_port() -> int:
    """Where every host mails, each at its own root-side address. Nothing listens there but
    during the mail test: the other tests' messages wait in the outbox, their senders back off
    and charge no attempt (docs/mail.md), and the storms do not feed an inbox."""
    return free_port()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, smtp_port: int) -> Iterator[clusters.Cluster]:
    missing = _missing_part()
    if missing:
        if IN_CI:
            pytest.fail(f"the cluster tests {missing} (CI=true: a missing part is a failure)")
        pytest.skip(f"the cluster tests {missing}")
    require_postgres()
    database_url = create_pg_database("ticketing_cluster")
    state = tmp_path_factory.mktemp("cluster")
    name = f"t{secrets.token_hex(3)}"
    env = {**TEST_ENV, "TICKETING_HOLD_SECONDS": str(HOLD_SECONDS),
           "TICKETING_SMTP_URL": f"smtp://{{root_addr}}:{smtp_port}", "TICKETING_MAIL_FROM": f"Tickets <tickets@{MAIL_DOMAIN}>"}
    try:
        with clusters.running(state, HOSTS, workers=1, database_url=database_url, name=name, subnet=SUBNET,
                              port=None, extra_env=env) as running:
            asyncio.run(make_admin(database_url))
            yield running
    finally:
        drop_pg_database(database_url)


# -- clients ---------------------------------------------------------------------------------------
@dataclass
class Buyers:
    api: Api
    admin: str
    tokens: list[str]


async def _buyers(api: Api, count: int = 24) -> Buyers:
    return Buyers(api, await admin_token(api), await register_accounts(api, count))


def _is_final(answer: Answer) -> bool:
    """An answer the contract says is the last word: not a transport error, not a 502/503/504,
    not `409 request_in_progress`."""
    if answer.status is None or answer.status in RETRYABLE:
        return False
    return not (answer.status == 409 and answer.code == "request_in_progress")


@dataclass
class Retrying:
    """Bookings that each retry with their own Idempotency-Key until a final answer, as the web
    app does; every answer on the way is kept."""

    api: Api
    event_id: int
    tokens: list[str]
    quantities: list[int]
    concurrency: int = 32
    answers: dict[str, list[Answer]] = field(default_factory=dict)
    quantity_of: dict[str, int] = field(default_factory=dict)
    done: int = 0

    async def _one(self, index: int, gate: asyncio.Semaphore) -> None:
        key = f"cluster-{self.event_id}-{index}"
        token, quantity = self.tokens[index % len(self.tokens)], self.quantities[index]
        self.quantity_of[key] = quantity
        trail = self.answers.setdefault(key, [])
        async with gate:
            deadline = time.monotonic() + 90
            for attempt in range(300):
                answer = await self.api.book(token, self.event_id, quantity, key)
                trail.append(answer)
                if _is_final(answer) or time.monotonic() > deadline:
                    break
                # Back off a little (the service asks for Retry-After seconds; the test is in a hurry).
                await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
        self.done += 1

    async def run(self) -> None:
        gate = asyncio.Semaphore(self.concurrency)
        await asyncio.gather(*(self._one(i, gate) for i in range(len(self.quantities))))

    async def reached(self, count: int, timeout: float = 60) -> None:  # noqa: ASYNC109 - raises with the count reached
        deadline = time.monotonic() + timeout
        while self.done < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.done} of {count} bookings answered in {timeout}s")
            await asyncio.sleep(0.01)

    def final(self) -> dict[str, Answer]:
        return {key: trail[-1] for key, trail in self.answers.items()}


async def _bookings_by_key(database_url: str, event_id: int) -> dict[str, int]:
    rows = await pg_rows(database_url, "SELECT idempotency_key, COUNT(*) AS n FROM bookings WHERE event_id = $1 "
                         "GROUP BY idempotency_key", event_id)
    return {row["idempotency_key"]: row["n"] for row in rows}


async def _check_retrying(run: Retrying, database_url: str) -> None:
    """Every booking answered once and for all, nothing oversold, lost or booked twice."""
    every = [answer for trail in run.answers.values() for answer in trail]
    assert not [a for a in every if a.status is not None and a.status >= 500 and a.status not in RETRYABLE], \
        "a 5xx other than 502/503/504 (a 500!)"
    unavailable = [a for a in every if a.status == 503]
    assert all(a.retry_after for a in unavailable), "a 503 without Retry-After"
    final = run.final()
    unfinished = {key: a.describe() for key, a in final.items() if not _is_final(a)}
    assert not unfinished, f"bookings with no final answer: {list(unfinished.items())[:5]}"
    odd = {key: a.describe() for key, a in final.items() if (a.status, a.code) not in {(201, None), (409, "sold_out")}}
    assert not odd, f"final answers other than 201 and 409 sold_out: {list(odd.items())[:5]}"
    created = {key: a for key, a in final.items() if a.status == 201}
    in_db = await _bookings_by_key(database_url, run.event_id)
    assert set(in_db) == set(created), (
        f"booked but answered otherwise: {sorted(set(in_db) - set(created))[:5]}; "
        f"answered 201 but not booked: {sorted(set(created) - set(in_db))[:5]}")
    assert all(n == 1 for n in in_db.values()), "a key booked twice"
    state = await read_db_state(database_url, run.event_id)
    assert state.problems() == []
    assert state.tickets_sold == sum(run.quantity_of[key] for key in created)
    refused = [run.quantity_of[key] for key, a in final.items() if a.status == 409]
    if refused:
        assert state.available < min(refused), "refused as sold out, yet tickets are left"


async def _check_storm(outcomes: list, database_url: str, event_id: int) -> None:  # type: ignore[type-arg]
    answers = {(o.status, o.code) for o in outcomes}
    assert answers <= {(201, None), (409, "sold_out")}, f"unexpected answers: {answers}"
    state = await read_db_state(database_url, event_id)
    created = [o for o in outcomes if o.status == 201]
    assert state.problems(created) == []
    assert state.tickets_sold == sum(o.quantity for o in created)
    refused = [o.quantity for o in outcomes if o.status == 409]
    if refused:
        assert state.available < min(refused)


def _served(cluster: clusters.Cluster) -> dict[str, int]:
    return {name: int(row.get("stot") or 0) for name, row in clusters.server_states(cluster).items()}


async def _wait_status(cluster: clusters.Cluster, host: clusters.Host, wanted: str, timeout: float = 30) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while (seen := clusters.server_status(cluster, host)) != wanted:
        if time.monotonic() > deadline:
            raise TimeoutError(f"HAProxy still says {host.server_name} is {seen!r}, not {wanted!r}, after {timeout}s")
        await asyncio.sleep(0.05)


# -- the tests -------------------------------------------------------------------------------------
def test_scripts_cluster_says_it_needs_root() -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run scripts/cluster as someone else")
    script = Path(__file__).resolve().parents[2] / "scripts" / "cluster"
    done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(script), "up", "1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done
    assert "needs root" in done.stderr


def test_the_deployed_haproxy_cfg_is_valid(cluster: clusters.Cluster) -> None:
    cfg = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"
    done = subprocess.run([clusters.binary("haproxy"), "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


async def _statement_errors(database_url: str, pooler: str) -> list[str]:
    """Three processes' worth of engines on PgBouncer in transaction mode, 300 statements at once:
    the errors they got."""
    settings = settings_for(database_url, database_pooler=pooler)
    engines = [create_engine(settings) for _ in range(3)]
    errors: list[str] = []

    async def one(index: int) -> None:
        try:
            async with engines[index % 3].connect() as conn:
                await conn.execute(text("SELECT count(*) FROM events WHERE id > :i"), {"i": index})
                await conn.execute(text("SELECT :i + 1"), {"i": index})
        except Exception as error:
            errors.append(str(error).splitlines()[0])

    try:
        await asyncio.gather(*(one(i) for i in range(300)))
    finally:
        for engine in engines:
            await engine.dispose()
    return errors


async def test_transaction_pooling_needs_the_pooler_setting(cluster: clusters.Cluster) -> None:
    # The bug of issue 13, shown: asyncpg's statement cache behind transaction pooling.
    broken = await _statement_errors(cluster.pooled_url, "none")
    assert any("prepared statement" in error for error in broken), broken[:3]
    assert await _statement_errors(cluster.pooled_url, "transaction") == []


def test_hosts_migrating_at_once_through_pgbouncer_do_not_hang(cluster: clusters.Cluster) -> None:
    fresh = create_pg_database("ticketing_cluster_migrate")
    try:
        pooled = cluster.pooled_url.rsplit("/", 1)[0] + "/" + fresh.rsplit("/", 1)[1]
        env = {**os.environ, **TEST_ENV, "TICKETING_DATABASE_URL": pooled, "TICKETING_DATABASE_POOLER": "transaction"}
        runs = [subprocess.Popen([TICKETING, "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(3)]
        outputs = [run.communicate(timeout=120) for run in runs]
        assert [run.returncode for run in runs] == [0, 0, 0], outputs
        # And once more after them: the transaction-level lock is not left held.
        again = subprocess.run([TICKETING, "migrate"], env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0, again.stderr
    finally:
        drop_pg_database(fresh)


# The mail of the events' bookings, with each booking's state and buyer (plain SQL, not the sender's).
_OUTBOX = """
SELECT o.kind, o.booking_id, o.status, o.message_key, o.last_error, b.status AS booking_status, b.quantity, u.email
FROM mail_outbox o JOIN bookings b ON b.id = o.booking_id JOIN users u ON u.id = b.user_id
WHERE b.event_id = ANY($1::bigint[]) ORDER BY o.id
"""


async def test_holds_payments_and_mail_on_three_hosts_at_once(cluster: clusters.Cluster, smtp_port: int) -> None:
    """Every host runs a hold sweeper and a mail sender. A `ticketing storm --pay` takes holds on
    all three and pays them by webhooks landing on any of them, some after the deadline; holds
    nobody pays are taken beside it. The sweepers release every hold past its deadline (once), and
    the senders, all three at work, mail every message of every booking once."""
    # One SMTP server per host, on the address that host reaches (a separate inbox each: which
    # host sent what), for this test only.
    inboxes = {host.server_name: Inbox() for host in cluster.hosts}
    # Whatever the other tests queued (their storms' mail, undeliverable while no SMTP server
    # listens) is set aside, so that it does not go out ahead of this test's: run in any order, the
    # test waits for its own messages only. Only this test's messages are checked in the inboxes.
    await pg_rows(cluster.database_url, "UPDATE mail_outbox SET status = 'failed', last_error = 'set aside by a test' "
                "WHERE status = 'pending' RETURNING id")
    with contextlib.ExitStack() as servers:
        for host in cluster.hosts:
            servers.enter_context(smtp_server(inboxes[host.server_name], smtp_port, host.root_addr))
        before = _served(cluster)
        async with Api(cluster.url, concurrency=16) as api:
            admin = await admin_token(api)
            event = await payment_event(api, admin, capacity=90, front_cap=30, limit=6, name="Cluster checkout")
            unpaid = await payment_event(api, admin, capacity=60, front_cap=20, limit=4, name="Cluster checkout")
            front, standing, student = (t["id"] for t in event["ticket_types"])
            unpaid_standing = unpaid["ticket_types"][1]["id"]
            buyers = await register_accounts(api, 6)
            # As in test_storm's checkout test: three tickets a request, the front row's cap and the
            # capacity run out together, the limit lets each buyer hold two; the storm outlasts the holds.
            storm = asyncio.ensure_future(storm_cli(
                "--url", cluster.url, "--event-id", str(event["id"]), "--requests", "1000", "--concurrency", "16",
                "--items", f"{front}:1,{standing}:1,{student}:1", "--users", "40", "--seed", "3",
                "--pay", "--late-fraction", "0.3", "--deliveries", "3",
                "--admin-email", ADMIN_EMAIL, "--admin-password", PASSWORD, "--json",
                env=cli_env(cluster.database_url), timeout=180,  # the env carries the webhook secret
            ))
            # Holds that only the sweepers can release: no one pays them, and no one else books
            # their event (a booking would release them itself).
            held = await asyncio.gather(*(api.book(buyers[i % 6], unpaid["id"], 2, items=[(unpaid_standing, 2)])
                                          for i in range(12)))
            assert [(a.status, a.body["status"]) for a in held] == [(201, "PENDING")] * 12, held[:2]
            code, out, err = await storm
        assert code == 0, (out[-3000:], err[-3000:])
        summary = json.loads(out)
        verdicts = {v["name"]: v["status"] for v in summary["invariants"]}
        assert summary["ok"] is True, summary["invariants"]
        for name in PAY_CHECKS:
            assert verdicts[name] == "pass", (name, summary["invariants"])
        paid = summary["payments"]
        assert paid["holds_paid"] == summary["by_status"]["201"] and paid["late"] > 0
        after = _served(cluster)
        assert all(after[name] > before.get(name, 0) for name in after), f"a host took no requests: {before} -> {after}"

        # No hold stays PENDING past its deadline: none is left at all, a few seconds on.
        event_ids = [event["id"], unpaid["id"]]

        async def no_hold_left() -> bool:
            return not await pg_rows(cluster.database_url, "SELECT id FROM bookings WHERE event_id = ANY($1::bigint[]) "
                                   "AND status = 'PENDING'", event_ids)

        await until(no_hold_left, 30, "every hold released or paid")
        statuses = await pg_rows(cluster.database_url, "SELECT status, count(*) AS n FROM bookings WHERE event_id = $1 "
                               "GROUP BY status", unpaid["id"])
        assert {row["status"]: row["n"] for row in statuses} == {"EXPIRED": 12}
        held_now = await pg_rows(cluster.database_url, "SELECT event_id, tickets_held FROM event_sales "
                               "WHERE event_id = ANY($1::bigint[])", event_ids)
        assert [row["tickets_held"] for row in held_now] == [0, 0], held_now
        for event_id in event_ids:
            assert (await read_db_state(cluster.database_url, event_id)).problems() == []

        # Every message of these bookings is sent (or skipped, out of date): none waits, none failed.
        async def all_sent() -> bool:
            rows = await pg_rows(cluster.database_url, _OUTBOX, event_ids)
            return all(row["status"] != "pending" for row in rows)

        await until(all_sent, 180, "every message of the storm's bookings sent")
        outbox = await pg_rows(cluster.database_url, _OUTBOX, event_ids)
    assert {row["status"] for row in outbox} <= {"sent", "skipped"}, Counter((row["kind"], row["status"]) for row in outbox)
    # "What to pay" of a hold paid or expired before its message went out is skipped (docs/mail.md),
    # and only that: no booking here is cancelled, so every "your tickets" goes.
    skipped = [row for row in outbox if row["status"] == "skipped"]
    assert all(row["kind"] == "pending" and row["booking_status"] != "PENDING"
               and row["last_error"].startswith("not sent: the booking is") for row in skipped), skipped[:3]
    outbox = [row for row in outbox if row["status"] == "sent"]
    expected = {f"<{row['message_key']}@{MAIL_DOMAIN}>" for row in outbox}
    by_id: Counter[str] = Counter()
    for inbox in inboxes.values():
        by_id.update(inbox.by_message_id())
    assert {mid: by_id[mid] for mid in expected if by_id[mid] != 1} == {}, "a message lost or sent twice"
    sent_by = {name: sum(1 for m in inbox.messages if m.message_id in expected) for name, inbox in inboxes.items()}
    assert all(sent_by.values()), f"a host's sender sent nothing: {sent_by}"
    # Each unpaid hold was told it expired, once; each CONFIRMED booking got its tickets, once.
    expired = Counter(row["booking_id"] for row in outbox if row["kind"] == "expired")
    assert len(expired) >= 12 and set(expired.values()) == {1}
    confirmed = [row for row in outbox if row["kind"] == "confirmed"]
    assert set(Counter(row["booking_id"] for row in confirmed).values()) == {1}
    confirmed_bookings = await pg_rows(cluster.database_url, "SELECT id FROM bookings WHERE event_id = $1 "
                                     "AND status = 'CONFIRMED'", event["id"])
    assert {row["booking_id"] for row in confirmed} == {row["id"] for row in confirmed_bookings} != set()
    messages = {m.message_id: m for inbox in inboxes.values() for m in inbox.messages}
    for row in confirmed:
        message = messages[f"<{row['message_key']}@{MAIL_DOMAIN}>"]
        assert message.recipients == (row["email"],)
        assert message.message["Subject"] == "Your tickets for Cluster checkout"
        pngs = [part for part in message.message.walk() if part.get_content_type() == "image/png"]
        assert len(pngs) == row["quantity"], "one QR code per ticket"


async def test_storm_on_one_hot_event_through_haproxy_and_pgbouncer(cluster: clusters.Cluster) -> None:
    before = _served(cluster)
    async with Api(cluster.url, concurrency=48) as api:
        buyers = await _buyers(api)
        event_id = await create_event(api, buyers.admin, capacity=300)
        storm = Storm(api, event_id, buyers.tokens, [1 + i % 3 for i in range(900)], concurrency=48)
        result = await storm.run()
    assert len(result.outcomes) == 900
    await _check_storm(result.outcomes, cluster.database_url, event_id)
    after = _served(cluster)
    assert all(after[name] > before.get(name, 0) for name in after), f"a host took no requests: {before} -> {after}"


async def test_storms_on_ten_events_at_once(cluster: clusters.Cluster) -> None:
    async with Api(cluster.url, concurrency=60) as api:
        buyers = await _buyers(api)
        events = [await create_event(api, buyers.admin, capacity=40) for _ in range(10)]
        storms = [Storm(api, event_id, buyers.tokens, [1 + i % 2 for i in range(80)], concurrency=6)
                  for event_id in events]
        results = await asyncio.gather(*(storm.run() for storm in storms))
    for event_id, result in zip(events, results, strict=True):
        assert len(result.outcomes) == 80
        await _check_storm(result.outcomes, cluster.database_url, event_id)


async def test_a_host_killed_mid_storm_is_taken_out_and_put_back(cluster: clusters.Cluster) -> None:
    victim = cluster.host(2)
    async with Api(cluster.url, concurrency=40) as api:
        buyers = await _buyers(api)
        event_id = await create_event(api, buyers.admin, capacity=400)
        run = Retrying(api, event_id, buyers.tokens, [1 + i % 3 for i in range(600)], concurrency=32)
        task = asyncio.ensure_future(run.run())
        await run.reached(150)
        await asyncio.to_thread(clusters.stop_host, cluster, victim, signal.SIGKILL)
        await _wait_status(cluster, victim, "DOWN")
        await run.reached(300)
        await asyncio.to_thread(clusters.start_host, cluster, victim)
        await _wait_status(cluster, victim, "UP")
        served = _served(cluster)[victim.server_name]
        await asyncio.wait_for(task, 180)
        # Back in: it takes requests again.
        probe = Storm(api, event_id, buyers.tokens, [1] * 60, concurrency=12)
        await probe.run()
    assert _served(cluster)[victim.server_name] > served
    await _check_retrying(run, cluster.database_url)


async def test_a_pgbouncer_restart_is_503_with_retry_after_then_recovers(cluster: clusters.Cluster) -> None:
    pids = [host.pid for host in cluster.hosts]
    async with Api(cluster.url, concurrency=40) as api:
        buyers = await _buyers(api)
        event_id = await create_event(api, buyers.admin, capacity=300)
        probed = await create_event(api, buyers.admin, capacity=10_000)  # the probes' own, apart
        run = Retrying(api, event_id, buyers.tokens, [1 + i % 3 for i in range(500)], concurrency=24)
        task = asyncio.ensure_future(run.run())
        await run.reached(100)
        await asyncio.to_thread(clusters.stop_pgbouncer, cluster)

        # While it is down, a booking is 503 with Retry-After (from a host or, once every host
        # is marked down, from HAProxy), never 500.
        deadline = time.monotonic() + 30
        while True:
            answer = await api.book(buyers.tokens[0], probed, 1)
            assert answer.status != 500 and (answer.status is None or answer.status < 500 or answer.status == 503), answer
            if answer.status == 503:
                assert answer.retry_after, answer
                assert answer.code == "unavailable", answer
                break
            assert time.monotonic() < deadline, f"no 503 while PgBouncer is down; last {answer.describe()}"
            await asyncio.sleep(0.05)

        await asyncio.to_thread(clusters.start_pgbouncer, cluster)
        await asyncio.wait_for(task, 180)
    assert [host.pid for host in cluster.hosts] == pids, "a host was restarted"
    assert all(clusters.alive(pid) for pid in pids)
    await _check_retrying(run, cluster.database_url)


async def test_a_rolling_restart_fails_no_request(cluster: clusters.Cluster) -> None:
    old = [host.pid for host in cluster.hosts]
    async with Api(cluster.url, concurrency=32) as api:
        buyers = await _buyers(api)
        event_id = await create_event(api, buyers.admin, capacity=100_000)
        # No Idempotency-Key and no retries: only draining can keep every request whole.
        storm = Storm(api, event_id, buyers.tokens, [1] * 50_000, concurrency=24)
        task = asyncio.ensure_future(storm.run())
        await storm.reached(100)
        for host in cluster.hosts:
            await asyncio.to_thread(clusters.rolling_restart, cluster, host)
        answered = storm.completed
        await storm.reached(answered + 100)
        storm.stop()
        result = await asyncio.wait_for(task, 60)
    assert all(new != was for new, was in zip((h.pid for h in cluster.hosts), old, strict=True))
    failed = [o for o in result.outcomes if o.status != 201]
    assert not failed, f"{len(failed)} of {len(result.outcomes)} failed, e.g. {failed[:3]}"
    await _check_storm(result.outcomes, cluster.database_url, event_id)
