"""The console script: migrate, create-admin, demo, and serve's refusal without a key."""

from __future__ import annotations

import subprocess

from tests.support.server import TICKETING, ServerProcess, cli_env, run_cli


def test_demo_loads_accounts_and_events_and_prints_a_booking_command(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    out = run_cli(url, "demo")
    assert "admin@example.com" in out and "curl" in out and "/api/v1/bookings" in out
    server = ServerProcess(url)
    server.start()
    try:
        import httpx

        events = httpx.get(f"{server.url}/api/v1/events").json()
        assert events["total"] == 3
        token = httpx.post(f"{server.url}/api/v1/auth/token",
                           data={"username": "admin@example.com", "password": "admin-password"}).json()
        me = httpx.get(f"{server.url}/api/v1/users/me", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert me.json()["role"] == "admin"
    finally:
        server.stop()


def test_create_admin_promotes_and_migrate_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert "up to date" in run_cli(url, "migrate")
    assert "up to date" in run_cli(url, "migrate")
    first = run_cli(url, "create-admin", "--email", "Boss@Example.com", "--password", "long enough")
    again = run_cli(url, "create-admin", "--email", "boss@example.com", "--password", "another one")
    assert "boss@example.com" in first and first.split("(id ")[1] == again.split("(id ")[1]


def test_serve_on_postgres_without_a_key_explains_in_one_line():
    env = cli_env("postgresql://postgres@127.0.0.1:5432/postgres")
    env.pop("TICKETING_SECRET_KEY")
    done = subprocess.run([TICKETING, "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "TICKETING_SECRET_KEY" in done.stderr and len(done.stderr.strip().splitlines()) == 1
