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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", os.environ.get("TICKETING_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
TICKETING = str(Path(sys.executable).with_name("ticketing"))
PRICE_MINOR = 150_000  # 1500.00
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

    def create_event(self, name: str, capacity: int, max_per_booking: int = 10, description: str = "bench") -> int:
        """An event and its sales row (capacity, counters), as the service makes them."""
        starts = datetime.now(UTC) + timedelta(days=365)
        if self.kind == "postgres":
            (row,) = self.fetch(
                "WITH e AS (INSERT INTO events"
                " (name, description, venue, starts_at, price_minor, currency, max_per_booking)"
                " VALUES ($1, $5, 'bench', $2, $3, 'THB', $4) RETURNING id)"
                " INSERT INTO event_sales (event_id, capacity, tickets_sold, tickets_held)"
                " SELECT id, $6, 0, 0 FROM e RETURNING event_id",
                "", name, starts, PRICE_MINOR, max_per_booking, description, capacity,
            )
            return int(row[0])
        conn = sqlite3.connect(self.dsn, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            cur = conn.execute(
                "INSERT INTO events (name, description, venue, starts_at, price_minor, currency, max_per_booking)"
                " VALUES (?, ?, 'bench', ?, ?, 'THB', ?)",
                (name, description, _sqlite_time(starts), PRICE_MINOR, max_per_booking),
            )
            event_id = int(cur.lastrowid or 0)
            conn.execute("INSERT INTO event_sales (event_id, capacity, tickets_sold, tickets_held) VALUES (?, ?, 0, 0)",
                         (event_id, capacity))
            conn.execute("COMMIT")
            return event_id
        finally:
            conn.close()

    def booking_count(self, event_id: int | None = None) -> int:
        if event_id is None:
            return int(self.fetch("SELECT count(*) FROM bookings", "SELECT count(*) FROM bookings")[0][0])
        return int(self.fetch("SELECT count(*) FROM bookings WHERE event_id = $1",
                              "SELECT count(*) FROM bookings WHERE event_id = ?", event_id)[0][0])

    # -- the bulk load -------------------------------------------------------------------------------
    def bulk_load(self, event_id: int, count: int) -> float:
        """Adds ``count`` one-ticket CONFIRMED bookings (with idempotency keys, like real ones)
        and their tickets to ``event_id``, keeping tickets_sold consistent. Returns seconds."""
        started = time.perf_counter()
        umin, umax = min(self.users), max(self.users)
        tag = uuid.uuid4().hex[:6]
        if self.kind == "postgres":
            async def go() -> None:
                conn = await asyncpg.connect(self.dsn, command_timeout=1800)
                try:
                    async with conn.transaction():
                        # The counter trigger would update the sales row a million times:
                        # load with it off and set tickets_sold from the rows, in one transaction.
                        await conn.execute("ALTER TABLE bookings DISABLE TRIGGER bookings_keep_sold")
                        await conn.execute(
                            """
                            INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date,
                                                  created_by, idempotency_key, request_fingerprint)
                            SELECT u, $1::bigint, 1, $2::bigint, 'CONFIRMED', now() - interval '1 day', u,
                                   $5::text || g::text, md5(g::text) || md5((g + 1)::text)
                            FROM generate_series(1, $3::integer) AS g,
                                 LATERAL (SELECT $4::bigint + (g % ($6::bigint - $4::bigint + 1)) AS u) AS x
                            """,
                            event_id, PRICE_MINOR, count, umin, f"bulk-{tag}-", umax,
                        )
                        await conn.execute(
                            "INSERT INTO tickets (code, booking_id, event_id, status)"
                            " SELECT $2::text || id::text, id, event_id, 'VALID' FROM bookings WHERE event_id = $1::bigint",
                            event_id, f"bulk-{tag}-",
                        )
                        await conn.execute(
                            "UPDATE event_sales SET tickets_sold = (SELECT coalesce(sum(quantity), 0) FROM bookings"
                            " WHERE event_id = $1 AND status = 'CONFIRMED') WHERE event_id = $1", event_id,
                        )
                        await conn.execute("ALTER TABLE bookings ENABLE TRIGGER bookings_keep_sold")
                    await conn.execute("VACUUM ANALYZE bookings")
                    await conn.execute("VACUUM ANALYZE tickets")
                    await conn.execute("VACUUM ANALYZE events")
                    await conn.execute("VACUUM ANALYZE event_sales")
                    # Write out the load's dirty pages now, not during the runs that follow.
                    await conn.execute("CHECKPOINT")
                finally:
                    await conn.close()
            asyncio.run(go())
        else:
            at = _sqlite_time(datetime.now(UTC) - timedelta(days=1))
            conn = sqlite3.connect(self.dsn, isolation_level=None)
            try:
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("BEGIN IMMEDIATE")
                # Through the triggers: they keep tickets_sold in step row by row.
                conn.execute(
                    """
                    WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?)
                    INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date,
                                          created_by, idempotency_key, request_fingerprint)
                    SELECT ? + (i % (? - ? + 1)), ?, 1, ?, 'CONFIRMED', ?, ? + (i % (? - ? + 1)),
                           ? || i, printf('%064d', i)
                    FROM g
                    """,
                    (count, umin, umax, umin, event_id, PRICE_MINOR, at, umin, umax, umin, f"bulk-{tag}-"),
                )
                conn.execute(
                    "INSERT INTO tickets (code, booking_id, event_id, status)"
                    " SELECT ? || id, id, event_id, 'VALID' FROM bookings WHERE event_id = ?",
                    (f"bulk-{tag}-", event_id),
                )
                conn.execute("COMMIT")
                conn.execute("ANALYZE")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
        return time.perf_counter() - started

    # -- invariants ------------------------------------------------------------------------------------
    def check_invariants(self) -> list[str]:
        """Contract invariant 1 for every event; returns the violations (empty when all hold)."""
        sql = """
            SELECT e.id, s.capacity, s.tickets_sold,
                   (SELECT coalesce(sum(quantity), 0) FROM bookings b WHERE b.event_id = e.id AND b.status = 'CONFIRMED'),
                   (SELECT count(*) FROM tickets t WHERE t.event_id = e.id AND t.status IN ('VALID', 'USED')),
                   (SELECT count(*) FROM bookings b WHERE b.event_id = e.id AND b.status = 'CONFIRMED'
                      AND b.quantity <> (SELECT count(*) FROM tickets t WHERE t.booking_id = b.id))
            FROM events e LEFT JOIN event_sales s ON s.event_id = e.id ORDER BY e.id
        """
        problems = []
        for event_id, capacity, sold, summed, valid, partial in self.fetch(sql, sql):
            if capacity is None:
                problems.append(f"event {event_id}: no event_sales row")
                continue
            if not (sold == summed == valid):
                problems.append(f"event {event_id}: tickets_sold={sold} sum(quantity)={summed} valid tickets={valid}")
            if sold > capacity:
                problems.append(f"event {event_id}: oversold {sold} > capacity {capacity}")
            if partial:
                problems.append(f"event {event_id}: {partial} bookings whose ticket count differs from quantity")
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
