"""Use cases: book, list, show and cancel bookings."""

from __future__ import annotations

from datetime import datetime

from ticketing.app.ports import BookingRefused, DuplicateIdempotencyKey, Page, Store
from ticketing.domain.errors import (
    BookingNotFound,
    DomainError,
    EventNotFound,
    Forbidden,
    IdempotencyKeyMismatch,
    RequestInProgress,
    TicketsSoldOut,
    UserNotFound,
)
from ticketing.domain.models import MAX_TICKETS_PER_BOOKING, Booking, BookingRequest, User, new_ticket_code


def _replay(existing: Booking, request: BookingRequest) -> Booking:
    if existing.request_fingerprint != request.fingerprint:
        raise IdempotencyKeyMismatch()
    return existing


async def book_tickets(
    store: Store,
    caller: User,
    *,
    event_id: int,
    quantity: int,
    user_id: int | None = None,
    idempotency_key: str | None = None,
    now: datetime,
) -> Booking:
    """Books all of ``quantity`` or nothing, for the caller or (admins only) another user."""
    target = caller.id if user_id is None else user_id
    if target != caller.id:
        if not caller.is_admin:
            raise Forbidden()
        if await store.users.get(target) is None:
            raise UserNotFound()
    return await book(store, BookingRequest(caller.id, target, event_id, quantity, idempotency_key), now=now)


async def book(store: Store, request: BookingRequest, *, now: datetime) -> Booking:
    """Books ``request`` once the caller's right to book for ``request.user_id`` is settled.

    Booking for oneself needs nothing beyond a valid token: the write itself is refused with
    ``UserMissing`` when the user does not exist, so the caller need not be read first.

    The write comes first and is the only check that counts: one atomic statement that books
    only while the event's rules and its capacity allow (the database's trigger re-checks
    capacity under the row lock). The event is read only to explain a refusal, so a stale
    read can never cause an oversell, and a successful booking costs no read at all.
    """
    for _ in range(_ATTEMPTS):
        try:
            if request.quantity > MAX_TICKETS_PER_BOOKING:  # no event allows it: no codes, no write
                raise BookingRefused()
            return await store.bookings.book(request, [new_ticket_code() for _ in range(request.quantity)], now)
        except DuplicateIdempotencyKey:
            # A repeated key fails on the unique index before anything is sold.
            return await _replay_by_key(store, request, RequestInProgress())
        except BookingRefused:
            event = await store.events.get(request.event_id)
            refusal = EventNotFound() if event is None else event.refusal(request.quantity, now)
        if refusal is not None:
            if request.idempotency_key is not None:
                # A replay of an earlier success answers that success, sold out or not.
                return await _replay_by_key(store, request, refusal)
            raise refusal
        # Refused, yet nothing refuses now: tickets were released in between. Try again.
    assert event is not None
    raise TicketsSoldOut(event.available)


# A booking refused for a reason that is gone a moment later is tried this many times in all.
_ATTEMPTS = 3


async def _replay_by_key(store: Store, request: BookingRequest, otherwise: DomainError) -> Booking:
    assert request.idempotency_key is not None
    existing = await store.bookings.by_key(request.caller_id, request.idempotency_key)
    if existing is None:
        raise otherwise
    return _replay(existing, request)


async def list_bookings(
    store: Store,
    caller: User,
    page: Page,
    *,
    event_id: int | None = None,
    user_id: int | None = None,
) -> tuple[list[Booking], int]:
    if not caller.is_admin:
        if user_id is not None and user_id != caller.id:
            return [], 0
        user_id = caller.id
    return await store.bookings.page(page, user_id=user_id, event_id=event_id)


async def get_booking(store: Store, caller: User, booking_id: int) -> Booking:
    booking = await store.bookings.get(booking_id)
    # Someone else's booking is reported missing, not forbidden: ids must not leak.
    if booking is None or not (caller.is_admin or booking.user_id == caller.id):
        raise BookingNotFound()
    return booking


async def cancel_booking(store: Store, caller: User, booking_id: int) -> Booking:
    await get_booking(store, caller, booking_id)
    return await store.bookings.cancel(booking_id)
