"""In-memory stand-ins for the storage ports: the use cases' rules, tested without a database."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime
from typing import Any

from ticketing.app.ports import BookingRefused, DuplicateIdempotencyKey, NewEvent, Page, UserMissing
from ticketing.domain.errors import CapacityBelowSold, EmailTaken, EventNotFound
from ticketing.domain.models import Booking, BookingRequest, BookingStatus, Event, Role, Ticket, TicketStatus, User


class FakeUsers:
    def __init__(self) -> None:
        self.rows: dict[int, User] = {}
        self.reads = 0
        self._ids = itertools.count(1)

    async def add(self, email: str, name: str, password_hash: str, role: Role) -> User:
        if await self.by_email(email):
            raise EmailTaken()
        user = User(next(self._ids), email, name, role, password_hash)
        self.rows[user.id] = user
        return user

    async def get(self, user_id: int) -> User | None:
        self.reads += 1
        return self.rows.get(user_id)

    async def by_email(self, email: str) -> User | None:
        return next((u for u in self.rows.values() if u.email == email), None)

    async def make_admin(self, email: str, name: str, password_hash: str) -> User:
        existing = await self.by_email(email)
        if existing is None:
            return await self.add(email, name, password_hash, Role.ADMIN)
        promoted = replace(existing, role=Role.ADMIN, password_hash=password_hash)
        self.rows[promoted.id] = promoted
        return promoted


class FakeSignInFailures:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, datetime]] = []

    async def since(self, email: str, client: str, since: datetime) -> list[datetime]:
        return [at for e, c, at in self.rows if (e, c) == (email, client) and at > since]

    async def record(self, email: str, client: str, at: datetime) -> None:
        self.rows.append((email, client, at))

    async def clear(self, email: str, client: str) -> None:
        self.rows = [r for r in self.rows if (r[0], r[1]) != (email, client)]


class FakeEvents:
    def __init__(self) -> None:
        self.rows: dict[int, Event] = {}
        self._ids = itertools.count(1)

    async def add(self, event: NewEvent) -> Event:
        created = Event(id=next(self._ids), tickets_sold=0, **vars(event))
        self.rows[created.id] = created
        return created

    async def get(self, event_id: int) -> Event | None:
        return self.rows.get(event_id)

    async def page(self, page: Page) -> tuple[list[Event], int]:
        ordered = sorted(self.rows.values(), key=lambda e: (e.starts_at, e.id))
        return ordered[page.offset : page.offset + page.limit], len(ordered)

    async def update(self, event_id: int, changes: dict[str, Any]) -> Event:
        event = self.rows.get(event_id)
        if event is None:
            raise EventNotFound()
        if changes.get("capacity", event.capacity) < event.tickets_sold:
            raise CapacityBelowSold(event.tickets_sold)
        self.rows[event_id] = replace(event, **changes)
        return self.rows[event_id]


class FakeBookings:
    def __init__(self, events: FakeEvents, users: FakeUsers) -> None:
        self.events = events
        self.users = users
        self.rows: dict[int, Booking] = {}
        self.keys: dict[tuple[int, str], int] = {}
        self._ids = itertools.count(1)
        self._ticket_ids = itertools.count(1)
        self.book_calls = 0
        self.writes = 0

    async def book(self, request: BookingRequest, codes: list[str], at: datetime) -> Booking:
        self.book_calls += 1
        if request.idempotency_key and (request.caller_id, request.idempotency_key) in self.keys:
            raise DuplicateIdempotencyKey()
        if not {request.user_id, request.caller_id} <= self.users.rows.keys():  # the foreign keys
            raise UserMissing()
        event = self.events.rows.get(request.event_id)
        if event is None or event.refusal(request.quantity, at) is not None:
            raise BookingRefused()
        self.writes += 1
        self.events.rows[event.id] = replace(event, tickets_sold=event.tickets_sold + request.quantity)
        booking_id = next(self._ids)
        tickets = tuple(
            Ticket(next(self._ticket_ids), code, booking_id, event.id, TicketStatus.VALID, None) for code in codes
        )
        booking = Booking(
            booking_id, request.user_id, event.id, request.quantity, event.price * request.quantity,
            BookingStatus.CONFIRMED, at, tickets, request.fingerprint if request.idempotency_key else None,
        )
        self.rows[booking_id] = booking
        if request.idempotency_key:
            self.keys[(request.caller_id, request.idempotency_key)] = booking_id
        return booking

    async def by_key(self, caller_id: int, key: str) -> Booking | None:
        booking_id = self.keys.get((caller_id, key))
        return self.rows.get(booking_id) if booking_id else None

    async def get(self, booking_id: int) -> Booking | None:
        return self.rows.get(booking_id)

    async def page(self, page: Page, *, user_id: int | None = None, event_id: int | None = None) -> tuple[list[Booking], int]:
        found = [
            b for b in sorted(self.rows.values(), key=lambda b: -b.id)
            if (user_id is None or b.user_id == user_id) and (event_id is None or b.event_id == event_id)
        ]
        return found[page.offset : page.offset + page.limit], len(found)

    async def cancel(self, booking_id: int) -> Booking:
        booking = self.rows[booking_id]
        if booking.status is BookingStatus.CONFIRMED:
            event = self.events.rows[booking.event_id]
            self.events.rows[event.id] = replace(event, tickets_sold=event.tickets_sold - booking.quantity)
            voided = tuple(replace(t, status=TicketStatus.VOID) for t in booking.tickets)
            self.rows[booking_id] = replace(booking, status=BookingStatus.CANCELLED, tickets=voided)
        return self.rows[booking_id]


class FakeTickets:
    def __init__(self, bookings: FakeBookings) -> None:
        self.bookings = bookings

    def _find(self, code: str) -> tuple[Booking, Ticket] | None:
        for booking in self.bookings.rows.values():
            for ticket in booking.tickets:
                if ticket.code == code:
                    return booking, ticket
        return None

    async def get(self, code: str) -> tuple[Ticket, int] | None:
        found = self._find(code)
        return (found[1], found[0].user_id) if found else None

    async def check_in(self, code: str, at: datetime) -> Ticket | None:
        found = self._find(code)
        if found is None or found[1].status is not TicketStatus.VALID:
            return None
        booking, ticket = found
        used = replace(ticket, status=TicketStatus.USED, checked_in_at=at)
        self.bookings.rows[booking.id] = replace(
            booking, tickets=tuple(used if t.id == ticket.id else t for t in booking.tickets)
        )
        return used


class FakeStore:
    def __init__(self) -> None:
        self.users = FakeUsers()
        self.sign_in_failures = FakeSignInFailures()
        self.events = FakeEvents()
        self.bookings = FakeBookings(self.events, self.users)
        self.tickets = FakeTickets(self.bookings)


class PlainPasswords:
    """Reversible 'hashing' so tests need no argon2; the rules around it are what is tested."""

    def hash(self, password: str) -> str:
        return "plain$" + password

    def verify(self, password: str, password_hash: str) -> bool:
        return password_hash == "plain$" + password
