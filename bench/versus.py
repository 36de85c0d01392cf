"""This checkout's code against another checkout's, in ONE run on one database: bookings/s on a hot
event, direct (`serve --workers 2`) and, as root, through the cluster (HAProxy + PgBouncer, three
hosts), alternating, so that a change is judged by ratios measured side by side.

    git worktree add --detach /tmp/before <commit>
    .venv/bin/python -m bench.versus --other /tmp/before [--seconds 8] [--rounds 2] [--concurrency 64] [--no-cluster]

The other checkout's servers run this virtualenv with ``PYTHONPATH=<other>/src`` first, so its
package is imported instead of this one; the schema must be the same (migrate with this one).
Prints one line per run (rate, 5xx, the machine's busy share and CPU per booking, PostgreSQL's)
and the invariants; records nothing (quote the lines).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench.dbsetup import BenchDB, make_workdir, remove_workdir
from bench.load import mint_tokens, run_wrk, write_script
from bench.server import Server, machine_cpu, postgres_cpu
from ticketing import cluster as clusters

SECRET = "bench-versus-key-0123456789abcdef0123456789ab"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.versus", description=__doc__.split("\n\n")[0])
    parser.add_argument("--other", type=Path, required=True, help="the other checkout (its src/ is used)")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--no-cluster", dest="cluster", action="store_false", help="direct servers only (no root needed)")
    args = parser.parse_args(argv)
    other_src = (args.other / "src").resolve()
    if not (other_src / "ticketing").is_dir():
        parser.error(f"{other_src} holds no ticketing package")
    if args.cluster and os.geteuid() != 0:
        print("bench.versus: the cluster needs root (network namespaces); use --no-cluster", file=sys.stderr)
        return 2
    env = {"TICKETING_SECRET_KEY": SECRET, "TICKETING_LOG_LEVEL": "INFO"}
    theirs = {**env, "PYTHONPATH": str(other_src)}
    workdir = make_workdir()
    db = BenchDB.create("postgres", workdir)
    problems: list[str] = []
    try:
        tokens = mint_tokens(SECRET, db.seed_users(500))
        with ExitStack() as stack:
            urls: dict[str, str] = {}
            for label, server_env in (("direct, other", theirs), ("direct, this", env)):
                # The database is this checkout's schema: another checkout's server must not
                # migrate it (it may not know this one's newest revision).
                server = Server(db.url, 2, server_env, workdir, f"{label.split(', ')[1]}.log", migrate=False)
                server.start()
                stack.callback(server.stop)
                urls[label] = server.url
            if args.cluster:
                for i, (label, server_env) in enumerate((("cluster, other", theirs), ("cluster, this", env))):
                    cluster = stack.enter_context(clusters.running(
                        Path(tempfile.mkdtemp(prefix="ticketing-versus-")), 3, workers=1, database_url=db.url,
                        name=f"tkvs{i}", subnet=f"10.213.{97 + i}", port=None, extra_env=server_env))
                    urls[label] = cluster.url
            for round_ in range(args.rounds):
                # Each round in the other order: what runs second meets a busier database and
                # machine, and a fixed order would charge that to one side every time.
                order = list(urls.items())
                for label, url in order if round_ % 2 == 0 else order[::-1]:
                    event = db.create_event(f"versus {label} {round_}", 1_000_000)
                    script = write_script(workdir / "versus.lua", tokens, event, 2, use_keys=True)
                    busy, every = machine_cpu()
                    postgres = postgres_cpu()
                    result = run_wrk(url, script, args.concurrency, args.seconds)
                    busy_after, every_after = machine_cpu()
                    made = max(result.created, 1)
                    bad = result.count(500, 599)
                    if bad or result.socket_errors:
                        problems.append(f"{label}: {bad} 5xx, {result.socket_errors} socket errors")
                    print(f"round {round_ + 1} {label:14} {result.rate:7.0f} bookings/s, {bad} 5xx; machine "
                          f"{100 * (busy_after - busy) / (every_after - every):3.0f} % busy, "
                          f"{1000 * (busy_after - busy) / made:.2f} ms CPU per booking "
                          f"(PostgreSQL {1000 * (postgres_cpu() - postgres) / made:.2f} ms)", flush=True)
            problems += db.check_invariants()
    finally:
        db.drop()
        remove_workdir(workdir)
    print(f"invariants: {'all hold, no 5xx' if not problems else '; '.join(problems[:5])}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
