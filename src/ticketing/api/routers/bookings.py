"""Book, list, show, cancel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from ticketing.api import metrics
from ticketing.api.auth_first import AuthFirst
from ticketing.api.deps import CallerDep, CurrentUser, IdempotencyKey, PageDep, ServicesDep, StoreDep
from ticketing.api.errors import COMMON_ERRORS, documented
from ticketing.api.schemas import BookingIn, BookingOut, DigitsId, ListOut
from ticketing.api.services import Services
from ticketing.app import bookings, payments
from ticketing.app.ports import BookingFilters
from ticketing.domain import errors as e
from ticketing.domain.models import BookingStatus, Caller, PaymentStatus

StatusName = Literal["PENDING", "CONFIRMED", "EXPIRED", "CANCELLED"]
PaymentStatusName = Literal["none", "due", "paid", "refund_due", "refunded"]

router = APIRouter(prefix="/bookings", tags=["bookings"], responses=COMMON_ERRORS, route_class=AuthFirst)
BookingId = Annotated[DigitsId, Path()]
OptionalId = Annotated[DigitsId | None, Query()]

BOOKING_ERRORS = (
    e.QuantityAboveLimit, e.SalesClosed, e.NotAuthenticated, e.Forbidden, e.EventNotFound, e.UserNotFound,
    e.TicketTypeNotFound, e.TicketsSoldOut, e.CustomerLimitReached, e.RequestInProgress,
    e.IdempotencyKeyMismatch, e.TicketTypeRequired,
)


@router.post(
    "", status_code=201, response_model=None,
    responses={201: {"model": BookingOut, "description": "Booked: the booking with its tickets."},
               **documented(*BOOKING_ERRORS)},
)
async def book(
    caller: CallerDep, body: BookingIn, services: ServicesDep, idempotency_key: IdempotencyKey = None
) -> Response:
    # The caller is a dependency, so a request without a valid token is 401 before its body or
    # headers are validated (422), as on every other route that needs one; a token whose session
    # has ended, too (api/auth_first.py).
    return await answer_booking(services, caller, body, idempotency_key)


async def answer_booking(services: Services, caller: Caller, body: BookingIn, idempotency_key: str | None) -> Response:
    """The answer to a valid booking request from a signed-in caller, whichever way it came in:
    this route, or the booking door in front of the app (api/booking_door.py), which parses the
    same request faster.

    The caller (account and session) comes from the token alone: no read to book for oneself,
    the booking write itself checks the session. Then the one use case, the outcome counted,
    the booking serialised, or the error table's answer.
    """
    try:
        booking = await bookings.book_tickets(
            services.store, caller, event_id=body.event_id, quantity=body.total(),
            items=body.pairs(), user_id=body.user_id, idempotency_key=idempotency_key, now=datetime.now(UTC),
            hold_seconds=services.settings.hold_seconds,
        )
    except e.DomainError as error:
        metrics.BOOKINGS.labels(outcome=type(error).__name__).inc()
        return services.errors.answer(error)
    except Exception as error:  # answered as the app's own handler answers it, whichever door
        return services.errors.unexpected(error)
    metrics.BOOKINGS.labels(outcome="booked").inc()
    return Response(BookingOut.of(booking).model_dump_json(), 201, media_type="application/json")


@router.get("", response_model=ListOut[BookingOut], responses=documented(e.NotAuthenticated))
async def list_bookings(
    user: CurrentUser, store: StoreDep, page: PageDep, event_id: OptionalId = None, user_id: OptionalId = None,
    status: Annotated[StatusName | None, Query()] = None,
    payment_status: Annotated[PaymentStatusName | None, Query()] = None,
    reference: Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None,
) -> ListOut[BookingOut]:
    """Admins see every booking, customers their own; ``status`` filters as the bookings read
    (a hold past its deadline is EXPIRED), ``reference`` finds a payment reference exactly."""
    filters = BookingFilters(
        now=datetime.now(UTC), user_id=user_id, event_id=event_id,
        status=None if status is None else BookingStatus(status),
        payment_status=None if payment_status is None else PaymentStatus(payment_status), reference=reference,
    )
    items, total = await bookings.list_bookings(store, user, page, filters)
    return ListOut(items=[BookingOut.of(b) for b in items], total=total, limit=page.limit, offset=page.offset)


@router.get("/{booking_id}", response_model=BookingOut, responses=documented(e.NotAuthenticated, e.BookingNotFound))
async def get_booking(booking_id: BookingId, user: CurrentUser, store: StoreDep) -> BookingOut:
    return BookingOut.of(await bookings.get_booking(store, user, booking_id, datetime.now(UTC)))


@router.post("/{booking_id}/cancel", response_model=BookingOut, responses=documented(e.NotAuthenticated, e.BookingNotFound))
async def cancel_booking(booking_id: BookingId, user: CurrentUser, store: StoreDep) -> BookingOut:
    return BookingOut.of(await bookings.cancel_booking(store, user, booking_id, datetime.now(UTC)))


@router.post(
    "/{booking_id}/mark-paid", response_model=BookingOut,
    responses=documented(e.NotAuthenticated, e.Forbidden, e.BookingNotFound),
)
async def mark_paid(booking_id: BookingId, user: CurrentUser, store: StoreDep) -> BookingOut:
    """Admin: money received by hand. A PENDING booking is confirmed; an EXPIRED one too if its
    tickets can be taken again, else it is marked refund_due. Repeating it changes nothing."""
    return BookingOut.of(await payments.mark_paid(store, user, booking_id, datetime.now(UTC)))


@router.post(
    "/{booking_id}/mark-refunded", response_model=BookingOut,
    responses=documented(e.NotAuthenticated, e.Forbidden, e.BookingNotFound, e.PaymentConflict),
)
async def mark_refunded(booking_id: BookingId, user: CurrentUser, store: StoreDep) -> BookingOut:
    """Admin: the money owed back (refund_due) was returned. Repeating it changes nothing."""
    return BookingOut.of(await payments.mark_refunded(store, user, booking_id, datetime.now(UTC)))
