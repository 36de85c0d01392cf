"""What the use cases need from storage. The db package implements it; tests fake it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from ticketing.domain.models import (
    Booking,
    BookingRequest,
    BookingStatus,
    Caller,
    Checkout,
    Event,
    PaymentStatus,
    Role,
    Ticket,
    TicketType,
    User,
)


@dataclass(frozen=True)
class NewEvent:
    name: str
    description: str
    venue: str
    starts_at: datetime
    capacity: int
    currency: str
    max_per_booking: int
    timezone: str
    # (name, price, capacity or None) for each of its 1..20 types.
    ticket_types: tuple[tuple[str, Decimal, int | None], ...]
    checkout: Checkout = Checkout.INSTANT
    hold_minutes: int = 15
    per_customer_limit: int | None = None


@dataclass(frozen=True)
class NewBookingValues:
    """What the application makes for a booking before it is written: a code for each ticket
    (used only if it is CONFIRMED at once), the payment reference (used only for a hold) and, in
    tests, a hold length in seconds that replaces the event's hold_minutes."""

    codes: list[str]
    reference: str
    hold_seconds: int | None = None


@dataclass(frozen=True)
class BookingFilters:
    now: datetime  # a hold past its deadline reads (and is filtered) as EXPIRED from then on
    user_id: int | None = None
    event_id: int | None = None
    status: BookingStatus | None = None
    payment_status: PaymentStatus | None = None
    reference: str | None = None


@dataclass(frozen=True)
class Payment:
    """Money received for a booking, named by its payment reference (provider) or its id
    (admin). ``amount_minor``/``currency``, when given, must be the booking's.
    ``provider_event_id`` makes the payment count once however often it is delivered."""

    succeeded: bool = True
    reference: str | None = None
    booking_id: int | None = None
    amount_minor: int | None = None
    currency: str | None = None
    provider_event_id: str | None = None


@dataclass(frozen=True)
class PaymentResult:
    booking_id: int
    status: BookingStatus
    replayed: bool = False


@dataclass(frozen=True)
class Page:
    limit: int = 50
    offset: int = 0


class DuplicateIdempotencyKey(Exception):
    """Another booking already holds this (caller, key): the caller replays it."""


class BookingRefused(Exception):
    """The write booked nothing: the event is missing or its rules refused. Nothing was written."""


class Users(Protocol):
    async def add(self, email: str, name: str, password_hash: str, role: Role, *, language: str = "en") -> User:
        """``language``: of the account's emails, 'en' or 'th'."""
        ...

    async def get(self, user_id: int) -> User | None: ...
    async def by_email(self, email: str) -> User | None: ...

    async def by_session(self, caller: Caller) -> User | None:
        """The caller's account while its session is live (not ended, not expired), else None:
        ONE read, the session and the account together."""
        ...

    async def make_admin(self, email: str, name: str | None, password_hash: str, at: datetime) -> User:
        """Creates an admin, or promotes the account with this email and sets its password,
        ending every session it had (in the same transaction)."""
        ...

    async def set_password(self, user_id: int, password_hash: str, at: datetime) -> None:
        """Sets the password and ends every session of the account, in one transaction."""
        ...


class Sessions(Protocol):
    async def start(self, user_id: int, at: datetime, expires_at: datetime) -> int:
        """A new live session of the account; its id (never reused)."""
        ...

    async def end(self, caller: Caller, at: datetime) -> None:
        """Ends the caller's session (sign-out); ending an ended one changes nothing."""
        ...

    async def end_all(self, user_id: int, at: datetime) -> None:
        """Ends every live session of the account (sign out everywhere)."""
        ...


class SignInFailures(Protocol):
    async def count_attempt(self, email: str, client: str, at: datetime, window_start: datetime) -> tuple[int, datetime]:
        """Counts an attempt for (email, client) as a failure, atomically: (failures in the
        current window, this one included; when that window began). A window that began
        before ``window_start`` is over: this attempt begins a new one. Concurrent attempts
        each get their own count, so no more than the limit ever get past it."""
        ...

    async def clear(self, email: str, client: str) -> None: ...


