"""Use cases: the public catalogue and the organiser's changes."""

from __future__ import annotations

from typing import Any

from ticketing.app.ports import NewEvent, Page, Store
from ticketing.domain.errors import EventNotFound, Forbidden
from ticketing.domain.models import Event, User


def _require_admin(caller: User) -> None:
    if not caller.is_admin:
        raise Forbidden()


async def list_events(store: Store, page: Page) -> tuple[list[Event], int]:
    return await store.events.page(page)


async def get_event(store: Store, event_id: int) -> Event:
    event = await store.events.get(event_id)
    if event is None:
        raise EventNotFound()
    return event


async def create_event(store: Store, caller: User, event: NewEvent) -> Event:
    _require_admin(caller)
    return await store.events.add(event)


async def update_event(store: Store, caller: User, event_id: int, changes: dict[str, Any]) -> Event:
    _require_admin(caller)
    if not changes:
        return await get_event(store, event_id)
    return await store.events.update(event_id, changes)
