"""SQLAlchemy adapters for the use cases' ports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ticketing.app.ports import (
    BookingFilters,
    BookingRefused,
    DuplicateIdempotencyKey,
    NewBookingValues,
    NewEvent,
    Page,
    Payment,
    PaymentResult,
)
from ticketing.db import holds, hot_path, payments, rows
from ticketing.db import tables as t
from ticketing.db.database import Database
from ticketing.db.errors import (
    foreign_key_names_user,
    is_capacity_refusal,
    is_foreign_key_violation,
    is_unique_violation,
)
from ticketing.db.types import UTCDateTime
from ticketing.domain.errors import (
    CapacityBelowSold,
    CheckoutLocked,
    EmailTaken,
    EventNotFound,
    LimitBelowBooked,
    TicketTypeInUse,
    TicketTypeLimit,
    TicketTypeNotFound,
    TicketTypeRequired,
    UserMissing,
)
from ticketing.domain.models import (
    MAX_TICKET_TYPES,
    Booking,
    BookingRequest,
    BookingStatus,
    Buyer,
    Caller,
    Checkout,
    Event,
    Role,
    Ticket,
    TicketStatus,
    TicketType,
    User,
)


def _now() -> datetime:
    return datetime.now(UTC)


def _dialect_insert(db: Database) -> Callable[..., Any]:
    # Both dialects' inserts take on_conflict_do_update (an upsert), with the same arguments.
    return sqlite.insert if db.is_sqlite else postgresql.insert


def _end_sessions(user_ids: Any, at: datetime) -> Any:
    """The statement that ends every live session of the accounts ``user_ids`` selects."""
    return (
        update(t.sessions)
        .where(t.sessions.c.user_id.in_(user_ids), t.sessions.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )


class SqlUsers:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, email: str, name: str, password_hash: str, role: Role, *, language: str = "en") -> User:
        values = {"email": email, "name": name, "role": role.value, "password_hash": password_hash, "created_at": _now(),
                  "language": language}

        async def work(conn: AsyncConnection) -> User:
            row = (await conn.execute(insert(t.users).values(values).returning(*t.users.c))).mappings().one()
            return rows.user(row)

        try:
            return await self.db.write(work)
        except IntegrityError as error:
            if is_unique_violation(error, "email"):
                raise EmailTaken() from None
            raise

    async def make_admin(self, email: str, name: str | None, password_hash: str, at: datetime) -> User:
        promoted: dict[str, Any] = {"role": Role.ADMIN.value, "password_hash": password_hash}
        if name is not None:
            promoted["name"] = name
        upsert = _dialect_insert(self.db)(t.users).values(
            email=email, name=name or "Admin", role=Role.ADMIN.value, password_hash=password_hash, created_at=at
        ).on_conflict_do_update(index_elements=[t.users.c.email], set_=promoted).returning(*t.users.c)

        async def work(conn: AsyncConnection) -> User:
            if self.db.is_sqlite:  # inside BEGIN IMMEDIATE: two statements, one transaction
                admin = rows.user((await conn.execute(upsert)).mappings().one())
                await conn.execute(_end_sessions([admin.id], at))
                return admin
            # PostgreSQL runs each write alone in autocommit: one statement does both.
            admin_cte = upsert.cte("admin")
            statement = select(admin_cte).add_cte(_end_sessions(select(admin_cte.c.id), at).cte("ended"))
            return rows.user((await conn.execute(statement)).mappings().one())

        return await self.db.write(work)

    async def set_password(self, user_id: int, password_hash: str, at: datetime) -> None:
        change = update(t.users).where(t.users.c.id == user_id).values(password_hash=password_hash)

        async def work(conn: AsyncConnection) -> None:
            if self.db.is_sqlite:
                await conn.execute(change)
                await conn.execute(_end_sessions([user_id], at))
                return
            changed = change.returning(t.users.c.id).cte("changed")
            await conn.execute(_end_sessions(select(changed.c.id), at).add_cte(changed))

        await self.db.write(work)

    async def get(self, user_id: int) -> User | None:
        return await self._one(select(t.users).where(t.users.c.id == user_id))

    async def by_email(self, email: str) -> User | None:
        return await self._one(select(t.users).where(t.users.c.email == email))

    async def by_session(self, caller: Caller) -> User | None:
        query = (
            select(t.users)
            .join(t.sessions, t.sessions.c.user_id == t.users.c.id)
            .where(
                t.sessions.c.id == caller.session_id, t.sessions.c.user_id == caller.user_id,
                t.sessions.c.revoked_at.is_(None), t.sessions.c.expires_at > _now(),
            )
        )
        return await self._one(query)

    async def _one(self, query: Any) -> User | None:
        async def work(conn: AsyncConnection) -> User | None:
            row = (await conn.execute(query)).mappings().first()
            return rows.user(row) if row else None

        return await self.db.read(work)


class SqlSessions:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def start(self, user_id: int, at: datetime, expires_at: datetime) -> int:
        statement = (
            insert(t.sessions).values(user_id=user_id, created_at=at, expires_at=expires_at).returning(t.sessions.c.id)
        )

        async def work(conn: AsyncConnection) -> int:
            session_id: int = (await conn.execute(statement)).scalar_one()
            return session_id

        return await self.db.write(work)

    async def end(self, caller: Caller, at: datetime) -> None:
        statement = (
            update(t.sessions)
            .where(t.sessions.c.id == caller.session_id, t.sessions.c.user_id == caller.user_id,
                   t.sessions.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        await self._write(statement)

    async def end_all(self, user_id: int, at: datetime) -> None:
        await self._write(_end_sessions([user_id], at))

    async def _write(self, statement: Any) -> None:
        async def work(conn: AsyncConnection) -> None:
            await conn.execute(statement)

        await self.db.write(work)


class SqlSignInFailures:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def count_attempt(self, email: str, client: str, at: datetime, window_start: datetime) -> tuple[int, datetime]:
        # ONE upsert: the database serialises concurrent ones on the (email, client) row, so each
        # attempt gets a count of its own (a read-then-write would let a burst all read "0").
        f = t.sign_in_failures.c
        over = f.window_start <= window_start  # the window began too long ago: a new one begins
        now = bindparam("now", at, type_=UTCDateTime())
        statement = _dialect_insert(self.db)(t.sign_in_failures).values(
            email=email, client=client, failures=1, window_start=at
        ).on_conflict_do_update(
            index_elements=[f.email, f.client],
            set_={"failures": case((over, 1), else_=f.failures + 1), "window_start": case((over, now), else_=f.window_start)},
        ).returning(f.failures, f.window_start)

        async def work(conn: AsyncConnection) -> tuple[int, datetime]:
            failures, began = (await conn.execute(statement)).one()
            return int(failures), began

        return await self.db.write(work)

    async def clear(self, email: str, client: str) -> None:
        statement = delete(t.sign_in_failures).where(
            t.sign_in_failures.c.email == email, t.sign_in_failures.c.client == client
        )

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(statement)

        await self.db.write(work)


# An event as the API answers it: the events row with its sales row's capacity, counters and
# limit, and its ticket types.
_SALES_COLUMNS = (
    t.event_sales.c.capacity, t.event_sales.c.tickets_sold, t.event_sales.c.tickets_held,
    t.event_sales.c.per_customer_limit,
)
_EVENT_COLUMNS = (*t.events.c, *_SALES_COLUMNS)


def _events_with_sales() -> Any:
    return select(*_EVENT_COLUMNS).join_from(t.events, t.event_sales, t.event_sales.c.event_id == t.events.c.id)


async def _events(conn: AsyncConnection, query: Any) -> list[Event]:
    found = (await conn.execute(query)).mappings().all()
    if not found:
        return []
    ids = [row["id"] for row in found]
    types: dict[int, list[TicketType]] = {i: [] for i in ids}
    typed = select(t.ticket_types).where(t.ticket_types.c.event_id.in_(ids)).order_by(t.ticket_types.c.id)
    for row in (await conn.execute(typed)).mappings():
        types[row["event_id"]].append(rows.ticket_type(row))
    return [rows.event(row, types[row["id"]]) for row in found]


async def _event(conn: AsyncConnection, event_id: int) -> Event | None:
    found = await _events(conn, _events_with_sales().where(t.events.c.id == event_id))
    return found[0] if found else None


def _most_booked_by_one_buyer(event_id: int) -> Any:
    """The largest PENDING + CONFIRMED quantity of one user for the event (None: no bookings)."""
    b = t.bookings.c
    per_buyer = (
        select(func.sum(b.quantity).label("booked"))
        .where(b.event_id == event_id, b.status.in_(_LIVE))
        .group_by(b.user_id).subquery()
    )
    return select(func.max(per_buyer.c.booked))


async def _lock_sales(conn: AsyncConnection, event_id: int, is_sqlite: bool) -> None:
    """Locks the event's sales row, the lock every booking of the event takes first (in its
    trigger): whoever holds it sees every committed booking of the event and no other is half
    way. SQLite's BEGIN IMMEDIATE already holds the one write lock."""
    query = select(t.event_sales.c.event_id).where(t.event_sales.c.event_id == event_id)
    if not is_sqlite:
        query = query.with_for_update()
    if (await conn.execute(query)).first() is None:
        raise EventNotFound()


