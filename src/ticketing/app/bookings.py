"""Use cases: book, list, show and cancel bookings."""

from __future__ import annotations

from datetime import datetime

from ticketing.app.ports import DuplicateIdempotencyKey, Page, Store
from ticketing.domain.errors import (
    BookingNotFound,
    EventNotFound,
    Forbidden,
    IdempotencyKeyMismatch,
    QuantityAboveLimit,
    RequestInProgress,
    SalesClosed,
    TicketsSoldOut,
    UserNotFound,
)
from ticketing.domain.models import Booking, BookingRequest, User, new_ticket_code


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
    """Books all of ``quantity`` or nothing.

    The reads here only check rules and refuse early; the booking itself is one atomic write
    that re-checks capacity in the database, so a stale read can never cause an oversell.
    """
    target = caller.id if user_id is None else user_id
    if target != caller.id:
        if not caller.is_admin:
            raise Forbidden()
        if await store.users.get(target) is None:
            raise UserNotFound()
    request = BookingRequest(caller.id, target, event_id, quantity, idempotency_key)
    # No read of the idempotency key up front: a repeated key makes the insert fail on the
    # unique (created_by, idempotency_key) index, and that path answers the replay below. The
    # key is read here only when the request is refused, so a replay of an earlier success
    # still answers that success.
    event = await store.events.get(event_id)
    refusal: Exception | None = None
    if event is None:
        refusal = EventNotFound()
    elif quantity > event.max_per_booking:
        refusal = QuantityAboveLimit(event.max_per_booking)
    elif not event.sales_open(now):
        refusal = SalesClosed()
    elif event.available < quantity:
        refusal = TicketsSoldOut(event.available)
    if refusal is not None:
        if idempotency_key is not None:
            existing = await store.bookings.by_key(caller.id, idempotency_key)
            if existing is not None:
                return _replay(existing, request)
        raise refusal

    try:
        return await store.bookings.book(request, [new_ticket_code() for _ in range(quantity)], now)
    except DuplicateIdempotencyKey:
        assert idempotency_key is not None
        existing = await store.bookings.by_key(caller.id, idempotency_key)
        if existing is None:
            raise RequestInProgress() from None
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
