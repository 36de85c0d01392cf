"""Narrow counter rows, measured: the hot path's statement on one event whose description is long.

Before migration 0003 every booking updated the event's own row (``events.tickets_sold``),
which carries the description (up to 5,000 characters). Under group commit one transaction
updates that row once per booking in its batch, and the row versions cannot be pruned until it
commits: a page holds only a few versions of a 1,500-character row, so PostgreSQL soon has to
put the next version on another page. Such an update is not HOT (it writes every index of the
table as well), and bookings/s drop. Since 0003 the counter is in ``event_sales``, a row of a
few dozen bytes, and a booking never writes ``events``.

This runs, on PostgreSQL, the hot path's own booking statement from a few asyncpg connections
for a few seconds, each connection committing batches of bookings as group commit does, against:

- ``before``: a scratch database migrated to 0002 (the counter on the events row) and the
  statement as it was then (frozen below);
- ``after``: a scratch database migrated to 0003 and the statement as it was then (frozen too);

each with a 1,500-character description and with a short one (the control), and reports
bookings/s, the WAL written per booking (the whole cluster's, so run it on a quiet server) and
the share of the counter row's updates that were HOT. The databases are dropped
at the end. Speed is never asserted by the tests; this is for bench/RESULTS.md.

    .venv/bin/python -m bench.wide_row [--seconds 8] [--connections 4] [--batch 8] [--description 1500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bench.dbsetup import PG_ADMIN_URL, PRICE_MINOR, BenchDB, _pg_admin, postgres_available
from bench.limit import _fingerprint
from ticketing.db.group_commit import MAX_BATCH
from ticketing.db.migrate import upgrade

# The hot path's statement as of migration 0002 (git history: src/ticketing/db/hot_path.py
# before 0003), frozen here so that "before" keeps measuring what it measured.
BEFORE_PG_BOOK = """
    WITH ev AS (
        SELECT id, price_minor FROM events
        WHERE id = CAST(:event_id AS bigint) AND starts_at > CAST(:at AS timestamptz)
          AND max_per_booking >= CAST(:quantity AS integer)
          AND tickets_sold + CAST(:quantity AS integer) <= capacity
          AND EXISTS (SELECT 1 FROM sessions WHERE id = CAST(:session_id AS bigint)
                      AND user_id = CAST(:caller_id AS bigint) AND revoked_at IS NULL)
    ), b AS (
        INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date,
                              created_by, idempotency_key, request_fingerprint)
        SELECT CAST(:user_id AS bigint), ev.id, CAST(:quantity AS integer),
               ev.price_minor * CAST(:quantity AS integer), 'CONFIRMED', CAST(:at AS timestamptz),
               CAST(:caller_id AS bigint), CAST(:idempotency_key AS varchar), CAST(:fingerprint AS varchar)
        FROM ev
        RETURNING id, user_id, event_id, quantity, total_minor, status, booking_date,
                  request_fingerprint
    ), tk AS (
        INSERT INTO tickets (code, booking_id, event_id, status)
        SELECT c.code, b.id, b.event_id, 'VALID'
        FROM b, unnest(CAST(:codes AS text[])) AS c(code)
        RETURNING id, code, booking_id, event_id, status, checked_in_at
    )
    SELECT b.id, b.user_id, b.event_id, b.quantity, b.total_minor, b.status, b.booking_date,
           b.request_fingerprint, tk.id AS ticket_id, tk.code, tk.status AS ticket_status,
           tk.checked_in_at
    FROM b JOIN tk ON tk.booking_id = b.id
    ORDER BY tk.id
