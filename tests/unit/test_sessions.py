"""Use cases: sign-in sessions, sign out, password change, and the throttle counting first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.fakes import NOW, add_event, add_user, signed_in
from ticketing.app import accounts, bookings
from ticketing.domain.errors import EmailTaken, InvalidCredentials, SessionEnded, TooManySignInAttempts
from ticketing.domain.models import Role

WINDOW = timedelta(minutes=15)
LIMITS = {"max_failures": 5, "window": WINDOW}


async def _sign_in(store, passwords, email, password="password1"):  # type: ignore[no-untyped-def]
    return await accounts.sign_in(store, passwords, email=email, password=password, client="1.2.3.4", now=NOW,
                                  lifetime=timedelta(hours=1), **LIMITS)


async def test_each_sign_in_is_a_session_of_its_own(store, passwords):
    user = await accounts.register(store, passwords, email="a@example.com", password="password1", name="A")
    first, second = await _sign_in(store, passwords, "a@example.com"), await _sign_in(store, passwords, "a@example.com")
    assert first.user_id == second.user_id == user.id and first.session_id != second.session_id
    await accounts.sign_out(store, first, NOW)
    assert await store.users.by_session(first) is None
    assert await store.users.by_session(second) == user


async def test_sign_out_everywhere_ends_every_session_of_the_caller_only(store, passwords):
    mine = [await signed_in(store, await add_user(store))]
    mine.append(await signed_in(store, store.users.rows[mine[0].user_id]))
    theirs = await signed_in(store, await add_user(store))
    await accounts.sign_out_everywhere(store, mine[1], NOW)
    assert [await store.users.by_session(c) for c in mine] == [None, None]
    assert await store.users.by_session(theirs) is not None


async def test_password_change_checks_the_current_one_then_ends_every_session(store, passwords):
    await accounts.register(store, passwords, email="b@example.com", password="password1", name="B")
    caller = await _sign_in(store, passwords, "b@example.com")
    user = await store.users.by_session(caller)
    with pytest.raises(InvalidCredentials):
        await accounts.change_password(store, passwords, user, current_password="nope", new_password="password2",
                                       client="1.2.3.4", now=NOW, **LIMITS)
    assert await store.users.by_session(caller) == user
    await accounts.change_password(store, passwords, user, current_password="password1", new_password="password2",
                                   client="1.2.3.4", now=NOW, **LIMITS)
    assert await store.users.by_session(caller) is None
    with pytest.raises(InvalidCredentials):
        await _sign_in(store, passwords, "b@example.com", "password1")
    assert (await _sign_in(store, passwords, "b@example.com", "password2")).user_id == user.id


async def test_guessing_the_current_password_is_throttled_like_sign_in(store, passwords):
    await accounts.register(store, passwords, email="c@example.com", password="password1", name="C")
    user = await store.users.by_session(await _sign_in(store, passwords, "c@example.com"))
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await accounts.change_password(store, passwords, user, current_password="guess", new_password="password2",
                                           client="1.2.3.4", now=NOW, **LIMITS)
    with pytest.raises(TooManySignInAttempts):
        await accounts.change_password(store, passwords, user, current_password="password1", new_password="password2",
                                       client="1.2.3.4", now=NOW, **LIMITS)


async def test_create_admin_resetting_a_password_ends_the_accounts_sessions(store, passwords):
    await accounts.register(store, passwords, email="d@example.com", password="password1", name="D")
    caller = await _sign_in(store, passwords, "d@example.com")
    admin = await accounts.create_admin(store, passwords, email="d@example.com", password="password9", name="D", now=NOW)
    assert admin.role is Role.ADMIN and await store.users.by_session(caller) is None


async def test_a_taken_email_is_refused_without_hashing(store, passwords):
    class Counting(type(passwords)):  # type: ignore[misc]
        hashed = 0

        async def hash(self, password: str) -> str:
            Counting.hashed += 1
            return await super().hash(password)

    counting = Counting()
    await accounts.register(store, counting, email="e@example.com", password="password1", name="E")
    with pytest.raises(EmailTaken):
        await accounts.register(store, counting, email="E@example.com", password="password2", name="E")
    assert Counting.hashed == 1


async def test_an_ended_session_books_nothing_and_is_told_401(store):
    user, event = await add_user(store), await add_event(store)
    caller = await signed_in(store, user)
    await accounts.sign_out(store, caller, NOW)
    for quantity in (1, 50):  # bookable, and over the event's limit: 401 either way
        with pytest.raises(SessionEnded):
            await bookings.book_tickets(store, caller, event_id=event.id, quantity=quantity, now=NOW)
    assert store.bookings.writes == 0 and store.events.rows[event.id].tickets_sold == 0


async def test_an_ended_admin_session_cannot_book_for_someone_else(store):
    boss, buyer, event = await add_user(store, Role.ADMIN), await add_user(store), await add_event(store)
    caller = await signed_in(store, boss)
    await accounts.sign_out(store, caller, NOW)
    with pytest.raises(SessionEnded):
        await bookings.book_tickets(store, caller, event_id=event.id, quantity=1, user_id=buyer.id, now=NOW)
    assert store.bookings.book_calls == 0
