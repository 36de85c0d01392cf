"""schemathesis, run as a new user runs it, finds nothing: ``st run URL/openapi.json --checks all``.

Every check (server errors, status codes, content types, bodies and headers against the schema,
valid data accepted, invalid data refused, 405s with a full ``Allow``, authentication, resources
that outlive their deletion...) over schemathesis' four phases: the schema's examples, coverage
(boundary values, wrong types, nulls, unsupported methods), fuzzing with valid and invalid data,
and the stateful phase, which chains operations along the links it infers (create an event, book
it, read and cancel the booking). It runs the real ``st`` command against a real ``ticketing
serve`` on SQLite and on PostgreSQL, so what it checks is what a client on the network sees.

Requests carry a customer's bearer token, and an admin's on the operations only an admin may
call, so both roles' paths are reached and not only 401s and 403s. The run is derandomized (a
fixed seed) and bounded by the number of examples, never by time. The repository's
schemathesis.toml, which ``st`` reads from the working directory, says which answers count as
accepting valid data; the run reads the same file here.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess, run_cli

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ST = str(Path(sys.executable).with_name("st"))
# Examples per operation and phase: enough to cross every schema branch, small enough for CI.
MAX_EXAMPLES = 12
SEED = 20261202
# What only an admin may call (schemathesis path templates, as in /openapi.json).
ADMIN_OPERATIONS = (
    ("POST", "/api/v1/events"),
    ("PATCH", "/api/v1/events/{event_id}"),
    ("POST", "/api/v1/tickets/{code}/check-in"),
    ("GET", "/api/v1/admin/messages"),
    ("POST", "/api/v1/admin/messages/{message_id}/resend"),
)

# They end the very session whose token signs the whole run (every later request would be a 401):
# left out here, tested in tests/integration/test_api_sessions.py.
SESSION_ENDING = r"^/api/v1/(auth/logout|users/me/sign-out-everywhere|users/me/password)$"


def _token(url: str, email: str, password: str) -> str:
    response = httpx.post(f"{url}/api/v1/auth/token", data={"username": email, "password": password}, timeout=30)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _config(customer: str, admin: str) -> str:
    """The repository's schemathesis.toml, with the bearer tokens: the admin's on admin operations.
    (TOML wants top-level keys before any table, so the default header comes first.)"""
    lines = [f'headers = {{ Authorization = "Bearer {customer}" }}', "", (ROOT / "schemathesis.toml").read_text()]
    for method, path in ADMIN_OPERATIONS:
        lines += ["[[operations]]", f'include-path = "{path}"', f'include-method = "{method}"',
                  f'headers = {{ Authorization = "Bearer {admin}" }}', ""]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    """``ticketing serve`` on the migrated database of each backend, with an admin and a customer;
    and the schemathesis config that signs the run's requests with their tokens."""
    directory = tmp_path_factory.mktemp("schemathesis")
    admin_email, customer_email, password = (
        f"st-admin-{uuid.uuid4().hex[:8]}@example.com", f"st-customer-{uuid.uuid4().hex[:8]}@example.com", "st-password-1")
    run_cli(database_url, "create-admin", "--email", admin_email, "--password", password)
    server = ServerProcess(database_url, log_path=directory / "server.log")
    server.start()
    try:
        registered = httpx.post(f"{server.url}/api/v1/auth/register", json={
            "email": customer_email, "password": password, "name": "Schemathesis"}, timeout=30)
        assert registered.status_code == 201, registered.text
        config = directory / "schemathesis.toml"
        config.write_text(_config(_token(server.url, customer_email, password), _token(server.url, admin_email, password)))
        yield server, config
    finally:
        server.stop()


@pytest.mark.timeout(900)  # the run itself is bounded by examples; this only stops a hang
def test_schemathesis_finds_nothing(served: tuple[ServerProcess, Path], tmp_path: Path) -> None:
    server, config = served
    spec = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    operations = sum(len(methods) for methods in spec["paths"].values())
    command = [
        ST, "--config-file", str(config), "--no-color", "run", f"{server.url}/openapi.json",
        "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1",
        "--exclude-path-regex", SESSION_ENDING,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-20_000:]
    # It must have reached the API: the whole schema loaded, every selected operation tested (st
    # leaves out what would revoke its own token, such as signing out), the generating phases run.
    selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", output)
    assert selected and int(selected[2]) == operations and selected[1] == selected[3], output[-5_000:]
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in output, output[-5_000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", output)
    assert generated and generated[1] == generated[2], output[-5_000:]
