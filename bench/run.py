"""``python -m bench``: one command, a full measurement, a table (see bench/README.md)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import checkout
from bench import limit as lim
from bench.dbsetup import BenchDB, make_workdir, postgres_available, remove_workdir
from bench.load import LoadResult, find_wrk, mint_tokens, run_wrk, write_script
from bench.server import Server

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("RESULTS.md")

PROFILES = {
    #            seconds warmup pools          workers    concurrency  preload    users
    "full":  dict(seconds=10, warmup=2, pools=[1, 2, 4, 8], workers=[2, 1, 4], concurrency=[64, 256], preload=1_000_000,
                  users=500, cost_rounds=2, limit_rounds=2, expired_holds=100_000, webhook_holds=30_000),
    "quick": dict(seconds=4, warmup=1, pools=[1, 2, 4, 8], workers=[2, 1], concurrency=[64, 256], preload=200_000,
                  users=300, cost_rounds=2, limit_rounds=2, expired_holds=100_000, webhook_holds=15_000),
    "smoke": dict(seconds=1, warmup=0, pools=[1, 2], workers=[1], concurrency=[16], preload=2_000,
                  users=50, cost_rounds=1, limit_rounds=1, expired_holds=2_000, webhook_holds=3_000),
}


@dataclass
class LimitRow:
    db: str
    driver: str
    pool: int
    existing: int
    bookings: int
    seconds: float
    rate: float
    client_cpu_pct: float
    errors: int
    invariants_ok: bool


@dataclass
class ServiceRow:
    db: str
    phase: str
    workers: int
    concurrency: int
    existing_event: int
    existing_db: int
    requests: int
    rate: float  # 201s per second
    p50_ms: float
    p99_ms: float
    max_ms: float
    n201: int
    n409: int
    n4xx_other: int
    n5xx: int
    socket_errors: int
    unacked: int  # bookings made whose answer wrk did not read before it stopped
    server_cpu_pct: float
    cpu_ms_per_booking: float  # server CPU time (all its processes) per 201
    wrk_cpu_pct: float
    peak_rss_mb: list[float]
    invariants_ok: bool
    notes: str = ""


@dataclass
class Report:
    started: str
    machine: str
    commit: str
    command: str
    profile: str
    quantity: int
    server: str
    limits: list[LimitRow] = field(default_factory=list)
    service: list[ServiceRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> str:
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()
    return (f"{os.cpu_count()} cores, {mem_gb:.0f} GiB, {platform.machine()}, Linux {platform.release()}, "
            f"Python {platform.python_version()}; load average at start {load[0]:.2f}")


def commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return head + ("+uncommitted changes" if dirty else "") if head else "unknown"
    except OSError:
        return "unknown"


# -- phases ------------------------------------------------------------------------------------------
def measure_limits(db: BenchDB, cfg: dict, quantity: int, report: Report, with_pgbench: bool, tag: str = "") -> None:
    existing = db.booking_count()
    for pool in cfg["pools"]:
        event = db.create_event(f"limit{tag} pool {pool}", capacity=1_000_000)
        log(f"{db.kind}: limit, driver, pool {pool}")
        if db.kind == "postgres":
            result = lim.pg_driver_limit(db.dsn, event, db.users, quantity, pool, cfg["seconds"])
        else:
            result = lim.sqlite_driver_limit(db.dsn, event, db.users, quantity, pool, cfg["seconds"])
        _limit_row(db, result, existing, report, tag)
    if db.kind == "postgres" and with_pgbench and lim.pgbench_path():
        for pool in cfg["pools"]:
            event = db.create_event(f"pgbench{tag} pool {pool}", capacity=1_000_000)
            log(f"{db.kind}: limit, pgbench, pool {pool}")
            result = lim.pgbench_limit(db.dsn, event, db.users, quantity, pool, cfg["seconds"], db.workdir)
            if result:
                _limit_row(db, result, existing, report, tag)


def _limit_row(db: BenchDB, result: lim.LimitResult, existing: int, report: Report, tag: str) -> None:
    problems = db.check_invariants()
    report.problems += [f"{db.kind} limit {result.driver} pool {result.pool}: {p}" for p in problems]
    report.limits.append(LimitRow(
        db.kind, result.driver + tag, result.pool, existing, result.bookings, round(result.seconds, 2), round(result.rate, 1),
        round(100 * result.client_cpu / result.seconds, 1) if result.seconds else 0.0, result.errors, not problems,
    ))
    log(f"  {result.rate:.0f} bookings/s ({result.errors} errors), invariants {problems if problems else 'ok'}")


def measure_service(db: BenchDB, cfg: dict, args: argparse.Namespace, report: Report, workers: int, phase: str,
                    event: int | None = None, concurrencies: list[int] | None = None) -> None:
    secret = secrets.token_urlsafe(48)
    env = {"TICKETING_SECRET_KEY": secret, "TICKETING_LOG_LEVEL": args.log_level, "TICKETING_SERVER": args.server,
           **dict(kv.split("=", 1) for kv in args.server_env)}
    tokens = mint_tokens(secret, db.users)
    server = Server(db.url, workers, env, db.workdir, f"server-{db.kind}-{workers}.log")
    log(f"{db.kind}: starting `ticketing serve --workers {workers}`")
    server.start()
    try:
        if cfg["warmup"]:
            warm_event = db.create_event(f"warmup w{workers}", capacity=1_000_000)
            script = write_script(db.workdir / "warmup.lua", tokens, warm_event, args.quantity, not args.no_keys)
            run_wrk(server.url, script, 32, cfg["warmup"], threads=args.wrk_threads)
        for conc in concurrencies or cfg["concurrency"]:
            target = event if event is not None else db.create_event(f"{phase} w{workers} c{conc}", capacity=1_000_000)
            existing_event = db.booking_count(target)
            existing_db = db.booking_count()
            script = write_script(db.workdir / f"book-{conc}.lua", tokens, target, args.quantity, not args.no_keys)
            log(f"{db.kind}: {phase}, workers {workers}, concurrency {conc}, event {target} ({existing_event} bookings on it)")
            pids_before = set(server.worker_pids())
            cpu_before = server.cpu()
            result = run_wrk(server.url, script, conc, cfg["seconds"], threads=args.wrk_threads)
            server_cpu = server.cpu() - cpu_before
            time.sleep(0.5)  # let requests in flight when wrk stopped finish
            replaced = pids_before - set(server.worker_pids())
            # uvicorn's supervisor replaces a worker that died or missed its 5 s health check.
            note = f"{len(replaced)} worker(s) replaced during the run" if replaced else ""
            _service_row(db, server, result, report, phase, workers, conc, target, existing_event, existing_db, server_cpu, note)
        if phase == "service" and args.sold_out and workers == cfg["workers"][0]:
            conc = max(cfg["concurrency"])
            sold_out_phase(db, server, tokens, args, report, workers, conc, report.service[-1].rate)
    finally:
        server.stop()


def _service_row(db: BenchDB, server: Server, result: LoadResult, report: Report, phase: str, workers: int, conc: int,
                 event: int, existing_event: int, existing_db: int, server_cpu: float, notes: str = "",
                 made: int | None = None) -> None:
    """One row of the service table. ``made``: what the run made, when not new bookings (the
    webhook's confirmations)."""
    made = db.booking_count(event) - existing_event if made is None else made
    unacked = made - result.created
    problems = db.check_invariants()
    if unacked < 0:
        problems.append(f"{-unacked} answers 201 without a booking in the database")
    if unacked > conc:
        problems.append(f"{unacked} bookings made but not answered, more than the {conc} requests in flight")
    n5xx = result.count(500, 599)
    if n5xx:
        problems.append(f"{n5xx} answers 5xx")
    report.problems += [f"{db.kind} {phase} w{workers} c{conc}: {p}" for p in problems]
    row = ServiceRow(
        db.kind, phase, workers, conc, existing_event, existing_db, result.requests, round(result.rate, 1),
        round(result.p50_ms, 2), round(result.p99_ms, 2), round(result.max_ms, 1), result.created,
        result.statuses.get(409, 0), result.count(400, 499) - result.statuses.get(409, 0), n5xx, result.socket_errors,
        unacked, round(100 * server_cpu / result.seconds, 0),
        round(1000 * server_cpu / result.created, 2) if result.created else 0.0,
        round(100 * result.client_cpu / result.seconds, 0),
        [round(r) for r in server.peak_rss()], not problems, notes,
    )
    report.service.append(row)
    log(f"  {row.rate:.0f} bookings/s, p50 {row.p50_ms} ms, p99 {row.p99_ms} ms, statuses {result.statuses}, "
        f"socket errors {row.socket_errors}, server CPU {row.server_cpu_pct}% ({row.cpu_ms_per_booking} ms/booking), "
        f"wrk CPU {row.wrk_cpu_pct}%, "
        f"invariants {problems if problems else 'ok'}")


def sold_out_phase(db: BenchDB, server: Server, tokens: list[str], args: argparse.Namespace, report: Report, workers: int,
                   concurrency: int, rate: float) -> None:
    """A short sell-out: far more buyers than tickets. Checks invariant 2 (nothing left unsold
    because of contention) besides the usual ones. Capacity is ~2 s of the measured rate."""
    capacity = max(100, min(5_000, int(rate * 2 * args.quantity)))
    event = db.create_event(f"sold out w{workers}", capacity=capacity)
    log(f"{db.kind}: sold-out phase, capacity {capacity}, workers {workers}, concurrency {concurrency}")
    cpu_before = server.cpu()
    rounds = []
    for _ in range(5):
        # A new script each round: new Idempotency-Keys (a repeated key would be a replay).
        script = write_script(db.workdir / f"soldout-{len(rounds)}.lua", tokens, event, args.quantity, not args.no_keys)
        rounds.append(run_wrk(server.url, script, concurrency, 3, threads=args.wrk_threads))
        time.sleep(0.3)
        if capacity - db.event_state(event)[1] < args.quantity:
            break
    server_cpu = server.cpu() - cpu_before
    statuses: dict[int, int] = {}
    for r in rounds:
        for status, n in r.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    last = rounds[-1]
    result = LoadResult(sum(r.requests for r in rounds), sum(r.seconds for r in rounds), last.p50_ms, last.p90_ms,
                        max(r.p99_ms for r in rounds), max(r.p999_ms for r in rounds), max(r.max_ms for r in rounds),
                        statuses, sum(r.socket_errors for r in rounds), sum(r.client_cpu for r in rounds))
    _, sold = db.event_state(event)
    note = f"capacity {capacity:,}, sold {sold:,}, {len(rounds)} round(s) of 3 s"
    if capacity - sold >= args.quantity:
        report.problems.append(f"{db.kind} sold-out: {capacity - sold} tickets left unsold (quantity {args.quantity})")
    _service_row(db, server, result, report, "sold-out", workers, concurrency, event, 0, db.booking_count(), server_cpu, note)


def run_backend(kind: str, cfg: dict, args: argparse.Namespace, report: Report) -> None:
    dbs: list[BenchDB] = []
    workdir = make_workdir()
    try:
        log(f"{kind}: fresh database in {workdir}")
        db = BenchDB.create(kind, workdir)
        dbs.append(db)
        db.seed_users(cfg["users"])
        measure_limits(db, cfg, args.quantity, report, with_pgbench=not args.no_pgbench)
        for workers in cfg["workers"]:
            measure_service(db, cfg, args, report, workers, "service")
        if cfg["limit_rounds"] > 1:
            # The machine's noise moves the limit too: measure it again after the service runs
            # (the driver only); the best of all rows is the limit.
            measure_limits(db, cfg, args.quantity, report, with_pgbench=False, tag=" (again)")
        if cfg["preload"]:
            cost_over_time(kind, cfg, args, report, workdir, dbs)
        if args.checkout:
            workers = 2 if 2 in cfg["workers"] else cfg["workers"][0]

            def row(db: BenchDB, server: Server, result: LoadResult, phase: str, workers: int, conc: int, event: int,
                    existing_event: int, existing_db: int, server_cpu: float, notes: str = "",
                    made: int | None = None) -> None:
                _service_row(db, server, result, report, phase, workers, conc, event, existing_event, existing_db,
                             server_cpu, notes, made)

            checkout.measure_checkout(db, cfg, args, report, workers, row)
            checkout.expired_holds_cost(kind, cfg, args, report, workdir, dbs, workers, row)
    except Exception as error:
        report.problems.append(f"{kind}: the run failed: {error!r}")
        traceback.print_exc()
    finally:
        if not args.keep:
            for db in dbs:
                db.drop()
            remove_workdir(workdir)
        else:
            log(f"kept {workdir}")


def cost_over_time(kind: str, cfg: dict, args: argparse.Namespace, report: Report, workdir: Path, dbs: list[BenchDB]) -> None:
    """Two databases side by side, one empty and one with the preload on its event, measured
    alternately (empty, loaded, empty, loaded) so that the machine's noise hits both alike."""
    empty_dir, loaded_dir = workdir / "empty", workdir / "loaded"
    empty_dir.mkdir()
    loaded_dir.mkdir()
    empty = BenchDB.create(kind, empty_dir)
    dbs.append(empty)
    empty.seed_users(cfg["users"])
    loaded = BenchDB.create(kind, loaded_dir)
    dbs.append(loaded)
    loaded.seed_users(cfg["users"])
    event = loaded.create_event("preloaded", capacity=cfg["preload"] + 1_000_000)
    log(f"{kind}: bulk-loading {cfg['preload']:,} bookings onto event {event}")
    took = loaded.bulk_load(event, cfg["preload"])
    problems = loaded.check_invariants()
    log(f"  loaded in {took:.0f} s, invariants {problems if problems else 'ok'}")
    report.problems += [f"{kind} after bulk load: {p}" for p in problems]
    report.notes.append(f"{kind}: bulk load of {cfg['preload']:,} bookings + tickets took {took:.0f} s; invariants after: "
                        f"{problems if problems else 'ok'}")
    workers = 2 if 2 in cfg["workers"] else cfg["workers"][0]
    for _ in range(cfg["cost_rounds"]):
        measure_service(empty, cfg, args, report, workers, "fresh")
        measure_service(loaded, cfg, args, report, workers, "preloaded", event=event)


# -- the table -------------------------------------------------------------------------------------------
def best_limit(report: Report, kind: str, driver: str) -> LimitRow | None:
    rows = [r for r in report.limits if r.db == kind and r.driver.split(" ")[0] == driver]
    return max(rows, key=lambda r: r.rate) if rows else None


def service_rate(report: Report, kind: str, phase: str, workers: int, conc: int) -> float | None:
    rows = [r for r in report.service if r.db == kind and r.phase == phase and r.workers == workers and r.concurrency == conc]
    return rows[0].rate if rows else None


def render(report: Report) -> str:
    out = [
        f"### Run {report.started}",
        "",
        f"- machine: {report.machine}",
        f"- commit: {report.commit}",
        f"- command: `{report.command}`",
        f"- profile: {report.profile}; each booking asks for {report.quantity} tickets; service requests carry a unique "
        f"Idempotency-Key; server {report.server}; other processes on the machine make the numbers noisy: "
        "compare ratios within one run",
        "",
        "**The database's limit** (the hot path's booking statement through the plain driver, no HTTP, one event):",
        "",
        "| db | driver | pool | existing bookings | bookings/s | errors | client CPU | invariants |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in report.limits:
        out.append(f"| {r.db} | {r.driver} | {r.pool} | {r.existing:,} | {r.rate:,.0f} | {r.errors} | {r.client_cpu_pct:.0f}% | "
                   f"{'ok' if r.invariants_ok else 'BROKEN'} |")
    out += [
        "",
        "**The service** (`ticketing serve`, wrk, POST /api/v1/bookings from many accounts, one event):",
        "",
        "| db | phase | workers | conc | existing on event | bookings/s (201) | p50 ms | p99 ms | max ms | 201 | 409 | "
        "other 4xx | 5xx | sock err | unacked | server CPU | CPU ms/booking | wrk CPU | peak RSS/worker MB | invariants |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in report.service:
        out.append(
            f"| {r.db} | {r.phase} | {r.workers} | {r.concurrency} | {r.existing_event:,} | {r.rate:,.0f} | "
            f"{r.p50_ms} | {r.p99_ms} | {r.max_ms} | {r.n201:,} | {r.n409:,} | {r.n4xx_other} | {r.n5xx} | "
            f"{r.socket_errors} | {r.unacked} | {r.server_cpu_pct:.0f}% | {r.cpu_ms_per_booking} | {r.wrk_cpu_pct:.0f}% | "
            f"{'/'.join(str(x) for x in r.peak_rss_mb)} | "
            f"{'ok' if r.invariants_ok else 'BROKEN'}{' (' + r.notes + ')' if r.notes else ''} |")
    out += ["", "**Ratios and targets** (same run):", ""]
    for kind in sorted({r.db for r in report.service} | {r.db for r in report.limits}):
        limit = best_limit(report, kind, "asyncpg" if kind == "postgres" else "sqlite3")
        pgb = best_limit(report, kind, "pgbench") if kind == "postgres" else None
        workers = 2 if kind == "postgres" else 1
        for conc in sorted({r.concurrency for r in report.service if r.db == kind}):
            rate = service_rate(report, kind, "service", workers, conc)
            if rate is None or limit is None:
                continue
            line = (f"- {kind}: service (workers {workers}, concurrency {conc}) {rate:,.0f}/s ÷ limit {limit.rate:,.0f}/s "
                    f"({limit.driver}, pool {limit.pool}) = **{rate / limit.rate:.2f}**")
            if pgb:
                line += f"; ÷ pgbench best {pgb.rate:,.0f}/s (pool {pgb.pool}) = {rate / pgb.rate:.2f}"
            out.append(line)
        pre_workers = next((r.workers for r in report.service if r.db == kind and r.phase == "preloaded"), None)
        for conc in sorted({r.concurrency for r in report.service if r.db == kind and r.phase == "preloaded"}):
            fresh = [r.rate for r in report.service if r.db == kind and r.phase == "fresh" and r.concurrency == conc]
            loaded = [r.rate for r in report.service if r.db == kind and r.phase == "preloaded" and r.concurrency == conc]
            if fresh and loaded and sum(fresh):
                existing = min(r.existing_event for r in report.service
                               if r.db == kind and r.phase == "preloaded" and r.concurrency == conc)
                f_mean, l_mean = sum(fresh) / len(fresh), sum(loaded) / len(loaded)
                out.append(f"- {kind}: with {existing:,}+ existing bookings ÷ with none "
                           f"(workers {pre_workers}, concurrency {conc}, mean of {len(loaded)} alternating runs each): "
                           f"{l_mean:,.0f} ÷ {f_mean:,.0f} = **{l_mean / f_mean:.2f}**")
        out += _checkout_ratios(report, kind, limit, pgb)
        if kind == "sqlite":
            best = max((r.rate for r in report.service if r.db == kind and r.phase == "service" and r.workers == 1), default=None)
            if best is not None:
                out.append(f"- sqlite: best service rate with 1 worker: **{best:,.0f}/s** (target ≥ 1,000/s)")
    n5xx = sum(r.n5xx for r in report.service)
    worst_p99 = max((r.p99_ms for r in report.service), default=0)
    out.append(f"- 5xx answers across all runs: **{n5xx}**; worst p99 {worst_p99} ms")
    held = "all held" if not report.problems else "PROBLEMS: " + "; ".join(report.problems)
    out.append(f"- invariants after every run: **{held}**")
    for note in report.notes:
        out.append(f"- {note}")
    return "\n".join(out) + "\n"


def _checkout_ratios(report: Report, kind: str, limit: LimitRow | None, pgb: LimitRow | None) -> list[str]:
    """Checkout's targets (issue 10): holds vs the limit, webhook confirmations/s, expired holds vs none."""
    out = []
    for r in report.service:
        if r.db != kind or r.phase not in ("holds", "webhook"):
            continue
        if r.phase == "holds" and limit is not None:
            line = (f"- {kind}: holds on a payment event with three types (workers {r.workers}, concurrency {r.concurrency})"
                    f" {r.rate:,.0f}/s ÷ limit {limit.rate:,.0f}/s = **{r.rate / limit.rate:.2f}**")
            if pgb:
                line += f"; ÷ pgbench best {pgb.rate:,.0f}/s = **{r.rate / pgb.rate:.2f}** (target ≥ 0.5)"
            out.append(line)
        elif r.phase == "webhook":
            out.append(f"- {kind}: webhook confirmations (workers {r.workers}, concurrency {r.concurrency}):"
                       f" **{r.rate:,.0f}/s** (target ≥ 500/s)")
    for conc in sorted({r.concurrency for r in report.service if r.db == kind and r.phase == "holds-expired"}):
        none = [r.rate for r in report.service if r.db == kind and r.phase == "holds-none" and r.concurrency == conc]
        expired = [r for r in report.service if r.db == kind and r.phase == "holds-expired" and r.concurrency == conc]
        if none and expired and sum(none):
            n_mean, e_mean = sum(none) / len(none), sum(r.rate for r in expired) / len(expired)
            out.append(f"- {kind}: holds with {min(r.existing_event for r in expired):,}+ expired-but-unreleased holds"
                       f" on the event ÷ with none (workers {expired[0].workers}, concurrency {conc}, mean of {len(expired)}"
                       f" alternating runs each): {e_mean:,.0f} ÷ {n_mean:,.0f} = **{e_mean / n_mean:.2f}** (target ≥ 0.9)")
    return out


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="shorter runs, 200k preload")
    mode.add_argument("--smoke", action="store_true", help="seconds-long runs on tiny data (the pytest smoke test)")
    p.add_argument("--db", choices=["all", "postgres", "sqlite"], default="all")
    p.add_argument("--seconds", type=float, help="duration of each measured run")
    p.add_argument("--workers", help="comma-separated worker counts, e.g. 2,1,4")
    p.add_argument("--concurrency", help="comma-separated, e.g. 64,256")
    p.add_argument("--pools", help="comma-separated driver pool sizes for the limit, e.g. 1,2,4,8")
    p.add_argument("--preload", type=int, help="existing bookings to bulk-load (0 to skip)")
    p.add_argument("--cost-rounds", type=int, help="alternating fresh/preloaded measurements (default 2)")
    p.add_argument("--quantity", type=int, default=2, help="tickets per booking (default 2)")
    p.add_argument("--no-keys", action="store_true", help="send no Idempotency-Key")
    p.add_argument("--no-pgbench", action="store_true")
    p.add_argument("--no-sold-out", dest="sold_out", action="store_false", help="skip the short sell-out phase")
    p.add_argument("--server", default="uvicorn", help="the ASGI server `ticketing serve --server` runs (uvicorn, granian)")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--log-level", default="INFO", help="the server's TICKETING_LOG_LEVEL (default INFO, as deployed)")
    p.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE", help="extra environment for the server")
    p.add_argument("--record", dest="record", action="store_true", default=None,
                   help="append the table to bench/RESULTS.md (default for full and quick runs)")
    p.add_argument("--no-record", dest="record", action="store_false")
    p.add_argument("--json", type=Path, help="also write the raw results as JSON here")
    p.add_argument("--keep", action="store_true", help="keep the databases and logs")
    p.add_argument("--note", action="append", default=[], help="a line to add to the recorded notes")
    p.add_argument("--checkout", action="store_true",
                   help="also measure checkout: holds on a payment event with three types, webhook confirmations, "
                        "holds with expired-but-unreleased holds in the table against none (bench/checkout.py)")
    p.add_argument("--expired-holds", type=int, help="expired holds to load for --checkout (default 100,000; 0 skips)")
    p.add_argument("--webhook-holds", type=int, help="unpaid holds to load for the webhook rate (default 30,000)")
    p.add_argument("--hold-limit", type=int, default=100,
                   help="per-customer limit of the --checkout holds event (default 100; 0 for none)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    name = "smoke" if args.smoke else "quick" if args.quick else "full"
    cfg = dict(PROFILES[name])
    if args.seconds:
        cfg["seconds"] = args.seconds
    for key in ("workers", "concurrency", "pools"):
        if getattr(args, key):
            cfg[key] = [int(x) for x in getattr(args, key).split(",")]
    if args.preload is not None:
        cfg["preload"] = args.preload
    if args.cost_rounds:
        cfg["cost_rounds"] = args.cost_rounds
    if args.record is None:
        args.record = name != "smoke"
    find_wrk()  # install it now, not halfway through
    kinds = ["postgres", "sqlite"] if args.db == "all" else [args.db]
    report = Report(datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), machine(), commit(),
                    "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv), name, args.quantity, args.server)
    if "postgres" in kinds and not postgres_available():
        report.notes.append("PostgreSQL was not reachable: skipped")
        kinds.remove("postgres")
    report.notes += args.note
    for kind in kinds:
        run_backend(kind, cfg, args, report)
    table = render(report)
    print(table)
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2))
    if args.record:
        with RESULTS.open("a") as handle:
            handle.write("\n" + table)
        log(f"recorded in {RESULTS}")
    return 1 if report.problems else 0
