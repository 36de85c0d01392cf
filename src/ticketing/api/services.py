"""What a running app holds: settings, database, store, hashing, tokens. Built in create_app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ticketing.api.auth import Tokens
from ticketing.app.passwords import Argon2Passwords
from ticketing.config import Settings
from ticketing.db.database import Database
from ticketing.db.repositories import SqlStore


@dataclass
class Services:
    settings: Settings
    db: Database
    store: SqlStore
    passwords: Argon2Passwords
    tokens: Tokens

    @classmethod
    def build(cls, settings: Settings) -> Services:
        db = Database.from_settings(settings)
        return cls(
            settings=settings,
            db=db,
            store=SqlStore(db),
            passwords=Argon2Passwords(settings.argon2_time_cost, settings.argon2_memory_kib),
            tokens=Tokens(settings.signing_key(), timedelta(minutes=settings.access_token_minutes)),
        )
