"""HTTP-level attacks of issue 9 (items 3, 7-12): each test failed on the code before its fix.

In-process on both databases where a database is involved (the ``client``/``app`` fixtures), on
an app of a test's own settings (``make_app``, SQLite) where a setting is, and against a real
``ticketing serve`` where only a socket shows it (marked slow).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import selectors
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import admin, create_event, customer, unique_email
from tests.support.credentials import PASSWORD
from tests.support.raw_http import read_answer
from tests.support.server import TICKETING, ServerProcess, cli_env
from ticketing.api.web import content_security_policy
from ticketing.db.migrate import upgrade

LOOPBACK = ("127.0.0.1", 4711)
INDEX_HTML = (
    '<!doctype html><html><head><style>body{margin:0}</style>'
    '<link rel="stylesheet" href="styles.css" media="print" onload="this.media=\'all\'"></head>'
    '<body><app-root></app-root><script src="main.js" type="module"></script></body></html>'
)


def peer_client(app: Any, peer: tuple[str, int] = LOOPBACK) -> httpx.AsyncClient:
    """An in-process client whose connection comes from ``peer``."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False, client=peer),
                             base_url="http://testserver")


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    """A built web app of a few files, so that web tests do not depend on `scripts/web-build`."""
    root = tmp_path / "browser"
    root.mkdir()
    (root / "index.html").write_text(INDEX_HTML)
    (root / "main.js").write_text("console.log('app');\n")
    (root / "styles.css").write_text("body { color: black; }\n")
    return root


