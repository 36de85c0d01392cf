"""The database's limit: the service's own booking statement(s), driven with the plain driver.

PostgreSQL: the hot path's one statement (booking row, ticket rows; the trigger moves the
counter and refuses an oversell), autocommitted, from N asyncpg connections in one process,
and the same statement from pgbench. SQLite: the hot path's transaction (BEGIN IMMEDIATE,
booking row, ticket rows, COMMIT) from N processes, each with its own sqlite3 connection.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import resource
import secrets
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from ticketing.db import hot_path
from ticketing.domain.models import BookingRequest


@dataclass
class LimitResult:
    driver: str
    pool: int
    bookings: int
    seconds: float
    client_cpu: float  # CPU seconds used by the client side (driver process or pgbench)
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.bookings / self.seconds if self.seconds else 0.0


# The hot path's own statement, as the service sends it, and its parameters in order.
_PG_NAMES = hot_path.PG_BOOK_NAMES
PG_SQL = hot_path.PG_BOOK_SQL


def _pg_values(event_id: int, user: int, quantity: int) -> list[object]:
    """One v1-form booking (no items: the event's one type) with fresh key and ticket codes."""
    values: dict[str, object] = {
        "event_id": event_id, "user_id": user, "quantity": quantity, "caller_id": user, "session_id": user,
        "idempotency_key": secrets.token_hex(8), "fingerprint": _fingerprint(user, event_id, quantity),
        "at": datetime.now(UTC), "codes": [secrets.token_urlsafe(16) for _ in range(quantity)],
        "type_ids": [], "quantities": [], "hold_seconds": None, "reference": secrets.token_urlsafe(16),
    }
    return [values[name] for name in _PG_NAMES]


def _fingerprint(user_id: int, event_id: int, quantity: int) -> str:
    return BookingRequest(user_id, user_id, event_id, quantity, "k", session_id=user_id).fingerprint


# -- PostgreSQL, asyncpg ---------------------------------------------------------------------------
async def _pg_run(dsn: str, event_id: int, users: list[int], quantity: int, pool: int, seconds: float) -> tuple[int, int]:
    conns = [await asyncpg.connect(dsn) for _ in range(pool)]
    stop = time.monotonic() + seconds
    done = errors = 0

    async def client(i: int, conn: asyncpg.Connection) -> None:
        nonlocal done, errors
        n = i
        stmt = await conn.prepare(PG_SQL)
        while time.monotonic() < stop:
            user = users[n % len(users)]
            n += pool
            try:
                rows = await stmt.fetch(*_pg_values(event_id, user, quantity))
                done += 1 if rows[0]["id"] is not None else 0  # refused: the row of NULLs
            except asyncpg.PostgresError:
                errors += 1

    try:
        await asyncio.gather(*(client(i, c) for i, c in enumerate(conns)))
    finally:
        for c in conns:
            await c.close()
    return done, errors


def pg_driver_limit(dsn: str, event_id: int, users: list[int], quantity: int, pool: int, seconds: float) -> LimitResult:
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    done, errors = asyncio.run(_pg_run(dsn, event_id, users, quantity, pool, seconds))
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return LimitResult("asyncpg", pool, done, elapsed, cpu, errors)


# -- PostgreSQL, pgbench ------------------------------------------------------------------------------
# The same writes as the hot path's statement (booking, its one item, its tickets; the triggers
# move the event's and the type's counters and refuse an oversell), without its rule checks.
PGBENCH_SCRIPT = """\\set u random(:umin, :umax)
WITH ev AS (SELECT e.id, e.currency, t.id AS type_id, t.price_minor
            FROM events e JOIN ticket_types t ON t.event_id = e.id WHERE e.id = :event),
b AS (INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date, created_by,
                           idempotency_key, request_fingerprint, currency, payment_status)
      SELECT :u, ev.id, :q, ev.price_minor * :q, 'CONFIRMED', now(), :u,
             md5(random()::text), md5(random()::text) || md5(random()::text), ev.currency, 'none' FROM ev
      RETURNING id, event_id),
bi AS (INSERT INTO booking_items (booking_id, ticket_type_id, quantity, unit_price_minor)
       SELECT b.id, ev.type_id, :q, ev.price_minor FROM b, ev RETURNING ticket_type_id),
tk AS (INSERT INTO tickets (code, booking_id, event_id, ticket_type_id, status)
       SELECT replace(gen_random_uuid()::text, '-', ''), b.id, b.event_id, ev.type_id, 'VALID'
       FROM b, ev, generate_series(1, :q)
       RETURNING id, code, booking_id, event_id, status, checked_in_at)
SELECT * FROM tk;
"""


def pgbench_path() -> str | None:
    return shutil.which("pgbench") or (("/usr/bin/pgbench") if Path("/usr/bin/pgbench").exists() else None)


def pgbench_limit(
    dsn: str, event_id: int, users: list[int], quantity: int, pool: int, seconds: float, workdir: Path,
) -> LimitResult | None:
    exe = pgbench_path()
    if exe is None:
        return None
    script = workdir / "booking.pgbench"
    script.write_text(PGBENCH_SCRIPT)
    args = [exe, "-n", "-M", "prepared", "-T", str(max(1, round(seconds))), "-c", str(pool), "-j", str(min(pool, 2)),
            "-f", str(script), "-D", f"event={event_id}", "-D", f"q={quantity}",
            "-D", f"umin={min(users)}", "-D", f"umax={max(users)}", dsn]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    processed = re.search(r"number of transactions actually processed: (\d+)", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    duration = re.search(r"duration: (\d+) s", done.stdout)
    if done.returncode != 0 or not processed:
        raise RuntimeError(f"pgbench failed: {done.stderr[-1500:]}{done.stdout[-1500:]}")
    return LimitResult("pgbench", pool, int(processed.group(1)), float(duration.group(1)) if duration else seconds,
                       cpu, int(failed.group(1)) if failed else 0)


# -- SQLite, sqlite3 in N processes ------------------------------------------------------------------
def _sqlite_worker(path: str, event_id: int, users: list[int], quantity: int, index: int, pool: int,
                   start_at: float, stop_at: float, out: multiprocessing.Queue) -> None:
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = FULL")
    book = hot_path._SQLITE_BOOK
    tickets = hot_path._sqlite_tickets(quantity)
    items = hot_path._sqlite_items(1)
    done = errors = 0
    n = index
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < stop_at:
        user = users[n % len(users)]
        n += pool
        at = datetime.now(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        try:
            conn.execute("BEGIN IMMEDIATE")
            # As the hot path: the event's types, the booking, its item, its tickets.
            types = conn.execute(hot_path._SQLITE_TYPES, (event_id,)).fetchall()
            type_id, price = types[0][3], types[0][5]
            row = conn.execute(book, (user, quantity, at, user, secrets.token_hex(8),
                                      _fingerprint(user, event_id, quantity), event_id, user,
                                      price * quantity, "CONFIRMED", None, "none", None)).fetchone()
            conn.execute(items, (row[0], type_id, quantity, price))
            values: list[object] = []
            for _ in range(quantity):
                values += [secrets.token_urlsafe(16), row[0], event_id, type_id]
            conn.execute(tickets, values).fetchall()
            conn.execute("COMMIT")
            done += 1
        except sqlite3.Error:
            errors += 1
            if conn.in_transaction:
                conn.execute("ROLLBACK")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.put((done, errors, usage.ru_utime + usage.ru_stime))
    conn.close()


def sqlite_driver_limit(path: str, event_id: int, users: list[int], quantity: int, pool: int, seconds: float) -> LimitResult:
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue = ctx.Queue()
    start_at = time.time() + 0.3
    stop_at = start_at + seconds
    procs = [ctx.Process(target=_sqlite_worker, args=(path, event_id, users, quantity, i, pool, start_at, stop_at, out))
             for i in range(pool)]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join(10)
    return LimitResult("sqlite3", pool, sum(r[0] for r in results), seconds, sum(r[2] for r in results),
                       sum(r[1] for r in results))


def cpu_count() -> int:
    return os.cpu_count() or 1
