"""Entities and value objects of the booking domain. No I/O, no framework."""

from __future__ import annotations

import enum
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ticketing.domain.errors import DomainError, QuantityAboveLimit, SalesClosed, TicketsSoldOut

# No event allows more tickets in one booking than this (its own max_per_booking is 1..100).
MAX_TICKETS_PER_BOOKING = 100
# The longest email an account can have (RFC 5321's 64 + 1 + 255, rounded as the column is).
MAX_EMAIL_LENGTH = 320


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"


class BookingStatus(enum.StrEnum):
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


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
    # Taken by unpaid holds (none yet: holds come with checkout); they count against capacity.
    tickets_held: int = 0

    @property
    def available(self) -> int:
        return self.capacity - self.tickets_sold - self.tickets_held

    def sales_open(self, now: datetime) -> bool:
        return now < self.starts_at

    def refusal(self, quantity: int, now: datetime) -> DomainError | None:
        """Why ``quantity`` tickets cannot be booked now, or None if they can."""
        if quantity > self.max_per_booking:
            return QuantityAboveLimit(self.max_per_booking)
        if not self.sales_open(now):
            return SalesClosed()
        if self.available < quantity:
            return TicketsSoldOut(self.available)
        return None


@dataclass(frozen=True)
class Ticket:
    id: int
    code: str
    booking_id: int
    event_id: int
    status: TicketStatus
    checked_in_at: datetime | None


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

    @property
    def fingerprint(self) -> str:
        body = json.dumps([self.user_id, self.event_id, self.quantity])
        return hashlib.sha256(body.encode()).hexdigest()


def new_ticket_code() -> str:
    """128 random bits, URL-safe: unguessable and, in practice, unique."""
    return secrets.token_urlsafe(16)


_TICKET_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_plausible_ticket_code(code: str) -> bool:
    """False for strings no issued code can equal (wrong alphabet or length)."""
    return bool(_TICKET_CODE.fullmatch(code))
