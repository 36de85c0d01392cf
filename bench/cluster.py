"""Bookings per second through HAProxy + PgBouncer with three hosts, against the direct
two-worker service, in the same run on the same machine (docs/deploy.md; bench/README.md).

    .venv/bin/python -m bench.cluster [--seconds 10] [--rounds 2] [--concurrency 64] [--no-record]

Needs root (scripts/cluster's network namespaces) and PostgreSQL. One hot event: wrk at
--concurrency against the direct `ticketing serve --workers 2`, then against HAProxy in front of
three `ticketing serve --workers 1` hosts (each in its own namespace) on PgBouncer in transaction
mode, --rounds times, each round in the other order, so that the machine's noise and drift
fall on every set-up alike (an even number of rounds balances them); and the
direct service again with TICKETING_DATABASE_POOLER=transaction (no statement caches), to tell
the driver's share of the cost from the two extra processes', and with as many workers as the
cluster has hosts (no hops), to tell what the cluster's process count alone costs on these cores.
Ten events: ten wrk processes at once, one per event, the same way. The CPU seconds HAProxy,
PgBouncer and the hosts use are reported per booking, with the whole machine's and PostgreSQL's
per set-up, and the bookings per transaction (group-commit batch) on the hot event. Invariants
are checked after each run with the plain driver; any problem makes the exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from bench.dbsetup import BenchDB, make_workdir, remove_workdir
from bench.load import LoadResult, mint_tokens, run_wrk, write_script
from bench.server import Server, cpu_seconds, machine_cpu, postgres_cpu
from ticketing import cluster as clusters

SECRET = "bench-cluster-key-0123456789abcdef0123456789"
HOSTS = 3
DIRECT_WORKERS = 2
RESULTS = Path(__file__).with_name("RESULTS.md")


def _one_event(db: BenchDB, url: str, tokens: list[str], workdir: Path, seconds: float, conc: int,
               tag: str) -> tuple[LoadResult, float]:
    """wrk on one new event; its result and the bookings per transaction (group-commit batch)."""
    event = db.create_event(f"cluster bench {tag}", 1_000_000)
    script = write_script(workdir / f"{tag}.lua", tokens, event, 2, use_keys=True)
    result = run_wrk(url, script, conc, seconds)
    sql = "SELECT count(*)::float / greatest(count(DISTINCT xmin::text), 1) FROM bookings WHERE event_id = $1"
    return result, float(db.fetch(sql, sql, event)[0][0])


def _ten_events(db: BenchDB, url: str, tokens: list[str], workdir: Path, seconds: float, conc: int, tag: str) -> float:
    events = [db.create_event(f"cluster bench {tag} {i}", 1_000_000) for i in range(10)]
    scripts = [write_script(workdir / f"{tag}-{i}.lua", tokens, e, 2, use_keys=True) for i, e in enumerate(events)]
    per = max(1, conc // 10)
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda s: run_wrk(url, s, per, seconds, threads=1), scripts))
    bad = sum(r.count(500, 599) for r in results)
    if bad:
        raise RuntimeError(f"{bad} 5xx answers on ten events ({tag})")
    return sum(r.rate for r in results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--hosts", type=int, default=HOSTS, help=f"hosts behind HAProxy (default {HOSTS})")
    parser.add_argument("--log-level", default="INFO", help="the servers' TICKETING_LOG_LEVEL (default INFO, as deployed)")
    parser.add_argument("--no-record", dest="record", action="store_false")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench.cluster needs root (network namespaces for the hosts)", file=sys.stderr)
        return 2
    env = {"TICKETING_SECRET_KEY": SECRET, "TICKETING_LOG_LEVEL": args.log_level}
    workdir = make_workdir()
    state = Path(tempfile.mkdtemp(prefix="ticketing-bench-cluster-"))
    db = BenchDB.create("postgres", workdir)
    problems: list[str] = []
    kinds = ("direct", "nocache", "direct3", "cluster")
    rates: dict[str, list[float]] = {f"{kind} {what}": [] for kind in kinds for what in ("one", "ten")}
    cpu: dict[str, float] = {"haproxy": 0.0, "pgbouncer": 0.0, "hosts": 0.0, "bookings": 0.0, "direct": 0.0,
                             "direct bookings": 0.0}
    # Per set-up: the whole machine's busy and total CPU seconds, PostgreSQL's, and the bookings.
    machine = {kind: {"busy": 0.0, "all": 0.0, "postgres": 0.0, "bookings": 0.0} for kind in kinds}
    batches: dict[str, list[float]] = {kind: [] for kind in kinds}
    try:
        tokens = mint_tokens(SECRET, db.seed_users(500))
        direct = Server(db.url, DIRECT_WORKERS, env, workdir, "direct.log")
        nocache = Server(db.url, DIRECT_WORKERS, {**env, "TICKETING_DATABASE_POOLER": "transaction"}, workdir,
                         "nocache.log")
        direct.start()
        nocache.start()
        # The cluster's process count without its hops: what three processes on these cores cost.
        direct3 = Server(db.url, args.hosts, env, workdir, "direct3.log")
        direct3.start()
        try:
            with clusters.running(state, args.hosts, workers=1, database_url=db.url, name="tkbench", subnet="10.213.88",
                                  port=None, extra_env=env) as cluster:
                def cluster_cpu() -> dict[str, float]:
                    return {"haproxy": cpu_seconds(cluster.haproxy_pid or 0),
                            "pgbouncer": cpu_seconds(cluster.pgbouncer_pid or 0),
                            "hosts": sum(cpu_seconds(h.pid or 0) for h in cluster.hosts)}

                # Each round in the other order, as bench.versus: the database grows and the machine
                # tires through a run (the direct service's rate fell ~10 % a round at 2026-12-03
                # 14:07), and a fixed order charged that to the set-up run last, the cluster.
                order = [("direct", direct.url), ("nocache", nocache.url), ("direct3", direct3.url),
                         ("cluster", cluster.url)]
                for round_ in range(args.rounds):
                    for kind, url in order if round_ % 2 == 0 else order[::-1]:
                        before = cluster_cpu()
                        direct_before = direct.cpu()
                        busy_before, all_before = machine_cpu()
                        pg_before = postgres_cpu()
                        one, batch = _one_event(db, url, tokens, workdir, args.seconds, args.concurrency,
                                                f"{kind}{round_}")
                        batches[kind].append(batch)
                        if one.count(500, 599) or one.socket_errors:
                            problems.append(f"{kind}: {one.count(500, 599)} 5xx, {one.socket_errors} socket errors")
                        rates[f"{kind} one"].append(one.rate)
                        rates[f"{kind} ten"].append(
                            _ten_events(db, url, tokens, workdir, args.seconds, args.concurrency, f"{kind}{round_}t"))
                        busy_after, all_after = machine_cpu()
                        machine[kind]["busy"] += busy_after - busy_before
                        machine[kind]["all"] += all_after - all_before
                        machine[kind]["postgres"] += postgres_cpu() - pg_before
                        machine[kind]["bookings"] += one.created + rates[f"{kind} ten"][-1] * args.seconds
                        if kind == "direct":
                            cpu["direct"] += direct.cpu() - direct_before
                            cpu["direct bookings"] += one.created + rates["direct ten"][-1] * args.seconds
                        if kind == "cluster":
                            for name, used in cluster_cpu().items():
                                cpu[name] += used - before[name]
                            cpu["bookings"] += one.created + rates["cluster ten"][-1] * args.seconds
                        problems += db.check_invariants()
                        print(f"round {round_ + 1} {kind:7}: one event {one.rate:7.0f} bookings/s, "
                              f"ten events {rates[f'{kind} ten'][-1]:7.0f} bookings/s", flush=True)
        finally:
            direct.stop()
            nocache.stop()
            direct3.stop()
    finally:
        db.drop()
        remove_workdir(workdir)
    means = {key: statistics.fmean(values) for key, values in rates.items()}
    lines = [
        f"### Many hosts: HAProxy + PgBouncer, {args.hosts} hosts vs direct, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`python -m bench.cluster --seconds {args.seconds:g} --rounds {args.rounds} --concurrency "
        f"{args.concurrency} --hosts {args.hosts}` on {os.cpu_count()} cores; bookings/s (2 tickets each), mean of {args.rounds} "
        "rounds, each in the other order.",
        "",
        "| | direct, 2 workers | direct, 2 workers, no statement caches "
        f"| direct, {args.hosts} workers | HAProxy + PgBouncer, {args.hosts} hosts x 1 worker "
        f"| direct {args.hosts} workers / direct | cluster / direct {args.hosts} workers | cluster / direct |",
        "|---|---|---|---|---|---|---|---|",
        *(f"| {label} | {means[f'direct {what}']:.0f} | {means[f'nocache {what}']:.0f} | {means[f'direct3 {what}']:.0f} "
          f"| {means[f'cluster {what}']:.0f} | {means[f'direct3 {what}'] / means[f'direct {what}']:.2f} "
          f"| {means[f'cluster {what}'] / means[f'direct3 {what}']:.2f} "
          f"| {means[f'cluster {what}'] / means[f'direct {what}']:.2f} |"
          for label, what in (("one hot event", "one"), ("ten events at once", "ten"))),
        "",
        "CPU per booking: direct service "
        f"{1000 * cpu['direct'] / max(cpu['direct bookings'], 1):.2f} ms; in the cluster runs "
        + ", ".join(f"{name} {1000 * cpu[name] / max(cpu['bookings'], 1):.2f} ms" for name in ("hosts", "pgbouncer", "haproxy"))
        + ".",
        "",
        "The whole machine while each set-up ran (wrk included): "
        + "; ".join(f"{kind} {100 * m['busy'] / max(m['all'], 1e-9):.0f} % busy, "
                    f"{1000 * m['busy'] / max(m['bookings'], 1):.2f} ms of CPU per booking "
                    f"(PostgreSQL {1000 * m['postgres'] / max(m['bookings'], 1):.2f} ms)"
                    for kind, m in machine.items())
        + ".",
        "",
        "Bookings per transaction (group-commit batch) on the hot event: "
        + ", ".join(f"{kind} {statistics.fmean(sizes):.1f}" for kind, sizes in batches.items()) + ".",
        "",
        f"Invariants: {'all hold, no 5xx' if not problems else '; '.join(problems[:5])}.",
        "",
    ]
    print("\n".join(lines))
    print(json.dumps(rates))
    if args.record:
        with RESULTS.open("a") as out:
            out.write("\n" + "\n".join(lines))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
