"""In-memory stand-ins for the storage ports, so the use cases' rules are tested without a
database; a fixed "now" and the users and events the unit tests add to the fake store."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ticketing.app.ports import (
    BookingFilters,
    BookingRefused,
    DuplicateIdempotencyKey,
    NewBookingValues,
    NewEvent,
    Page,
    Payment,
    PaymentResult,
)
from ticketing.domain.errors import CapacityBelowSold, DomainError, EmailTaken, EventNotFound, UserMissing
from ticketing.domain.models import (
    DEFAULT_TYPE_NAME,
    Booking,
    BookingRequest,
    BookingStatus,
    Caller,
    Event,
    Role,
    Ticket,
    TicketStatus,
    TicketType,
    User,
)

# The unit tests' clock: use cases take "now" as an argument, so time never moves under a test.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class FakeUsers:
    def __init__(self, sessions: FakeSessions) -> None:
        self.sessions = sessions
        self.rows: dict[int, User] = {}
        self.reads = 0
        self._ids = itertools.count(1)

    async def add(self, email: str, name: str, password_hash: str, role: Role, *, language: str = "en") -> User:
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

    async def by_session(self, caller: Caller) -> User | None:
        self.reads += 1
        return self.rows.get(caller.user_id) if self.sessions.live(caller) else None

    async def make_admin(self, email: str, name: str, password_hash: str, at: datetime) -> User:
        existing = await self.by_email(email)
        if existing is None:
            return await self.add(email, name, password_hash, Role.ADMIN)
        promoted = replace(existing, role=Role.ADMIN, password_hash=password_hash)
        self.rows[promoted.id] = promoted
        await self.sessions.end_all(promoted.id, at)
        return promoted

    async def set_password(self, user_id: int, password_hash: str, at: datetime) -> None:
        self.rows[user_id] = replace(self.rows[user_id], password_hash=password_hash)
        await self.sessions.end_all(user_id, at)


class FakeSessions:
    def __init__(self) -> None:
        # id -> (user id, expires at, revoked at)
        self.rows: dict[int, tuple[int, datetime, datetime | None]] = {}
        self._ids = itertools.count(1)

    def live(self, caller: Caller) -> bool:
        row = self.rows.get(caller.session_id)
        return row is not None and row[0] == caller.user_id and row[2] is None

    async def start(self, user_id: int, at: datetime, expires_at: datetime) -> int:
        session_id = next(self._ids)
        self.rows[session_id] = (user_id, expires_at, None)
        return session_id

    async def end(self, caller: Caller, at: datetime) -> None:
        if self.live(caller):
            user_id, expires_at, _ = self.rows[caller.session_id]
            self.rows[caller.session_id] = (user_id, expires_at, at)

    async def end_all(self, user_id: int, at: datetime) -> None:
        for session_id, (owner, expires_at, revoked_at) in self.rows.items():
            if owner == user_id and revoked_at is None:
                self.rows[session_id] = (owner, expires_at, at)


class FakeSignInFailures:
    def __init__(self) -> None:
        # (email, client) -> (failures, when the window began)
        self.rows: dict[tuple[str, str], tuple[int, datetime]] = {}

    async def count_attempt(self, email: str, client: str, at: datetime, window_start: datetime) -> tuple[int, datetime]:
        failures, began = self.rows.get((email, client), (0, at))
        if began <= window_start:
            failures, began = 0, at
        self.rows[(email, client)] = (failures + 1, began)
        return failures + 1, began

    async def clear(self, email: str, client: str) -> None:
        self.rows.pop((email, client), None)


class FakeEvents:
    def __init__(self) -> None:
        self.rows: dict[int, Event] = {}
        self._ids = itertools.count(1)

    async def add(self, event: NewEvent) -> Event:
        event_id = next(self._ids)
        types = tuple(
            TicketType(event_id * 100 + n, event_id, name, price, capacity, 0, 0)
            for n, (name, price, capacity) in enumerate(event.ticket_types, start=1)
        )
        fields = {k: v for k, v in vars(event).items() if k != "ticket_types"}
        created = Event(id=event_id, tickets_sold=0, price=min(t.price for t in types), ticket_types=types, **fields)
        self.rows[created.id] = created
        return created

    async def get(self, event_id: int) -> Event | None:
        return self.rows.get(event_id)

    async def usage(self, event_id: int, user_id: int) -> int:
        return 0  # the fake keeps no per-customer usage: its events have no limit

    async def page(self, page: Page) -> tuple[list[Event], int]:
        ordered = sorted(self.rows.values(), key=lambda e: (e.starts_at, e.id))
        return ordered[page.offset : page.offset + page.limit], len(ordered)

    async def update(self, event_id: int, changes: dict[str, Any]) -> Event:
        event = self.rows.get(event_id)
        if event is None:
            raise EventNotFound()
        if changes.get("capacity", event.capacity) < event.tickets_sold + event.tickets_held:
            raise CapacityBelowSold(event.tickets_sold + event.tickets_held)
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

    async def book(self, request: BookingRequest, new: NewBookingValues, at: datetime) -> Booking:
        codes = new.codes
        self.book_calls += 1
        if request.idempotency_key and (request.caller_id, request.idempotency_key) in self.keys:
            raise DuplicateIdempotencyKey()
        if not self.users.sessions.live(Caller(request.caller_id, request.session_id)):  # the write's own check
            raise BookingRefused()
        if not {request.user_id, request.caller_id} <= self.users.rows.keys():  # the foreign keys
            raise UserMissing()
        event = self.events.rows.get(request.event_id)
        try:
            refused = event is None or event.refusal(request.items, request.quantity, at) is not None
        except DomainError:
            refused = True
        if refused or event is None:
            raise BookingRefused()
        self.writes += 1
        self.events.rows[event.id] = replace(event, tickets_sold=event.tickets_sold + request.quantity)
        booking_id = next(self._ids)
        tickets = tuple(
            Ticket(next(self._ticket_ids), code, booking_id, event.id, TicketStatus.VALID, None) for code in codes
        )
        booking = Booking(
            booking_id, request.user_id, event.id, request.quantity, event.price * request.quantity,
            BookingStatus.CONFIRMED, at, tickets, request.stored_fingerprint,
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

    async def page(self, page: Page, filters: BookingFilters) -> tuple[list[Booking], int]:
        found = [
            b for b in sorted(self.rows.values(), key=lambda b: -b.id)
            if (filters.user_id is None or b.user_id == filters.user_id)
            and (filters.event_id is None or b.event_id == filters.event_id)
            and (filters.status is None or b.status is filters.status)
        ]
        return found[page.offset : page.offset + page.limit], len(found)

    async def by_reference(self, reference: str) -> Booking | None:
        return next((b for b in self.rows.values() if b.payment_reference == reference), None)

    async def release_expired(self, event_id: int, at: datetime, limit: int) -> int:
        return 0  # the fake's events are all instant: it never holds

    async def events_with_expired_holds(self, at: datetime, limit: int) -> list[int]:
        return []

    async def mark_refunded(self, booking_id: int) -> Booking | None:
        raise NotImplementedError("payments are tested against the real databases (tests/integration)")

    async def pay(self, payment: Payment, new_codes: Callable[[int], list[str]], at: datetime) -> PaymentResult:
        raise NotImplementedError("payments are tested against the real databases (tests/integration)")

    async def cancel(self, booking: Booking, at: datetime) -> Booking:
        booking_id = booking.id
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
        self.sessions = FakeSessions()
        self.users = FakeUsers(self.sessions)
        self.sign_in_failures = FakeSignInFailures()
        self.events = FakeEvents()
        self.bookings = FakeBookings(self.events, self.users)
        self.tickets = FakeTickets(self.bookings)


class PlainPasswords:
    """Reversible 'hashing' so tests need no argon2; the rules around it are what is tested."""

    async def hash(self, password: str) -> str:
        return "plain$" + password

    async def verify(self, password: str, password_hash: str) -> bool:
        return password_hash == "plain$" + password


async def add_user(store: FakeStore, role: Role = Role.CUSTOMER) -> User:
    return await store.users.add(f"{role.value}{len(store.users.rows)}@example.com", "N", "h", role)


async def signed_in(store: FakeStore, user: User) -> Caller:
    """A live session of ``user``: who a token issued at sign-in names."""
    return Caller(user.id, await store.sessions.start(user.id, NOW, NOW + timedelta(hours=1)))


async def add_event(
    store: FakeStore, capacity: int = 10, max_per_booking: int = 4, starts_in: timedelta = timedelta(days=1)
) -> Event:
    return await store.events.add(
        NewEvent("Gig", "", "", NOW + starts_in, capacity, "THB", max_per_booking, "UTC",
                 ((DEFAULT_TYPE_NAME, Decimal("150.00"), None),))
    )
