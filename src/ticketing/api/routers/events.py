"""The public catalogue, the organiser's changes, and ticket types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from ticketing.api.auth_first import AuthFirst
from ticketing.api.deps import AdminUser, PageDep, ServicesDep, StoreDep
from ticketing.api.errors import COMMON_ERRORS, documented
from ticketing.api.schemas import (
    DigitsId,
    EventIn,
    EventOut,
    EventPatch,
    ListOut,
    TicketTypeIn,
    TicketTypeOut,
    TicketTypePatch,
)
from ticketing.app import events
from ticketing.app.ports import NewEvent
from ticketing.domain import errors as e
from ticketing.domain.models import DEFAULT_TYPE_NAME, Checkout

router = APIRouter(prefix="/events", tags=["events"], responses=COMMON_ERRORS, route_class=AuthFirst)
EventId = Annotated[DigitsId, Path()]
TypeId = Annotated[DigitsId, Path()]
_ADMIN_ERRORS = (e.NotAuthenticated, e.Forbidden)


@router.get("", response_model=ListOut[EventOut])
async def list_events(store: StoreDep, page: PageDep) -> ListOut[EventOut]:
    items, total = await events.list_events(store, page)
    return ListOut(items=[EventOut.of(ev) for ev in items], total=total, limit=page.limit, offset=page.offset)


@router.get("/{event_id}", response_model=EventOut, responses=documented(e.EventNotFound))
async def get_event(event_id: EventId, services: ServicesDep, request: Request) -> EventOut:
    """Public. With a valid bearer token of a live session, ``my_remaining`` says what the caller
    may still book under the event's per-customer limit (an invalid, expired or signed-out token
    is read as no token here: the catalogue never answers 401)."""
    event = await events.get_event(services.store, event_id)
    remaining = None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    # Read by hand, not through the bearer scheme: the operation stays public in the schema.
    if scheme.lower() == "bearer" and token and event.per_customer_limit is not None:
        try:
            caller = services.tokens.caller(token)
        except e.NotAuthenticated:
            caller = None
        if caller is not None and await services.store.users.by_session(caller) is not None:
            remaining = await events.remaining_for(services.store, event, caller.user_id)
    return EventOut.of(event, remaining)


@router.post("", status_code=201, response_model=EventOut, responses=documented(*_ADMIN_ERRORS))
async def create_event(body: EventIn, user: AdminUser, services: ServicesDep) -> EventOut:
    if body.ticket_types is not None:
        types = tuple((t.name, t.price, t.capacity) for t in body.ticket_types)
    else:
        assert body.price is not None  # EventIn requires it without ticket_types
        types = ((DEFAULT_TYPE_NAME, body.price, None),)
    new = NewEvent(
        name=body.name, description=body.description or "", venue=body.venue or "", starts_at=body.starts_at,
        capacity=body.capacity, currency=body.currency or services.settings.default_currency,
        max_per_booking=body.max_per_booking, timezone=body.timezone or services.settings.default_timezone,
        ticket_types=types, checkout=Checkout(body.checkout), hold_minutes=body.hold_minutes,
        per_customer_limit=body.per_customer_limit,
    )
    return EventOut.of(await events.create_event(services.store, user, new))


@router.patch(
    "/{event_id}", response_model=EventOut,
    responses=documented(*_ADMIN_ERRORS, e.EventNotFound, e.CapacityBelowSold, e.CheckoutLocked, e.LimitBelowBooked,
                         e.TicketTypeRequired),
)
async def update_event(event_id: EventId, body: EventPatch, user: AdminUser, store: StoreDep) -> EventOut:
    return EventOut.of(await events.update_event(store, user, event_id, body.changes(), datetime.now(UTC)))


@router.post(
    "/{event_id}/ticket-types", status_code=201, response_model=TicketTypeOut,
    responses=documented(*_ADMIN_ERRORS, e.EventNotFound, e.TicketTypeLimit),
)
async def add_ticket_type(event_id: EventId, body: TicketTypeIn, user: AdminUser, store: StoreDep) -> TicketTypeOut:
    added, event = await events.add_ticket_type(store, user, event_id, body.name, body.price, body.capacity)
    return TicketTypeOut.of(added, event.available)


@router.patch(
    "/{event_id}/ticket-types/{type_id}", response_model=TicketTypeOut,
    responses=documented(*_ADMIN_ERRORS, e.EventNotFound, e.TicketTypeNotFound, e.CapacityBelowSold),
)
async def update_ticket_type(
    event_id: EventId, type_id: TypeId, body: TicketTypePatch, user: AdminUser, store: StoreDep
) -> TicketTypeOut:
    changed, event = await events.update_ticket_type(
        store, user, event_id, type_id, body.changes(), datetime.now(UTC))
    return TicketTypeOut.of(changed, event.available)


@router.delete(
    "/{event_id}/ticket-types/{type_id}", status_code=204, response_class=Response,
    responses=documented(*_ADMIN_ERRORS, e.EventNotFound, e.TicketTypeNotFound, e.TicketTypeInUse),
)
async def delete_ticket_type(event_id: EventId, type_id: TypeId, user: AdminUser, store: StoreDep) -> Response:
    await events.delete_ticket_type(store, user, event_id, type_id)
    return Response(status_code=204)
