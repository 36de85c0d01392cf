"""Tickets by email, measured: the booking rate with mail on against mail off.

Issue 12 asks that sending never slow a booking: a booking writes one more row (the outbox
trigger, in its own statement), and the rate with mail on stays at least 0.9 times the rate
with mail off. This runs `ticketing serve --workers W` under `wrk` (the harness of bench/run.py:
one event, many accounts, unique Idempotency-Keys) in alternating rounds on one database:

- ``off``: the outbox triggers dropped (bookings write no message, as before issue 12), and no
  SMTP server: the booking path as it was;
- ``rows`` (with ``--rows``): the triggers in place, no SMTP server: what the outbox row costs;
- ``on``: the triggers in place, `TICKETING_SMTP_URL` set, each worker's sender running, and an
  SMTP server (aiosmtpd, accepting and dropping every message) on this machine.

Each round books on a fresh event. Reported per mode: bookings/s of each round, their mean, and
the ratio on/off of the means; for ``on`` also how many messages the SMTP server took during the
run, and how long the senders then took to send the rest (the backlog drains once the burst is
over: bookings come first). The database is dropped at the end. Speed is never asserted by the
tests; this is for bench/RESULTS.md.

    .venv/bin/python -m bench.mail [--db sqlite|postgres] [--workers 2] [--concurrency 64]
                                   [--seconds 8] [--rounds 3] [--quantity 2]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from aiosmtpd.controller import Controller

from bench.dbsetup import BenchDB, make_workdir, postgres_available, remove_workdir
from bench.load import mint_tokens, run_wrk, write_script
from bench.server import TICKETING, Server, free_port

ROOT = Path(__file__).resolve().parents[1]
MIGRATION = ROOT / "src/ticketing/db/migrations/versions/0005_outbox.py"
ADMIN = ("bench-admin@example.com", "bench-admin-password")


class CountingSink:
    """aiosmtpd's handler: accepts every message, keeps nothing but a count."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


@dataclass
class Round:
    mode: str
    rate: float  # bookings (201s) per second
    p99_ms: float
    cpu_ms: float  # the server's CPU (every process) per booking, sending included
    non_201: dict[int, int]
    mailed_during: int = 0  # messages the SMTP server took while wrk ran
    drain_seconds: float = 0.0  # from the end of the run until every message was sent


@dataclass
class Result:
    db: str
    workers: int
    concurrency: int
    seconds: float
    rounds: list[Round] = field(default_factory=list)

    def mean(self, mode: str) -> float:
        return statistics.fmean(r.rate for r in self.rounds if r.mode == mode)

    def mean_cpu(self, mode: str) -> float:
        return statistics.fmean(r.cpu_ms for r in self.rounds if r.mode == mode)


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ticketing_revision_0005", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def set_outbox_triggers(db: BenchDB, on: bool) -> None:
    """Mail off is the booking path without the outbox trigger: dropped (SQLite) or disabled (PG)."""
    migration = _migration()
    if db.kind == "postgres":
        verb = "ENABLE" if on else "DISABLE"
        for name in ("bookings_outbox_insert", "bookings_outbox_update"):
            db.fetch(f"ALTER TABLE bookings {verb} TRIGGER {name}", "")
        return
    conn = sqlite3.connect(db.dsn, isolation_level=None)
    try:
        for name in migration._SQLITE_TRIGGER_NAMES:
            conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        if on:
            for trigger in migration.SQLITE_TRIGGERS:
                conn.execute(trigger)
    finally:
        conn.close()


def _post(url: str, body: dict[str, Any] | bytes, token: str | None = None, form: bool = False) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded" if form else "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30) as answer:
        return json.loads(answer.read())


def make_event(server: Server, name: str) -> int:
    """An event through the API (with its ticket type, as the service makes it), as the admin."""
    signed = _post(f"{server.url}/api/v1/auth/token", f"username={ADMIN[0]}&password={ADMIN[1]}".encode(), form=True)
    event = _post(f"{server.url}/api/v1/events", {
        "name": name, "starts_at": "2099-12-31T12:00:00Z", "capacity": 1_000_000, "price": "1500.00",
    }, token=signed["access_token"])
    return int(event["id"])


def forget_pending(db: BenchDB) -> None:
    sql = "UPDATE mail_outbox SET status = 'sent' WHERE status = 'pending'"
    if db.kind == "postgres":
        db.fetch(sql, "")
    else:
        _sqlite_execute(db, sql)


def _sqlite_execute(db: BenchDB, sql: str) -> None:
    conn = sqlite3.connect(db.dsn, isolation_level=None, timeout=30)
    try:
        conn.execute(sql)
    finally:
        conn.close()


