"""The benchmark harness runs end to end in its quickest mode (SQLite): no timing asserted,
only that it measured something, the invariants held, and it printed its table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.databases import require_postgres

ROOT = Path(__file__).resolve().parents[2]

# No skip without wrk: the harness installs it (Debian's package) when it is missing.
pytestmark = pytest.mark.slow


def test_bench_smoke_on_sqlite(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--db", "sqlite", "--no-record", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    report = json.loads(out.read_text())
    assert report["problems"] == []
    assert report["limits"] and all(row["invariants_ok"] and row["bookings"] > 0 for row in report["limits"])
    service = report["service"]
    assert {row["phase"] for row in service} >= {"service", "sold-out", "preloaded"}
    for row in service:
        assert row["invariants_ok"], row
        assert row["n5xx"] == 0, row
        assert row["n201"] > 0, row
    assert "| db | phase | workers | conc |" in done.stdout
    assert "bookings/s" in done.stdout


def test_bench_checkout_smoke_on_sqlite(tmp_path: Path) -> None:
    """``--checkout``: holds on a payment event with three types, webhook confirmations, and holds
    with expired-but-unreleased holds against none: rows made, invariants held, the holds left."""
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--db", "sqlite", "--no-record", "--json", str(out), "--checkout",
         "--pools", "1", "--preload", "0", "--no-sold-out"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    report = json.loads(out.read_text())
    assert report["problems"] == []
    rows = {row["phase"]: row for row in report["service"]}
    assert set(rows) >= {"holds", "webhook", "holds-none", "holds-expired"}
    for phase in ("holds", "webhook", "holds-none", "holds-expired"):
        assert rows[phase]["invariants_ok"] and rows[phase]["n5xx"] == 0, rows[phase]
        assert rows[phase]["n201"] > 0, rows[phase]  # holds made; for the webhook, bookings confirmed
    assert rows["holds-expired"]["existing_event"] == 2_000
    assert any("expired holds loaded" in note and "still unreleased after each run: 2,000" in note
               for note in report["notes"]), report["notes"]
    assert "webhook confirmations" in done.stdout and "expired-but-unreleased" in done.stdout


def test_bench_versus_smoke_against_this_checkout() -> None:
    """``bench.versus`` on PostgreSQL, direct only, this checkout against itself: both sides
    booked, no 5xx, the invariants held."""
    require_postgres()
    done = subprocess.run(
        [sys.executable, "-m", "bench.versus", "--other", str(ROOT), "--no-cluster", "--seconds", "1", "--rounds", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("round 1 ")]
    assert [line.split()[2:4] for line in lines] == [["direct,", "other"], ["direct,", "this"]], done.stdout
    assert all(float(line.split()[4]) > 0 and " 0 5xx" in line for line in lines), done.stdout
    assert "invariants: all hold, no 5xx" in done.stdout
