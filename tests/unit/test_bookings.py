from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.support.fakes import NOW, add_event, add_user, signed_in
from ticketing.app import bookings
from ticketing.domain.errors import (
    BookingNotFound,
    EventNotFound,
    Forbidden,
    IdempotencyKeyMismatch,
    NotAuthenticated,
    QuantityAboveLimit,
    SalesClosed,
    TicketsSoldOut,
    UserNotFound,
)
from ticketing.domain.models import BookingStatus, Caller, Role, TicketStatus


async def test_book_tickets_sells_exactly_the_quantity(store):
    user, event = await add_user(store), await add_event(store)
    booking = await bookings.book_tickets(store, await signed_in(store, user), event_id=event.id, quantity=3, now=NOW)
    assert booking.quantity == 3 and len(booking.tickets) == 3 and booking.total_amount == Decimal("450.00")
    assert len({t.code for t in booking.tickets}) == 3
    assert store.events.rows[event.id].tickets_sold == 3


async def test_refusals_are_explained_and_write_nothing(store):
    user = await add_user(store)
    event = await add_event(store, capacity=2, max_per_booking=4)
    past = await add_event(store, starts_in=-timedelta(minutes=1))
    with pytest.raises(EventNotFound):
        await bookings.book_tickets(store, await signed_in(store, user), event_id=999, quantity=1, now=NOW)
    with pytest.raises(QuantityAboveLimit):
        await bookings.book_tickets(store, await signed_in(store, user), event_id=event.id, quantity=5, now=NOW)
    with pytest.raises(SalesClosed):
        await bookings.book_tickets(store, await signed_in(store, user), event_id=past.id, quantity=1, now=NOW)
    with pytest.raises(TicketsSoldOut) as sold_out:
        await bookings.book_tickets(store, await signed_in(store, user), event_id=event.id, quantity=3, now=NOW)
    assert sold_out.value.available == 2
    assert store.bookings.writes == 0 and store.events.rows[event.id].tickets_sold == 0


async def test_only_admins_book_for_someone_else(store):
    customer, other, boss = await add_user(store), await add_user(store), await add_user(store, Role.ADMIN)
    event = await add_event(store)
    with pytest.raises(Forbidden):
        await bookings.book_tickets(store, await signed_in(store, customer),
                                    event_id=event.id, quantity=1, user_id=other.id, now=NOW)
    with pytest.raises(UserNotFound):
        await bookings.book_tickets(store, await signed_in(store, boss), event_id=event.id, quantity=1, user_id=12345, now=NOW)
    booked = await bookings.book_tickets(store, await signed_in(store, boss),
                                         event_id=event.id, quantity=1, user_id=other.id, now=NOW)
    assert booked.user_id == other.id


async def test_same_key_same_body_replays(store):
    user, event = await add_user(store), await add_event(store)
    first = await bookings.book_tickets(store, await signed_in(store, user),
                                        event_id=event.id, quantity=2, idempotency_key="k", now=NOW)
    again = await bookings.book_tickets(store, await signed_in(store, user),
                                        event_id=event.id, quantity=2, idempotency_key="k", now=NOW)
    assert again == first and store.events.rows[event.id].tickets_sold == 2
    with pytest.raises(IdempotencyKeyMismatch):
        await bookings.book_tickets(store, await signed_in(store, user),
                                    event_id=event.id, quantity=1, idempotency_key="k", now=NOW)


async def test_a_replay_is_answered_even_after_the_event_sold_out(store):
    user, event = await add_user(store), await add_event(store, capacity=2)
    first = await bookings.book_tickets(store, await signed_in(store, user),
                                        event_id=event.id, quantity=2, idempotency_key="k", now=NOW)
    again = await bookings.book_tickets(store, await signed_in(store, user),
                                        event_id=event.id, quantity=2, idempotency_key="k", now=NOW)
    assert again.id == first.id


