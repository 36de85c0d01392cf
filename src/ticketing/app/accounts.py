"""Use cases: sign up, sign in (throttled), sessions (sign out, password change), admins."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from ticketing.app.ports import PasswordHasher, Store
from ticketing.domain.errors import EmailTaken, InvalidCredentials, TooManySignInAttempts
from ticketing.domain.models import Caller, Role, User


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def register(
    store: Store, hasher: PasswordHasher, *, email: str, password: str, name: str, language: str = "en"
) -> User:
    email = normalise_email(email)
    # Checked before hashing: a taken email costs one read, not a hash. (The unique index still
    # decides when two sign-ups for one email race.)
    if await store.users.by_email(email) is not None:
        raise EmailTaken()
    return await store.users.add(email, name, await hasher.hash(password), Role.CUSTOMER, language=language)


async def _admit_attempt(store: Store, email: str, client: str, now: datetime, max_failures: int, window: timedelta) -> None:
    """Counts this attempt as a failure before the password is checked, atomically (a success
    clears the count): of concurrent attempts, only ``max_failures`` get to check a password."""
    failures, window_began = await store.sign_in_failures.count_attempt(email, client, now, now - window)
    if failures > max_failures:
        wait = (window_began + window - now).total_seconds()
        raise TooManySignInAttempts(max(1, math.ceil(wait)))


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
    lifetime: timedelta,
) -> Caller:
    """A new session for the account, if the password is right and the throttle allows."""
    email = normalise_email(email)
    await _admit_attempt(store, email, client, now, max_failures, window)
    user = await store.users.by_email(email)
    if not await hasher.verify(password, user.password_hash if user else "") or user is None:
        raise InvalidCredentials()
    await store.sign_in_failures.clear(email, client)
    return Caller(user.id, await store.sessions.start(user.id, now, now + lifetime))


async def sign_out(store: Store, caller: Caller, now: datetime) -> None:
    await store.sessions.end(caller, now)


async def sign_out_everywhere(store: Store, caller: Caller, now: datetime) -> None:
    await store.sessions.end_all(caller.user_id, now)


async def change_password(
    store: Store,
    hasher: PasswordHasher,
    user: User,
    *,
    current_password: str,
    new_password: str,
    client: str,
    now: datetime,
    max_failures: int,
    window: timedelta,
) -> None:
    """Sets a new password and ends every session of the account (the caller's included).

    A wrong current password counts as a failed sign-in: a stolen token must not be a way to
    guess the password without the sign-in throttle."""
    await _admit_attempt(store, user.email, client, now, max_failures, window)
    if not await hasher.verify(current_password, user.password_hash):
        raise InvalidCredentials()
    await store.sign_in_failures.clear(user.email, client)
    await store.users.set_password(user.id, await hasher.hash(new_password), now)


async def create_admin(
    store: Store, hasher: PasswordHasher, *, email: str, password: str, name: str | None, now: datetime
) -> User:
    """Creates an admin, or promotes the account with this email, resets its password and ends
    every session it had. ``name``: a new account's (default "Admin"); a promoted account keeps
    its own when None."""
    return await store.users.make_admin(normalise_email(email), name, await hasher.hash(password), now)
