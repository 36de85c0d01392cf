from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.fakes import NOW, add_event, add_user, signed_in
from ticketing.app import accounts, bookings, events, tickets
from ticketing.domain.errors import (
    AlreadyCheckedIn,
    CapacityBelowSold,
    EmailTaken,
    Forbidden,
    InvalidCredentials,
    TicketNotFound,
    TicketVoid,
    TooManySignInAttempts,
)
from ticketing.domain.models import Role, TicketStatus

WINDOW = timedelta(minutes=15)


async def _sign_in(store, passwords, email, password, now=NOW):  # type: ignore[no-untyped-def]
    return await accounts.sign_in(store, passwords, email=email, password=password, client="1.2.3.4",
                                  now=now, max_failures=5, window=WINDOW, lifetime=timedelta(hours=1))


async def test_emails_are_case_insensitive(store, passwords):
    await accounts.register(store, passwords, email="Ann@Example.com", password="password1", name="Ann")
    with pytest.raises(EmailTaken):
        await accounts.register(store, passwords, email="ann@example.COM", password="password2", name="Ann")
    caller = await _sign_in(store, passwords, "ANN@example.com", "password1")
    assert (await store.users.by_session(caller)).email == "ann@example.com"


async def test_throttle_after_five_failures_until_the_window_passes(store, passwords):
    await accounts.register(store, passwords, email="a@example.com", password="password1", name="A")
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await _sign_in(store, passwords, "a@example.com", "wrong")
    with pytest.raises(TooManySignInAttempts) as throttled:
        await _sign_in(store, passwords, "a@example.com", "password1")
    assert 0 < throttled.value.retry_after <= WINDOW.total_seconds() + 1
    later = NOW + WINDOW + timedelta(seconds=1)
    user = await store.users.by_email("a@example.com")
    assert (await _sign_in(store, passwords, "a@example.com", "password1", now=later)).user_id == user.id


async def test_unknown_email_counts_as_a_failure(store, passwords):
    with pytest.raises(InvalidCredentials):
        await _sign_in(store, passwords, "ghost@example.com", "whatever1")
    assert len(store.sign_in_failures.rows) == 1


async def test_create_admin_promotes_an_existing_account(store, passwords):
    user = await accounts.register(store, passwords, email="b@example.com", password="password1", name="B")
    admin = await accounts.create_admin(store, passwords, email="B@example.com", password="password9", name="B", now=NOW)
    assert admin.id == user.id and admin.role is Role.ADMIN
    await _sign_in(store, passwords, "b@example.com", "password9")


async def test_event_changes_need_an_admin_and_respect_sales(store):
    customer, boss = await add_user(store), await add_user(store, Role.ADMIN)
    event = await add_event(store, capacity=5)
    with pytest.raises(Forbidden):
        await events.update_event(store, customer, event.id, {"name": "x"}, NOW)
    await bookings.book_tickets(store, await signed_in(store, customer), event_id=event.id, quantity=3, now=NOW)
    with pytest.raises(CapacityBelowSold):
        await events.update_event(store, boss, event.id, {"capacity": 2}, NOW)
    assert (await events.update_event(store, boss, event.id, {"capacity": 3}, NOW)).available == 0


async def test_check_in_once_and_never_a_void_ticket(store):
    customer, boss = await add_user(store), await add_user(store, Role.ADMIN)
    event = await add_event(store)
    booking = await bookings.book_tickets(store, await signed_in(store, customer), event_id=event.id, quantity=2, now=NOW)
    first, second = (t.code for t in booking.tickets)
    with pytest.raises(Forbidden):
        await tickets.check_in(store, customer, first, NOW)
    assert (await tickets.check_in(store, boss, first, NOW)).status is TicketStatus.USED
    with pytest.raises(AlreadyCheckedIn):
        await tickets.check_in(store, boss, first, NOW)
    await bookings.cancel_booking(store, customer, booking.id, NOW)
    with pytest.raises(TicketVoid):
        await tickets.check_in(store, boss, second, NOW)
    with pytest.raises(TicketNotFound):
        await tickets.check_in(store, boss, "no such code", NOW)


async def test_tickets_are_visible_to_owner_and_admin_only(store):
    owner, stranger, boss = await add_user(store), await add_user(store), await add_user(store, Role.ADMIN)
    event = await add_event(store)
    code = (await bookings.book_tickets(store, await signed_in(store, owner),
                                        event_id=event.id, quantity=1, now=NOW)).tickets[0].code
    assert (await tickets.get_ticket(store, owner, code)).code == code
    assert (await tickets.get_ticket(store, boss, code)).code == code
    with pytest.raises(TicketNotFound):
        await tickets.get_ticket(store, stranger, code)
