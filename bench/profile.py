"""``python -m bench.profile``: py-spy on one `ticketing serve` worker under booking load.

Prints the functions with the most samples (own and inclusive) and keeps the collapsed
stacks (flamegraph input) in the work directory. Installs py-spy with pip if it is missing.
"""

from __future__ import annotations

import argparse
import collections
import secrets
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from bench.dbsetup import BenchDB, make_workdir, remove_workdir
from bench.load import mint_tokens, run_wrk, write_script
from bench.server import Server


def py_spy() -> str:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True)
    return exe


def summarise(collapsed: Path, top: int) -> str:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = [f for f in stack.split(";") if f]
        if not frames:
            continue
        own[_short(frames[-1])] += n
        for frame in {_short(f) for f in frames}:
            inclusive[frame] += n
    lines = [f"{total} samples", "", "own (self) samples:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines += ["", "inclusive samples (project and framework frames):"]
    interesting = [(k, v) for k, v in inclusive.most_common(400)
                   if any(s in k for s in ("ticketing/", "fastapi/", "starlette/", "pydantic", "sqlalchemy/", "asyncpg",
                                           "aiosqlite", "uvicorn/", "jwt", "logging", "prometheus", "json"))]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in interesting[:top * 2]]
    return "\n".join(lines)


def _short(frame: str) -> str:
    # "function (path/to/file.py:123)" -> "function (pkg/file.py)"
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile")
    p.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--seconds", type=int, default=15)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--quantity", type=int, default=2)
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--keep", action="store_true")
    args = p.parse_args(argv)
    spy = py_spy()
    workdir = make_workdir()
    db = BenchDB.create(args.db, workdir)
    try:
        db.seed_users(300)
        secret = secrets.token_urlsafe(48)
        server = Server(db.url, 1, {"TICKETING_SECRET_KEY": secret, "TICKETING_LOG_LEVEL": args.log_level}, workdir, "server.log")
        server.start()
        try:
            tokens = mint_tokens(secret, db.users)
            event = db.create_event("profile", 1_000_000)
            script = write_script(workdir / "profile.lua", tokens, event, args.quantity, True)
            run_wrk(server.url, script, 32, 2)  # warm up
            script = write_script(workdir / "profile.lua", tokens, event, args.quantity, True)  # fresh keys
            raw = workdir / "profile.collapsed"
            spy_cmd = [spy, "record", "--pid", str(server.worker_pids()[0]), "--duration", str(args.seconds),
                       "--rate", "250", "--gil", "--format", "raw", "--output", str(raw), "--nonblocking"]
            recorder = threading.Thread(target=subprocess.run, args=(spy_cmd,), kwargs={"capture_output": True})
            recorder.start()
            result = run_wrk(server.url, script, args.concurrency, args.seconds + 1)
            recorder.join(args.seconds + 30)
            print(f"{args.db}, 1 worker, concurrency {args.concurrency}: {result.rate:.0f} bookings/s, "
                  f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, statuses {result.statuses}")
            print(summarise(raw, args.top))
            print(f"\ncollapsed stacks: {raw}" if args.keep else "")
        finally:
            server.stop()
        problems = db.check_invariants()
        print("invariants:", problems if problems else "ok")
    finally:
        if not args.keep:
            db.drop()
            remove_workdir(workdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
