"""The checkout race tests' controls: two guarded writes done the unguarded way (check, then act),
for tests/integration/test_checkout_races.py to put in place of the real ones in the server
processes it starts, and see the races the guards stop happen. The product never imports this.

- ``release``: a hold sweep reads the holds past their deadline first and then moves those rows
  to EXPIRED by id, whatever their state by then, instead of moving them from PENDING under their
  row locks in one statement (SqlBookings.release_expired).
- ``pay``: a payment claims no provider event id and locks no row: it acts on the booking as a
  read before its transaction found it, on both databases (SqlBookings.pay: ticketing_pay on
  PostgreSQL, payments.record_payment on SQLite).

``install(*names)`` replaces the methods of ``SqlBookings``; ``sitecustomize_env`` is the
server environment that runs it at the start of every server process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ticketing.app.ports import Payment, PaymentResult
from ticketing.db import payments
from ticketing.db import tables as t
from ticketing.db.repositories import SqlBookings
from ticketing.domain.errors import AmountMismatch, BookingNotFound
from ticketing.domain.models import BookingStatus

ROOT = Path(__file__).resolve().parents[2]


async def release_then_act(self: SqlBookings, event_id: int, at: datetime, limit: int) -> int:
    b = t.bookings.c
    due = select(b.id).where(b.event_id == event_id, b.status == "PENDING", b.expires_at <= at).limit(limit)

    async def read(conn: AsyncConnection) -> list[int]:
        return list((await conn.execute(due)).scalars().all())

    ids = await self.db.read(read)
    await asyncio.sleep(0.2)  # widens the window between check and act: the control breaks on any machine
    statement = update(t.bookings).where(b.id.in_(ids)).values(status="EXPIRED").returning(b.id)

    async def work(conn: AsyncConnection) -> int:
        return len((await conn.execute(statement)).all())

    return await self.db.write(work, lock_key=(event_id,))


async def pay_then_act(self: SqlBookings, payment: Payment, new_codes: Callable[[int], list[str]],
                       at: datetime) -> PaymentResult:
    async def read(conn: AsyncConnection) -> Any:
        return (await conn.execute(payments.locate(payment))).first()

    seen = await self.db.read(read)

    async def work(conn: AsyncConnection) -> PaymentResult:
        if seen is None:
            raise BookingNotFound()
        if payment.amount_minor is not None and (
            payment.amount_minor != seen.total_minor or payment.currency != seen.currency
        ):
            raise AmountMismatch()
        status = BookingStatus(seen.status)
        if payment.succeeded:
            status = await payments._apply(conn, seen.id, status, seen.payment_status, new_codes,
                                           seen.event_id, at)
        return PaymentResult(seen.id, status)

    return await self.db.transaction(work)


CONTROLS: dict[str, tuple[str, Callable[..., Any]]] = {
    "release": ("release_expired", release_then_act),
    "pay": ("pay", pay_then_act),
}


def install(*names: str) -> None:
    for name in names:
        method, control = CONTROLS[name]
        setattr(SqlBookings, method, control)


def sitecustomize_env(directory: Path, *names: str) -> dict[str, str]:
    """The server environment that installs the named controls in every server process (workers
    included): a ``sitecustomize`` module, which Python imports at start-up."""
    unknown = set(names) - set(CONTROLS)
    if unknown:
        raise ValueError(f"no such control: {sorted(unknown)}")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(
        f"from tests.support.checkout_controls import install\ninstall(*{list(names)!r})\n"
    )
    return {"PYTHONPATH": f"{directory}:{ROOT}"}
