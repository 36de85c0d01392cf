"""What one message says, as read from the database when it is sent (db/outbox.py reads it;
render.py makes the email of it). Plain data: no database, no templates."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

LANGUAGES = ("en", "th")
DEFAULT_LANGUAGE = "en"


class Kind(enum.StrEnum):
    """Which state change a message tells of (the outbox row's ``kind``)."""

    PENDING = "pending"  # booked, to be paid: amount, reference, deadline
    CONFIRMED = "confirmed"  # the tickets
    EXPIRED = "expired"  # not paid in time
    CANCELLED = "cancelled"
    REFUND_DUE = "refund_due"  # money taken that will be paid back


@dataclass(frozen=True)
class Item:
    name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class TicketLine:
    code: str
    type_name: str
    status: str


@dataclass(frozen=True)
class BookingMessage:
    """One outbox row with everything its email shows: the booking as it is now, its event, the
    buyer (address and language), its items and tickets."""

    outbox_id: int
    kind: Kind
    message_key: str
    booking_id: int
    status: str
    payment_status: str
    payment_reference: str | None
    expires_at: datetime | None
    total: Decimal
    currency: str
    quantity: int
    booked_at: datetime
    recipient_email: str
    recipient_name: str
    language: str
    event_id: int
    event_name: str
    venue: str
    starts_at: datetime
    timezone: str
    items: tuple[Item, ...] = ()
    tickets: tuple[TicketLine, ...] = ()

    def outdated(self, now: datetime) -> str | None:
        """Why this message must not go out any more at ``now``, or None. "What to pay" and "your
        tickets" ask the buyer to act (pay; come with these codes): once the booking has left the
        state they tell of (paid, expired, cancelled: possible when the outbox lags behind a
        burst, or a buyer cancels at once), they would mislead, and the message of the new state
        says what holds. A hold past its deadline counts as EXPIRED, as every read shows it, even
        before a sweeper has released it. The other kinds tell of something that happened: they
        go whatever came after."""
        still = {Kind.PENDING: "PENDING", Kind.CONFIRMED: "CONFIRMED"}.get(self.kind)
        status = self.status
        if status == "PENDING" and self.expires_at is not None and self.expires_at <= now:
            status = "EXPIRED"
        if still is None or status == still:
            return None
        return f"not sent: the booking is {status} now, no longer {still}"
