"""Applies the Alembic migrations (``ticketing migrate`` and ``ticketing serve``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from ticketing.config import sqlite_file
from ticketing.db.engine import create_private_file

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Brings the database to ``revision``. Not to be called from a running event loop."""
    create_private_file(sqlite_file(database_url))
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
