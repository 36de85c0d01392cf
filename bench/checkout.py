"""Checkout's figures (issue 10): holds on a payment event with three types, confirmations
through the provider's webhook, and the hold rate with expired-but-unreleased holds in the table
against none. Run by ``python -m bench --checkout`` after the instant-booking rows of the same run
(see bench/README.md, "Checkout")."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.dbsetup import PRICE_MINOR, BenchDB, TypeSpec
from bench.load import mint_tokens, run_wrk, write_script, write_webhook_script
from bench.server import Server
from ticketing.app.payments import sign

# Three types sharing the event's capacity, the first with a cap of its own (never reached in a
# run: the cap is checked on every hold that names it, which is what costs).
FRONT_CAP = 200_000
TYPES: list[TypeSpec] = [("Front row", 2 * PRICE_MINOR, FRONT_CAP), ("Standing", PRICE_MINOR, None),
                         ("Student", PRICE_MINOR // 2, None)]
# What the holds ask for, in turn: two tickets each (as the instant rows' quantity 2), one in four
# naming the capped type, one request in two naming two types.
HOLD_ITEMS = [[(0, 1), (1, 1)], [(1, 2)], [(1, 1), (2, 1)], [(2, 2)]]
CAPACITY = 1_000_000
WEBHOOK_SECRET_BYTES = 24
# The sweeper's slowest pace (the setting's maximum): it sweeps when a server starts and then only
# every 60 s, so expired holds loaded after the start stay unreleased while they are measured.
SLOW_SWEEP = "60"

Row = Callable[..., None]  # run._service_row


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def payment_event(db: BenchDB, name: str, per_customer_limit: int | None = None) -> tuple[int, list[int]]:
    event = db.create_event(name, CAPACITY + 1_000_000, checkout="payment", types=TYPES,
                            per_customer_limit=per_customer_limit)
    return event, [t[0] for t in db.ticket_types(event)]


def hold_items(type_ids: list[int]) -> list[list[tuple[int, int]]]:
    return [[(type_ids[i], q) for i, q in items] for items in HOLD_ITEMS]


def _server(db: BenchDB, args: argparse.Namespace, workers: int, secret: str, webhook_secret: str, name: str) -> Server:
    env = {"TICKETING_SECRET_KEY": secret, "TICKETING_LOG_LEVEL": args.log_level, "TICKETING_SERVER": args.server,
           "TICKETING_PAYMENT_WEBHOOK_SECRET": webhook_secret, "TICKETING_SWEEP_INTERVAL_SECONDS": SLOW_SWEEP,
           **dict(kv.split("=", 1) for kv in args.server_env)}
    return Server(db.url, workers, env, db.workdir, name)


def _holds(db: BenchDB, server: Server, tokens: list[str], args: argparse.Namespace, cfg: dict[str, Any], row: Row,
           phase: str, workers: int, conc: int, event: int, type_ids: list[int]) -> float:
    """wrk booking holds (the items form) on ``event`` for the run's seconds; one row; the rate."""
    existing_event, existing_db = db.booking_count(event), db.booking_count()
    script = write_script(db.workdir / f"{phase}-{conc}.lua", tokens, event, 2, not args.no_keys, hold_items(type_ids))
    log(f"{db.kind}: {phase}, workers {workers}, concurrency {conc}, event {event} ({existing_event:,} bookings on it)")
    cpu_before = server.cpu()
    result = run_wrk(server.url, script, conc, cfg["seconds"], threads=args.wrk_threads)
    server_cpu = server.cpu() - cpu_before
    time.sleep(0.5)  # let requests in flight when wrk stopped finish
    row(db, server, result, phase, workers, conc, event, existing_event, existing_db, server_cpu)
    return result.rate


def _deliveries(db: BenchDB, event: int, webhook_secret: str) -> list[tuple[str, bytes]]:
    """One signed payment.succeeded per hold of the event, as a provider sends it."""
    tag = uuid.uuid4().hex[:8]
    out = []
    now = int(time.time())
    for i, (reference, total_minor) in enumerate(db.holds(event)):
        body = json.dumps({"id": f"evt_bench_{tag}_{i}", "type": "payment.succeeded", "reference": reference,
                           "amount": f"{total_minor / 100:.2f}", "currency": "THB"}).encode()
        out.append((sign(webhook_secret, now, body), body))
    return out