class SqlEvents:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, event: NewEvent) -> Event:
        values = {
            "name": event.name, "description": event.description, "venue": event.venue,
            "starts_at": event.starts_at, "price_minor": rows.to_minor(min(p for _, p, _ in event.ticket_types)),
            "currency": event.currency, "max_per_booking": event.max_per_booking, "timezone": event.timezone,
            "checkout": event.checkout.value, "hold_minutes": event.hold_minutes,
        }

        async def work(conn: AsyncConnection) -> Event:
            event_id = (await conn.execute(insert(t.events).values(values).returning(t.events.c.id))).scalar_one()
            await conn.execute(insert(t.event_sales).values(
                event_id=event_id, capacity=event.capacity, tickets_sold=0, tickets_held=0,
                per_customer_limit=event.per_customer_limit))
            await conn.execute(insert(t.ticket_types), [
                {"event_id": event_id, "name": name, "price_minor": rows.to_minor(price), "capacity": capacity,
                 "tickets_sold": 0, "tickets_held": 0}
                for name, price, capacity in event.ticket_types
            ])
            made = await _event(conn, event_id)
            assert made is not None
            return made

        return await self.db.transaction(work)

    async def get(self, event_id: int) -> Event | None:
        async def work(conn: AsyncConnection) -> Event | None:
            return await _event(conn, event_id)

        return await self.db.read(work)

    async def usage(self, event_id: int, user_id: int) -> int:
        query = select(t.customer_usage.c.quantity).where(
            t.customer_usage.c.event_id == event_id, t.customer_usage.c.user_id == user_id)

        async def work(conn: AsyncConnection) -> int:
            found = (await conn.execute(query)).scalar_one_or_none()
            return int(found or 0)

        return await self.db.read(work)

    async def page(self, page: Page) -> tuple[list[Event], int]:
        query = _events_with_sales().order_by(t.events.c.starts_at, t.events.c.id).limit(page.limit).offset(page.offset)

        async def work(conn: AsyncConnection) -> tuple[list[Event], int]:
            found = await _events(conn, query)
            total = (await conn.execute(select(func.count()).select_from(t.events))).scalar_one()
            return found, total

        return await self.db.read(work)

    async def update(self, event_id: int, changes: dict[str, Any]) -> Event:
        values = dict(changes)
        capacity = values.pop("capacity", None)
        price = values.pop("price", None)
        limit_changed = "per_customer_limit" in values
        limit = values.pop("per_customer_limit", None)
        checkout = values.pop("checkout", None)
        if checkout is not None:
            values["checkout"] = Checkout(checkout).value
        sales = t.event_sales.c

        async def work(conn: AsyncConnection) -> Event:
            # The sales row first: every booking of the event locks it too, so the checks below
            # see all of them, and none can slip in between a check and its write.
            await _lock_sales(conn, event_id, self.db.is_sqlite)
            if capacity is not None:
                resized = await conn.execute(
                    update(t.event_sales)
                    .where(sales.event_id == event_id, sales.tickets_sold + sales.tickets_held <= capacity)
                    .values(capacity=capacity)
                )
                if resized.rowcount == 0:
                    current = await _event(conn, event_id)
                    assert current is not None
                    raise CapacityBelowSold(current.tickets_sold + current.tickets_held)
            if checkout is not None:
                booked = select(t.bookings.c.id).where(t.bookings.c.event_id == event_id).limit(1)
                current_mode = select(t.events.c.checkout).where(t.events.c.id == event_id)
                if (await conn.execute(current_mode)).scalar_one() != values["checkout"] and (
                    await conn.execute(booked)
                ).first() is not None:
                    raise CheckoutLocked()
            if limit is not None:
                # Under the sales row's lock no booking of the event moves: the most one buyer
                # holds and bought is final here, and must fit the new limit (invariant 7).
                most = (await conn.execute(_most_booked_by_one_buyer(event_id))).scalar()
                if most is not None and most > limit:
                    raise LimitBelowBooked(int(most))
            if limit_changed:  # its trigger rebuilds the buyers' usage rows from the bookings
                await conn.execute(update(t.event_sales).where(sales.event_id == event_id)
                                   .values(per_customer_limit=limit))
            if price is not None:
                type_ids = (await conn.execute(
                    select(t.ticket_types.c.id).where(t.ticket_types.c.event_id == event_id))).scalars().all()
                if len(type_ids) != 1:
                    raise TicketTypeRequired()
                await conn.execute(update(t.ticket_types).where(t.ticket_types.c.id == type_ids[0])
                                   .values(price_minor=rows.to_minor(price)))
            if values:
                await conn.execute(update(t.events).where(t.events.c.id == event_id).values(values))
            updated = await _event(conn, event_id)
            assert updated is not None
            return updated

        return await self.db.transaction(work)


