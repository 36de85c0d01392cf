"""Use cases: payments (the provider's signed webhook, an admin's mark-paid and mark-refunded).

The webhook's signature is ``Ticketing-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>``, the scheme Stripe uses: the timestamp inside the signed text keeps an old
delivery from being replayed later, and the comparison runs in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ticketing.app.ports import Payment, PaymentResult, Store
from ticketing.domain.errors import BookingNotFound, Forbidden, InvalidSignature, PaymentConflict
from ticketing.domain.models import Booking, User, new_ticket_code, to_minor

# A signature whose timestamp is further than this from now is refused (either way: clocks drift).
SIGNATURE_TOLERANCE_SECONDS = 300
SUCCEEDED = "payment.succeeded"
# The largest amount a booking's total (minor units, a bigint) can be.
_MAX_TOTAL = Decimal(2**63 - 1).scaleb(-2)
_MINOR_UNIT = Decimal("0.01")
# No booking's total is negative (prices cannot be: a CHECK on each), so none is this.
_NO_BOOKING_TOTAL = -1


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Ticketing-Signature`` header for ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str | None, body: bytes, now: datetime) -> None:
    """Raises InvalidSignature unless ``header`` signs ``body`` with ``secret`` within the
    tolerance. Several ``v1`` entries may be given (a provider rolling its secret): one must match."""
    if not header:
        raise InvalidSignature()
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates or abs(now.timestamp() - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        raise InvalidSignature()
    expected = sign(secret, timestamp, body).partition(",v1=")[2]
    # compare_digest on every candidate, without stopping early: constant time whatever matches.
    matched = [hmac.compare_digest(expected.encode(), c.encode("utf-8", "replace")) for c in candidates]
    if not any(matched):
        raise InvalidSignature()


@dataclass(frozen=True)
class ProviderEvent:
    id: str
    type: str
    reference: str
    amount: Decimal
    currency: str


def _as_total(amount: Decimal) -> int:
    """``amount`` in minor units, as the database compares it with the booking's total. An amount
    that is no total a booking can have (negative, a fraction of a minor unit, past what the database
    holds) is given as one no booking has: the answer is then amount_mismatch, after the checks that
    come before it (a repeated event id, an unknown reference), and the database is never handed a
    number it cannot hold. Rounding it to minor units instead would let 1500.001 pay 1500.00."""
    if 0 <= amount <= _MAX_TOTAL and amount % _MINOR_UNIT == 0:
        return to_minor(amount)
    return _NO_BOOKING_TOTAL


def _codes(count: int) -> list[str]:
    return [new_ticket_code() for _ in range(count)]


async def receive_provider_event(store: Store, event: ProviderEvent, now: datetime) -> PaymentResult:
    """A verified provider event, once per event id: ``payment.succeeded`` pays the booking its
    reference names; any other type (``payment.failed``) changes nothing (the hold stays until
    it expires) but is answered, and remembered, all the same.

    The answer is the status the payment's own transaction recorded with the event id, as reads
    show it at ``now`` (a PENDING hold past its deadline is EXPIRED, checkout.md), and a repeat
    is answered from that stored value alone: the same answer, whatever became of the booking or
    the clock since (db/payments.py)."""
    payment = Payment(
        succeeded=event.type == SUCCEEDED, reference=event.reference, amount_minor=_as_total(event.amount),
        currency=event.currency, provider_event_id=event.id,
    )
    return await store.bookings.pay(payment, _codes, now)


async def mark_paid(store: Store, caller: User, booking_id: int, now: datetime) -> Booking:
    """Money received by hand (bank transfer, box office). Repeating it changes nothing more; a
    booking with nothing to pay (a zero total) is answered as it is, never paid nor refund_due."""
    if not caller.is_admin:
        raise Forbidden()
    result = await store.bookings.pay(Payment(booking_id=booking_id), _codes, now)
    return await _booking(store, result.booking_id, now)


async def mark_refunded(store: Store, caller: User, booking_id: int, now: datetime) -> Booking:
    if not caller.is_admin:
        raise Forbidden()
    refunded = await store.bookings.mark_refunded(booking_id)
    if refunded is None:
        if await store.bookings.get(booking_id) is None:
            raise BookingNotFound()
        raise PaymentConflict("Only a booking whose payment is refund_due can be marked refunded.")
    return refunded.as_seen(now)


async def _booking(store: Store, booking_id: int, now: datetime) -> Booking:
    booking = await store.bookings.get(booking_id)
    if booking is None:
        raise BookingNotFound()
    return booking.as_seen(now)
