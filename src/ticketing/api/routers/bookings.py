"""Book, list, show, cancel."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from ticketing.api import metrics
from ticketing.api.deps import CurrentUser, IdempotencyKey, PageDep, StoreDep
from ticketing.api.schemas import (
    COMMON_ERRORS,
    UNAUTHENTICATED,
    BookingIn,
    BookingOut,
    DigitsId,
    ErrorOut,
    ListOut,
    SoldOutOut,
)
from ticketing.app import bookings
from ticketing.domain.errors import DomainError
from ticketing.domain.models import Booking

router = APIRouter(prefix="/bookings", tags=["bookings"], responses=COMMON_ERRORS)
BookingId = Annotated[DigitsId, Path()]
OptionalId = Annotated[DigitsId | None, Query()]


@router.post(
    "", status_code=201, response_model=BookingOut,
    responses={
        400: {"model": ErrorOut}, 401: UNAUTHENTICATED, 403: {"model": ErrorOut},
        404: {"model": ErrorOut}, 409: {"model": SoldOutOut | ErrorOut},
    },
)
async def book(
    body: BookingIn, user: CurrentUser, store: StoreDep, idempotency_key: IdempotencyKey = None
) -> BookingOut:
    booking = await counted(bookings.book_tickets(
        store, user, event_id=body.event_id, quantity=body.quantity, user_id=body.user_id,
        idempotency_key=idempotency_key, now=datetime.now(UTC),
    ))
    return BookingOut.of(booking)


async def counted(booking: Awaitable[Booking]) -> Booking:
    """Awaits a booking use case and counts its outcome (the fast path counts through it too)."""
    try:
        booked = await booking
    except DomainError as error:
        metrics.BOOKINGS.labels(outcome=type(error).__name__).inc()
        raise
    metrics.BOOKINGS.labels(outcome="booked").inc()
    return booked


@router.get("", response_model=ListOut[BookingOut], responses={401: UNAUTHENTICATED})
async def list_bookings(
    user: CurrentUser, store: StoreDep, page: PageDep, event_id: OptionalId = None, user_id: OptionalId = None
) -> ListOut[BookingOut]:
    items, total = await bookings.list_bookings(store, user, page, event_id=event_id, user_id=user_id)
    return ListOut(items=[BookingOut.of(b) for b in items], total=total, limit=page.limit, offset=page.offset)


@router.get("/{booking_id}", response_model=BookingOut, responses={401: UNAUTHENTICATED, 404: {"model": ErrorOut}})
async def get_booking(booking_id: BookingId, user: CurrentUser, store: StoreDep) -> BookingOut:
    return BookingOut.of(await bookings.get_booking(store, user, booking_id))


@router.post(
    "/{booking_id}/cancel", response_model=BookingOut,
    responses={401: UNAUTHENTICATED, 404: {"model": ErrorOut}},
)
async def cancel_booking(booking_id: BookingId, user: CurrentUser, store: StoreDep) -> BookingOut:
    return BookingOut.of(await bookings.cancel_booking(store, user, booking_id))