def _webhook(db: BenchDB, server: Server, args: argparse.Namespace, cfg: dict[str, Any], report: Any, row: Row,
             workers: int, conc: int, webhook_secret: str) -> None:
    """Confirmations per second: ``--webhook-holds`` unpaid holds loaded in SQL, then wrk delivers
    a signed payment for each (the rate counts bookings that became CONFIRMED, not answers)."""
    event, _ = payment_event(db, f"webhook c{conc}")
    count = args.webhook_holds or cfg["webhook_holds"]
    log(f"{db.kind}: webhook, loading {count:,} unpaid holds onto event {event}")
    db.bulk_load(event, count, status="PENDING", expires_in=timedelta(days=1), quantity=2)
    threads = max(1, min(args.wrk_threads, conc))
    script = write_webhook_script(db.workdir / f"webhook-{conc}.lua", _deliveries(db, event, webhook_secret), threads)
    existing_db = db.booking_count()
    log(f"{db.kind}: webhook, workers {workers}, concurrency {conc}: a signed payment for each hold")
    cpu_before = server.cpu()
    result = run_wrk(server.url, script, conc, cfg["seconds"], threads=threads)
    server_cpu = server.cpu() - cpu_before
    time.sleep(0.5)
    confirmed = db.status_counts(event).get("CONFIRMED", 0)
    note = f"{confirmed:,} of {count:,} holds confirmed by {result.statuses.get(200, 0):,} deliveries"
    if confirmed >= count:
        report.problems.append(f"{db.kind} webhook c{conc}: every hold was confirmed before wrk stopped: the rate is"
                               f" a lower bound (give --webhook-holds more than {count})")
    # The row's "201" column is the confirmations here; the answers are all 200 (a redelivery too).
    result.statuses = {**result.statuses, 201: confirmed}
    row(db, server, result, "webhook", workers, conc, event, count, existing_db, server_cpu, note, made=confirmed)


def measure_checkout(db: BenchDB, cfg: dict[str, Any], args: argparse.Namespace, report: Any, workers: int, row: Row) -> None:
    """Holds, then webhook confirmations, on one server, for each concurrency."""
    secret, webhook_secret = secrets.token_urlsafe(48), secrets.token_urlsafe(WEBHOOK_SECRET_BYTES)
    tokens = mint_tokens(secret, db.users)
    server = _server(db, args, workers, secret, webhook_secret, f"server-{db.kind}-checkout-{workers}.log")
    server.start()
    try:
        if cfg["warmup"]:
            event, type_ids = payment_event(db, "checkout warmup")
            script = write_script(db.workdir / "warmup-holds.lua", tokens, event, 2, not args.no_keys, hold_items(type_ids))
            run_wrk(server.url, script, 32, cfg["warmup"], threads=args.wrk_threads)
        for conc in cfg["concurrency"]:
            event, type_ids = payment_event(db, f"holds c{conc}", per_customer_limit=args.hold_limit)
            _holds(db, server, tokens, args, cfg, row, "holds", workers, conc, event, type_ids)
            _webhook(db, server, args, cfg, report, row, workers, conc, webhook_secret)
    finally:
        server.stop()


def expired_holds_cost(kind: str, cfg: dict[str, Any], args: argparse.Namespace, report: Any, workdir: Path,
                       dbs: list[BenchDB], workers: int, row: Row) -> None:
    """Holds on an event with ``--expired-holds`` expired-but-unreleased holds on it, against an
    event with none: two databases, measured alternately (none, expired, none, expired), each run
    on a server started for it. A server sweeps when it starts and then every 60 s (SLOW_SWEEP), so
    on the expired side the run waits for that first sweep to release what earlier rounds left,
    then loads the expired holds and is measured before the next sweep is due."""
    count = args.expired_holds if args.expired_holds is not None else cfg["expired_holds"]
    if not count:
        return
    sides: dict[str, BenchDB] = {}
    for side in ("none", "expired"):
        folder = workdir / f"holds-{side}"
        folder.mkdir()
        db = BenchDB.create(kind, folder)
        dbs.append(db)
        db.seed_users(cfg["users"])
        sides[side] = db
    conc = max(cfg["concurrency"])
    left = []
    for round_ in range(cfg["cost_rounds"]):
        for side, db in sides.items():
            secret = secrets.token_urlsafe(48)
            tokens = mint_tokens(secret, db.users)
            server = _server(db, args, workers, secret, secrets.token_urlsafe(WEBHOOK_SECRET_BYTES),
                             f"server-{kind}-{side}-{round_}.log")
            server.start()
            started = time.monotonic()
            try:
                if cfg["warmup"]:
                    event, type_ids = payment_event(db, "warmup")
                    script = write_script(db.workdir / "warmup.lua", tokens, event, 2, not args.no_keys,
                                          hold_items(type_ids))
                    run_wrk(server.url, script, 32, cfg["warmup"], threads=args.wrk_threads)
                event, type_ids = payment_event(db, f"holds {side} {round_}")
                if side == "expired":
                    while db.expired_unreleased(None):  # the start's sweep, releasing the last round's
                        if time.monotonic() - started > float(SLOW_SWEEP):
                            raise RuntimeError("the server's first sweep did not release the expired holds in 60 s")
                        time.sleep(0.2)
                    log(f"{kind}: loading {count:,} expired holds onto event {event}")
                    took = db.bulk_load(event, count, status="PENDING", expires_in=-timedelta(hours=1))
                    log(f"  loaded in {took:.0f} s")
                # Both sides alike: what the last round and the load left (the start's sweep
                # released 100,000 holds and queued their mail) vacuumed now, not during the run.
                db.settle()
                _holds(db, server, tokens, args, cfg, row, f"holds-{side}", workers, conc, event, type_ids)
                if side == "expired":
                    unreleased = db.expired_unreleased(event)
                    left.append(f"{unreleased:,}")
            finally:
                server.stop()
    report.notes.append(f"{kind}: holds-expired: {count:,} expired holds loaded onto the event before each run; "
                        f"still unreleased after each run: {', '.join(left)}")
