"""A payment recorded against a booking: the provider's webhook and the admin's mark-paid.

On PostgreSQL the whole transaction is one call of the function ``ticketing_pay`` (migrations
0004, 0006 and 0008; ``pay_pg``): one round trip, and the event's row locked only until its COMMIT.
On SQLite ``record_payment`` runs the same steps inside BEGIN IMMEDIATE. What both do:

ONE transaction per payment, alone (never in a group-commit batch), taking its locks in the
order every status change takes them: the provider event's key first (so that deliveries of one
event queue behind each other), then the booking's row, then, in the bookings trigger, the
event's sales row, the buyer's usage row and the types by id.

- The provider event id is inserted first; a delivery that finds it there (committed by an
  earlier or racing delivery: the unique index makes the racer wait for that commit) answers
  the stored result and changes nothing. The result stored with it is the status its answer
  shows, as every read shows it at that moment: a PENDING hold past its deadline (not released
  yet) is EXPIRED (migration 0008). So a repeat answers what the first delivery did, whatever
  became of the booking or the clock since.
- A booking with nothing to pay (a zero total: CONFIRMED at once, payment ``none``) stays as it
  is: never ``paid``, never ``refund_due`` (migration 0008).
- A PENDING booking is confirmed: held tickets become sold (capacity was never given to anyone
  else, even past the deadline if the sweeper had not released it yet), its tickets are issued.
- An EXPIRED booking is confirmed only if its tickets can be taken again now: the confirmation
  runs under a savepoint, and when a guard refuses (event capacity, a type's cap, the buyer's
  limit) it is undone and the booking stays EXPIRED with ``refund_due``.
- A payment for a CANCELLED booking is never lost: the booking is marked ``refund_due``; so is
  an expired hold its owner cancelled (EXPIRED with nothing due), and a CANCELLED or EXPIRED one
  paid again after its refund (migration 0006). A payment for a booking that is owed a refund
  already is kept in ``payment_events`` and logged as a warning.
- A booking that is paid already stays as it is (a repeated mark-paid changes nothing). A second
  provider event paying it is kept in ``payment_events`` with the booking's id and logged as a
  warning for reconciliation: marking a CONFIRMED booking ``refund_due`` would let a refund leave
  it CONFIRMED and ``refunded``, which invariant 6 forbids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from ticketing.app.ports import Payment, PaymentResult
from ticketing.db import holds
from ticketing.db import tables as t
from ticketing.db.errors import is_capacity_refusal
from ticketing.db.types import UTCDateTime
from ticketing.domain.errors import AmountMismatch, BookingNotFound
from ticketing.domain.models import MAX_TICKETS_PER_BOOKING, BookingStatus

_B = t.bookings.c
log = logging.getLogger(__name__)

_PG_PAY = text(
    "SELECT booking_id, result_status, replayed FROM ticketing_pay(:provider_event_id, :reference, :booking_id, "
    ":amount_minor, :currency, :succeeded, CAST(:codes AS text[]), :at)"
).bindparams(bindparam("at", type_=UTCDateTime()))


async def pay_pg(
    conn: AsyncConnection, payment: Payment, new_codes: Callable[[int], list[str]], at: datetime
) -> PaymentResult:
    """``record_payment`` on PostgreSQL: one call of the function ticketing_pay, autocommitted.
    It is given a code for as many tickets as any booking can have; it uses what it needs."""
    params = {
        "provider_event_id": payment.provider_event_id, "reference": payment.reference,
        "booking_id": payment.booking_id, "amount_minor": payment.amount_minor, "currency": payment.currency,
        "succeeded": payment.succeeded, "codes": new_codes(MAX_TICKETS_PER_BOOKING), "at": at,
    }
    try:
        row = (await conn.execute(_PG_PAY, params)).one()
    except DBAPIError as error:
        message = str(error.orig)
        if "ticketing_pay: booking_not_found" in message:
            raise BookingNotFound() from None
        if "ticketing_pay: amount_mismatch" in message:
            raise AmountMismatch() from None
        raise
    return PaymentResult(row.booking_id, BookingStatus(row.result_status), replayed=row.replayed)


def locate(payment: Payment) -> Select[Any]:
    """The booking ``payment`` is for, as record_payment needs it."""
    where = _B.payment_reference == payment.reference if payment.reference is not None else _B.id == payment.booking_id
    return select(
        _B.id, _B.status, _B.payment_status, _B.total_minor, _B.currency, _B.event_id, _B.expires_at,
    ).where(where)


async def record_payment(
    conn: AsyncConnection, payment: Payment, new_codes: Callable[[int], list[str]], at: datetime,
) -> PaymentResult:
    """The payment on SQLite, inside the caller's BEGIN IMMEDIATE (the one writer's lock: no row
    lock is needed, nothing can change between a read and a write here)."""
    if payment.provider_event_id is not None:
        claimed = (await conn.execute(
            sqlite.insert(t.payment_events)
            .values(id=payment.provider_event_id, received_at=at)
            .on_conflict_do_nothing(index_elements=[t.payment_events.c.id])
            .returning(t.payment_events.c.id)
        )).first()
        if claimed is None:  # delivered before: its result, nothing more
            stored = (await conn.execute(
                select(t.payment_events.c.booking_id, t.payment_events.c.result_status)
                .where(t.payment_events.c.id == payment.provider_event_id)
            )).one()
            return PaymentResult(stored.booking_id, BookingStatus(stored.result_status), replayed=True)
    booking = (await conn.execute(locate(payment))).first()
    if booking is None:
        raise BookingNotFound()  # rolls back the provider event's row too: nothing recorded
    if payment.amount_minor is not None and (
        payment.amount_minor != booking.total_minor or payment.currency != booking.currency
    ):
        raise AmountMismatch()
    status = BookingStatus(booking.status)
    if payment.succeeded and booking.total_minor > 0:  # nothing to pay: a payment changes nothing
        status = await _apply(conn, booking.id, status, booking.payment_status, new_codes, booking.event_id, at)
    if status is BookingStatus.PENDING and booking.expires_at <= at:
        status = BookingStatus.EXPIRED  # as every read shows it now, and as a repeat answers it
    if payment.provider_event_id is not None:
        await conn.execute(
            update(t.payment_events).where(t.payment_events.c.id == payment.provider_event_id)
            .values(booking_id=booking.id, result_status=status.value)
        )
    return PaymentResult(booking.id, status)


async def _apply(
    conn: AsyncConnection, booking_id: int, status: BookingStatus, payment_status: str,
    new_codes: Callable[[int], list[str]], event_id: int, at: datetime,
) -> BookingStatus:
    if status is BookingStatus.PENDING and payment_status == "due":
        await _confirm(conn, booking_id, new_codes)
        return BookingStatus.CONFIRMED
    if status is BookingStatus.EXPIRED and payment_status == "due":
        # Taken again only if the guards allow it now; else the money is owed back. Other holds
        # past their deadline count as held until released, though their tickets are free from
        # their deadline on: release them first, as a booking that needs their tickets does.
        await conn.execute(holds.release_due(event_id, at, holds.RELEASED_FOR_A_LATE_PAYMENT, skip_locked=False))
        await conn.exec_driver_sql("SAVEPOINT late_payment")
        try:
            await _confirm(conn, booking_id, new_codes)
        except DBAPIError as error:
            if not is_capacity_refusal(error):
                raise
            await conn.exec_driver_sql("ROLLBACK TO SAVEPOINT late_payment")
            await _set_payment(conn, booking_id, "refund_due")
            return BookingStatus.EXPIRED
        await conn.exec_driver_sql("RELEASE SAVEPOINT late_payment")
        return BookingStatus.CONFIRMED
    if status is BookingStatus.CONFIRMED and payment_status == "none":
        await _set_payment(conn, booking_id, "paid")  # an instant booking paid at the box office
    elif status is BookingStatus.CONFIRMED and payment_status == "paid":
        log.warning("booking %d is paid already: this payment changed nothing (reconcile it)", booking_id)
    elif (status is BookingStatus.CANCELLED and payment_status in ("none", "due", "refunded")) or (
        status is BookingStatus.EXPIRED and payment_status in ("none", "refunded")
    ):
        # Cancelled, an expired hold its owner cancelled (nothing due), or paid again after its
        # refund: the money is owed back.
        await _set_payment(conn, booking_id, "refund_due")
    elif payment_status == "refund_due":
        log.warning("booking %d is owed a refund already: this payment is owed back too (reconcile it)", booking_id)
    return status


async def _confirm(conn: AsyncConnection, booking_id: int, new_codes: Callable[[int], list[str]]) -> None:
    items = (await conn.execute(
        select(t.booking_items.c.ticket_type_id, t.booking_items.c.quantity)
        .where(t.booking_items.c.booking_id == booking_id).order_by(t.booking_items.c.ticket_type_id)
    )).all()
    # The status change moves the counters (its trigger, which refuses a move the guards do not
    # allow); the tickets are issued in the same transaction.
    confirmed = (await conn.execute(
        update(t.bookings).where(_B.id == booking_id, _B.status.in_(["PENDING", "EXPIRED"]))
        .values(status="CONFIRMED", payment_status="paid").returning(_B.event_id)
    )).first()
    assert confirmed is not None  # the row is locked by this transaction
    type_of = [item.ticket_type_id for item in items for _ in range(item.quantity)]
    codes = new_codes(len(type_of))
    await conn.execute(t.tickets.insert(), [
        {"code": code, "booking_id": booking_id, "event_id": confirmed.event_id, "ticket_type_id": type_id,
         "status": "VALID"}
        for code, type_id in zip(codes, type_of, strict=True)
    ])


async def _set_payment(conn: AsyncConnection, booking_id: int, payment_status: str) -> None:
    await conn.execute(update(t.bookings).where(_B.id == booking_id).values(payment_status=payment_status))
