"""Fresh databases, seeding (accounts, events), the 1,000,000-booking bulk load, invariants.

Everything here talks to the database with its plain driver (asyncpg, sqlite3): seeding is
not what is measured, and the invariant checks must not trust the code under test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", os.environ.get("TICKETING_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
TICKETING = str(Path(sys.executable).with_name("ticketing"))
PRICE_MINOR = 150_000  # 1500.00
TypeSpec = tuple[str, int, int | None]  # a ticket type: name, price in minor units, its own cap (None: none)
# Not a real password hash: the bench's accounts never sign in, their tokens are minted
# with pyjwt from the server's TICKETING_SECRET_KEY (see README).
DUMMY_HASH = "$argon2id$v=19$m=8,t=1,p=1$YmVuY2g$bm90LWEtcmVhbC1oYXNo"


def _sqlite_time(at: datetime) -> str:
    # The text form SQLAlchemy's SQLite DateTime stores (naive UTC, microseconds).
    return at.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class BenchDB:
    kind: str  # "postgres" | "sqlite"
    url: str  # the contract's driverless URL, as `ticketing serve` takes it
    workdir: Path
    dsn: str = ""  # asyncpg DSN (postgres) or file path (sqlite)
    users: list[int] = field(default_factory=list)

    # -- lifecycle ---------------------------------------------------------------------------
    @classmethod
    def create(cls, kind: str, workdir: Path) -> BenchDB:
        if kind == "postgres":
            name = f"ticketing_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            _pg_admin(f'CREATE DATABASE "{name}"')
            url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
            db = cls(kind, url, workdir, dsn=url)
        else:
            path = workdir / "bench.db"
            db = cls(kind, f"sqlite:///{path}", workdir, dsn=str(path))
        db.migrate()
        return db

    def drop(self) -> None:
        if self.kind == "postgres":
            name = self.url.rsplit("/", 1)[1]
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            for suffix in ("", "-wal", "-shm", ".secret"):
                Path(self.dsn + suffix).unlink(missing_ok=True)

    def migrate(self) -> None:
        env = {**os.environ, "TICKETING_DATABASE_URL": self.url,
               "TICKETING_SECRET_KEY": "bench-migrate-only-key-0123456789abcdef"}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        done = subprocess.run([TICKETING, "migrate"], env=env, capture_output=True, text=True, timeout=180, cwd=self.workdir)
        if done.returncode != 0:
            raise RuntimeError(f"ticketing migrate failed: {done.stderr[-2000:]}")

    # -- generic SQL ---------------------------------------------------------------------------
    def fetch(self, sql_pg: str, sql_sqlite: str, *args: object) -> list[tuple]:
        if self.kind == "postgres":
            async def go() -> list[tuple]:
                conn = await asyncpg.connect(self.dsn)
                try:
                    return [tuple(r) for r in await conn.fetch(sql_pg, *args)]
                finally:
                    await conn.close()
            return asyncio.run(go())
        conn = sqlite3.connect(self.dsn, isolation_level=None)
        try:
            return [tuple(r) for r in conn.execute(sql_sqlite, args).fetchall()]
        finally:
            conn.close()

    # -- seeding ---------------------------------------------------------------------------------
    def seed_users(self, count: int) -> list[int]:
        now = datetime.now(UTC)
        tag = uuid.uuid4().hex[:6]
        rows = [(f"bench-{tag}-{i}@example.com", f"Bench Buyer {i}", "customer", DUMMY_HASH) for i in range(count)]
        if self.kind == "postgres":
            async def go() -> list[int]:
                conn = await asyncpg.connect(self.dsn)
                try:
                    await conn.executemany(
                        "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                        [(*r, now) for r in rows],
                    )
                    found = await conn.fetch("SELECT id FROM users WHERE email LIKE $1 ORDER BY id", f"bench-{tag}-%")
                    # A live sign-in session per buyer, numbered as the buyer (see load.mint_tokens).
                    await conn.executemany(
                        "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $1, $2, $3)",
                        [(r[0], now, now + timedelta(days=1)) for r in found],
                    )
                    return [r[0] for r in found]
                finally:
                    await conn.close()
            ids = asyncio.run(go())
        else:
            conn = sqlite3.connect(self.dsn, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "INSERT INTO users (email, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                    [(*r, _sqlite_time(now)) for r in rows],
                )
                conn.execute("COMMIT")
                ids = [r[0] for r in conn.execute("SELECT id FROM users WHERE email LIKE ? ORDER BY id", (f"bench-{tag}-%",))]
                # A live sign-in session per buyer, numbered as the buyer (see load.mint_tokens).
                conn.executemany(
                    "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?1, ?1, ?2, ?3)",
                    [(i, _sqlite_time(now), _sqlite_time(now + timedelta(days=1))) for i in ids],
                )
            finally:
                conn.close()
        self.users = ids
        return ids

    def create_event(self, name: str, capacity: int, max_per_booking: int = 10, description: str = "bench", *,
                     checkout: str = "instant", types: Sequence[TypeSpec] | None = None,
                     per_customer_limit: int | None = None) -> int:
        """An event, its sales row (capacity, counters) and its ticket types (default: one,
        "General admission" at PRICE_MINOR), as the service makes them."""
        starts = datetime.now(UTC) + timedelta(days=365)
        types = list(types or [("General admission", PRICE_MINOR, None)])
        price = min(t[1] for t in types)
        if self.kind == "postgres":
            async def go() -> int:
                conn = await asyncpg.connect(self.dsn)
                try:
                    async with conn.transaction():
                        event_id = await conn.fetchval(
                            "INSERT INTO events (name, description, venue, starts_at, price_minor, currency,"
                            " max_per_booking, checkout) VALUES ($1, $2, 'bench', $3, $4, 'THB', $5, $6) RETURNING id",
                            name, description, starts, price, max_per_booking, checkout)
                        await conn.execute(
                            "INSERT INTO event_sales (event_id, capacity, tickets_sold, tickets_held, per_customer_limit)"
                            " VALUES ($1, $2, 0, 0, $3)", event_id, capacity, per_customer_limit)
                        await conn.executemany(
                            "INSERT INTO ticket_types (event_id, name, price_minor, capacity) VALUES ($1, $2, $3, $4)",
                            [(event_id, *t) for t in types])
                    return int(event_id)
                finally:
                    await conn.close()
            return asyncio.run(go())
        conn = sqlite3.connect(self.dsn, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            cur = conn.execute(
                "INSERT INTO events (name, description, venue, starts_at, price_minor, currency, max_per_booking,"
                " checkout) VALUES (?, ?, 'bench', ?, ?, 'THB', ?, ?)",
                (name, description, _sqlite_time(starts), price, max_per_booking, checkout),
            )
            event_id = int(cur.lastrowid or 0)
            conn.execute("INSERT INTO event_sales (event_id, capacity, tickets_sold, tickets_held, per_customer_limit)"
                         " VALUES (?, ?, 0, 0, ?)", (event_id, capacity, per_customer_limit))
            conn.executemany("INSERT INTO ticket_types (event_id, name, price_minor, capacity) VALUES (?, ?, ?, ?)",
                             [(event_id, *t) for t in types])
            conn.execute("COMMIT")
            return event_id
        finally:
            conn.close()

    def ticket_types(self, event_id: int) -> list[tuple[int, int, int | None]]:
        """(id, price_minor, capacity) of the event's types, by id."""
        return [(int(r[0]), int(r[1]), r[2]) for r in self.fetch(
            "SELECT id, price_minor, capacity FROM ticket_types WHERE event_id = $1 ORDER BY id",
            "SELECT id, price_minor, capacity FROM ticket_types WHERE event_id = ? ORDER BY id", event_id)]

    def booking_count(self, event_id: int | None = None) -> int:
        if event_id is None:
            return int(self.fetch("SELECT count(*) FROM bookings", "SELECT count(*) FROM bookings")[0][0])
        return int(self.fetch("SELECT count(*) FROM bookings WHERE event_id = $1",
                              "SELECT count(*) FROM bookings WHERE event_id = ?", event_id)[0][0])

    # -- the bulk load -------------------------------------------------------------------------------
    def bulk_load(self, event_id: int, count: int, *, status: str = "CONFIRMED", expires_in: timedelta | None = None,
                  quantity: int = 1) -> float:
        """Adds ``count`` bookings of ``quantity`` tickets of the event's first type (with
        idempotency keys, like real ones) to ``event_id``, keeping the counters consistent.
        CONFIRMED ones get their tickets; PENDING ones (holds) a payment due, a unique reference and
        ``expires_at`` = now + ``expires_in`` (negative: expired but not yet released). Returns seconds."""
        started = time.perf_counter()
        umin, umax = min(self.users), max(self.users)
        tag = uuid.uuid4().hex[:6]
        type_id, price, _ = self.ticket_types(event_id)[0]
        pending = status == "PENDING"
        now = datetime.now(UTC)
        expires = now + expires_in if pending and expires_in is not None else None
        payment = "due" if pending else "none"
        if self.kind == "postgres":
            async def go() -> None:
                conn = await asyncpg.connect(self.dsn, command_timeout=1800)
                try:
                    async with conn.transaction():
                        # The counter triggers would update the sales and type rows once per row:
                        # load with them off and set the counters from the rows, in one transaction.
                        # USER: the mail outbox's too (a loaded booking is history, with no
                        # message to send), not the foreign keys' own.
                        await conn.execute("ALTER TABLE bookings DISABLE TRIGGER USER")
                        await conn.execute("ALTER TABLE booking_items DISABLE TRIGGER USER")
                        await conn.execute(
                            """
                            INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date,
                                                  created_by, idempotency_key, request_fingerprint, currency,
                                                  expires_at, payment_status, payment_reference)
                            SELECT u, $1::bigint, $7::integer, $2::bigint * $7::integer, $8::text,
                                   now() - interval '1 day', u, $5::text || g::text, md5(g::text) || md5((g + 1)::text),
                                   'THB', $9::timestamptz, $10::text,
                                   CASE WHEN $8::text = 'PENDING' THEN $5::text || 'ref-' || g::text END
                            FROM generate_series(1, $3::integer) AS g,
                                 LATERAL (SELECT $4::bigint + (g % ($6::bigint - $4::bigint + 1)) AS u) AS x
                            """,
                            event_id, price, count, umin, f"bulk-{tag}-", umax, quantity, status, expires, payment,
                        )
                        await conn.execute(
                            "INSERT INTO booking_items (booking_id, ticket_type_id, quantity, unit_price_minor)"
                            " SELECT id, $2::bigint, quantity, $3::bigint FROM bookings"
                            " WHERE event_id = $1::bigint AND idempotency_key LIKE $4::text",
                            event_id, type_id, price, f"bulk-{tag}-%",
                        )
                        await conn.execute(
                            "INSERT INTO tickets (code, booking_id, event_id, ticket_type_id, status)"
                            " SELECT $2::text || b.id::text || '-' || g::text, b.id, b.event_id, $3::bigint, 'VALID'"
                            " FROM bookings b, generate_series(1, b.quantity) AS g"
                            " WHERE b.event_id = $1::bigint AND b.status = 'CONFIRMED' AND b.idempotency_key LIKE $4::text",
                            event_id, f"bulk-{tag}-", type_id, f"bulk-{tag}-%",
                        )
                        await conn.execute(
                            "UPDATE event_sales SET"
                            " tickets_sold = (SELECT coalesce(sum(quantity), 0) FROM bookings"
                            "                 WHERE event_id = $1 AND status = 'CONFIRMED'),"
                            " tickets_held = (SELECT coalesce(sum(quantity), 0) FROM bookings"
                            "                 WHERE event_id = $1 AND status = 'PENDING')"
                            " WHERE event_id = $1", event_id,
                        )
                        await conn.execute(
                            "UPDATE ticket_types t SET"
                            " tickets_sold = (SELECT coalesce(sum(i.quantity), 0) FROM booking_items i"
                            "   JOIN bookings b ON b.id = i.booking_id WHERE i.ticket_type_id = t.id AND b.status = 'CONFIRMED'),"
                            " tickets_held = (SELECT coalesce(sum(i.quantity), 0) FROM booking_items i"
                            "   JOIN bookings b ON b.id = i.booking_id WHERE i.ticket_type_id = t.id AND b.status = 'PENDING')"
                            " WHERE t.event_id = $1", event_id,
                        )
                        await conn.execute("ALTER TABLE booking_items ENABLE TRIGGER USER")
                        await conn.execute("ALTER TABLE bookings ENABLE TRIGGER USER")
                    for table in ("bookings", "booking_items", "tickets", "events", "event_sales", "ticket_types"):
                        await conn.execute(f"VACUUM ANALYZE {table}")
                    # Write out the load's dirty pages now, not during the runs that follow.
                    await conn.execute("CHECKPOINT")
                finally:
                    await conn.close()
            asyncio.run(go())
        else:
            at = _sqlite_time(now - timedelta(days=1))
            conn = sqlite3.connect(self.dsn, isolation_level=None)
            try:
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("BEGIN IMMEDIATE")
                # Through the triggers: they keep the counters in step row by row.
                conn.execute(
                    """
                    WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?)
                    INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date,
                                          created_by, idempotency_key, request_fingerprint, currency,
                                          expires_at, payment_status, payment_reference)
                    SELECT ? + (i % (? - ? + 1)), ?, ?, ? * ?, ?, ?, ? + (i % (? - ? + 1)),
                           ? || i, printf('%064d', i), 'THB', ?, ?, CASE WHEN ? = 'PENDING' THEN ? || 'ref-' || i END
                    FROM g
                    """,
                    (count, umin, umax, umin, event_id, quantity, price, quantity, status, at, umin, umax, umin,
                     f"bulk-{tag}-", None if expires is None else _sqlite_time(expires), payment, status, f"bulk-{tag}-"),
                )
                conn.execute(
                    "INSERT INTO booking_items (booking_id, ticket_type_id, quantity, unit_price_minor)"
                    " SELECT id, ?, quantity, ? FROM bookings WHERE event_id = ? AND idempotency_key LIKE ?",
                    (type_id, price, event_id, f"bulk-{tag}-%"),
                )
                conn.execute(
                    """
                    WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?)
                    INSERT INTO tickets (code, booking_id, event_id, ticket_type_id, status)
                    SELECT ? || b.id || '-' || g.i, b.id, b.event_id, ?, 'VALID' FROM bookings b JOIN g ON g.i <= b.quantity
                    WHERE b.event_id = ? AND b.status = 'CONFIRMED' AND b.idempotency_key LIKE ?
                    """,
                    (quantity, f"bulk-{tag}-", type_id, event_id, f"bulk-{tag}-%"),
                )
                # A loaded booking is history, with no message to send (as on PostgreSQL).
                conn.execute("DELETE FROM mail_outbox WHERE booking_id IN"
                             " (SELECT id FROM bookings WHERE event_id = ? AND idempotency_key LIKE ?)",
                             (event_id, f"bulk-{tag}-%"))
                conn.execute("COMMIT")
                conn.execute("ANALYZE")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
        return time.perf_counter() - started

    def settle(self) -> None:
        """VACUUM ANALYZE every table and CHECKPOINT (SQLite: ANALYZE and a WAL checkpoint), so
        that no autovacuum of what came before, nor its dirty pages, runs into the next run."""
        if self.kind == "postgres":
            async def go() -> None:
                conn = await asyncpg.connect(self.dsn, command_timeout=1800)
                try:
                    await conn.execute("VACUUM ANALYZE")
                    await conn.execute("CHECKPOINT")
                finally:
                    await conn.close()
            asyncio.run(go())
            return
        conn = sqlite3.connect(self.dsn, isolation_level=None)
        try:
            conn.execute("ANALYZE")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()

    def holds(self, event_id: int) -> list[tuple[str, int]]:
        """(payment reference, total in minor units) of the event's PENDING bookings."""
        return [(str(r[0]), int(r[1])) for r in self.fetch(
            "SELECT payment_reference, total_minor FROM bookings WHERE event_id = $1 AND status = 'PENDING' ORDER BY id",
            "SELECT payment_reference, total_minor FROM bookings WHERE event_id = ? AND status = 'PENDING' ORDER BY id",
            event_id)]

    def status_counts(self, event_id: int) -> dict[str, int]:
        return {str(r[0]): int(r[1]) for r in self.fetch(
            "SELECT status, count(*) FROM bookings WHERE event_id = $1 GROUP BY status",
            "SELECT status, count(*) FROM bookings WHERE event_id = ? GROUP BY status", event_id)}

    def expired_unreleased(self, event_id: int | None) -> int:
        """Holds past their deadline still PENDING (no one has released them yet), of the event
        or (None) of every event."""
        now = datetime.now(UTC)
        pg = "SELECT count(*) FROM bookings WHERE status = 'PENDING' AND expires_at <= $1"
        lite = "SELECT count(*) FROM bookings WHERE status = 'PENDING' AND expires_at <= ?"
        if event_id is None:
            return int(self.fetch(pg, lite, now if self.kind == "postgres" else _sqlite_time(now))[0][0])
        return int(self.fetch(pg + " AND event_id = $2", lite + " AND event_id = ?",
                              now if self.kind == "postgres" else _sqlite_time(now), event_id)[0][0])

    # -- invariants ------------------------------------------------------------------------------------
    def check_invariants(self) -> list[str]:
        """Contract invariant 1 and checkout's 5 for every event and type (sold = CONFIRMED
        quantities = live tickets, held = PENDING quantities, sold + held <= capacity, the types
        add up to the event); returns the violations (empty when all hold)."""
        sql = """
            SELECT e.id, s.capacity, s.tickets_sold, s.tickets_held,
                   (SELECT coalesce(sum(quantity), 0) FROM bookings b WHERE b.event_id = e.id AND b.status = 'CONFIRMED'),
                   (SELECT coalesce(sum(quantity), 0) FROM bookings b WHERE b.event_id = e.id AND b.status = 'PENDING'),
                   (SELECT count(*) FROM tickets t WHERE t.event_id = e.id AND t.status IN ('VALID', 'USED')),
                   (SELECT count(*) FROM bookings b WHERE b.event_id = e.id AND b.status = 'CONFIRMED'
                      AND b.quantity <> (SELECT count(*) FROM tickets t WHERE t.booking_id = b.id)),
                   (SELECT coalesce(sum(tickets_sold), 0) FROM ticket_types t WHERE t.event_id = e.id),
                   (SELECT coalesce(sum(tickets_held), 0) FROM ticket_types t WHERE t.event_id = e.id)
            FROM events e LEFT JOIN event_sales s ON s.event_id = e.id ORDER BY e.id
        """
        problems = []
        for event_id, capacity, sold, held, summed, pending, valid, partial, types_sold, types_held in self.fetch(sql, sql):
            if capacity is None:
                problems.append(f"event {event_id}: no event_sales row")
                continue
            if not (sold == summed == valid):
                problems.append(f"event {event_id}: tickets_sold={sold} sum(quantity)={summed} valid tickets={valid}")
            if held != pending:
                problems.append(f"event {event_id}: tickets_held={held} != PENDING quantities {pending}")
            if sold + held > capacity:
                problems.append(f"event {event_id}: oversold {sold} + held {held} > capacity {capacity}")
            if (types_sold, types_held) != (sold, held):
                problems.append(f"event {event_id}: types' sold/held {types_sold}/{types_held} != the event's {sold}/{held}")
            if partial:
                problems.append(f"event {event_id}: {partial} bookings whose ticket count differs from quantity")
        types_sql = """
            SELECT t.id, t.capacity, t.tickets_sold, t.tickets_held,
                   coalesce(sum(CASE WHEN b.status = 'CONFIRMED' THEN i.quantity END), 0),
                   coalesce(sum(CASE WHEN b.status = 'PENDING' THEN i.quantity END), 0)
            FROM ticket_types t LEFT JOIN booking_items i ON i.ticket_type_id = t.id
                 LEFT JOIN bookings b ON b.id = i.booking_id
            GROUP BY t.id, t.capacity, t.tickets_sold, t.tickets_held ORDER BY t.id
        """
        for type_id, capacity, sold, held, confirmed, pending in self.fetch(types_sql, types_sql):
            if (sold, held) != (confirmed, pending):
                problems.append(f"ticket type {type_id}: sold/held {sold}/{held} != CONFIRMED/PENDING {confirmed}/{pending}")
            if capacity is not None and sold + held > capacity:
                problems.append(f"ticket type {type_id}: {sold} + {held} > its capacity {capacity}")
        return problems

    def event_state(self, event_id: int) -> tuple[int, int]:
        (row,) = self.fetch("SELECT capacity, tickets_sold FROM event_sales WHERE event_id = $1",
                            "SELECT capacity, tickets_sold FROM event_sales WHERE event_id = ?", event_id)
        return int(row[0]), int(row[1])


def _pg_admin(sql: str) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()
    asyncio.run(go())


def postgres_available() -> bool:
    try:
        _pg_admin("SELECT 1")
        return True
    except Exception:
        return False


def make_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="ticketing-bench-"))


def remove_workdir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