"""


# The hot path's statement as of migration 0003 (git history: src/ticketing/db/hot_path.py before
# 0004 made the booking the function ticketing_book), frozen too: "after" measures 0003's change.
AFTER_PG_BOOK = """
    WITH ev AS (
        SELECT e.id, e.price_minor FROM events e JOIN event_sales s ON s.event_id = e.id
        WHERE e.id = CAST(:event_id AS bigint) AND e.starts_at > CAST(:at AS timestamptz)
          AND e.max_per_booking >= CAST(:quantity AS integer)
          AND s.tickets_sold + s.tickets_held + CAST(:quantity AS integer) <= s.capacity
          AND EXISTS (SELECT 1 FROM sessions WHERE id = CAST(:session_id AS bigint)
                      AND user_id = CAST(:caller_id AS bigint) AND revoked_at IS NULL)
    ), b AS (
        INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date,
                              created_by, idempotency_key, request_fingerprint)
        SELECT CAST(:user_id AS bigint), ev.id, CAST(:quantity AS integer),
               ev.price_minor * CAST(:quantity AS integer), 'CONFIRMED', CAST(:at AS timestamptz),
               CAST(:caller_id AS bigint), CAST(:idempotency_key AS varchar), CAST(:fingerprint AS varchar)
        FROM ev
        RETURNING id, user_id, event_id, quantity, total_minor, status, booking_date,
                  request_fingerprint
    ), tk AS (
        INSERT INTO tickets (code, booking_id, event_id, status)
        SELECT c.code, b.id, b.event_id, 'VALID'
        FROM b, unnest(CAST(:codes AS text[])) AS c(code)
        RETURNING id, code, booking_id, event_id, status, checked_in_at
    )
    SELECT b.id, b.user_id, b.event_id, b.quantity, b.total_minor, b.status, b.booking_date,
           b.request_fingerprint, tk.id AS ticket_id, tk.code, tk.status AS ticket_status,
           tk.checked_in_at
    FROM b JOIN tk ON tk.booking_id = b.id
    ORDER BY tk.id
"""

# Both statements' parameters, in the order the runs pass them.
_NAMES = ["event_id", "user_id", "quantity", "caller_id", "idempotency_key", "fingerprint", "at", "codes", "session_id"]


def _asyncpg_sql(sql: str) -> str:
    """:name placeholders -> $n in _NAMES' order, for asyncpg."""
    return re.sub(r"(?<!:):(\w+)", lambda m: f"${_NAMES.index(m.group(1)) + 1}", sql).replace(
        "CAST($8 AS text[])", "$8::text[]")


@dataclass(frozen=True)
class Schema:
    name: str
    revision: str
    statement: str
    counter_table: str  # the table whose row every booking updates


BEFORE = Schema("before (0002: counter on events)", "0002", _asyncpg_sql(BEFORE_PG_BOOK), "events")
AFTER = Schema("after (0003: counter on event_sales)", "0003", _asyncpg_sql(AFTER_PG_BOOK), "event_sales")


@dataclass
class Result:
    schema: str
    description: int
    bookings: int
    errors: int
    seconds: float
    updates: int
    hot_updates: int
    wal_bytes: int

    @property
    def wal_per_booking(self) -> float:
        return self.wal_bytes / self.bookings if self.bookings else 0.0

    @property
    def rate(self) -> float:
        return self.bookings / self.seconds if self.seconds else 0.0

    @property
    def hot_share(self) -> float:
        return self.hot_updates / self.updates if self.updates else 0.0


async def _event(dsn: str, schema: Schema, description: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        starts = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1)
        if schema.revision == "0002":
            return int(await conn.fetchval(
                "INSERT INTO events (name, description, venue, starts_at, capacity, price_minor, currency,"
                " max_per_booking, tickets_sold) VALUES ('wide', $1, 'bench', $2, 100000000, $3, 'THB', 10, 0)"
                " RETURNING id", description, starts, PRICE_MINOR))
        return int(await conn.fetchval(
            "WITH e AS (INSERT INTO events (name, description, venue, starts_at, price_minor, currency, max_per_booking)"
            " VALUES ('wide', $1, 'bench', $2, $3, 'THB', 10) RETURNING id)"
            " INSERT INTO event_sales (event_id, capacity) SELECT id, 100000000 FROM e RETURNING event_id",
            description, starts, PRICE_MINOR))
    finally:
        await conn.close()


