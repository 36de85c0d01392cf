"""Entities and value objects of the booking domain. No I/O, no framework."""

from __future__ import annotations

import enum
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from ticketing.domain.errors import (
    CustomerLimitReached,
    DomainError,
    QuantityAboveLimit,
    SalesClosed,
    TicketsSoldOut,
    TicketTypeNotFound,
    TicketTypeRequired,
)

# No event allows more tickets in one booking than this (its own max_per_booking is 1..100).
MAX_TICKETS_PER_BOOKING = 100
# The longest email an account can have (RFC 5321's 64 + 1 + 255, rounded as the column is).
MAX_EMAIL_LENGTH = 320


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"


class BookingStatus(enum.StrEnum):
    PENDING = "PENDING"  # holds its tickets until paid, cancelled or expired
    CONFIRMED = "CONFIRMED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


class PaymentStatus(enum.StrEnum):
    NONE = "none"  # nothing to pay (instant checkout, or a zero total)
    DUE = "due"
    PAID = "paid"
    REFUND_DUE = "refund_due"
    REFUNDED = "refunded"


class Checkout(enum.StrEnum):
    INSTANT = "instant"  # CONFIRMED at once, paid at the door or not at all
    PAYMENT = "payment"  # PENDING, holding its tickets, until paid or expired


# An event has 1..MAX_TICKET_TYPES ticket types; a booking names at most MAX_ITEMS of them.
MAX_TICKET_TYPES = 20
MAX_ITEMS = 20
DEFAULT_TYPE_NAME = "General admission"


class TicketStatus(enum.StrEnum):
    VALID = "VALID"
    USED = "USED"
    VOID = "VOID"


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    role: Role
    password_hash: str = field(repr=False, default="")

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class TicketType:
    id: int
    event_id: int
    name: str
    price: Decimal
    capacity: int | None  # None: only the event's capacity bounds it
    tickets_sold: int
    tickets_held: int

    def available(self, event_available: int) -> int:
        if self.capacity is None:
            return max(event_available, 0)
        return max(min(self.capacity - self.tickets_sold - self.tickets_held, event_available), 0)


@dataclass(frozen=True)
class Event:
    id: int
    name: str
    description: str
    venue: str
    starts_at: datetime
    capacity: int
    price: Decimal
    currency: str
    max_per_booking: int
    tickets_sold: int
    timezone: str
    # Taken by unpaid holds; they count against capacity until confirmed or released.
    tickets_held: int = 0
    ticket_types: tuple[TicketType, ...] = ()
    checkout: Checkout = Checkout.INSTANT
    hold_minutes: int = 15
    per_customer_limit: int | None = None

    @property
    def available(self) -> int:
        return self.capacity - self.tickets_sold - self.tickets_held

    def sales_open(self, now: datetime) -> bool:
        return now < self.starts_at

    def ticket_type(self, type_id: int) -> TicketType | None:
        return next((t for t in self.ticket_types if t.id == type_id), None)

    def items_for(self, items: tuple[tuple[int, int], ...], quantity: int) -> tuple[tuple[int, int], ...]:
        """The (type id, quantity) pairs a request names: its items, or for the v1 form (no
        items) the event's only type. Raises TicketTypeNotFound / TicketTypeRequired."""
        if not items:
            if len(self.ticket_types) != 1:
                raise TicketTypeRequired()
            return ((self.ticket_types[0].id, quantity),)
        for type_id, _ in items:
            if self.ticket_type(type_id) is None:
                raise TicketTypeNotFound()
        return items

    def refusal(
        self, items: tuple[tuple[int, int], ...], quantity: int, now: datetime, used: int = 0
    ) -> DomainError | None:
        """Why these items (``quantity`` tickets in all) cannot be booked now by a buyer who
        already holds or has ``used`` tickets of this event, or None if they can."""
        wanted = self.items_for(items, quantity)
        if quantity > self.max_per_booking:
            return QuantityAboveLimit(self.max_per_booking)
        if not self.sales_open(now):
            return SalesClosed()
        if self.per_customer_limit is not None and used + quantity > self.per_customer_limit:
            return CustomerLimitReached(self.per_customer_limit - used)
        short = self.available < quantity or any(
            (t := self.ticket_type(type_id)) is not None and t.available(self.available) < wanted_quantity
            for type_id, wanted_quantity in wanted
        )
        if short:
            return self._sold_out(wanted)
        return None

    def sold_out(self, items: tuple[tuple[int, int], ...], quantity: int) -> TicketsSoldOut:
        """The sold-out answer to these items: the event's available, and each requested type's."""
        return self._sold_out(self.items_for(items, quantity))

    def _sold_out(self, wanted: tuple[tuple[int, int], ...]) -> TicketsSoldOut:
        return TicketsSoldOut(self.available, tuple((type_id, self._type_available(type_id)) for type_id, _ in wanted))

    def _type_available(self, type_id: int) -> int:
        found = self.ticket_type(type_id)
        return 0 if found is None else found.available(self.available)