class Events(Protocol):
    async def add(self, event: NewEvent) -> Event:
        """The event, its sales row and its ticket types, in one transaction."""
        ...

    async def get(self, event_id: int) -> Event | None: ...
    async def page(self, page: Page) -> tuple[list[Event], int]: ...

    async def usage(self, event_id: int, user_id: int) -> int:
        """The user's PENDING + CONFIRMED tickets of an event with a per-customer limit."""
        ...

    async def update(self, event_id: int, changes: dict[str, Any]) -> Event:
        """Raises EventNotFound, CapacityBelowSold (capacity below sold + held), CheckoutLocked
        (checkout changed on an event with bookings) or TicketTypeRequired (price on an event
        with several types)."""
        ...


class TicketTypes(Protocol):
    async def add(self, event_id: int, name: str, price: Decimal, capacity: int | None) -> TicketType:
        """Raises EventNotFound or TicketTypeLimit."""
        ...

    async def get(self, event_id: int, type_id: int) -> TicketType | None: ...

    async def update(self, event_id: int, type_id: int, changes: dict[str, Any]) -> TicketType:
        """Raises TicketTypeNotFound or CapacityBelowSold."""
        ...

    async def delete(self, event_id: int, type_id: int) -> None:
        """Raises EventNotFound, TicketTypeNotFound or TicketTypeInUse."""
        ...


class Bookings(Protocol):
    async def book(self, request: BookingRequest, new: NewBookingValues, at: datetime) -> Booking:
        """Books atomically if the caller's session (``request.session_id``) is live, the event
        exists, sales are open, the quantity is within its limit and the tickets are there, all
        checked by the write itself; else raises BookingRefused (also when the database's own
        guard refused), DuplicateIdempotencyKey, or UserMissing (the domain error: the booking
        names a user that does not exist). Nothing is written when it raises."""
        ...

    async def by_key(self, caller_id: int, key: str) -> Booking | None: ...
    async def get(self, booking_id: int) -> Booking | None: ...
    async def by_reference(self, reference: str) -> Booking | None: ...
    async def page(self, page: Page, filters: BookingFilters) -> tuple[list[Booking], int]: ...

    async def cancel(self, booking: Booking, at: datetime) -> Booking:
        """Cancels a PENDING or CONFIRMED booking once (a hold past its deadline is released as
        EXPIRED instead); any other is returned as it is now."""
        ...

    async def release_expired(self, event_id: int, at: datetime, limit: int) -> int:
        """Releases up to ``limit`` holds of the event past their deadline; how many."""
        ...

    async def events_with_expired_holds(self, at: datetime, limit: int) -> list[int]: ...

    async def mark_refunded(self, booking_id: int) -> Booking | None:
        """refund_due -> refunded (refunded stays); None when it is neither."""
        ...

    async def pay(self, payment: Payment, new_codes: Callable[[int], list[str]], at: datetime) -> PaymentResult:
        """Records the payment in one transaction: confirms a PENDING booking (or an EXPIRED
        one whose tickets can be taken again), else marks what is owed back. Raises
        BookingNotFound or AmountMismatch, having changed nothing."""
        ...


class Tickets(Protocol):
    async def get(self, code: str) -> tuple[Ticket, int] | None:
        """The ticket and the id of the user who owns its booking."""
        ...

    async def check_in(self, code: str, at: datetime) -> Ticket | None:
        """Marks a VALID ticket USED; None when it was not VALID (or does not exist)."""
        ...


class Store(Protocol):
    # Read-only members: an adapter may hold them as plain attributes (a Protocol's writable
    # attribute would demand the adapter's types be exactly the Protocol's own).
    @property
    def users(self) -> Users: ...
    @property
    def sessions(self) -> Sessions: ...
    @property
    def sign_in_failures(self) -> SignInFailures: ...
    @property
    def events(self) -> Events: ...
    @property
    def ticket_types(self) -> TicketTypes: ...
    @property
    def bookings(self) -> Bookings: ...
    @property
    def tickets(self) -> Tickets: ...


class PasswordHasher(Protocol):
    """Hashing is slow on purpose: both run off the event loop, and raise ServiceUnavailable
    at once when too many are in flight already."""

    async def hash(self, password: str) -> str: ...
    async def verify(self, password: str, password_hash: str) -> bool: ...
