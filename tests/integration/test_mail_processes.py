"""Senders as real processes, on both databases: `ticketing serve` mails a booking within 5
seconds; a `ticketing mail-worker` SIGKILLed in the middle of a delivery loses nothing and sends
again only the message in flight, with its Message-ID; two workers on one PostgreSQL send each
message once; `ticketing mail-test` checks the settings."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.support.api import admin, book, create_event, customer, in_process_client
from tests.support.databases import drop_pg_database, make_database
from tests.support.server import TICKETING, ServerProcess, cli_env, run_cli
from tests.support.settings import settings_for
from tests.support.smtp import Inbox, smtp_server
from ticketing.api.app import create_app
from ticketing.db.database import Database

pytestmark = pytest.mark.slow  # every test starts `ticketing` processes


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = make_database(request.param, tmp_path)
    yield url
    if request.param == "postgres":
        drop_pg_database(url)


def _mail_env(smtp_url: str, **settings: str) -> dict[str, str]:
    return {"TICKETING_SMTP_URL": smtp_url, "TICKETING_MAIL_FROM": "Tickets <tickets@example.com>", **settings}


def _book_many(database_url: str, count: int) -> list[int]:
    """``count`` one-ticket bookings through the in-process app (its sender never runs there)."""
    async def make() -> list[int]:
        app = create_app(settings_for(database_url))
        try:
            async with in_process_client(app) as client:
                event = await create_event(client, await admin(client, app), capacity=1000)
                _, headers = await customer(client)
                return [(await book(client, headers, event["id"], 1)).json()["id"] for _ in range(count)]
        finally:
            await app.state.services.db.dispose()

    return asyncio.run(make())


def _statuses(database_url: str) -> dict[str, int]:
    async def read() -> dict[str, int]:
        db = Database.from_settings(settings_for(database_url))
        try:
            async with db.engine.connect() as conn:
                found = await conn.execute(text("SELECT status, count(*) FROM mail_outbox GROUP BY status"))
                return {str(status): int(n) for status, n in found.all()}
        finally:
            await db.dispose()

    return asyncio.run(read())


def _wait_for(condition, within: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not in {within} s"
        time.sleep(0.1)


@contextmanager
def _mail_worker(database_url: str, env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([TICKETING, "mail-worker", *args], env=cli_env(database_url, env),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(15)


def test_serve_mails_the_tickets_within_five_seconds_of_the_booking(database: str, tmp_path: Path) -> None:
    with smtp_server() as smtp:
        server = ServerProcess(database, workers=2, env=_mail_env(smtp.url), log_path=tmp_path / "serve.log")
        run_cli(database, "create-admin", "--email", "boss@example.com", "--password", "box-office-pw")
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                token = http.post("/api/v1/auth/token", data={"username": "boss@example.com", "password": "box-office-pw"})
                headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
                event = http.post("/api/v1/events", headers=headers, json={
                    "name": "Rooftop", "starts_at": "2099-06-01T12:00:00Z", "capacity": 10, "price": "100.00"}).json()
                booked = http.post("/api/v1/bookings", headers=headers, json={"event_id": event["id"], "quantity": 2})
                committed = time.monotonic()  # the answer comes after the commit
                assert booked.status_code == 201, booked.text
                [received] = smtp.inbox.wait_for_count(1, timeout=5)
        finally:
            server.stop()
    assert received.at - committed < 5
    assert received.recipients == ("boss@example.com",) and received.message["Subject"] == "Your tickets for Rooftop"


@pytest.mark.parametrize("lease_seconds", [6, 3600], ids=["lease", "control-no-lease"])
def test_a_worker_killed_mid_delivery_loses_nothing_and_repeats_only_the_message_in_flight(
    database: str, lease_seconds: int
) -> None:
    """25 messages; the SMTP server keeps the 5th but holds its answer; the worker is SIGKILLed
    then. Another worker sends the rest, and the 5th again once the lease is over. The control
    gives the killed worker's claim a lease of an hour (a claim that is a status, in effect):
    the rows it held are then lost to the other worker."""
    total = 25
    _book_many(database, total)
    inbox = Inbox()
    inbox.hold_at = 5
    env = _mail_env("", TICKETING_MAIL_LEASE_SECONDS=str(lease_seconds), TICKETING_SMTP_TIMEOUT="2",
                    TICKETING_MAIL_POLL_SECONDS="0.2")
    with smtp_server(inbox) as smtp:
        env["TICKETING_SMTP_URL"] = smtp.url
        with _mail_worker(database, env) as doomed:
            assert inbox.holding.wait(30), "the worker never reached the 5th message"
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.wait(10)
        in_flight = inbox.messages[4].message_id
        inbox.release.set()
        if lease_seconds == 3600:
            after = {**env, "TICKETING_MAIL_LEASE_SECONDS": "6"}
            done = subprocess.run([TICKETING, "mail-worker", "--once"], env=cli_env(database, after),
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            assert len(inbox.by_message_id()) < total, "the control must lose the rows the killed worker held"
            return
        with _mail_worker(database, {**env, "TICKETING_MAIL_LEASE_SECONDS": "6"}):
            inbox.wait_for(lambda messages: len({m.message_id for m in messages}) == total, timeout=90)
            _wait_for(lambda: _statuses(database) == {"sent": total}, 30, "every row marked sent")
        counts = inbox.by_message_id()
    assert len(counts) == total, "no message lost"
    assert {mid: n for mid, n in counts.items() if n > 1} == {in_flight: 2}, "only the one in flight went twice"


def test_two_workers_on_one_postgresql_send_each_message_once(tmp_path: Path) -> None:
    database = make_database("postgres", tmp_path)
    try:
        total = 60
        _book_many(database, total)
        with smtp_server() as smtp:
            env = _mail_env(smtp.url, TICKETING_MAIL_POLL_SECONDS="0.1")
            with _mail_worker(database, env), _mail_worker(database, env):
                smtp.inbox.wait_for(lambda messages: len({m.message_id for m in messages}) == total, timeout=90)
                _wait_for(lambda: _statuses(database) == {"sent": total}, 30, "every row marked sent")
            counts = smtp.inbox.by_message_id()
    finally:
        drop_pg_database(database)
    assert len(counts) == total and max(counts.values()) == 1, counts.most_common(3)


def test_mail_test_sends_one_message_and_says_why_when_it_cannot(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'mail.db'}"
    with smtp_server() as smtp:
        out = run_cli(database, "mail-test", "--to", "ops@example.com", env=_mail_env(smtp.url))
        [received] = smtp.inbox.wait_for_count(1)
    assert "sent to ops@example.com" in out and received.recipients == ("ops@example.com",)
    assert received.message["Subject"] == "ticketing: test message / ข้อความทดสอบ"

    def attempt(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([TICKETING, "mail-test", "--to", "ops@example.com"], env=cli_env(database, env),
                              capture_output=True, text=True, timeout=60)

    down = attempt(_mail_env(smtp.url))  # the server is stopped now
    assert down.returncode == 1 and "not sent" in down.stderr
    unset = attempt({"TICKETING_SMTP_URL": ""})
    assert unset.returncode == 2 and "TICKETING_SMTP_URL is not set" in unset.stderr
    wrong = attempt({"TICKETING_SMTP_URL": "smtp://u:secret@host:99999"})
    assert wrong.returncode == 2 and "TICKETING_SMTP_URL" in wrong.stderr and "secret" not in wrong.stderr
