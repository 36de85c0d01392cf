"""Checkout's rules without a database: what a refusal says, how a hold reads after its
deadline, and the webhook signature."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.support.fakes import NOW
from ticketing.app.payments import sign, verify_signature
from ticketing.domain.errors import (
    CustomerLimitReached,
    InvalidSignature,
    QuantityAboveLimit,
    TicketsSoldOut,
    TicketTypeNotFound,
    TicketTypeRequired,
)
from ticketing.domain.models import Booking, BookingStatus, Event, TicketType

SECRET = "whsec_unit_0123456789"


def _event(**overrides: object) -> Event:
    types = (
        TicketType(1, 7, "Front row", Decimal("3500.00"), 2, 1, 0),  # capped: 1 left
        TicketType(2, 7, "Standing", Decimal("1200.00"), None, 3, 2),
    )
    fields: dict[str, object] = {
        "id": 7, "name": "Gig", "description": "", "venue": "", "starts_at": NOW + timedelta(days=1), "capacity": 10,
        "price": Decimal("1200.00"), "currency": "THB", "max_per_booking": 6, "tickets_sold": 4, "timezone": "UTC",
        "tickets_held": 2, "ticket_types": types, "per_customer_limit": 5,
    }
    fields.update(overrides)
    return Event(**fields)  # type: ignore[arg-type]


def test_a_type_is_bounded_by_its_cap_and_by_the_event() -> None:
    event = _event()
    assert event.available == 4
    assert [t.available(event.available) for t in event.ticket_types] == [1, 4]


def test_refusals_name_the_rule_that_refuses() -> None:
    event = _event()
    assert event.refusal(((1, 1), (2, 3)), 4, NOW) is None
    short = event.refusal(((1, 2), (2, 1)), 3, NOW)
    assert isinstance(short, TicketsSoldOut) and short.available == 4 and short.items == ((1, 1), (2, 4))
    assert isinstance(event.refusal(((2, 7),), 7, NOW), QuantityAboveLimit)
    limited = event.refusal(((2, 3),), 3, NOW, used=3)
    assert isinstance(limited, CustomerLimitReached) and limited.remaining == 2
    with pytest.raises(TicketTypeRequired):
        event.refusal((), 1, NOW)  # v1's form on an event with two types
    with pytest.raises(TicketTypeNotFound):
        event.refusal(((99, 1),), 1, NOW)


def test_a_hold_reads_expired_from_its_deadline_on() -> None:
    hold = Booking(1, 1, 7, 2, Decimal("2400.00"), BookingStatus.PENDING, NOW, expires_at=NOW + timedelta(minutes=15))
    assert hold.as_seen(NOW + timedelta(minutes=14, seconds=59)).status is BookingStatus.PENDING
    assert hold.as_seen(NOW + timedelta(minutes=15)).status is BookingStatus.EXPIRED
    confirmed = Booking(2, 1, 7, 2, Decimal("2400.00"), BookingStatus.CONFIRMED, NOW, expires_at=NOW)
    assert confirmed.as_seen(NOW + timedelta(days=1)) is confirmed


def test_the_webhook_signature_is_checked_with_its_timestamp() -> None:
    body = b'{"id": "evt_1"}'
    at = int(NOW.timestamp())
    verify_signature(SECRET, sign(SECRET, at, body), body, NOW)
    verify_signature(SECRET, f"t={at},v1=00,{sign(SECRET, at, body).split(',')[1]}", body, NOW)  # a rolled secret
    for header in (None, "", "garbage", f"t={at}", sign("whsec_other_0123456789", at, body), sign(SECRET, at, body + b" ")):
        with pytest.raises(InvalidSignature):
            verify_signature(SECRET, header, body, NOW)
    for skew in (-301, 301):
        with pytest.raises(InvalidSignature):
            verify_signature(SECRET, sign(SECRET, at + skew, body), body, NOW)
    verify_signature(SECRET, sign(SECRET, at - 300, body), body, NOW)