@pytest.fixture
def ticketing_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of the "ticketing" loggers (which do not propagate), at INFO and above."""
    logger = logging.getLogger("ticketing")
    level = logger.level
    logger.addHandler(caplog.handler)
    logger.setLevel(logging.INFO)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(level)


# -- 3: a NUL byte in a web-app path ----------------------------------------------------------
@pytest.mark.parametrize("path", ["/main.js%00.png", "/%00", "/events/%00x", "/main.js%0d"])
async def test_nul_or_control_character_in_a_web_path_is_404_without_a_traceback(make_app, web_dir, ticketing_log, path):
    """Before: ``Path.resolve()`` raised "embedded null byte": a 500 and a logged traceback."""
    app = await make_app(web_dir=web_dir)
    async with peer_client(app) as http:
        response = await http.get(path)
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not_found"
        assert (await http.get("/main.js")).status_code == 200  # the real file is still served
    assert not [r for r in ticketing_log.records if r.exc_info or r.levelno >= logging.ERROR]


# -- 7: log forging ---------------------------------------------------------------------------
async def test_crlf_in_the_path_does_not_forge_an_access_log_line(client, ticketing_log):
    """Before: the access line held the decoded path raw: CR/LF began a forged line."""
    forged = "/api/v1/events/1%0d%0a2026-01-01 00:00:00 INFO [x] ticketing.access: GET /admin 200%1b[2J"
    assert (await client.get(forged)).status_code in (404, 422)
    access = [r for r in ticketing_log.records if r.name == "ticketing.access"]
    assert access, "no access line was logged"
    line = access[-1].getMessage()
    assert "\r" not in line and "\n" not in line and "\x1b" not in line
    assert "\\r\\n2026-01-01" in line and "\\x1b[2J" in line
    # And as the service's own handler writes it: one line.
    handler = next(h for h in logging.getLogger("ticketing").handlers if h is not ticketing_log.handler)
    assert handler.format(access[-1]).count("\n") == 0


def test_the_service_log_format_keeps_every_record_on_one_line():
    """Before: any logged value (an email, a header) with CR/LF was written raw, by every logger."""
    from ticketing.api.logs import OneLineFormatter

    formatter = OneLineFormatter("%(levelname)s %(name)s: %(message)s")
    record = logging.LogRecord("ticketing.x", logging.WARNING, __file__, 1, "sign-in for %s", ("a@b.c\r\nERROR forged",), None)
    assert formatter.format(record) == "WARNING ticketing.x: sign-in for a@b.c\\r\\nERROR forged"
    try:
        raise ValueError("bad\nERROR forged line\x00")
    except ValueError as error:
        exc_info = (ValueError, error, error.__traceback__)
        record = logging.LogRecord("ticketing.x", logging.ERROR, __file__, 1, "failed", (), exc_info)
    lines = formatter.format(record).split("\n")
    assert lines[0] == "ERROR ticketing.x: failed"
    assert all(line.startswith("    ") for line in lines[1:]), lines  # only a record's first line starts at column 0
    assert "\x00" not in "".join(lines) and any("\\x00" in line for line in lines)


# -- 8: headers -------------------------------------------------------------------------------
async def test_the_web_app_sends_a_content_security_policy_that_allows_only_its_build(make_app, web_dir):
    """Before: no Content-Security-Policy, X-Content-Type-Options, framing or Referrer-Policy."""
    app = await make_app(web_dir=web_dir)
    async with peer_client(app) as http:
        for path in ("/", "/events/1", "/main.js"):
            response = await http.get(path)
            assert response.status_code == 200
            csp = response.headers["content-security-policy"]
            directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
            assert directives["default-src"] == "'self'"
            assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
            assert directives["img-src"] == "'self' data:"  # the tickets' QR codes are data: URLs
            # Scripts: the app's files, and the build's one inline handler by its hash; nothing else.
            script = directives["script-src"].split()
            assert script[:2] == ["'self'", "'unsafe-hashes'"] and len(script) == 3 and script[2].startswith("'sha256-")
            assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in csp
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["referrer-policy"] == "no-referrer"


def test_the_csp_hashes_exactly_the_inline_code_of_the_build():
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(b"this.media='all'").digest()).decode()
    assert f"'sha256-{digest}'" in content_security_policy(INDEX_HTML)
    plain = content_security_policy('<html><script src="main.js"></script></html>')
    assert "script-src 'self';" in plain  # no inline code: no hash, no 'unsafe-hashes'
    inline = content_security_policy("<script>boot()</script>")
    digest = base64.b64encode(hashlib.sha256(b"boot()").digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in inline


async def test_api_answers_with_personal_data_are_not_stored_by_caches(client):
    """Before: no Cache-Control on the token, on /users/me or on bookings."""
    email = unique_email()
    registered = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "Ann"})
    token = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    answers = [
        registered, token, await client.get("/api/v1/users/me", headers=headers),
        await client.get("/api/v1/bookings", headers=headers),
        await client.get("/api/v1/users/me"),  # an error answer too
        await client.post("/api/v1/auth/token", data={"username": email, "password": "wrong-password"}),
    ]
    for answer in answers:
        assert answer.headers.get("cache-control") == "no-store", (answer.request.url, answer.headers)
        assert answer.headers["x-content-type-options"] == "nosniff"
    # The public catalogue is the same for everyone: it may be cached, unless asked for with a
    # token (an event then answers the caller's own my_remaining).
    catalogue = await client.get("/api/v1/events")
    assert catalogue.status_code == 200 and "cache-control" not in catalogue.headers
    mine = await client.get("/api/v1/events", headers=headers)
    assert mine.status_code == 200 and mine.headers.get("cache-control") == "no-store"


@pytest.mark.parametrize("path", ["/api/v1/events/", "/healthz/", "/api/v1/users/me/"])
async def test_a_trailing_slash_is_not_redirected_to_the_host_the_client_named(client, path):
    """Before: 307 to http://evil.example/... (Starlette built Location from the Host header)."""
    response = await client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 404, response.headers
    assert "location" not in response.headers
    assert response.json()["code"] == "not_found"


# -- 9: /metrics ------------------------------------------------------------------------------
async def test_metrics_are_refused_to_other_networks(client):
    """Before: /metrics answered anyone (the in-process client comes from 203.0.113.7)."""
    response = await client.get("/metrics")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert "ticketing_" not in response.text


