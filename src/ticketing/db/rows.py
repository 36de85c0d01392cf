"""Rows to domain objects: the one place that knows how a column becomes a field (money in
minor units, status text to enums), for the repositories and the booking hot path alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ticketing.domain.models import Booking, BookingStatus, Event, Role, Ticket, TicketStatus, User

# A result row as SQLAlchemy maps it (keys may be columns too) or as the hot path builds one.
Row = Mapping[Any, Any]

CENTS = Decimal(100)


def to_minor(amount: Decimal) -> int:
    return int((amount * CENTS).to_integral_value())


def from_minor(minor: int) -> Decimal:
    return (Decimal(minor) / CENTS).quantize(Decimal("0.01"))


def user(row: Row) -> User:
    return User(row["id"], row["email"], row["name"], Role(row["role"]), row["password_hash"])


def event(row: Row) -> Event:
    """From an ``events`` row joined with its ``event_sales`` row (capacity and counters)."""
    return Event(
        id=row["id"], name=row["name"], description=row["description"], venue=row["venue"],
        starts_at=row["starts_at"], capacity=row["capacity"], price=from_minor(row["price_minor"]),
        currency=row["currency"], max_per_booking=row["max_per_booking"], tickets_sold=row["tickets_sold"],
        timezone=row["timezone"], tickets_held=row["tickets_held"],
    )


def ticket(row: Row) -> Ticket:
    return Ticket(row["id"], row["code"], row["booking_id"], row["event_id"], TicketStatus(row["status"]), row["checked_in_at"])


def booking(row: Row, tickets: Sequence[Ticket]) -> Booking:
    return Booking(
        id=row["id"], user_id=row["user_id"], event_id=row["event_id"], quantity=row["quantity"],
        total_amount=from_minor(row["total_minor"]), status=BookingStatus(row["status"]),
        booking_date=row["booking_date"], tickets=tuple(tickets),
        request_fingerprint=row["request_fingerprint"],
    )


def booked(rows: Sequence[Row]) -> Booking | None:
    """The hot path's answer, one row per ticket with the booking's columns repeated (and the
    ticket's as ``ticket_id``, ``code``, ``ticket_status``, ``checked_in_at``); None for none."""
    if not rows:
        return None
    tickets = [
        Ticket(r["ticket_id"], r["code"], r["id"], r["event_id"], TicketStatus(r["ticket_status"]), r["checked_in_at"])
        for r in rows
    ]
    return booking(rows[0], tickets)
