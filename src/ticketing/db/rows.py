"""Rows to domain objects: the one place that knows how a column becomes a field (money in
minor units, status text to enums), for the repositories and the booking hot path alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ticketing.domain.models import (
    Booking,
    BookingItem,
    BookingStatus,
    Buyer,
    Checkout,
    Event,
    PaymentStatus,
    Role,
    Ticket,
    TicketStatus,
    TicketType,
    User,
)
from ticketing.domain.models import to_minor as to_minor  # the domain's; rows.to_minor as before

# A result row as SQLAlchemy maps it (keys may be columns too) or as the hot path builds one.
Row = Mapping[Any, Any]

CENTS = Decimal(100)


def from_minor(minor: int) -> Decimal:
    return (Decimal(minor) / CENTS).quantize(Decimal("0.01"))


def user(row: Row) -> User:
    return User(row["id"], row["email"], row["name"], Role(row["role"]), row["password_hash"])


def ticket_type(row: Row) -> TicketType:
    return TicketType(
        id=row["id"], event_id=row["event_id"], name=row["name"], price=from_minor(row["price_minor"]),
        capacity=row["capacity"], tickets_sold=row["tickets_sold"], tickets_held=row["tickets_held"],
    )


def event(row: Row, types: Sequence[TicketType] = ()) -> Event:
    """From an ``events`` row joined with its ``event_sales`` row (capacity, counters, limit)."""
    return Event(
        id=row["id"], name=row["name"], description=row["description"], venue=row["venue"],
        starts_at=row["starts_at"], capacity=row["capacity"], price=from_minor(row["price_minor"]),
        currency=row["currency"], max_per_booking=row["max_per_booking"], tickets_sold=row["tickets_sold"],
        timezone=row["timezone"], tickets_held=row["tickets_held"], ticket_types=tuple(types),
        checkout=Checkout(row["checkout"]), hold_minutes=row["hold_minutes"],
        per_customer_limit=row["per_customer_limit"],
    )


def ticket(row: Row) -> Ticket:
    return Ticket(row["id"], row["code"], row["booking_id"], row["event_id"], TicketStatus(row["status"]),
                  row["checked_in_at"], row["ticket_type_id"])


def item(row: Row) -> BookingItem:
    return BookingItem(row["ticket_type_id"], row["name"], row["quantity"], from_minor(row["unit_price_minor"]))


def booking(row: Row, tickets: Sequence[Ticket], items: Sequence[Row] = (), buyer: Buyer | None = None) -> Booking:
    return Booking(
        id=row["id"], user_id=row["user_id"], event_id=row["event_id"], quantity=row["quantity"],
        total_amount=from_minor(row["total_minor"]), status=BookingStatus(row["status"]),
        booking_date=row["booking_date"], tickets=tuple(tickets),
        request_fingerprint=row["request_fingerprint"], items=tuple(item(i) for i in items),
        currency=row["currency"], expires_at=row["expires_at"], payment_status=PaymentStatus(row["payment_status"]),
        payment_reference=row["payment_reference"], buyer=buyer,
    )
