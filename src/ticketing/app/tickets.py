"""Use cases: show a ticket, check it in at the door."""

from __future__ import annotations

from datetime import datetime

from ticketing.app.ports import Store
from ticketing.domain.errors import AlreadyCheckedIn, Forbidden, TicketNotFound, TicketVoid
from ticketing.domain.models import Ticket, TicketStatus, User, is_plausible_ticket_code


async def get_ticket(store: Store, caller: User, code: str) -> Ticket:
    found = await store.tickets.get(code) if is_plausible_ticket_code(code) else None
    if found is None or not (caller.is_admin or found[1] == caller.id):
        raise TicketNotFound()
    return found[0]


async def check_in(store: Store, caller: User, code: str, now: datetime) -> Ticket:
    if not caller.is_admin:
        raise Forbidden()
    if not is_plausible_ticket_code(code):
        raise TicketNotFound()
    ticket = await store.tickets.check_in(code, now)
    if ticket is not None:
        return ticket
    found = await store.tickets.get(code)
    if found is None:
        raise TicketNotFound()
    if found[0].status is TicketStatus.USED:
        raise AlreadyCheckedIn()
    raise TicketVoid()
