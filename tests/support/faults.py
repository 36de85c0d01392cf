"""Helpers for fault tests: a throwaway PostgreSQL cluster, the database's own view of an
event, and the setup every storm needs (an admin, an event, buyers)."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from tests.support.credentials import PASSWORD
from tests.support.server import ServerProcess, free_port, run_cli
from ticketing.storm import Api
from ticketing.storm.accounts import sign_in
from ticketing.storm.runner import Outcome

ADMIN_EMAIL = "storm-admin@example.com"
LIVE = ("VALID", "USED")


# -- the database's own view --------------------------------------------------------------------
@dataclass
class DbState:
    """One event as the database holds it, read directly (no HTTP, no application code)."""

    capacity: int
    tickets_sold: int
    bookings: dict[int, tuple[str, int]]  # id -> (status, quantity)
    live_tickets: dict[int, int] = field(default_factory=dict)  # booking id -> VALID/USED tickets
    dead_tickets: dict[int, int] = field(default_factory=dict)  # booking id -> VOID tickets

    @property
    def available(self) -> int:
        return self.capacity - self.tickets_sold

    @property
    def confirmed_quantity(self) -> int:
        return sum(q for status, q in self.bookings.values() if status == "CONFIRMED")

    @property
    def live_ticket_count(self) -> int:
        return sum(self.live_tickets.values())

    def problems(self, created: Iterable[Outcome] = ()) -> list[str]:
        """Every way the contract's invariants 1 and 3 are broken; empty when they hold."""
        found = []
        if self.tickets_sold > self.capacity:
            found.append(f"oversold: tickets_sold {self.tickets_sold} > capacity {self.capacity}")
        if self.tickets_sold != self.confirmed_quantity:
            found.append(f"tickets_sold {self.tickets_sold} != sum of CONFIRMED quantities {self.confirmed_quantity}")
        if self.tickets_sold != self.live_ticket_count:
            found.append(f"tickets_sold {self.tickets_sold} != VALID/USED tickets {self.live_ticket_count}")
        for booking_id, (status, quantity) in self.bookings.items():
            live = self.live_tickets.get(booking_id, 0)
            if status == "CONFIRMED" and (live != quantity or self.dead_tickets.get(booking_id, 0)):
                found.append(f"booking {booking_id} CONFIRMED x{quantity} has {live} live tickets")
            if status == "CANCELLED" and live:
                found.append(f"booking {booking_id} CANCELLED still has {live} live tickets")
        for outcome in created:
            booking = self.bookings.get(outcome.booking_id)  # type: ignore[arg-type]
            if booking is None:
                found.append(f"booking {outcome.booking_id} answered 201 but is not in the database")
            elif booking != ("CONFIRMED", outcome.quantity):
                found.append(f"booking {outcome.booking_id} answered 201 x{outcome.quantity} but is {booking}")
        return found


_EVENT = "SELECT capacity, tickets_sold FROM event_sales WHERE event_id = {p}"
_BOOKINGS = "SELECT id, status, quantity FROM bookings WHERE event_id = {p}"
_TICKETS = "SELECT booking_id, status, COUNT(*) FROM tickets WHERE event_id = {p} GROUP BY booking_id, status"


def _state(event_row, booking_rows, ticket_rows) -> DbState:  # type: ignore[no-untyped-def]
    state = DbState(event_row[0], event_row[1], {r[0]: (r[1], r[2]) for r in booking_rows})
    for booking_id, status, count in ticket_rows:
        target = state.live_tickets if status in LIVE else state.dead_tickets
        target[booking_id] = target.get(booking_id, 0) + count
    return state


async def read_db_state(database_url: str, event_id: int) -> DbState:
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        return await asyncio.to_thread(_read_sqlite, url.database or "", event_id)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database, timeout=10
    )
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):  # one snapshot for all three
            event_row = await conn.fetchrow(_EVENT.format(p="$1"), event_id)
            bookings = await conn.fetch(_BOOKINGS.format(p="$1"), event_id)
            tickets = await conn.fetch(_TICKETS.format(p="$1"), event_id)
    finally:
        await conn.close()
    assert event_row is not None, f"event {event_id} is not in the database"
    return _state(event_row, bookings, tickets)


def _read_sqlite(path: str, event_id: int) -> DbState:
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        conn.execute("BEGIN")  # one snapshot for all three
        event_row = conn.execute(_EVENT.format(p="?"), (event_id,)).fetchone()
        bookings = conn.execute(_BOOKINGS.format(p="?"), (event_id,)).fetchall()
        tickets = conn.execute(_TICKETS.format(p="?"), (event_id,)).fetchall()
        conn.execute("COMMIT")
    finally:
        conn.close()
    assert event_row is not None, f"event {event_id} is not in the database"
    return _state(event_row, bookings, tickets)


# -- setup through the real CLI and API ---------------------------------------------------------
async def make_admin(database_url: str) -> None:
    await asyncio.to_thread(run_cli, database_url, "create-admin", "--email", ADMIN_EMAIL, "--password", PASSWORD)


async def create_event(api: Api, admin_token: str, capacity: int, max_per_booking: int = 10) -> int:
    answer = await api.request("POST", "/api/v1/events", token=admin_token, json_body={
        "name": "Storm test", "starts_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "capacity": capacity, "price": "100.00", "max_per_booking": max_per_booking,
    })
    assert answer.status == 201, answer
    return int(answer.body["id"])


async def admin_token(api: Api) -> str:
    return await sign_in(api, ADMIN_EMAIL, PASSWORD)


def unexpected_answers(outcomes: Iterable[Outcome], allowed: set[tuple[int, str | None]]) -> dict[str, int]:
    """Answers (not transport errors) other than 201 and ``allowed``, counted."""
    counts: dict[str, int] = {}
    for o in outcomes:
        if o.status is None or o.status == 201 or (o.status, o.code) in allowed:
            continue
        key = f"{o.status} {o.code}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def connections_by_worker(server: ServerProcess) -> dict[int, int]:
    """How many established client connections each worker holds right now (from /proc)."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == server.port and fields[3] == "01":  # 01: ESTABLISHED
                established.add(fields[9])
    counts = {}
    for pid in server.worker_pids():
        held = 0
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in established:
                    held += 1
        except OSError:
            pass
        counts[pid] = held
    return counts


def log_tail(path: Path | None, chars: int = 3000) -> str:
    if path is None or not path.exists():
        return ""
    return path.read_text(errors="replace")[-chars:]


# -- a PostgreSQL cluster of the test's own ------------------------------------------------------
def pg_bindir() -> Path | None:
    candidates = []
    if shutil.which("pg_config"):
        try:
            out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
            candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


class ThrowawayPostgres:
    """initdb into a temporary directory, served on a free port; crash and restart at will.

    As root (CI and these machines) the server runs as the ``postgres`` OS user: PostgreSQL
    refuses to run as root.
    """

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="ticketing-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/ticketing"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stdout[-1500:]} {done.stderr[-1500:]}\n{log_tail(self.log)}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "ticketing")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=50"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start")

    def crash(self) -> None:
        """Immediate shutdown: every backend is killed, no checkpoint; recovery replays the WAL."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def _pids(self) -> list[int]:
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        return [postmaster, *map(int, children)]

    def freeze(self) -> None:
        """SIGSTOP the server and all its backends: connections stay open, nothing answers."""
        for pid in reversed(self._pids()):
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._pids():
            os.kill(pid, signal.SIGCONT)

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)
