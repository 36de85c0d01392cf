"""Use cases: the public catalogue and the organiser's changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ticketing.app.ports import NewEvent, Page, Store
from ticketing.domain.errors import EventNotFound, Forbidden
from ticketing.domain.models import Event, TicketType, User


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


async def remaining_for(store: Store, event: Event, user_id: int) -> int | None:
    """What ``user_id`` may still book of the event under its per-customer limit (None: no limit)."""
    if event.per_customer_limit is None:
        return None
    return max(event.per_customer_limit - await store.events.usage(event.id, user_id), 0)


async def add_ticket_type(
    store: Store, caller: User, event_id: int, name: str, price: Decimal, capacity: int | None
) -> tuple[TicketType, Event]:
    _require_admin(caller)
    added = await store.ticket_types.add(event_id, name, price, capacity)
    return added, await get_event(store, event_id)


async def update_ticket_type(
    store: Store, caller: User, event_id: int, type_id: int, changes: dict[str, Any]
) -> tuple[TicketType, Event]:
    _require_admin(caller)
    changed = await store.ticket_types.update(event_id, type_id, changes)
    return changed, await get_event(store, event_id)


async def delete_ticket_type(store: Store, caller: User, event_id: int, type_id: int) -> None:
    _require_admin(caller)
    await store.ticket_types.delete(event_id, type_id)
