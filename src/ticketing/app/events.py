"""Use cases: the public catalogue and the organiser's changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from ticketing.app.holds import HOLDS_PER_RELEASE
from ticketing.app.ports import NewEvent, Page, Store
from ticketing.domain.errors import CapacityBelowSold, EventNotFound, Forbidden, LimitBelowBooked
from ticketing.domain.models import Event, TicketType, User

T = TypeVar("T")


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


async def update_event(store: Store, caller: User, event_id: int, changes: dict[str, Any], now: datetime) -> Event:
    _require_admin(caller)
    if not changes:
        return await get_event(store, event_id)
    return await _releasing_expired_holds(store, event_id, now, lambda: store.events.update(event_id, changes))


async def _releasing_expired_holds(store: Store, event_id: int, now: datetime, change: Callable[[], Awaitable[T]]) -> T:
    """``change``, made once the event's holds past their deadline are released if what they
    still take refuses it (capacity, a type's cap, the per-customer limit): they read EXPIRED
    already (checkout.md), but until a sweeper releases them their tickets count as held, and
    sweepers may run a minute apart. A booking that needs their tickets releases them the same
    way (book_tickets). The change itself stays the one guarded write that decides."""
    while True:
        try:
            return await change()
        except (CapacityBelowSold, LimitBelowBooked):
            if await store.bookings.release_expired(event_id, now, HOLDS_PER_RELEASE) == 0:
                raise


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
    store: Store, caller: User, event_id: int, type_id: int, changes: dict[str, Any], now: datetime
) -> tuple[TicketType, Event]:
    _require_admin(caller)
    changed = await _releasing_expired_holds(
        store, event_id, now, lambda: store.ticket_types.update(event_id, type_id, changes))
    return changed, await get_event(store, event_id)


async def delete_ticket_type(store: Store, caller: User, event_id: int, type_id: int) -> None:
    _require_admin(caller)
    await store.ticket_types.delete(event_id, type_id)