async def test_metrics_are_served_to_loopback_by_default_and_with_the_token(make_app):
    token = "m" * 32
    app = await make_app(metrics_token=token)
    async with peer_client(app) as local, peer_client(app, ("203.0.113.9", 1)) as remote:
        assert (await local.get("/metrics")).status_code == 200
        assert (await remote.get("/metrics")).status_code == 403
        assert (await remote.get("/metrics", headers={"Authorization": "Bearer " + "x" * 32})).status_code == 403
        scraped = await remote.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert scraped.status_code == 200 and "ticketing_http_request_duration_seconds" in scraped.text
    # Token only: an empty allow list lets no network in.
    strict = await make_app(metrics_allow="")
    async with peer_client(strict) as local:
        assert (await local.get("/metrics")).status_code == 403


# -- 10: weak secrets and files ---------------------------------------------------------------
def test_a_short_signing_key_is_refused_at_start(tmp_path):
    """Before: a 1-byte TICKETING_SECRET_KEY was accepted and signed tokens."""
    done = subprocess.run(
        [TICKETING, "serve", "--port", "1"], env=cli_env(f"sqlite:///{tmp_path / 'x.db'}", {"TICKETING_SECRET_KEY": "k"}),
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "at least 32 bytes" in done.stderr
    assert not (tmp_path / "x.db").exists()  # refused before anything was created


async def test_the_sqlite_database_and_its_wal_are_readable_by_the_owner_only(make_app, tmp_path):
    """Before: ticketing.db (password hashes) was created with the umask's mode, 0644."""
    previous = os.umask(0o022)
    try:
        app = await make_app(database_url=f"sqlite:///{tmp_path / 'private' / 'shop.db'}")
        # make_app leaves a database_url of the test's own alone: migrated here, as by `serve`.
        await asyncio.to_thread(upgrade, app.state.services.settings.database_url)
        async with peer_client(app) as http:
            await customer(http)  # a write: the -wal and -shm files exist while the engine is open
    finally:
        os.umask(previous)
    files = sorted((tmp_path / "private").glob("shop.db*"))
    assert {f.name for f in files} >= {"shop.db", "shop.db-wal", "shop.db-shm"}
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, (file, oct(file.stat().st_mode))


@pytest.mark.parametrize("password", ["password", "PASSWORD1", "12345678", "qwertyuiop", "        ", " \t \t \t \t"])
async def test_common_or_blank_passwords_are_refused_at_sign_up(client, password):
    """Before: "password" and eight spaces were accepted (only the length was checked)."""
    response = await client.post("/api/v1/auth/register", json={"email": unique_email(), "password": password, "name": "A"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["detail"][0]["loc"] == ["body", "password"]
    assert "common" in body["detail"][0]["msg"] or "spaces" in body["detail"][0]["msg"]


# -- 11: proxies ------------------------------------------------------------------------------
async def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(make_app):
    """Without TICKETING_TRUSTED_PROXIES a client cannot choose its address (the throttle's key);
    behind a trusted proxy the throttle sees the real client, not the proxy."""
    email = unique_email()
    plain = await make_app()
    async with peer_client(plain, ("203.0.113.20", 1)) as http:
        await http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "A"})
        for attempt in range(5):  # a new "address" each time: ignored, so one client
            wrong = await http.post("/api/v1/auth/token", data={"username": email, "password": "wrong-pass"},
                                    headers={"X-Forwarded-For": f"198.51.100.{attempt}"})
            assert wrong.status_code == 401
        throttled = await http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD},
                                    headers={"X-Forwarded-For": "198.51.100.99"})
        assert throttled.status_code == 429

    proxied = await make_app(trusted_proxies="10.0.0.0/8", database_url=plain.state.services.settings.database_url)
    async with peer_client(proxied, ("10.1.2.3", 1)) as proxy:
        other = unique_email()
        await proxy.post("/api/v1/auth/register", json={"email": other, "password": PASSWORD, "name": "B"},
                         headers={"X-Forwarded-For": "192.0.2.1"})
        for _ in range(5):
            wrong = await proxy.post("/api/v1/auth/token", data={"username": other, "password": "wrong-pass"},
                                     headers={"X-Forwarded-For": "192.0.2.1"})
            assert wrong.status_code == 401
        same_client = await proxy.post("/api/v1/auth/token", data={"username": other, "password": PASSWORD},
                                       headers={"X-Forwarded-For": "192.0.2.1"})
        assert same_client.status_code == 429
        # Another client behind the same proxy is not throttled by the first one's failures.
        another_client = await proxy.post("/api/v1/auth/token", data={"username": other, "password": PASSWORD},
                                          headers={"X-Forwarded-For": "192.0.2.2"})
        assert another_client.status_code == 200