class SqlTicketTypes:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, event_id: int, name: str, price: Decimal, capacity: int | None) -> TicketType:
        async def work(conn: AsyncConnection) -> TicketType:
            await _lock_sales(conn, event_id, self.db.is_sqlite)
            count = (await conn.execute(
                select(func.count()).select_from(t.ticket_types).where(t.ticket_types.c.event_id == event_id)
            )).scalar_one()
            if count >= MAX_TICKET_TYPES:  # the trigger refuses a 21st too, whoever inserts it
                raise TicketTypeLimit()
            row = (await conn.execute(insert(t.ticket_types).values(
                event_id=event_id, name=name, price_minor=rows.to_minor(price), capacity=capacity,
                tickets_sold=0, tickets_held=0,
            ).returning(*t.ticket_types.c))).mappings().one()
            return rows.ticket_type(row)

        return await self.db.transaction(work)

    async def update(self, event_id: int, type_id: int, changes: dict[str, Any]) -> TicketType:
        values = dict(changes)
        if "price" in values:
            values["price_minor"] = rows.to_minor(values.pop("price"))
        types = t.ticket_types.c
        conditions = [types.id == type_id, types.event_id == event_id]
        if values.get("capacity") is not None:
            # Checked by the row's own WHERE, re-checked on the newest row version under its lock.
            conditions.append(types.tickets_sold + types.tickets_held <= values["capacity"])
        statement: Any = (
            update(t.ticket_types).where(*conditions).values(values).returning(*t.ticket_types.c) if values
            else select(t.ticket_types).where(types.id == type_id, types.event_id == event_id)
        )

        async def work(conn: AsyncConnection) -> TicketType | None:
            row = (await conn.execute(statement)).mappings().first()
            return rows.ticket_type(row) if row else None

        changed = await self.db.write(work, lock_key=(event_id,))
        if changed is not None:
            return changed
        current = await self.get(event_id, type_id)
        if current is None:
            # As DELETE on the same path answers: no event, then no type of it.
            raise TicketTypeNotFound() if await self._event_exists(event_id) else EventNotFound()
        raise CapacityBelowSold(current.tickets_sold + current.tickets_held)

    async def _event_exists(self, event_id: int) -> bool:
        query = select(t.events.c.id).where(t.events.c.id == event_id)

        async def work(conn: AsyncConnection) -> bool:
            return (await conn.execute(query)).first() is not None

        return await self.db.read(work)

    async def get(self, event_id: int, type_id: int) -> TicketType | None:
        query = select(t.ticket_types).where(t.ticket_types.c.id == type_id, t.ticket_types.c.event_id == event_id)

        async def work(conn: AsyncConnection) -> TicketType | None:
            row = (await conn.execute(query)).mappings().first()
            return rows.ticket_type(row) if row else None

        return await self.db.read(work)

    async def delete(self, event_id: int, type_id: int) -> None:
        types = t.ticket_types.c

        async def work(conn: AsyncConnection) -> None:
            await _lock_sales(conn, event_id, self.db.is_sqlite)
            ids = (await conn.execute(select(types.id).where(types.event_id == event_id))).scalars().all()
            if type_id not in ids:
                raise TicketTypeNotFound()
            named = select(t.booking_items.c.booking_id).where(t.booking_items.c.ticket_type_id == type_id).limit(1)
            if len(ids) == 1 or (await conn.execute(named)).first() is not None:
                raise TicketTypeInUse()
            await conn.execute(delete(t.ticket_types).where(types.id == type_id))

        await self.db.transaction(work)


