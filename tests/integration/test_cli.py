"""The console script: migrate, create-admin, demo, and serve's refusal without a key."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.server import TICKETING, ServerProcess, cli_env, run_cli

pytestmark = pytest.mark.slow  # every test runs the console script as a process


def sqlite_rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return list(conn.execute(query))


def _printed_commands(out: str) -> str:
    """The shell lines `ticketing demo` prints for the reader to paste."""
    return "\n".join(line.strip() for line in out.splitlines() if line.strip().startswith(("TOKEN=", "curl ")))


def test_demo_loads_accounts_and_events_and_its_commands_book_on_the_servers_real_port(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    server = ServerProcess(url)  # a free port, not 8000
    out = run_cli(url, "demo", "--url", server.url + "/")
    assert "admin@example.com" in out and "fan@example.com" in out
    commands = _printed_commands(out)
    assert commands.count(f"{server.url}/api/v1/") == 2 and ":8000" not in out
    server.start()
    try:
        events = httpx.get(f"{server.url}/api/v1/events").json()
        assert events["total"] == 4
        paid = events["items"][-1]  # the payment event: three types, one capped, a per-customer limit
        assert paid["checkout"] == "payment" and paid["per_customer_limit"] == 4
        assert [t["capacity"] for t in paid["ticket_types"]] == [40, None, None]
        token = httpx.post(f"{server.url}/api/v1/auth/token",
                           data={"username": "admin@example.com", "password": "admin-password"}).json()
        me = httpx.get(f"{server.url}/api/v1/users/me", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert me.json()["role"] == "admin"

        # What the reader would paste: it must book, as printed, against this server.
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        booking = json.loads(done.stdout)
        assert booking["status"] == "CONFIRMED" and booking["quantity"] == 2 and len(booking["tickets"]) == 2
    finally:
        server.stop()


def test_demo_prints_the_default_server_url_without_url(tmp_path: Path) -> None:
    out = run_cli(f"sqlite:///{tmp_path / 'default.db'}", "demo")
    assert _printed_commands(out).count("http://127.0.0.1:8000/api/v1/") == 2


def test_demo_refuses_a_url_that_is_not_http_before_touching_the_database(tmp_path: Path) -> None:
    database = tmp_path / "untouched.db"
    done = subprocess.run([TICKETING, "demo", "--url", "127.0.0.1:9000"], env=cli_env(f"sqlite:///{database}"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--url must be an http(s) URL" in done.stderr and not database.exists()


def test_create_admin_promotes_and_migrate_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert "up to date" in run_cli(url, "migrate")
    assert "up to date" in run_cli(url, "migrate")
    first = run_cli(url, "create-admin", "--email", "Boss@Example.com", "--password", "long enough")
    again = run_cli(url, "create-admin", "--email", "boss@example.com", "--password", "another one")
    assert "boss@example.com" in first and first.split("(id ")[1] == again.split("(id ")[1]


def test_create_admin_refuses_short_blank_and_common_passwords(tmp_path):
    url = f"sqlite:///{tmp_path / 'weak.db'}"
    for weak, reason in (("short", "8 to 128"), (" " * 10, "only spaces"), ("Password123", "most common")):
        done = subprocess.run([TICKETING, "create-admin", "--email", "boss@example.com", "--password", weak],
                              env=cli_env(url), capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and reason in done.stderr, (weak, done.stderr)


def test_create_admin_checks_the_email_and_a_promoted_account_keeps_its_name(tmp_path):
    url = f"sqlite:///{tmp_path / 'names.db'}"
    for bad in ("not an email", "boss@", ""):
        done = subprocess.run([TICKETING, "create-admin", "--email", bad, "--password", "long enough"],
                              env=cli_env(url), capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "ticketing:" in done.stderr and "Traceback" not in done.stderr, (bad, done.stderr)
    run_cli(url, "create-admin", "--email", "ann@example.com", "--password", "long enough", "--name", "Ann Lee")
    run_cli(url, "create-admin", "--email", "ann@example.com", "--password", "another one")  # promoted again
    run_cli(url, "create-admin", "--email", "new@example.com", "--password", "long enough")
    names = dict(tuple(row) for row in sqlite_rows(tmp_path / "names.db", "SELECT email, name FROM users"))
    assert names == {"ann@example.com": "Ann Lee", "new@example.com": "Admin"}
    run_cli(url, "create-admin", "--email", "ann@example.com", "--password", "long enough", "--name", "Ann B. Lee")
    assert dict(tuple(row) for row in sqlite_rows(tmp_path / "names.db", "SELECT email, name FROM users"))[
        "ann@example.com"] == "Ann B. Lee"


@pytest.mark.parametrize("command", [["migrate"], ["create-admin", "--email", "a@example.com", "--password", "long enough"],
                                     ["demo"]])
def test_a_wrong_setting_is_one_line_not_a_traceback(tmp_path, command):
    done = subprocess.run([TICKETING, *command], env=cli_env(f"sqlite:///{tmp_path / 'x.db'}",
                                                            {"TICKETING_DEFAULT_TIMEZONE": "Bad/Zone"}),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Bad/Zone" in done.stderr


def test_serve_on_postgres_without_a_key_explains_in_one_line():
    env = cli_env("postgresql://postgres@127.0.0.1:5432/postgres")
    env.pop("TICKETING_SECRET_KEY")
    done = subprocess.run([TICKETING, "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "TICKETING_SECRET_KEY" in done.stderr and len(done.stderr.strip().splitlines()) == 1