async def test_customers_see_only_their_own(store):
    alice, bob, boss = await add_user(store), await add_user(store), await add_user(store, Role.ADMIN)
    event = await add_event(store)
    mine = await bookings.book_tickets(store, await signed_in(store, alice), event_id=event.id, quantity=1, now=NOW)
    await bookings.book_tickets(store, await signed_in(store, bob), event_id=event.id, quantity=1, now=NOW)
    from ticketing.app.ports import BookingFilters, Page

    assert [b.id for b in (await bookings.list_bookings(store, alice, Page(), BookingFilters(now=NOW)))[0]] == [mine.id]
    assert (await bookings.list_bookings(store, alice, Page(), BookingFilters(now=NOW, user_id=bob.id))) == ([], 0)
    assert (await bookings.list_bookings(store, boss, Page(), BookingFilters(now=NOW)))[1] == 2
    with pytest.raises(BookingNotFound):
        await bookings.get_booking(store, bob, mine.id, NOW)
    with pytest.raises(BookingNotFound):
        await bookings.cancel_booking(store, bob, mine.id, NOW)


async def test_cancel_twice_releases_once(store):
    user, event = await add_user(store), await add_event(store)
    booking = await bookings.book_tickets(store, await signed_in(store, user), event_id=event.id, quantity=3, now=NOW)
    first = await bookings.cancel_booking(store, user, booking.id, NOW)
    second = await bookings.cancel_booking(store, user, booking.id, NOW)
    assert first.status is second.status is BookingStatus.CANCELLED
    assert {t.status for t in second.tickets} == {TicketStatus.VOID}
    assert store.events.rows[event.id].tickets_sold == 0


async def test_a_refusal_whose_reason_is_gone_is_tried_again(store):
    user, event = await add_user(store), await add_event(store, capacity=2)
    real_book = store.bookings.book

    async def released_meanwhile(request, codes, at):  # type: ignore[no-untyped-def]
        if store.bookings.book_calls == 0:
            store.bookings.book_calls += 1
            from ticketing.app.ports import BookingRefused

            raise BookingRefused()  # as if sold out at that instant, then released
        return await real_book(request, codes, at)

    store.bookings.book = released_meanwhile
    booking = await bookings.book_tickets(store, await signed_in(store, user), event_id=event.id, quantity=2, now=NOW)
    assert booking.quantity == 2 and store.events.rows[event.id].tickets_sold == 2


async def test_refused_every_time_though_nothing_refuses_is_sold_out_with_its_types(store):
    """The write refuses on each attempt while every read finds room (released and taken again
    between each): after the attempts, sold_out, still naming each requested type."""
    from ticketing.app.ports import BookingRefused

    user, event = await add_user(store), await add_event(store, capacity=5)

    async def always_refused(request, codes, at):  # type: ignore[no-untyped-def]
        raise BookingRefused()

    store.bookings.book = always_refused
    with pytest.raises(TicketsSoldOut) as refused:
        await bookings.book_tickets(store, await signed_in(store, user), event_id=event.id, quantity=2, now=NOW)
    type_id = store.events.rows[event.id].ticket_types[0].id
    assert (refused.value.available, refused.value.items) == (5, ((type_id, 5),))


async def test_absurd_quantities_are_refused_without_making_codes(store):
    user, event = await add_user(store), await add_event(store, max_per_booking=4)
    with pytest.raises(QuantityAboveLimit):
        await bookings.book_tickets(store, await signed_in(store, user), event_id=event.id, quantity=10**30, now=NOW)
    assert store.bookings.book_calls == 0


async def test_booking_for_oneself_reads_no_account_and_a_missing_one_books_nothing(store):
    user, event = await add_user(store), await add_event(store)
    reads = store.users.reads
    booking = await bookings.book_tickets(store, await signed_in(store, user), event_id=event.id, quantity=2, now=NOW)
    assert booking.user_id == user.id and store.users.reads == reads
    with pytest.raises(NotAuthenticated):
        await bookings.book_tickets(store, Caller(999, 999), event_id=event.id, quantity=2, now=NOW)
    assert store.bookings.writes == 1 and store.events.rows[event.id].tickets_sold == 2


async def test_a_missing_account_is_told_401_whatever_else_is_refused(store):
    """A refusal is explained only to a caller who exists: a token of a removed account (its
    session gone with it) gets 401 for a missing event or a quantity above the limit too, not
    404 or 400."""
    event = await add_event(store, max_per_booking=2)
    for event_id, quantity in ((999, 1), (event.id, 3)):
        with pytest.raises(NotAuthenticated):
            await bookings.book_tickets(store, Caller(999, 999), event_id=event_id, quantity=quantity, now=NOW)
    assert store.bookings.writes == 0