class SqlBookings:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def book(self, request: BookingRequest, new: NewBookingValues, at: datetime) -> Booking:
        work: Callable[[AsyncConnection], Awaitable[Booking | None]]
        if self.db.is_sqlite:
            async def work(conn: AsyncConnection) -> Booking | None:
                return await hot_path.insert_booking_sqlite(conn, request, new, at)
        else:
            work = hot_path.book_pg(request, new, at)  # a PgCall: batches run pipelined
        try:
            booking = await self.db.write(work, lock_key=(request.event_id,))
        except IntegrityError as error:
            if is_capacity_refusal(error):  # the triggers' and CHECKs' guards, under the row locks
                raise BookingRefused() from None
            if is_unique_violation(error, "idempotency"):
                raise DuplicateIdempotencyKey() from None
            if is_foreign_key_violation(error):
                if foreign_key_names_user(error):  # the account is gone
                    raise UserMissing() from None
                # The event or a type was deleted while the statement ran: the use case reads why.
                raise BookingRefused() from None
            raise
        if booking is None:
            raise BookingRefused()
        return booking

    async def by_key(self, caller_id: int, key: str) -> Booking | None:
        return await self._one(and_(t.bookings.c.created_by == caller_id, t.bookings.c.idempotency_key == key))

    async def get(self, booking_id: int) -> Booking | None:
        return await self._one(t.bookings.c.id == booking_id)

    async def by_reference(self, reference: str) -> Booking | None:
        return await self._one(t.bookings.c.payment_reference == reference)

    async def _one(self, condition: Any) -> Booking | None:
        async def work(conn: AsyncConnection) -> Booking | None:
            found = await _bookings(conn, _with_buyer().where(condition))
            return found[0] if found else None

        return await self.db.read(work)

    async def page(self, page: Page, filters: BookingFilters) -> tuple[list[Booking], int]:
        b = t.bookings.c
        conditions: list[Any] = []
        if filters.user_id is not None:
            conditions.append(b.user_id == filters.user_id)
        if filters.event_id is not None:
            conditions.append(b.event_id == filters.event_id)
        if filters.payment_status is not None:
            conditions.append(b.payment_status == filters.payment_status.value)
        if filters.reference is not None:
            conditions.append(b.payment_reference == filters.reference)
        if filters.status is not None:
            conditions.append(_shown_as(filters.status, filters.now))
        query = _with_buyer().where(*conditions).order_by(b.id.desc()).limit(page.limit).offset(page.offset)
        count = select(func.count()).select_from(t.bookings).where(*conditions)

        async def work(conn: AsyncConnection) -> tuple[list[Booking], int]:
            found = await _bookings(conn, query)
            total = (await conn.execute(count)).scalar_one()
            return found, total

        return await self.db.read(work)

    async def cancel(self, booking: Booking, at: datetime) -> Booking:
        # The status change is the whole write: the database's triggers release the capacity (and
        # the buyer's usage) and void the tickets. A hold past its deadline is released as
        # EXPIRED, not cancelled (as every read shows it), and an expired hold stays EXPIRED; a
        # paid booking is owed its money back. A hold's payment is no longer due: a payment that
        # still comes for it is owed back (payments), it does not confirm what its owner cancelled.
        # A booking with nothing to pay (a zero total) is owed nothing, even one an older
        # mark-paid marked paid 0.00.
        b = t.bookings.c
        statement = (
            update(t.bookings)
            .where(b.id == booking.id, or_(b.status.in_(_LIVE), and_(b.status == "EXPIRED", b.payment_status == "due")))
            .values(
                status=case((b.status == "EXPIRED", "EXPIRED"),
                            (and_(b.status == "PENDING", b.expires_at <= at), "EXPIRED"), else_="CANCELLED"),
                payment_status=case(
                    (b.total_minor == 0, "none"),
                    (b.payment_status == "paid", "refund_due"),
                    (b.payment_status == "due", "none"),
                    else_=b.payment_status,
                ),
            )
        )

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(statement)

        await self.db.write(work, alone=True)
        cancelled = await self.get(booking.id)
        assert cancelled is not None
        return cancelled

    async def release_expired(self, event_id: int, at: datetime, limit: int) -> int:
        """Releases up to ``limit`` of the event's holds past their deadline (db/holds.py);
        returns how many."""
        statement = holds.release_due(event_id, at, limit, skip_locked=not self.db.is_sqlite)

        async def work(conn: AsyncConnection) -> int:
            return len((await conn.execute(statement)).all())

        return await self.db.write(work, lock_key=(event_id,))

    async def events_with_expired_holds(self, at: datetime, limit: int) -> list[int]:
        b = t.bookings.c
        query = select(b.event_id).where(b.status == "PENDING", b.expires_at <= at).distinct().limit(limit)

        async def work(conn: AsyncConnection) -> list[int]:
            return list((await conn.execute(query)).scalars().all())

        return await self.db.read(work)

    async def mark_refunded(self, booking_id: int) -> Booking | None:
        """refund_due -> refunded; None when the booking is not refund_due (nor refunded)."""
        b = t.bookings.c
        statement = (
            update(t.bookings).where(b.id == booking_id, b.payment_status.in_(["refund_due", "refunded"]))
            .values(payment_status="refunded").returning(b.id)
        )

        async def work(conn: AsyncConnection) -> int | None:
            found: int | None = (await conn.execute(statement)).scalar_one_or_none()
            return found

        if await self.db.write(work, alone=True) is None:
            return None
        return await self.get(booking_id)

    async def pay(self, payment: Payment, new_codes: Callable[[int], list[str]], at: datetime) -> PaymentResult:
        """Records a payment for a booking in ONE transaction (see payments.record_payment)."""
        if not self.db.is_sqlite:
            # PostgreSQL: the same transaction as one call of ticketing_pay (migrations 0004, 0006, 0008).
            return await self.db.write(lambda conn: payments.pay_pg(conn, payment, new_codes, at), alone=True)
        return await self.db.transaction(
            lambda conn: payments.record_payment(conn, payment, new_codes, at))


