"""What the use cases need from storage. The db package implements it; tests fake it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from ticketing.domain.models import Booking, BookingRequest, Event, Role, Ticket, User


@dataclass(frozen=True)
class NewEvent:
    name: str
    description: str
    venue: str
    starts_at: datetime
    capacity: int
    price: Decimal
    currency: str
    max_per_booking: int


@dataclass(frozen=True)
class Page:
    limit: int = 50
    offset: int = 0


class DuplicateIdempotencyKey(Exception):
    """Another booking already holds this (caller, key): the caller replays it."""


class UserMissing(Exception):
    """The booking names a user that does not exist (a token of a removed account). Nothing was written."""


class BookingRefused(Exception):
    """The write booked nothing: the event is missing or its rules refused. Nothing was written."""


class Users(Protocol):
    async def add(self, email: str, name: str, password_hash: str, role: Role) -> User: ...
    async def get(self, user_id: int) -> User | None: ...
    async def by_email(self, email: str) -> User | None: ...
    async def make_admin(self, email: str, name: str, password_hash: str) -> User: ...


class SignInFailures(Protocol):
    async def since(self, email: str, client: str, since: datetime) -> list[datetime]: ...
    async def record(self, email: str, client: str, at: datetime) -> None: ...
    async def clear(self, email: str, client: str) -> None: ...


class Events(Protocol):
    async def add(self, event: NewEvent) -> Event: ...
    async def get(self, event_id: int) -> Event | None: ...
    async def page(self, page: Page) -> tuple[list[Event], int]: ...
    async def update(self, event_id: int, changes: dict[str, Any]) -> Event:
        """Raises EventNotFound, or CapacityBelowSold when capacity would drop below sales."""
        ...


class Bookings(Protocol):
    async def book(self, request: BookingRequest, codes: list[str], at: datetime) -> Booking:
        """Books atomically if the event exists, sales are open, the quantity is within its limit
        and the tickets are there; else raises BookingRefused (or TicketsSoldOut when the
        database's own guard refused), DuplicateIdempotencyKey, or UserMissing."""
        ...

    async def by_key(self, caller_id: int, key: str) -> Booking | None: ...
    async def get(self, booking_id: int) -> Booking | None: ...
    async def page(
        self, page: Page, *, user_id: int | None = None, event_id: int | None = None
    ) -> tuple[list[Booking], int]: ...
    async def cancel(self, booking_id: int) -> Booking:
        """Cancels a confirmed booking once; a cancelled one is returned as it is."""
        ...


class Tickets(Protocol):
    async def get(self, code: str) -> tuple[Ticket, int] | None:
        """The ticket and the id of the user who owns its booking."""
        ...

    async def check_in(self, code: str, at: datetime) -> Ticket | None:
        """Marks a VALID ticket USED; None when it was not VALID (or does not exist)."""
        ...


class Store(Protocol):
    users: Users
    sign_in_failures: SignInFailures
    events: Events
    bookings: Bookings
    tickets: Tickets


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password: str, password_hash: str) -> bool: ...
