"""``python -m bench.inprocess``: CPU per booking inside one process, no HTTP server, no load
generator: the ASGI app called directly, with the booking door on and off (off: FastAPI's route
answers every booking), and the use case alone.

It splits a booking's CPU between the framework and the booking itself, which the service
benchmark (where the database and wrk share the 2 cores) cannot. Concurrency 64 as in the
service runs, so group commit batches as it does there. CPU is this process's user+system time
(aiosqlite's thread included) divided by the bookings made.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bench.dbsetup import BenchDB, make_workdir, remove_workdir
from bench.load import mint_tokens
from ticketing.api.app import create_app
from ticketing.app import bookings
from ticketing.config import Settings
from ticketing.domain.models import Caller


def _asgi_booking(app, token: str, event_id: int) -> Callable[[], Awaitable[int]]:  # type: ignore[no-untyped-def]
    body = json.dumps({"event_id": event_id, "quantity": 2}).encode()

    async def call() -> int:
        headers = [(b"host", b"bench"), (b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode()), (b"authorization", f"Bearer {token}".encode()),
                   (b"idempotency-key", secrets.token_hex(8).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/api/v1/bookings", "raw_path": b"/api/v1/bookings",
                 "query_string": b"", "root_path": "", "headers": headers, "client": ("127.0.0.1", 1),
                 "server": ("bench", 80)}
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        status: list[int] = []

        async def receive():  # type: ignore[no-untyped-def]
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # no disconnect while the app answers

        async def send(message) -> None:  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        return status[0]

    return call


async def _measure(label: str, one: Callable[[int], Awaitable[object]], count: int, concurrency: int) -> str:
    gate = asyncio.Semaphore(concurrency)

    async def gated(i: int) -> object:
        async with gate:
            return await one(i)

    await asyncio.gather(*(gated(i) for i in range(min(200, count))))  # warm-up
    cpu, wall = time.process_time(), time.perf_counter()
    results = await asyncio.gather(*(gated(i) for i in range(count)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    bad = [r for r in results if isinstance(r, int) and r != 201]
    assert not bad, f"{label}: {len(bad)} answers were not 201 (first: {bad[0]})"
    return f"| {label} | {1000 * cpu / count:.3f} | {count / wall:,.0f} |"


async def _run(db: BenchDB, secret: str, users: list[int], events: list[int], count: int, concurrency: int) -> list[str]:
    tokens = mint_tokens(secret, users)
    rows = []
    for fast, event in zip((False, True), events, strict=False):
        settings = Settings(database_url=db.url, secret_key=secret, log_level="WARNING", booking_fast_path=fast)
        app = create_app(settings)
        try:
            calls = [_asgi_booking(app, token, event) for token in tokens]  # one event for all, as in a rush
            label = "ASGI app, booking door " + ("on" if fast else "off")
            rows.append(await _measure(label, lambda i, calls=calls: calls[i % len(calls)](), count, concurrency))
            if fast:
                async def use_case(i: int, store: Any = app.state.services.store) -> object:
                    user = users[i % len(users)]
                    return await bookings.book_tickets(store, Caller(user, user), event_id=events[2], quantity=2,
                                                       idempotency_key=secrets.token_hex(8), now=datetime.now(UTC))

                rows.append(await _measure("use case alone (bookings.book_tickets)", use_case, count, concurrency))
        finally:
            await app.state.services.db.dispose()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="sqlite")
    parser.add_argument("--bookings", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args(argv)
    workdir = make_workdir()
    db = BenchDB.create(args.db, workdir)
    try:
        users = db.seed_users(100)
        events = [db.create_event(f"inprocess-{i}", 1_000_000) for i in range(3)]
        rows = asyncio.run(_run(db, secrets.token_urlsafe(48), users, events, args.bookings, args.concurrency))
        print(f"{args.db}, {args.bookings} bookings of 2 tickets, concurrency {args.concurrency}, one process:\n")
        print("| path | CPU ms / booking | bookings/s |\n|---|---:|---:|")
        print("\n".join(rows))
        problems = db.check_invariants()
        print("\ninvariants:", problems if problems else "ok")
        return 1 if problems else 0
    finally:
        db.drop()
        remove_workdir(workdir)


if __name__ == "__main__":
    raise SystemExit(main())
