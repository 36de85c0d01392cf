"""Settings, read once from the environment (prefix ``TICKETING_``)."""

from __future__ import annotations

import os
import secrets
from email.utils import parseaddr
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Literal

from limits import parse as parse_rate_limit
from pydantic import AfterValidator, BeforeValidator, Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ticketing.mail.smtp_url import parse_smtp_url
from ticketing.timezones import DEFAULT_TIMEZONE, is_known

DEFAULT_DATABASE_URL = "sqlite:///ticketing.db"
# HS256 keys shorter than the hash output (32 bytes) are refused (RFC 7518, 3.2).
MIN_SECRET_KEY_BYTES = 32


def _comma_separated(value: object) -> object:
    # An environment variable says a list as "10.0.0.0/8, 192.168.1.7" (or nothing for none).
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


LOOPBACK: tuple[IPv4Network | IPv6Network, ...] = (IPv4Network("127.0.0.0/8"), IPv6Network("::1/128"))


def _rate_limit(text: str) -> str:
    parse_rate_limit(text)  # ValueError unless it is a limit like "30/minute" or "5 per second"
    return text


# A rate limit as the `limits` library writes one (api/rate_limit.py counts it).
RateLimit = Annotated[str, AfterValidator(_rate_limit)]
# Networks from the environment: a comma-separated list of addresses or CIDRs.
Networks = Annotated[list[IPvAnyNetwork], NoDecode, BeforeValidator(_comma_separated)]


class ConfigError(RuntimeError):
    """A setting makes it impossible to start; the message is one line for the operator."""


def _timezone(name: str) -> str:
    # A ConfigError, not a ValueError: pydantic lets it through as it is, so Settings() itself
    # stops the start with this one line.
    if not is_known(name):
        raise ConfigError(f'TICKETING_DEFAULT_TIMEZONE must be an IANA time zone name like "Asia/Bangkok", not {name!r}')
    return name


def _smtp_url(url: SecretStr | None) -> SecretStr | None:
    # Checked at start: a mistyped URL stops the service with one line (never the password),
    # rather than leaving every message waiting.
    if url is None or not url.get_secret_value().strip():
        return None
    try:
        parse_smtp_url(url.get_secret_value())
    except ValueError as problem:
        raise ConfigError(f"TICKETING_SMTP_URL: {problem}") from None
    return url