_LIVE = ("PENDING", "CONFIRMED")


def _shown_as(status: BookingStatus, now: datetime) -> Any:
    """The rows that read as ``status`` at ``now`` (a hold past its deadline reads EXPIRED)."""
    b = t.bookings.c
    if status is BookingStatus.PENDING:
        return and_(b.status == "PENDING", b.expires_at > now)
    if status is BookingStatus.EXPIRED:
        return or_(b.status == "EXPIRED", and_(b.status == "PENDING", b.expires_at <= now))
    return b.status == status.value


def _with_buyer() -> Any:
    return select(t.bookings, t.users.c.name.label("buyer_name"), t.users.c.email.label("buyer_email")).join_from(
        t.bookings, t.users, t.users.c.id == t.bookings.c.user_id)


async def _bookings(conn: AsyncConnection, query: Any) -> list[Booking]:
    found = (await conn.execute(query)).mappings().all()
    if not found:
        return []
    ids = [row["id"] for row in found]
    tickets: dict[int, list[Ticket]] = {i: [] for i in ids}
    for row in (await conn.execute(
        select(t.tickets).where(t.tickets.c.booking_id.in_(ids)).order_by(t.tickets.c.id)
    )).mappings():
        tickets[row["booking_id"]].append(rows.ticket(row))
    items: dict[int, list[rows.Row]] = {i: [] for i in ids}
    item_query = (
        select(t.booking_items, t.ticket_types.c.name)
        .join_from(t.booking_items, t.ticket_types, t.ticket_types.c.id == t.booking_items.c.ticket_type_id)
        .where(t.booking_items.c.booking_id.in_(ids)).order_by(t.booking_items.c.ticket_type_id)
    )
    for row in (await conn.execute(item_query)).mappings():
        items[row["booking_id"]].append(row)
    return [
        rows.booking(row, tickets[row["id"]], items[row["id"]], Buyer(row["user_id"], row["buyer_name"], row["buyer_email"]))
        for row in found
    ]


