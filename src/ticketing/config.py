"""Settings, read once from the environment (prefix ``TICKETING_``)."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///ticketing.db"


class ConfigError(RuntimeError):
    """A setting makes it impossible to start; the message is one line for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETING_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = None
    access_token_minutes: int = Field(60, ge=1)
    default_currency: str = Field("THB", pattern=r"^[A-Z]{3}$")
    # A few connections per process: more connections queueing on one hot row is slower.
    pool_size: int = Field(4, ge=1, le=100)
    pool_timeout: float = Field(10.0, gt=0)
    connect_timeout: float = Field(5.0, gt=0)
    statement_timeout: float = Field(15.0, gt=0)
    sqlite_busy_timeout_ms: int = Field(10_000, ge=0)
    contention_retries: int = Field(8, ge=0, le=100)
    # Writes queued while one transaction runs are committed together (see db/database.py).
    group_commit: bool = True
    # SQLite driver calls that cannot wait run on the event loop, not aiosqlite's thread.
    sqlite_inline: bool = True
    # Ordinary booking requests skip FastAPI's per-request machinery (api/booking_fast_path.py).
    booking_fast_path: bool = True
    retry_after_seconds: int = Field(2, ge=1)
    sign_in_max_failures: int = Field(5, ge=1)
    sign_in_window_seconds: int = Field(15 * 60, ge=1)
    # argon2 cost; lower only for tests or development machines.
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(65536, ge=8)
    web_dir: Path | None = None
    log_level: str = "INFO"

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def sqlite_path(self) -> Path | None:
        """The database file, or None for PostgreSQL and in-memory SQLite."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        path = path.split("?", 1)[0]
        if not path or path == ":memory:":
            return None
        return Path(path).resolve()

    def signing_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        if not self.is_sqlite:
            raise ConfigError(
                "TICKETING_SECRET_KEY must be set when the database is PostgreSQL "
                "(several hosts must share one key)."
            )
        return _key_beside(self.sqlite_path)


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
