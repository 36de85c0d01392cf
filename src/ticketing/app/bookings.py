"""Use cases: book, list, show and cancel bookings."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ticketing.app.ports import BookingFilters, BookingRefused, DuplicateIdempotencyKey, NewBookingValues, Page, Store
from ticketing.domain.errors import (
    BookingNotFound,
    CustomerLimitReached,
    DomainError,
    EventNotFound,
    Forbidden,
    IdempotencyKeyMismatch,
    RequestInProgress,
    SessionEnded,
    TicketsSoldOut,
    UserNotFound,
)
from ticketing.domain.models import (
    MAX_TICKETS_PER_BOOKING,
    Booking,
    BookingRequest,
    Caller,
    Event,
    User,
    new_payment_reference,
    new_ticket_code,
)


def _replay(existing: Booking, request: BookingRequest) -> Booking:
    if existing.request_fingerprint != request.fingerprint:
        raise IdempotencyKeyMismatch()
    return existing


async def book_tickets(
    store: Store,
    caller: Caller,
    *,
    event_id: int,
    quantity: int,
    items: tuple[tuple[int, int], ...] = (),
    user_id: int | None = None,
    idempotency_key: str | None = None,
    now: datetime,
    hold_seconds: int | None = None,
) -> Booking:
    """Books all of ``quantity`` or nothing, for the caller or (admins only) another user.

    ``caller`` is who a validly signed token names: an account and its sign-in session.
    Booking for oneself reads nothing first, not even the caller's account: the write itself
    books only while the caller's session is live (and is refused with ``UserMissing`` when the
    account is gone), and a refusal checks the session before it explains itself, so a revoked
    token gets 401 whatever it asks. Only a booking for someone else reads the caller (through
    its session: is it an admin?) and the user booked for, first.

    The write comes first and is the only check that counts: one atomic statement that books
    only while the event's rules and its capacity allow (the database's trigger re-checks
    capacity under the row lock). The event is read only to explain a refusal, so a stale
    read can never cause an oversell, and a successful booking costs no read at all.

    ``items`` are (ticket type id, quantity) pairs, sorted by type (empty: v1's form, the
    event's only type); ``quantity`` is their total. A refusal for lack of room (sold out, or
    the buyer's per-customer limit) first releases the event's holds that are past their
    deadline but not yet released (a bounded number) and tries again: an expired hold never
    makes a buyer wait for the sweeper. ``hold_seconds`` (tests only) replaces hold_minutes.
    """
    target = caller.user_id if user_id is None else user_id
    if target != caller.user_id:
        account = await store.users.by_session(caller)
        if account is None:
            raise SessionEnded()
        if not account.is_admin:
            raise Forbidden()
        if await store.users.get(target) is None:
            raise UserNotFound()
    request = BookingRequest(
        caller.user_id, target, event_id, quantity, idempotency_key, session_id=caller.session_id, items=items
    )
    released = False
    for _ in range(_ATTEMPTS):
        try:
            if request.quantity > MAX_TICKETS_PER_BOOKING:  # no event allows it: no codes, no write
                raise BookingRefused()
            new = NewBookingValues([new_ticket_code() for _ in range(request.quantity)], new_payment_reference(), hold_seconds)
            return await store.bookings.book(request, new, now)
        except DuplicateIdempotencyKey:
            # A repeated key fails on the unique index before anything is sold.
            return (await _replay_by_key(store, request, RequestInProgress())).as_seen(now)
        except BookingRefused:
            # The write refuses an ended session too: that is asked first (one read, refusals only).
            if await store.users.by_session(caller) is None:
                raise SessionEnded() from None
            refusal, event = await _explain(store, request, now)
        if isinstance(refusal, (TicketsSoldOut, CustomerLimitReached)) and not released:
            released = True
            if await store.bookings.release_expired(request.event_id, now, _RELEASE_AT_ONCE) > 0:
                continue  # expired holds gave tickets back: try again with them
        if refusal is not None:
            if request.idempotency_key is not None:
                # A replay of an earlier success answers that success, sold out or not.
                return (await _replay_by_key(store, request, refusal)).as_seen(now)
            raise refusal
        # Refused, yet nothing refuses now: tickets were released in between. Try again.
    assert event is not None
    raise event.sold_out(request.items, request.quantity)  # with every requested type, as checkout.md asks


async def _explain(store: Store, request: BookingRequest, now: datetime) -> tuple[DomainError | None, Event | None]:
    """Why the write refused this request, read afterwards (None: nothing refuses it now)."""
    event = await store.events.get(request.event_id)
    if event is None:
        return EventNotFound(), None
    used = 0
    if event.per_customer_limit is not None:
        used = await store.events.usage(event.id, request.user_id)
    try:
        return event.refusal(request.items, request.quantity, now, used), event
    except DomainError as error:  # the request names types the event does not have, or none
        return error, event


# A booking refused for a reason that is gone a moment later is tried this many times in all.
_ATTEMPTS = 3
# Expired holds a refused booking releases before it tries again (the sweeper does the rest).
_RELEASE_AT_ONCE = 100


async def _replay_by_key(store: Store, request: BookingRequest, otherwise: DomainError) -> Booking:
    assert request.idempotency_key is not None
    existing = await store.bookings.by_key(request.caller_id, request.idempotency_key)
    if existing is None:
        raise otherwise
    return _replay(existing, request)


async def list_bookings(
    store: Store, caller: User, page: Page, filters: BookingFilters
) -> tuple[list[Booking], int]:
    if not caller.is_admin:
        if filters.user_id is not None and filters.user_id != caller.id:
            return [], 0
        filters = replace(filters, user_id=caller.id)
    found, total = await store.bookings.page(page, filters)
    return [b.as_seen(filters.now) for b in found], total


async def get_booking(store: Store, caller: User, booking_id: int, now: datetime) -> Booking:
    booking = await store.bookings.get(booking_id)
    # Someone else's booking is reported missing, not forbidden: ids must not leak.
    if booking is None or not (caller.is_admin or booking.user_id == caller.id):
        raise BookingNotFound()
    return booking.as_seen(now)


async def cancel_booking(store: Store, caller: User, booking_id: int, now: datetime) -> Booking:
    cancelled = await store.bookings.cancel(await get_booking(store, caller, booking_id, now), now)
    return cancelled.as_seen(now)