class SqlTickets:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, code: str) -> tuple[Ticket, int] | None:
        query = (
            select(t.tickets, t.bookings.c.user_id)
            .join(t.bookings, t.bookings.c.id == t.tickets.c.booking_id)
            .where(t.tickets.c.code == code)
        )

        async def work(conn: AsyncConnection) -> tuple[Ticket, int] | None:
            row = (await conn.execute(query)).mappings().first()
            return (rows.ticket(row), row["user_id"]) if row else None

        return await self.db.read(work)

    async def check_in(self, code: str, at: datetime) -> Ticket | None:
        statement = (
            update(t.tickets)
            .where(t.tickets.c.code == code, t.tickets.c.status == TicketStatus.VALID.value)
            .values(status=TicketStatus.USED.value, checked_in_at=at)
            .returning(*t.tickets.c)
        )

        async def work(conn: AsyncConnection) -> Ticket | None:
            row = (await conn.execute(statement)).mappings().first()
            return rows.ticket(row) if row else None

        return await self.db.write(work)


class SqlStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.users = SqlUsers(db)
        self.sessions = SqlSessions(db)
        self.sign_in_failures = SqlSignInFailures(db)
        self.events = SqlEvents(db)
        self.ticket_types = SqlTicketTypes(db)
        self.bookings = SqlBookings(db)
        self.tickets = SqlTickets(db)
