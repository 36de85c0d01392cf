"""What a running app holds: settings, database, store, hashing, tokens, error answers, and
the per-address attempt limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ticketing.api.auth import Tokens
from ticketing.api.errors import ErrorAnswers
from ticketing.api.rate_limit import AddressLimits
from ticketing.app.passwords import Argon2Passwords
from ticketing.app.ports import PasswordHasher, Store
from ticketing.config import Settings
from ticketing.db.database import Database
from ticketing.db.repositories import SqlStore


@dataclass
class Services:
    settings: Settings
    db: Database
    store: Store
    passwords: PasswordHasher
    tokens: Tokens
    errors: ErrorAnswers
    address_limits: AddressLimits

    @classmethod
    def build(cls, settings: Settings) -> Services:
        db = Database.from_settings(settings)
        return cls(
            settings=settings,
            db=db,
            store=SqlStore(db),
            passwords=Argon2Passwords.from_settings(settings),
            tokens=Tokens(settings.signing_key(), timedelta(minutes=settings.access_token_minutes)),
            errors=ErrorAnswers(settings.retry_after_seconds),
            address_limits=AddressLimits(sign_in=settings.sign_in_rate_limit, register=settings.register_rate_limit),
        )