@pytest.mark.slow  # a real `ticketing serve` process
def test_live_server_does_not_believe_forwarded_for_from_loopback(live_server: ServerProcess):
    """Before: uvicorn trusted X-Forwarded-For from 127.0.0.1 (its default): a local client
    claiming another address was that address (here: refused /metrics, allowed to loopback)."""
    response = httpx.get(f"{live_server.url}/metrics", headers={"X-Forwarded-For": "203.0.113.5"}, timeout=10)
    assert response.status_code == 200


# -- 12: slow clients -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def impatient_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("impatient")
    server = ServerProcess(f"sqlite:///{directory / 'impatient.db'}", log_path=directory / "server.log",
                           env={"TICKETING_HEADER_TIMEOUT": "1", "TICKETING_BODY_TIMEOUT": "1"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _closed_by_server(server: ServerProcess, sent: bytes) -> bool:
    """Sends ``sent`` and waits (up to 30 s, far above the 1 s deadlines) for the server to close
    the connection without an answer; False if it is still open then."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(sent)
        try:
            return sock.recv(4096) == b""
        except TimeoutError:
            return False


@pytest.mark.slow  # a real `ticketing serve` process
@pytest.mark.parametrize("sent", [
    b"",  # connects and says nothing
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ",  # a head that never ends (slowloris)
    b"POST /api/v1/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100\r\n\r\n{\"email\": ",  # a body that never ends
], ids=["idle", "slow-head", "slow-body"])
def test_live_server_closes_connections_of_clients_too_slow_to_send_a_request(impatient_server, sent):
    """Before: uvicorn kept such a connection open for as long as the client liked."""
    assert _closed_by_server(impatient_server, sent)
    assert httpx.get(f"{impatient_server.url}/healthz", timeout=10).status_code == 200


# -- HTTP edges of the contract ---------------------------------------------------------------
def _chunked_100_kb() -> Iterator[bytes]:
    """A body httpx sends with Transfer-Encoding: chunked (a generator: no Content-Length)."""
    for _ in range(100):
        yield b" " * 1024


@pytest.mark.slow  # a real `ticketing serve` process: a socket carries the chunked framing
def test_live_chunked_body_over_64_kib_is_refused_before_any_route_acts(live_server: ServerProcess):
    """Before: only a route that read its body refused it: a chunked 100 KB sign-out answered 204
    and ended the session, a cancel and a GET answered as if there were no body (a Content-Length
    over 64 KiB was a 413 on every route)."""
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        email = unique_email()
        assert http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "A"}).status_code == 201
        token = http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        for method, path in [("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/bookings/1/cancel"),
                             ("GET", "/api/v1/users/me"), ("GET", "/healthz")]:
            refused = http.request(method, path, content=_chunked_100_kb(), headers=headers)
            assert refused.request.headers["transfer-encoding"] == "chunked"
            assert "content-length" not in refused.request.headers
            assert refused.status_code == 413, (method, path, refused.status_code, refused.text)
            assert refused.json()["code"] == "payload_too_large" and refused.headers.get("x-request-id")
        assert http.get("/api/v1/users/me", headers=headers).status_code == 200  # not signed out
        # A chunked body within the limit is still read whole by the route.
        within = http.post("/api/v1/auth/logout", content=iter([b" "] * 10), headers=headers)
        assert within.status_code == 204, within.text
        assert http.get("/api/v1/users/me", headers=headers).status_code == 401


MAX_CONCURRENCY = 16  # the setting's minimum


@pytest.fixture(scope="module")
def crowded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("crowded")
    server = ServerProcess(f"sqlite:///{directory / 'crowded.db'}", log_path=directory / "server.log",
                           env={"TICKETING_MAX_CONCURRENCY": str(MAX_CONCURRENCY), "TICKETING_BODY_TIMEOUT": "120"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _first_answered(socks: list[socket.socket], count: int, timeout: float = 60) -> set[socket.socket]:
    """Waits until at least ``count`` of ``socks`` have an answer to read (or ``timeout``)."""
    answered: set[socket.socket] = set()
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ)
        while len(answered) < count and (left := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(left):
                answered.add(key.fileobj)
                selector.unregister(key.fileobj)
    return answered


@pytest.mark.slow  # a real `ticketing serve` process
def test_live_requests_past_max_concurrency_get_the_contracts_503(crowded_server: ServerProcess):
    """Before: uvicorn's limit_concurrency answered its own plain-text 503 (no JSON code, no
    Retry-After, no X-Request-ID), and counted open connections too: all 20 were refused."""
    extra = 4
    body = b"{}"  # a sign-up without its fields: 422 once it is in, and nothing written
    head = (b"POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    socks = [socket.create_connection(("127.0.0.1", crowded_server.port), timeout=30)
             for _ in range(MAX_CONCURRENCY + extra)]
    try:
        for sock in socks:
            sock.sendall(head)  # each request then waits in the route for its body
        refused = _first_answered(socks, extra)
        assert len(refused) == extra
        for sock in refused:
            status, headers, answer = read_answer(sock)
            assert status == 503, (status, headers, answer)
            assert json.loads(answer) == {"detail": "The service is temporarily unavailable. Please retry.",
                                          "code": "unavailable"}
            assert headers["retry-after"] == "2" and headers.get("x-request-id")
        # Full, but alive: the liveness probe is not counted (a probe that saw 503 could restart it).
        assert httpx.get(f"{crowded_server.url}/healthz", timeout=10).status_code == 200
        held = [sock for sock in socks if sock not in refused]
        for sock in held:
            sock.sendall(body)
        for sock in held:
            status, _, answer = read_answer(sock)
            assert status == 422 and json.loads(answer)["code"] == "validation_error", (status, answer)
    finally:
        for sock in socks:
            sock.close()
    # The requests in flight are done: the server serves again (once each has left the count).
    deadline = time.monotonic() + 30
    while (status := httpx.get(f"{crowded_server.url}/api/v1/events", timeout=10).status_code) != 200:
        assert time.monotonic() < deadline, status


# -- HEAD wherever GET -------------------------------------------------------------------------
_PER_ANSWER = ("date", "x-request-id", "content-security-policy")


async def test_head_answers_as_get_without_a_body_and_405_allows_it(make_app, web_dir):
    """Before: HEAD was 405 on every GET route (FastAPI adds no HEAD), and Allow left it out."""
    app = await make_app(web_dir=web_dir)
    async with peer_client(app) as http:
        event = await create_event(http, await admin(http, app))
        for path in ("/healthz", f"/api/v1/events/{event['id']}", "/api/v1/events", "/api/v1/events/999999",
                     "/", "/main.js", "/events/1", "/openapi.json"):
            got, head = await http.get(path), await http.head(path)
            assert head.status_code == got.status_code, (path, head.status_code, head.text)
            assert head.content == b"", path
            assert head.headers["content-length"] == str(len(got.content)), path
            assert ({k: v for k, v in head.headers.items() if k not in _PER_ANSWER}
                    == {k: v for k, v in got.headers.items() if k not in _PER_ANSWER}), path
        for method, path, allow in [("DELETE", "/healthz", "GET, HEAD"),
                                    ("PUT", f"/api/v1/events/{event['id']}", "GET, HEAD, PATCH"),
                                    ("HEAD", "/api/v1/auth/token", "POST")]:
            refused = await http.request(method, path)
            assert refused.status_code == 405, (method, path, refused.status_code)
            assert refused.headers["allow"] == allow, (method, path)
        assert (await http.head("/api/v1/nothing-here")).status_code == 404


@pytest.mark.slow  # a real `ticketing serve` process
def test_live_head_answers_as_get(live_server: ServerProcess):
    got = httpx.get(f"{live_server.url}/healthz", timeout=10)
    head = httpx.head(f"{live_server.url}/healthz", timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