def _mail_from(value: str) -> str:
    # Checked at start, as the SMTP URL: the From address's domain names every Message-ID, so a
    # value that is no address would send mail from nowhere under IDs like <key@not>.
    local, _, domain = parseaddr(value)[1].rpartition("@")
    if not local or not domain or ("." not in domain and domain != "localhost"):
        raise ConfigError(f"TICKETING_MAIL_FROM: {value!r} is not an address like 'Tickets <tickets@example.com>'")
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETING_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = None
    access_token_minutes: int = Field(60, ge=1)
    default_currency: str = Field("THB", pattern=r"^[A-Z]{3}$")
    # The time zone of events created without one: an IANA name (an unknown one stops the start).
    default_timezone: Annotated[str, AfterValidator(_timezone)] = DEFAULT_TIMEZONE
    # A few connections per process: more connections queueing on one hot row is slower.
    pool_size: int = Field(4, ge=1, le=100)
    pool_timeout: float = Field(10.0, gt=0)
    connect_timeout: float = Field(5.0, gt=0)
    statement_timeout: float = Field(15.0, gt=0)
    sqlite_busy_timeout_ms: int = Field(10_000, ge=0)
    contention_retries: int = Field(8, ge=0, le=100)
    # Writes queued while one transaction runs are committed together (see db/group_commit.py).
    group_commit: bool = True
    # SQLite driver calls that cannot wait run on the event loop, not aiosqlite's thread.
    sqlite_inline: bool = True
    # Ordinary booking requests skip FastAPI's per-request machinery (api/booking_door.py, BookingDoor).
    booking_fast_path: bool = True
    retry_after_seconds: int = Field(2, ge=1)
    web_dir: Path | None = None
    log_level: str = "INFO"

    # Sign-in and sessions (docs/security.md, "Tokens and sessions").
    # Failed sign-ins for one email from one address: this many per window, then 429 until the
    # window (counted from its first failure) is over. Kept in the database: all processes share it.
    sign_in_max_failures: int = Field(5, ge=1)
    sign_in_window_seconds: int = Field(15 * 60, ge=1)
    # Attempts per client address at POST /auth/token and /auth/register (a moving window, like
    # "30/minute"), counted in each process's memory (api/rate_limit.py).
    sign_in_rate_limit: RateLimit = "30/minute"
    register_rate_limit: RateLimit = "10/minute"
    # argon2 cost; lower only for tests or development machines.
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(65536, ge=8)
    # Hashing runs on this many threads per process; beyond this many hashes in flight (running
    # or waiting for a thread) a sign-in, sign-up or password change answers 503 at once.
    password_hash_threads: int = Field(2, ge=1, le=64)
    password_hash_max_in_flight: int = Field(8, ge=1, le=1024)

    # HTTP hardening (docs/security.md says why each one is set as it is).
    # /metrics answers a request carrying this bearer token, or coming from metrics_allow.
    metrics_token: SecretStr | None = Field(None, min_length=16)
    metrics_allow: Networks = Field(default_factory=lambda: list(LOOPBACK))
    # Only these peers' X-Forwarded-For / X-Forwarded-Proto are believed; none by default.
    trusted_proxies: Networks = Field(default_factory=list)
    # Slow clients (ticketing serve): seconds to send the request head, seconds to send the
    # body once the head is in, seconds an idle keep-alive connection stays open; and the
    # requests in flight one process serves before answering 503 (api/overload.py).
    header_timeout: float = Field(10.0, gt=0)
    body_timeout: float = Field(30.0, gt=0)
    keep_alive_timeout: int = Field(5, ge=1)
    max_concurrency: int = Field(2048, ge=16)

    # Poolers and hosts (docs/deploy.md).
    # What sits between the service and PostgreSQL: "none" (or PgBouncer in "session" mode, the
    # same to the service) keeps asyncpg's prepared statements per connection; "transaction"
    # (PgBouncer's transaction pooling) hands each transaction to any server connection, so no
    # statement may outlive its transaction: every statement is parsed afresh, unnamed.
    database_pooler: Literal["none", "session", "transaction"] = "none"
    # Checkout. The provider's webhook is refused (503) while no secret is set.
    payment_webhook_secret: SecretStr | None = Field(None, min_length=16)
    # A development payment page that plays the provider (signs and delivers the webhook for a
    # booking): never on in production.
    dev_payments: bool = False
    # Tests only: every new hold lasts this many seconds instead of its event's hold_minutes.
    hold_seconds: int | None = Field(None, ge=1, le=7200)
    # How often each process releases holds past their deadline (a hold is released at the latest
    # this long after it expires; a booking that needs its tickets releases it at once).
    sweep_interval_seconds: float = Field(0.5, gt=0, le=60)

    # Tickets by email (docs/mail.md). Without an SMTP server, messages wait in the outbox.
    # smtp://[user:password@]host[:port] (plain), smtp+starttls://... or smtps://...
    smtp_url: Annotated[SecretStr | None, AfterValidator(_smtp_url)] = None
    mail_from: Annotated[str, AfterValidator(_mail_from)] = "Ticketing <tickets@localhost>"
    # `ticketing serve` runs a sender in each process; off, only `ticketing mail-worker` sends.
    mail_sender: bool = True
    # Where the web app is reached, for the "my bookings" link in messages.
    public_url: str = Field("http://127.0.0.1:8000", pattern=r"^https?://[^\s]+$")
    # A message that failed this many times is marked failed (and counted in /metrics); the
    # retries wait mail_retry_seconds, doubling each time, at most a minute.
    mail_max_attempts: int = Field(8, ge=1, le=100)
    mail_retry_seconds: float = Field(2.0, gt=0, le=60)
    # How often an idle sender looks for due messages (one indexed read).
    mail_poll_seconds: float = Field(1.0, gt=0, le=60)
    # A claimed message is the sender's for this long; a sender that dies leaves it to another
    # after that. Longer than smtp_timeout, the most one delivery may take.
    mail_lease_seconds: float = Field(300.0, gt=0)
    smtp_timeout: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _lease_outlasts_a_delivery(self) -> Settings:
        if self.mail_lease_seconds <= 2 * self.smtp_timeout:
            raise ConfigError("TICKETING_MAIL_LEASE_SECONDS must be more than twice TICKETING_SMTP_TIMEOUT "
                              "(a claimed message must not be taken over while it is being sent)")
        return self

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def sqlite_path(self) -> Path | None:
        """The database file, or None for PostgreSQL and in-memory SQLite."""
        return sqlite_file(self.database_url)

    def signing_key(self) -> str:
        if self.secret_key:
            if len(self.secret_key.encode()) < MIN_SECRET_KEY_BYTES:
                raise ConfigError(
                    f"TICKETING_SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes "
                    "(make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            return self.secret_key
        if not self.is_sqlite:
            raise ConfigError(
                "TICKETING_SECRET_KEY must be set when the database is PostgreSQL "
                "(several hosts must share one key)."
            )
        return _key_beside(self.sqlite_path)


def sqlite_file(database_url: str) -> Path | None:
    """The file of an SQLite URL, or None for PostgreSQL and in-memory SQLite."""
    if not database_url.startswith("sqlite"):
        return None
    path = database_url.split(":///", 1)[1] if ":///" in database_url else ""
    path = path.split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path).resolve()


def _key_beside(db_path: Path | None) -> str:
    """A key generated once and kept next to the SQLite file, readable by its owner only."""
    if db_path is None:
        return os.environ.setdefault("_TICKETING_EPHEMERAL_KEY", secrets.token_urlsafe(48))
    key_file = db_path.with_name(db_path.name + ".secret")
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    # Written aside then linked into place, so a concurrent reader never sees a half-written key.
    draft = key_file.with_name(f"{key_file.name}.{os.getpid()}.tmp")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    try:
        os.link(draft, key_file)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return key_file.read_text().strip()
