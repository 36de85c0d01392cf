"""Use cases: sign up, sign in (throttled), admins."""

from __future__ import annotations

from datetime import datetime, timedelta

from ticketing.app.ports import PasswordHasher, Store
from ticketing.domain.errors import InvalidCredentials, TooManySignInAttempts
from ticketing.domain.models import Role, User


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def register(store: Store, hasher: PasswordHasher, *, email: str, password: str, name: str) -> User:
    return await store.users.add(normalise_email(email), name, hasher.hash(password), Role.CUSTOMER)


async def sign_in(
    store: Store,
    hasher: PasswordHasher,
    *,
    email: str,
    password: str,
    client: str,
    now: datetime,
    max_failures: int,
    window: timedelta,
) -> User:
    email = normalise_email(email)
    failures = await store.sign_in_failures.since(email, client, now - window)
    if len(failures) >= max_failures:
        retry_after = min(failures) + window - now
        raise TooManySignInAttempts(max(1, int(retry_after.total_seconds()) + 1))
    user = await store.users.by_email(email)
    if not hasher.verify(password, user.password_hash if user else "") or user is None:
        await store.sign_in_failures.record(email, client, now)
        raise InvalidCredentials()
    if failures:
        await store.sign_in_failures.clear(email, client)
    return user


async def create_admin(
    store: Store, hasher: PasswordHasher, *, email: str, password: str, name: str
) -> User:
    """Creates an admin, or promotes the account with this email (and resets its password)."""
    return await store.users.make_admin(normalise_email(email), name, hasher.hash(password))
