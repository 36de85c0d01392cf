"""The outbox's SQL: the sender's claim, delivery and retry; the admin's list and resend; a
buyer's request for the tickets again.

Rows are written by the bookings trigger (migration 0005), never here, except the copies that
someone asks for. A claim is a lease, not a status: claiming moves a due row's
``next_attempt_at`` to the end of the lease and stamps it with the claim's token. Only the holder
of that token can mark it sent or failed. A sender that dies holding it marks nothing, and the
row is due again when the lease is over: at most that one message is sent again, with the same
Message-ID (its ``message_key`` never changes).

Claims never collide. On PostgreSQL the claim is ONE statement whose subquery locks the rows it
picks ``FOR UPDATE SKIP LOCKED``: a concurrent claim skips them instead of waiting, and once the
first commits they are no longer due. On SQLite the claim runs inside ``BEGIN IMMEDIATE``, one
writer at a time.

Every poll is one read through the partial index ``ix_mail_outbox_due`` (pending rows only),
with the status written as a literal: a bound parameter would keep SQLite, and PostgreSQL's
generic plans, from using a partial index.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, String, and_, bindparam, func, insert, literal, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ticketing.app.ports import Page
from ticketing.db import rows
from ticketing.db import tables as t
from ticketing.db.database import Database
from ticketing.db.types import UTCDateTime
from ticketing.mail.content import BookingMessage, Item, Kind, TicketLine

T = TypeVar("T")


o = t.mail_outbox.c
_PENDING: ColumnElement[str] = literal_column("'pending'", String)
_IS_PENDING = o.status == _PENDING
# A row's status: to send; delivered; given up after the last attempt; not sent because its
# booking left the state it tells of (mail/content.py). ck_mail_outbox_status holds the same.
STATUSES = ("pending", "sent", "failed", "skipped")
# The longest error text kept on a row (an SMTP reply, or an exception's message).
MAX_ERROR_LENGTH = 500


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: Kind
    booking_id: int
    status: str
    attempts: int
    next_attempt_at: datetime
    message_key: str
    requested_by: int | None
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Claim:
    """Rows this sender holds until ``leased_until`` (by its own clock, a little before the
    database's), under ``token``."""

    token: str | None
    rows: list[OutboxRow]
    leased_until: datetime


def _row(row: rows.Row) -> OutboxRow:
    return OutboxRow(
        id=row["id"], kind=Kind(row["kind"]), booking_id=row["booking_id"], status=row["status"],
        attempts=row["attempts"], next_attempt_at=row["next_attempt_at"], message_key=row["message_key"],
        requested_by=row["requested_by"], created_at=row["created_at"], sent_at=row["sent_at"],
        last_error=row["last_error"],
    )


def retry_delay(attempts: int, first: float) -> float:
    """Seconds before the next try after ``attempts`` failures: ``first``, doubling, at most a minute."""
    return min(60.0, first * float(2 ** max(attempts - 1, 0)))


class SqlOutbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- time: PostgreSQL's clock on PostgreSQL (the trigger stamps rows with it), ours on SQLite
    # (the same machine's clock, and the trigger's strftime('now') reads it too).
    def _now(self) -> Any:
        if self.db.is_sqlite:
            return literal(datetime.now(UTC), UTCDateTime())
        return func.now()

    def _later(self, seconds: float) -> Any:
        if self.db.is_sqlite:
            return literal(datetime.now(UTC) + timedelta(seconds=seconds), UTCDateTime())
        return func.now() + literal(timedelta(seconds=seconds))

    def _due(self) -> Any:
        return and_(_IS_PENDING, o.next_attempt_at <= self._now())

    async def _read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        return await self.db.read(work)

    # -- the sender ----------------------------------------------------------------------------
    async def any_due(self) -> bool:
        query = select(o.id).where(self._due()).limit(1)

        async def work(conn: AsyncConnection) -> bool:
            return (await conn.execute(query)).first() is not None

        return await self._read(work)

    async def claim(self, limit: int, lease_seconds: float) -> Claim:
        """Up to ``limit`` due rows, oldest first, each leased to this claim."""
        leased_until = datetime.now(UTC) + timedelta(seconds=lease_seconds)
        picked = select(o.id).where(self._due()).order_by(o.next_attempt_at, o.id).limit(limit)
        if not self.db.is_sqlite:
            picked = picked.with_for_update(skip_locked=True)
        token = secrets.token_hex(16)
        statement = (
            update(t.mail_outbox)
            .where(o.id.in_(picked.scalar_subquery()), _IS_PENDING)
            .values(next_attempt_at=self._later(lease_seconds), lease_token=token)
            .returning(*t.mail_outbox.c)
        )

        async def work(conn: AsyncConnection) -> list[OutboxRow]:
            return sorted((_row(r) for r in (await conn.execute(statement)).mappings()),
                          key=lambda row: (row.next_attempt_at, row.id))

        return Claim(token, await self.db.write(work), leased_until)

    def _held(self, row_id: int, token: str | None) -> Any:
        condition = and_(o.id == row_id, _IS_PENDING)
        return condition if token is None else and_(condition, o.lease_token == token)

    async def _change(self, statement: Any) -> bool:
        async def work(conn: AsyncConnection) -> bool:
            return bool((await conn.execute(statement)).rowcount)

        return await self.db.write(work)

    async def mark_sent(self, row_id: int, token: str | None) -> bool:
        """Whether the row was still this claim's (it always is unless the lease ran out)."""
        return await self._change(
            update(t.mail_outbox).where(self._held(row_id, token))
            .values(status="sent", sent_at=self._now(), lease_token=None, last_error=None)
        )

    async def mark_skipped(self, row_id: int, token: str | None, reason: str) -> bool:
        """Not to be sent (its booking has moved on), with why in ``last_error``; whether the row
        was still this claim's."""
        return await self._change(
            update(t.mail_outbox).where(self._held(row_id, token))
            .values(status="skipped", lease_token=None, last_error=reason[:MAX_ERROR_LENGTH])
        )

    async def record_failure(self, row: OutboxRow, token: str | None, error: str, *, max_attempts: int,
                             first_delay: float) -> str:
        """Counts a failed attempt: due again after the backoff, or ``failed`` after the last one.
        Answers the row's new status."""
        attempts = row.attempts + 1
        status = "failed" if attempts >= max_attempts else "pending"
        changed = await self._change(
            update(t.mail_outbox).where(self._held(row.id, token))
            .values(attempts=o.attempts + 1, status=status, lease_token=None, last_error=error[:MAX_ERROR_LENGTH],
                    next_attempt_at=self._later(retry_delay(attempts, first_delay)))
        )
        return status if changed else "lost"

    async def release(self, row_ids: Sequence[int], token: str | None) -> None:
        """Hands back claimed rows this sender will not try now: due again at once, not counted."""
        if not row_ids or token is None:
            return
        await self._change(
            update(t.mail_outbox).where(o.id.in_(row_ids), _IS_PENDING, o.lease_token == token)
            .values(next_attempt_at=self._now(), lease_token=None)
        )

    async def content(self, row: OutboxRow) -> BookingMessage | None:
        """What the row's email says, read now; None when its booking is gone."""
        b, u, e = t.bookings.c, t.users.c, t.events.c
        head = (
            select(b.id, b.status, b.payment_status, b.payment_reference, b.expires_at, b.total_minor, b.currency,
                   b.quantity, b.booking_date, u.email, u.name, u.language, e.id.label("event_id"),
                   e.name.label("event_name"), e.venue, e.starts_at, e.timezone)
            .join_from(t.bookings, t.users, u.id == b.user_id)
            .join(t.events, e.id == b.event_id)
            .where(b.id == row.booking_id)
        )
        items = (
            select(t.ticket_types.c.name, t.booking_items.c.quantity, t.booking_items.c.unit_price_minor)
            .join_from(t.booking_items, t.ticket_types, t.ticket_types.c.id == t.booking_items.c.ticket_type_id)
            .where(t.booking_items.c.booking_id == row.booking_id)
            .order_by(t.ticket_types.c.id)
        )
        tickets = (
            select(t.tickets.c.code, t.tickets.c.status, t.ticket_types.c.name)
            .join_from(t.tickets, t.ticket_types, t.ticket_types.c.id == t.tickets.c.ticket_type_id, isouter=True)
            .where(t.tickets.c.booking_id == row.booking_id)
            .order_by(t.tickets.c.id)
        )

        async def work(conn: AsyncConnection) -> BookingMessage | None:
            found = (await conn.execute(head)).mappings().first()
            if found is None:
                return None
            return BookingMessage(
                outbox_id=row.id, kind=row.kind, message_key=row.message_key, booking_id=found["id"],
                status=found["status"], payment_status=found["payment_status"],
                payment_reference=found["payment_reference"], expires_at=found["expires_at"],
                total=rows.from_minor(found["total_minor"]), currency=found["currency"], quantity=found["quantity"],
                booked_at=found["booking_date"], recipient_email=found["email"], recipient_name=found["name"],
                language=found["language"], event_id=found["event_id"], event_name=found["event_name"],
                venue=found["venue"], starts_at=found["starts_at"], timezone=found["timezone"],
                items=tuple(Item(r["name"], r["quantity"], rows.from_minor(r["unit_price_minor"]))
                            for r in (await conn.execute(items)).mappings()),
                tickets=tuple(TicketLine(r["code"], r["name"] or "", r["status"])
                              for r in (await conn.execute(tickets)).mappings()),
            )

        return await self._read(work)

    # -- the admin API -------------------------------------------------------------------------
    async def page(self, page: Page, *, status: str | None = None) -> tuple[list[OutboxRow], int]:
        if status not in (None, *STATUSES):
            raise ValueError(f"no such status: {status!r}")
        # A literal, so that the partial indexes of pending and failed rows serve it.
        conditions = [] if status is None else [o.status == literal_column(f"'{status}'")]
        query = select(t.mail_outbox).where(*conditions).order_by(o.id.desc()).limit(page.limit).offset(page.offset)
        count = select(func.count()).select_from(t.mail_outbox).where(*conditions)

        async def work(conn: AsyncConnection) -> tuple[list[OutboxRow], int]:
            found = [_row(r) for r in (await conn.execute(query)).mappings()]
            return found, int((await conn.execute(count)).scalar_one())

        return await self._read(work)

    async def get(self, row_id: int) -> OutboxRow | None:
        async def work(conn: AsyncConnection) -> OutboxRow | None:
            found = (await conn.execute(select(t.mail_outbox).where(o.id == row_id))).mappings().first()
            return _row(found) if found else None

        return await self._read(work)

    async def resend(self, row_id: int, admin_id: int) -> OutboxRow | None:
        """A failed or skipped message goes again as it was (same row, same Message-ID, attempts
        from 0; a skipped one is skipped again while its booking is where it was); a sent one goes
        as a new copy (a new row and Message-ID: mail clients drop a second message with an ID
        they have seen); a pending one is already on its way. None: no such row."""
        retry = (
            update(t.mail_outbox).where(o.id == row_id, o.status.in_(("failed", "skipped")))
            .values(status="pending", attempts=0, next_attempt_at=self._now(), lease_token=None)
            .returning(*t.mail_outbox.c)
        )

        async def work(conn: AsyncConnection) -> OutboxRow | None:
            again = (await conn.execute(retry)).mappings().first()
            if again is not None:
                return _row(again)
            found = (await conn.execute(select(t.mail_outbox).where(o.id == row_id))).mappings().first()
            if found is None or found["status"] != "sent":
                return _row(found) if found else None
            copy = (await conn.execute(self._copy(found["booking_id"], Kind(found["kind"]), admin_id))).mappings().one()
            return _row(copy)

        return await self.db.write(work)

    def _copy(self, booking_id: int, kind: Kind, requested_by: int) -> Any:
        return insert(t.mail_outbox).values(
            kind=kind.value, booking_id=booking_id, status="pending", attempts=0, next_attempt_at=self._now(),
            message_key=secrets.token_hex(16), requested_by=requested_by, created_at=self._now(),
        ).returning(*t.mail_outbox.c)

    # -- a buyer's "send my tickets again" -------------------------------------------------------
    async def _lock_requester(self, conn: AsyncConnection, user_id: int) -> None:
        """PostgreSQL: the requester's row, locked until the transaction ends, so that concurrent
        requests of one user count one after the other (the guard of the resend limit; SQLite has
        one writer). FOR NO KEY UPDATE: it does not wait for, nor block, the key-share locks that
        inserting the user's bookings takes on the same row."""
        await conn.execute(select(t.users.c.id).where(t.users.c.id == user_id).with_for_update(key_share=True))

    async def _requested_since(self, conn: AsyncConnection, user_id: int, window: timedelta, limit: int) -> list[datetime]:
        """When ``user_id`` asked for copies within ``window`` (the first ``limit``, oldest first)."""
        recent = (
            select(o.created_at)
            .where(o.requested_by == user_id, o.created_at > self._later(-window.total_seconds()))
            .order_by(o.created_at).limit(limit)
        )
        return [row[0] for row in (await conn.execute(recent)).all()]

    async def booking_owner(self, booking_id: int) -> tuple[int, str] | None:
        """(the booking's user id, its status as stored), or None when there is no such booking."""
        query = select(t.bookings.c.user_id, t.bookings.c.status).where(t.bookings.c.id == booking_id)

        async def work(conn: AsyncConnection) -> tuple[int, str] | None:
            found = (await conn.execute(query)).first()
            return (int(found[0]), str(found[1])) if found else None

        return await self._read(work)

    async def request_tickets(self, booking_id: int, user_id: int, *, limit: int | None,
                              window: timedelta) -> OutboxRow | int | None:
        """A new copy of the confirmation of ``booking_id``, requested by ``user_id``: the row;
        or the seconds to wait when ``user_id`` already asked ``limit`` times within ``window``
        (None: no limit); or None when the booking is not CONFIRMED (nothing is written then).
        The count and the insert run in one transaction that holds the user's row first, so
        concurrent requests are counted one after the other.
        """
        b = t.bookings.c
        copy = insert(t.mail_outbox).from_select(
            ["kind", "booking_id", "status", "attempts", "next_attempt_at", "message_key", "requested_by", "created_at"],
            select(literal(Kind.CONFIRMED.value), b.id, literal("pending"), literal(0), self._now(),
                   bindparam("key", secrets.token_hex(16)), literal(user_id), self._now())
            .where(b.id == booking_id, b.status == "CONFIRMED"),
        ).returning(*t.mail_outbox.c)

        async def work(conn: AsyncConnection) -> OutboxRow | int | None:
            if limit is not None:
                if not self.db.is_sqlite:
                    await self._lock_requester(conn, user_id)
                asked = await self._requested_since(conn, user_id, window, limit)
                if len(asked) >= limit:
                    wait = (asked[0] + window - datetime.now(UTC)).total_seconds()
                    return max(1, math.ceil(wait))
            found = (await conn.execute(copy)).mappings().first()
            return _row(found) if found else None

        if self.db.is_sqlite:
            return await self.db.write(work)  # inside BEGIN IMMEDIATE: one writer at a time
        async with self.db.write_engine.connect() as conn:
            # The engine runs in autocommit; this needs a transaction, so the lock lasts until COMMIT.
            conn = await conn.execution_options(isolation_level="READ COMMITTED")
            async with conn.begin():
                return await work(conn)