@dataclass(frozen=True)
class Ticket:
    id: int
    code: str
    booking_id: int
    event_id: int
    status: TicketStatus
    checked_in_at: datetime | None
    ticket_type_id: int | None = None


@dataclass(frozen=True)
class BookingItem:
    ticket_type_id: int
    name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class Buyer:
    id: int
    name: str
    email: str


@dataclass(frozen=True)
class Booking:
    id: int
    user_id: int
    event_id: int
    quantity: int
    total_amount: Decimal
    status: BookingStatus
    booking_date: datetime
    tickets: tuple[Ticket, ...] = ()
    request_fingerprint: str | None = field(default=None, repr=False)
    items: tuple[BookingItem, ...] = ()
    currency: str = ""
    expires_at: datetime | None = None
    payment_status: PaymentStatus = PaymentStatus.NONE
    payment_reference: str | None = None
    buyer: Buyer | None = None

    def as_seen(self, now: datetime) -> Booking:
        """The booking as every reader must see it at ``now``: a hold past its deadline is
        EXPIRED even before the sweeper has released it (its tickets are then released at the
        latest a moment later; until then they still count as held, never as free)."""
        if self.status is BookingStatus.PENDING and self.expires_at is not None and self.expires_at <= now:
            return replace(self, status=BookingStatus.EXPIRED)
        return self


@dataclass(frozen=True)
class Caller:
    """Who a validly signed token names: an account, and the sign-in session it was issued
    for. The token is good only while that session is (not signed out, not ended by a password
    change): the session, not the account id alone, is what is checked on use."""

    user_id: int
    session_id: int


@dataclass(frozen=True)
class BookingRequest:
    """What a caller asked for; its fingerprint tells a replay from a different request.

    ``session_id`` is the caller's sign-in session: the booking write itself books only while
    that session is live, so a revoked token books nothing (and costs no read first)."""

    caller_id: int
    user_id: int
    event_id: int
    quantity: int
    idempotency_key: str | None = None
    session_id: int = field(kw_only=True)
    # (ticket type id, quantity) pairs, sorted by type; empty for v1's {"event_id", "quantity"}.
    items: tuple[tuple[int, int], ...] = field(default=(), kw_only=True)

    @property
    def fingerprint(self) -> str:
        fields: list[object] = [self.user_id, self.event_id, self.quantity]
        if self.items:  # v1 requests keep the fingerprint they always had
            fields.append([list(item) for item in self.items])
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()

    @property
    def stored_fingerprint(self) -> str | None:
        """What the booking row keeps: the fingerprint only when a key can replay the request."""
        return self.fingerprint if self.idempotency_key else None


def to_minor(amount: Decimal) -> int:
    """Money in minor units (satang, cents), as it is stored and as providers send it."""
    return int((amount * 100).to_integral_value())


def new_payment_reference() -> str:
    """128 random bits: names a payment to the provider, and cannot be guessed from another."""
    return secrets.token_urlsafe(16)


def new_ticket_code() -> str:
    """128 random bits, URL-safe: unguessable and, in practice, unique."""
    return secrets.token_urlsafe(16)


_TICKET_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_plausible_ticket_code(code: str) -> bool:
    """False for strings no issued code can equal (wrong alphabet or length)."""
    return bool(_TICKET_CODE.fullmatch(code))
