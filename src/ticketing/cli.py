"""The ``ticketing`` console script."""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

import typer

from ticketing.config import ConfigError, Settings

app = typer.Typer(help="Event ticket booking that never oversells.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)


def _settings() -> Settings:
    settings = Settings()
    try:
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
    _migrate(Settings())
    typer.echo("database is up to date")


SERVERS = ("uvicorn", "granian")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes sharing the database.")] = 1,
    server: Annotated[str, typer.Option(help="ASGI server: uvicorn (uvloop + httptools) or granian (if installed).",
                                        envvar="TICKETING_SERVER")] = "uvicorn",
) -> None:
    """Apply pending migrations, then serve the API and the web app."""
    if server not in SERVERS:
        typer.echo(f"ticketing: unknown server {server!r}: choose one of {', '.join(SERVERS)}", err=True)
        raise typer.Exit(2)
    settings = _settings()
    _migrate(settings)  # once, before any worker starts
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="ticketing-metrics-")
    typer.echo(f"ticketing: serving on http://{host}:{port} ({workers} worker(s), {server}, database {settings.database_url})")
    if server == "granian":
        _serve_granian(host, port, workers)
        return
    import uvicorn

    uvicorn.run(
        "ticketing.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=5,
    )


def _serve_granian(host: str, port: int, workers: int) -> None:
    try:
        from granian import Granian
        from granian.constants import Interfaces, Loops
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


async def _with_store(work):  # type: ignore[no-untyped-def]
    from ticketing.app.passwords import Argon2Passwords
    from ticketing.db.database import Database
    from ticketing.db.repositories import SqlStore

    settings = Settings()
    db = Database.from_settings(settings)
    try:
        return await work(SqlStore(db), Argon2Passwords(settings.argon2_time_cost, settings.argon2_memory_kib))
    finally:
        await db.dispose()


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's email.")],
    password: Annotated[str, typer.Option(help="At least 8 characters.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "Admin",
) -> None:
    """Create an admin account, or promote the account with this email."""
    from ticketing.app import accounts

    if not 8 <= len(password) <= 128:
        typer.echo("ticketing: the password must be 8 to 128 characters", err=True)
        raise typer.Exit(2)
    _migrate(Settings())
    user = asyncio.run(_with_store(lambda store, hasher: accounts.create_admin(
        store, hasher, email=email, password=password, name=name)))
    typer.echo(f"admin {user.email} (id {user.id}) is ready")


DEMO_ADMIN = ("admin@example.com", "admin-password", "Demo Admin")
DEMO_CUSTOMER = ("fan@example.com", "fan-password", "Demo Fan")


@app.command()
def demo() -> None:
    """Load sample events and accounts and print how to sign in."""
    from ticketing.app import accounts
    from ticketing.app.ports import NewEvent
    from ticketing.domain.errors import EmailTaken

    settings = Settings()
    _migrate(settings)
    soon = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=30)
    samples = [
        NewEvent("Bangkok Jazz Night", "Three bands, one night.", "Lumpini Park", soon, 500, Decimal("1500.00"), "THB", 6),
        NewEvent("Indie Rooftop Session", "An intimate acoustic set.", "Silom Rooftop", soon + timedelta(days=7), 50, Decimal("800.00"), "THB", 4),
        NewEvent("Symphony Under the Stars", "Beethoven's Ninth.", "Thailand Cultural Centre", soon + timedelta(days=14), 2000, Decimal("2500.00"), "THB", 10),
    ]

    async def load(store, hasher):  # type: ignore[no-untyped-def]
        await accounts.create_admin(store, hasher, email=DEMO_ADMIN[0], password=DEMO_ADMIN[1], name=DEMO_ADMIN[2])
        try:
            await accounts.register(store, hasher, email=DEMO_CUSTOMER[0], password=DEMO_CUSTOMER[1], name=DEMO_CUSTOMER[2])
        except EmailTaken:
            pass
        return [await store.events.add(event) for event in samples]

    created = asyncio.run(_with_store(load))
    base = "http://127.0.0.1:8000"
    typer.echo(f"Loaded {len(created)} events (ids {', '.join(str(e.id) for e in created)}).")
    typer.echo(f"Admin:    {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}")
    typer.echo(f"Customer: {DEMO_CUSTOMER[0]} / {DEMO_CUSTOMER[1]}")
    typer.echo("Start the server with `ticketing serve`, then book two tickets:")
    typer.echo(
        f"  TOKEN=$(curl -s -d 'username={DEMO_CUSTOMER[0]}&password={DEMO_CUSTOMER[1]}' {base}/api/v1/auth/token"
        " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')"
    )
    typer.echo(
        f"  curl -s -X POST {base}/api/v1/bookings -H \"Authorization: Bearer $TOKEN\""
        f" -H 'Content-Type: application/json' -H \"Idempotency-Key: $(uuidgen || date +%s%N)\""
        f" -d '{{\"event_id\": {created[0].id}, \"quantity\": 2}}'"
    )


def _register_storm() -> None:
    try:
        from ticketing.storm.command import storm
    except ImportError:
        return
    app.command("storm")(storm)


_register_storm()
