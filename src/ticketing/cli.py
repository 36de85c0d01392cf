"""The ``ticketing`` console script."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from ticketing.config import ConfigError, Settings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from ticketing.app.ports import PasswordHasher, Store
    from ticketing.domain.models import Event

T = TypeVar("T")

app = typer.Typer(help="Event ticket booking that never oversells.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)


def _settings(*, signs: bool = True) -> Settings:
    """The settings, or one line on stderr and exit status 2 when one is wrong (no traceback).
    ``signs``: the command issues or checks tokens, so it needs the signing key."""
    try:
        settings = Settings()  # a ConfigError from a setting's own check (the default time zone)
        if signs:
            settings.signing_key()  # fails fast on PostgreSQL without a key; creates SQLite's once
    except ConfigError as error:
        typer.echo(f"ticketing: {error}", err=True)
        raise typer.Exit(2) from None
    return settings


def _migrate(settings: Settings) -> None:
    from ticketing.db.migrate import upgrade

    upgrade(settings.database_url)


@app.command()
def migrate() -> None:
    """Apply pending database migrations and exit."""
    _migrate(_settings(signs=False))
    typer.echo("database is up to date")


SERVERS = ("uvicorn", "granian")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes sharing the database.")] = 1,
    server: Annotated[str, typer.Option(help="ASGI server: uvicorn (uvloop + httptools) or granian (if installed).",
                                        envvar="TICKETING_SERVER")] = "uvicorn",
    migrate: Annotated[bool, typer.Option(help="Apply pending migrations first; --no-migrate when `ticketing migrate` "
                                               "ran once for many hosts (docs/deploy.md).")] = True,
) -> None:
    """Apply pending migrations (unless --no-migrate), then serve the API and the web app."""
    if server not in SERVERS:
        typer.echo(f"ticketing: unknown server {server!r}: choose one of {', '.join(SERVERS)}", err=True)
        raise typer.Exit(2)
    settings = _settings()
    if migrate:
        _migrate(settings)  # once, before any worker starts
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="ticketing-metrics-")
    typer.echo(f"ticketing: serving on http://{host}:{port} ({workers} worker(s), {server}, database {settings.database_url})")
    if server == "granian":
        _serve_granian(host, port, workers)
        return
    import uvicorn

    from ticketing.api.overload import server_backstop
    from ticketing.api.slow_clients import DeadlineHttpToolsProtocol

    uvicorn.run(
        "ticketing.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        loop="uvloop",
        # httptools with deadlines for the request head and body (api/slow_clients.py).
        http=DeadlineHttpToolsProtocol,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=settings.keep_alive_timeout,
        # The app answers the contract's 503 past max_concurrency requests in flight
        # (api/overload.py); uvicorn's own plain 503 only past a flood of connections.
        limit_concurrency=server_backstop(settings.max_concurrency),
        # X-Forwarded-* are applied by the app itself, from TICKETING_TRUSTED_PROXIES only.
        proxy_headers=False,
    )


def _serve_granian(host: str, port: int, workers: int) -> None:
    try:
        from granian import Granian  # type: ignore[import-not-found]  # optional: not in the lock
        from granian.constants import Interfaces, Loops  # type: ignore[import-not-found]  # optional, as above
    except ImportError:
        typer.echo("ticketing: granian is not installed (pip install granian)", err=True)
        raise typer.Exit(2) from None
    Granian(
        "ticketing.api.app:create_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,
        websockets=False,
        log_access=False,
        workers_kill_timeout=5,
    ).serve()


async def _with_store(work: Callable[[Store, PasswordHasher], Awaitable[T]]) -> T:
    from ticketing.app.passwords import Argon2Passwords
    from ticketing.db.database import Database
    from ticketing.db.repositories import SqlStore

    settings = _settings(signs=False)
    db = Database.from_settings(settings)
    try:
        return await work(SqlStore(db), Argon2Passwords.from_settings(settings))
    finally:
        await db.dispose()


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's email.")],
    password: Annotated[str, typer.Option(help="At least 8 characters.")],
    name: Annotated[str | None, typer.Option(
        help="Display name (a new account: default Admin; a promoted one keeps its own unless given).")] = None,
) -> None:
    """Create an admin account, or promote the account with this email and reset its password
    (which signs it out everywhere: every token issued before answers 401)."""
    from ticketing.api.schemas import normalised_email
    from ticketing.app import accounts
    from ticketing.domain.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, acceptable_password

    try:
        email = normalised_email(email)  # the same rule as sign-up
        if name is not None and not name.strip():
            raise ValueError("the name must not be blank")
        if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
            raise ValueError(f"the password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")
        acceptable_password(password)  # the same rule as sign-up and password change
    except ValueError as problem:
        typer.echo(f"ticketing: {problem}", err=True)
        raise typer.Exit(2) from None
    _migrate(_settings(signs=False))
    user = asyncio.run(_with_store(lambda store, hasher: accounts.create_admin(
        store, hasher, email=email, password=password, name=name, now=datetime.now(UTC))))
    typer.echo(f"admin {user.email} (id {user.id}) is ready")


DEMO_ADMIN = ("admin@example.com", "admin-password", "Demo Admin")
DEMO_CUSTOMER = ("fan@example.com", "fan-password", "Demo Fan")


# Where `ticketing serve` listens with its default --host and --port.
DEMO_DEFAULT_URL = "http://127.0.0.1:8000"


@app.command()
def demo(
    url: Annotated[str, typer.Option(help="Base URL of the running server that the printed commands call, "
                                          "e.g. http://127.0.0.1:9000 after `ticketing serve --port 9000`.")] = DEMO_DEFAULT_URL,
) -> None:
    """Load sample events and accounts and print how to sign in and book at URL."""
    import shlex
    from urllib.parse import urlsplit

    from ticketing.app import accounts
    from ticketing.app.ports import NewEvent
    from ticketing.domain.errors import EmailTaken
    from ticketing.domain.models import DEFAULT_TYPE_NAME, Checkout

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        typer.echo(f"ticketing: --url must be an http(s) URL like {DEMO_DEFAULT_URL}, not {url!r}", err=True)
        raise typer.Exit(2)
    base = url.rstrip("/")
    settings = _settings()
    _migrate(settings)
    soon = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=30)
    zone = "Asia/Bangkok"
    samples = [
        NewEvent("Bangkok Jazz Night", "Three bands, one night.", "Lumpini Park", soon, 500, "THB", 6, zone,
                 ((DEFAULT_TYPE_NAME, Decimal("1500.00"), None),)),
        NewEvent("Indie Rooftop Session", "An intimate acoustic set.", "Silom Rooftop",
                 soon + timedelta(days=7), 50, "THB", 4, zone, ((DEFAULT_TYPE_NAME, Decimal("800.00"), None),)),
        NewEvent("Symphony Under the Stars", "Beethoven's Ninth.", "Thailand Cultural Centre",
                 soon + timedelta(days=14), 2000, "THB", 10, zone, ((DEFAULT_TYPE_NAME, Decimal("2500.00"), None),)),
        # Checkout with payment: three types (the front row capped), holds of 15 minutes, and at
        # most 4 tickets per customer across all their bookings.
        NewEvent("Songkran Festival Main Stage", "Pay within 15 minutes to keep your tickets.", "Impact Arena",
                 soon + timedelta(days=21), 300, "THB", 6, zone,
                 (("Front row", Decimal("3500.00"), 40), ("Standing", Decimal("1200.00"), None),
                  ("Student", Decimal("600.00"), None)),
                 checkout=Checkout.PAYMENT, hold_minutes=15, per_customer_limit=4),
    ]

    async def load(store: Store, hasher: PasswordHasher) -> list[Event]:
        await accounts.create_admin(store, hasher, email=DEMO_ADMIN[0], password=DEMO_ADMIN[1], name=DEMO_ADMIN[2],
                                    now=datetime.now(UTC))
        with contextlib.suppress(EmailTaken):  # a second run keeps the customer it made before
            await accounts.register(store, hasher, email=DEMO_CUSTOMER[0], password=DEMO_CUSTOMER[1], name=DEMO_CUSTOMER[2])
        return [await store.events.add(event) for event in samples]

    created = asyncio.run(_with_store(load))
    typer.echo(f"Loaded {len(created)} events (ids {', '.join(str(e.id) for e in created)}).")
    typer.echo(f"Admin:    {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}")
    typer.echo(f"Customer: {DEMO_CUSTOMER[0]} / {DEMO_CUSTOMER[1]}")
    typer.echo(f"With the server running at {base}, book two tickets:")
    typer.echo(
        f"  TOKEN=$(curl -s -d 'username={DEMO_CUSTOMER[0]}&password={DEMO_CUSTOMER[1]}'"
        f" {shlex.quote(base + '/api/v1/auth/token')}"
        " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')"
    )
    typer.echo(
        f"  curl -s -X POST {shlex.quote(base + '/api/v1/bookings')} -H \"Authorization: Bearer $TOKEN\""
        f" -H 'Content-Type: application/json' -H \"Idempotency-Key: $(python3 -c 'import uuid; print(uuid.uuid4())')\""
        f" -d '{{\"event_id\": {created[0].id}, \"quantity\": 2}}'"
    )
    paid = created[-1]
    typer.echo(
        f"Event {paid.id} ({paid.name}) sells with payment: a booking names its ticket types, for example"
        f" -d '{{\"event_id\": {paid.id}, \"items\": [{{\"ticket_type_id\": {paid.ticket_types[1].id},"
        f" \"quantity\": 2}}]}}', and is held PENDING for {paid.hold_minutes} minutes until paid"
        " (docs/payments.md)."
    )


def _register_storm() -> None:
    try:
        from ticketing.storm.command import storm
    except ImportError:
        return
    app.command("storm")(storm)


_register_storm()


def _register_mail() -> None:
    from ticketing.mail.cli import mail_test, mail_worker  # light: their work imports lazily

    app.command("mail-worker")(mail_worker)
    app.command("mail-test")(mail_test)


_register_mail()