async def _updates(dsn: str, table: str) -> tuple[int, int, int]:
    """The counter table's updates and HOT updates so far, and the WAL position (bytes)."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT n_tup_upd, n_tup_hot_upd, pg_current_wal_lsn() - '0/0'::pg_lsn"
            " FROM pg_stat_user_tables WHERE relname = $1", table)
        return int(row[0]), int(row[1]), int(row[2])
    finally:
        await conn.close()


async def _drive(dsn: str, schema: Schema, event_id: int, users: list[int], args: argparse.Namespace) -> tuple[int, int]:
    conns = [await asyncpg.connect(dsn) for _ in range(args.connections)]
    stop = time.monotonic() + args.seconds
    done = errors = 0

    async def client(index: int, conn: asyncpg.Connection) -> None:
        nonlocal done, errors
        statement = await conn.prepare(schema.statement)
        n = index
        while time.monotonic() < stop:
            try:
                async with conn.transaction():  # one group-commit batch
                    booked = 0
                    for _ in range(args.batch):
                        user = users[n % len(users)]
                        n += args.connections
                        codes = [secrets.token_urlsafe(16) for _ in range(args.quantity)]
                        rows = await statement.fetch(
                            event_id, user, args.quantity, user, secrets.token_hex(8),
                            _fingerprint(user, event_id, args.quantity), datetime.now(UTC), codes, user,
                        )
                        booked += 1 if rows else 0
                done += booked
            except asyncpg.PostgresError:
                errors += 1

    try:
        await asyncio.gather(*(client(i, c) for i, c in enumerate(conns)))
    finally:
        for conn in conns:
            await conn.close()
    return done, errors


def _measure(schema: Schema, description_length: int, args: argparse.Namespace, workdir: Path) -> Result:
    name = f"ticketing_wide_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(url, schema.revision)
        db = BenchDB("postgres", url, workdir, dsn=url)
        users = db.seed_users(200)
        event_id = asyncio.run(_event(url, schema, "d" * description_length))
        before = asyncio.run(_updates(url, schema.counter_table))
        started = time.perf_counter()
        bookings, errors = asyncio.run(_drive(url, schema, event_id, users, args))
        elapsed = time.perf_counter() - started
        wal = asyncio.run(_updates(url, schema.counter_table))[2] - before[2]
        # The statistics arrive from the (now closed) backends within a second or so.
        time.sleep(1.5)
        after = asyncio.run(_updates(url, schema.counter_table))
        return Result(schema.name, description_length, bookings, errors, elapsed,
                      after[0] - before[0], after[1] - before[1], wal)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wide_row", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--batch", type=int, default=MAX_BATCH["postgresql"],
                        help="bookings per transaction (a group-commit batch; default the service's cap)")
    parser.add_argument("--quantity", type=int, default=2)
    parser.add_argument("--description", type=int, default=1500, help="characters in the wide event's description")
    parser.add_argument("--rounds", type=int, default=1, help="alternate before/after this many times")
    args = parser.parse_args(argv)
    if not postgres_available():
        print(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="ticketing-wide-"))
    results = []
    for _ in range(args.rounds):
        for length in (args.description, 20):
            for schema in (BEFORE, AFTER):
                result = _measure(schema, length, args, workdir)
                results.append(result)
                print(f"{result.schema:38} description {length:5,}  {result.rate:8,.0f} bookings/s"
                      f"  WAL {result.wal_per_booking:6,.0f} B/booking"
                      f"  HOT {result.hot_share:6.1%} of {result.updates:,} counter updates  errors {result.errors}",
                      flush=True)
    print(f"\n{args.connections} connections, batches of {args.batch} bookings x {args.quantity} tickets, "
          f"{args.seconds:g} s each, PostgreSQL at {PG_ADMIN_URL.rsplit('@', 1)[-1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
