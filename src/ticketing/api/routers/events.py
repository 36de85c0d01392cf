"""The public catalogue and the organiser's changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from ticketing.api.deps import CurrentUser, PageDep, ServicesDep, StoreDep
from ticketing.api.errors import COMMON_ERRORS, documented
from ticketing.api.schemas import DigitsId, EventIn, EventOut, EventPatch, ListOut
from ticketing.app import events
from ticketing.app.ports import NewEvent
from ticketing.domain.errors import CapacityBelowSold, EventNotFound, Forbidden, NotAuthenticated

router = APIRouter(prefix="/events", tags=["events"], responses=COMMON_ERRORS)
EventId = Annotated[DigitsId, Path()]
_ADMIN_ERRORS = (NotAuthenticated, Forbidden)


@router.get("", response_model=ListOut[EventOut])
async def list_events(store: StoreDep, page: PageDep) -> ListOut[EventOut]:
    items, total = await events.list_events(store, page)
    return ListOut(items=[EventOut.of(e) for e in items], total=total, limit=page.limit, offset=page.offset)


@router.get("/{event_id}", response_model=EventOut, responses=documented(EventNotFound))
async def get_event(event_id: EventId, store: StoreDep) -> EventOut:
    return EventOut.of(await events.get_event(store, event_id))


@router.post("", status_code=201, response_model=EventOut, responses=documented(*_ADMIN_ERRORS))
async def create_event(body: EventIn, user: CurrentUser, services: ServicesDep) -> EventOut:
    new = NewEvent(
        name=body.name, description=body.description, venue=body.venue, starts_at=body.starts_at,
        capacity=body.capacity, price=body.price, currency=body.currency or services.settings.default_currency,
        max_per_booking=body.max_per_booking, timezone=body.timezone or services.settings.default_timezone,
    )
    return EventOut.of(await events.create_event(services.store, user, new))


@router.patch(
    "/{event_id}", response_model=EventOut,
    responses=documented(*_ADMIN_ERRORS, EventNotFound, CapacityBelowSold),
)
async def update_event(event_id: EventId, body: EventPatch, user: CurrentUser, store: StoreDep) -> EventOut:
    return EventOut.of(await events.update_event(store, user, event_id, body.changes()))
