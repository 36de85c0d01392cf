"""Turns the contract's driverless URLs into SQLAlchemy async URLs."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


def async_url(database_url: str) -> URL:
    url = make_url(database_url)
    backend = url.drivername.split("+", 1)[0]
    if backend not in _DRIVERS:
        raise ValueError(f"unsupported database URL scheme {url.drivername!r}: use sqlite:// or postgresql://")
    return url.set(drivername=_DRIVERS[backend])


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).drivername.startswith("sqlite")