def pending_messages(db: BenchDB) -> int:
    sql = "SELECT count(*) FROM mail_outbox WHERE status = 'pending'"
    return int(db.fetch(sql, sql)[0][0])


def run_round(db: BenchDB, args: argparse.Namespace, mode: str, tokens: list[str], secret: str,
              sink: CountingSink, smtp_port: int, n: int) -> Round:
    set_outbox_triggers(db, on=mode != "off")
    env = {"TICKETING_SECRET_KEY": secret, "TICKETING_LOG_LEVEL": "WARNING",
           "TICKETING_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}" if mode == "on" else ""}
    server = Server(db.url, args.workers, env, db.workdir, f"server-{db.kind}-{mode}-{n}.log")
    server.start()
    try:
        event = make_event(server, f"mail {mode} round {n}")
        script = write_script(db.workdir / f"book-{mode}-{n}.lua", tokens, event, args.quantity, use_keys=True)
        if args.warmup:
            run_wrk(server.url, script, min(32, args.concurrency), args.warmup)
        # Each run mails its own bookings only: earlier rounds' and the warm-up's messages are
        # marked sent by hand (a backlog would be a measurement of its own).
        forget_pending(db)
        before, cpu_before = sink.count, server.cpu()
        result = run_wrk(server.url, script, args.concurrency, args.seconds)
        cpu = server.cpu() - cpu_before
        mailed = sink.count - before
        ended = time.monotonic()
        drain = 0.0
        if mode == "on":
            while pending_messages(db) and time.monotonic() - ended < 600:
                time.sleep(0.2)
            drain = time.monotonic() - ended
    finally:
        server.stop()
    others = {status: count for status, count in result.statuses.items() if status != 201}
    return Round(mode, result.rate, result.p99_ms, 1000 * cpu / max(result.created, 1), others, mailed, drain)


def measure(kind: str, args: argparse.Namespace) -> Result:
    workdir = make_workdir()
    db = BenchDB.create(kind, workdir)
    sink = CountingSink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port, ready_timeout=10)
    controller.start()
    result = Result(kind, args.workers, args.concurrency, args.seconds)
    try:
        secret = secrets.token_urlsafe(48)
        admin_env = {"TICKETING_DATABASE_URL": db.url, "TICKETING_SECRET_KEY": secret}
        subprocess.run([TICKETING, "create-admin", "--email", ADMIN[0], "--password", ADMIN[1]],
                       env={**os.environ, **admin_env}, check=True, capture_output=True, timeout=120)
        tokens = mint_tokens(secret, db.seed_users(args.users))
        if kind == "postgres":  # the seeded sessions took ids by hand: the admin's sign-ins come after them
            db.fetch("SELECT setval('sessions_id_seq', (SELECT max(id) FROM sessions))", "")
        modes = ("off", "rows", "on") if args.rows else ("off", "on")
        for n in range(args.rounds):
            for mode in modes if n % 2 == 0 else modes[::-1]:
                row = run_round(db, args, mode, tokens, secret, sink, smtp_port, n)
                print(f"[bench.mail] {kind} round {n} mail {mode}: {row.rate:.0f} bookings/s, p99 {row.p99_ms:.0f} ms, "
                      f"{row.cpu_ms:.2f} CPU ms/booking"
                      + (f", {row.mailed_during} mailed during the run, the rest in {row.drain_seconds:.1f} s after"
                         if mode == "on" else "") + (f", other answers {row.non_201}" if row.non_201 else ""),
                      file=sys.stderr, flush=True)
                result.rounds.append(row)
    finally:
        controller.stop()
        if args.keep:
            print(f"[bench.mail] kept {workdir} and {db.url}", file=sys.stderr)
        else:
            db.drop()
            remove_workdir(workdir)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mail", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["all", "postgres", "sqlite"], default="all")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="each round measures off and on, alternating which first")
    parser.add_argument("--quantity", type=int, default=2)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--rows", action="store_true", help="also measure the outbox rows alone (no SMTP server)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the database and the server logs")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgres"] if args.db == "all" else [args.db]
    results = []
    for kind in kinds:
        if kind == "postgres" and not postgres_available():
            print("[bench.mail] PostgreSQL not reachable: skipped", file=sys.stderr)
            continue
        results.append(measure(kind, args))
    print(f"\n{'db':8} {'workers':>7} {'conc':>5} {'mail off /s':>12} {'mail on /s':>11} {'on/off':>7} "
          f"{'CPU ms off':>10} {'CPU ms on':>9}")
    for r in results:
        off, on = r.mean("off"), r.mean("on")
        print(f"{r.db:8} {r.workers:>7} {r.concurrency:>5} {off:>12.0f} {on:>11.0f} {on / off:>7.2f} "
              f"{r.mean_cpu('off'):>10.2f} {r.mean_cpu('on'):>9.2f}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
