"""SQLAlchemy adapters for the use cases' ports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ticketing.app.ports import BookingRefused, DuplicateIdempotencyKey, NewEvent, Page
from ticketing.db import hot_path, rows
from ticketing.db import tables as t
from ticketing.db.database import Database
from ticketing.db.errors import is_capacity_refusal, is_foreign_key_violation, is_unique_violation
from ticketing.db.types import UTCDateTime
from ticketing.domain.errors import CapacityBelowSold, EmailTaken, EventNotFound, UserMissing
from ticketing.domain.models import Booking, BookingRequest, BookingStatus, Caller, Event, Role, Ticket, TicketStatus, User


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

    async def add(self, email: str, name: str, password_hash: str, role: Role) -> User:
        values = {"email": email, "name": name, "role": role.value, "password_hash": password_hash, "created_at": _now()}

        async def work(conn: AsyncConnection) -> User:
            row = (await conn.execute(insert(t.users).values(values).returning(*t.users.c))).mappings().one()
            return rows.user(row)

        try:
            return await self.db.write(work)
        except IntegrityError as error:
            if is_unique_violation(error, "email"):
                raise EmailTaken() from None
            raise

    async def make_admin(self, email: str, name: str, password_hash: str, at: datetime) -> User:
        upsert = _dialect_insert(self.db)(t.users).values(
            email=email, name=name, role=Role.ADMIN.value, password_hash=password_hash, created_at=at
        ).on_conflict_do_update(
            index_elements=[t.users.c.email],
            set_={"role": Role.ADMIN.value, "password_hash": password_hash},
        ).returning(*t.users.c)

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


# An event as the API answers it: the events row with its sales row's capacity and counters.
_SALES_COLUMNS = (t.event_sales.c.capacity, t.event_sales.c.tickets_sold, t.event_sales.c.tickets_held)
_EVENT_COLUMNS = (*t.events.c, *_SALES_COLUMNS)


def _events_with_sales() -> Any:
    return select(*_EVENT_COLUMNS).join_from(t.events, t.event_sales, t.event_sales.c.event_id == t.events.c.id)


class SqlEvents:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, event: NewEvent) -> Event:
        values = {
            "name": event.name, "description": event.description, "venue": event.venue,
            "starts_at": event.starts_at, "price_minor": rows.to_minor(event.price),
            "currency": event.currency, "max_per_booking": event.max_per_booking, "timezone": event.timezone,
        }
        sales = {"capacity": event.capacity, "tickets_sold": 0, "tickets_held": 0}
        created = insert(t.events).values(values).returning(*t.events.c)

        async def work_sqlite(conn: AsyncConnection) -> Event:  # inside BEGIN IMMEDIATE
            row = (await conn.execute(created)).mappings().one()
            counters = (await conn.execute(
                insert(t.event_sales).values(event_id=row["id"], **sales).returning(*_SALES_COLUMNS)
            )).mappings().one()
            return rows.event({**row, **counters})

        # PostgreSQL: ONE statement (a write alone runs in autocommit), the sales row made from
        # the new event's id in the same statement.
        made = created.cte("made")
        with_sales = insert(t.event_sales).from_select(
            ["event_id", *sales], select(made.c.id, *(bindparam(f"sales_{k}", v) for k, v in sales.items()))
        ).returning(*_SALES_COLUMNS, t.event_sales.c.event_id).cte("with_sales")
        statement = select(*made.c, *(c for c in with_sales.c if c.name != "event_id")).join_from(
            made, with_sales, with_sales.c.event_id == made.c.id
        )

        async def work_pg(conn: AsyncConnection) -> Event:
            return rows.event((await conn.execute(statement)).mappings().one())

        return await self.db.write(work_sqlite if self.db.is_sqlite else work_pg)

    async def get(self, event_id: int) -> Event | None:
        async def work(conn: AsyncConnection) -> Event | None:
            row = (await conn.execute(_events_with_sales().where(t.events.c.id == event_id))).mappings().first()
            return rows.event(row) if row else None

        return await self.db.read(work)

    async def page(self, page: Page) -> tuple[list[Event], int]:
        query = _events_with_sales().order_by(t.events.c.starts_at, t.events.c.id).limit(page.limit).offset(page.offset)

        async def work(conn: AsyncConnection) -> tuple[list[Event], int]:
            found = (await conn.execute(query)).mappings().all()
            total = (await conn.execute(select(func.count()).select_from(t.events))).scalar_one()
            return [rows.event(r) for r in found], total

        return await self.db.read(work)

    async def update(self, event_id: int, changes: dict[str, Any]) -> Event:
        values = dict(changes)
        if "price" in values:
            values["price_minor"] = rows.to_minor(values.pop("price"))
        capacity = values.pop("capacity", None)
        sales = t.event_sales.c
        # A new capacity is checked in the same statement as its write (the sales row's own
        # WHERE, re-checked by PostgreSQL on the newest row version), so a concurrent sale cannot
        # slip between; nothing else is written when it is refused.
        resize = None if capacity is None else (
            update(t.event_sales)
            .where(sales.event_id == event_id, sales.tickets_sold + sales.tickets_held <= capacity)
            .values(capacity=capacity)
        )
        work = self._update_sqlite(event_id, values, resize) if self.db.is_sqlite else self._update_pg(event_id, values, resize)
        updated = await self.db.write(work, lock_key=(event_id,))  # locks the event's sales row
        if updated is not None:
            return updated
        current = await self.get(event_id)
        if current is None:
            raise EventNotFound()
        raise CapacityBelowSold(current.tickets_sold + current.tickets_held)

    @staticmethod
    def _update_sqlite(
        event_id: int, values: dict[str, Any], resize: Any
    ) -> Callable[[AsyncConnection], Awaitable[Event | None]]:
        async def work(conn: AsyncConnection) -> Event | None:  # inside BEGIN IMMEDIATE
            if resize is not None and (await conn.execute(resize)).rowcount == 0:
                return None
            if values:
                await conn.execute(update(t.events).where(t.events.c.id == event_id).values(values))
            row = (await conn.execute(_events_with_sales().where(t.events.c.id == event_id))).mappings().first()
            return rows.event(row) if row else None

        return work

    @staticmethod
    def _update_pg(event_id: int, values: dict[str, Any], resize: Any) -> Callable[[AsyncConnection], Awaitable[Event | None]]:
        # ONE statement: the sales row (resized, or as it is) and then the events row, which is
        # written only when the sales row matched.
        sales = t.event_sales.c
        if resize is not None:
            counters = resize.returning(sales.event_id, *_SALES_COLUMNS).cte("counters")
        else:
            counters = select(sales.event_id, *_SALES_COLUMNS).where(sales.event_id == event_id).cte("counters")
        counter_columns = [counters.c.capacity, counters.c.tickets_sold, counters.c.tickets_held]
        statement: Any
        if values:
            statement = (
                update(t.events).where(t.events.c.id == counters.c.event_id).values(values)
                .returning(*t.events.c, *counter_columns)
            )
        else:
            statement = select(*t.events.c, *counter_columns).join_from(t.events, counters, t.events.c.id == counters.c.event_id)

        async def work(conn: AsyncConnection) -> Event | None:
            row = (await conn.execute(statement)).mappings().first()
            return rows.event(row) if row else None

        return work


class SqlBookings:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = hot_path.insert_booking_sqlite if db.is_sqlite else hot_path.insert_booking_pg

    async def book(self, request: BookingRequest, codes: list[str], at: datetime) -> Booking:
        async def work(conn: AsyncConnection) -> Booking | None:
            return await self._insert(conn, request, codes, at)

        try:
            booking = await self.db.write(work, lock_key=(request.event_id,))
        except IntegrityError as error:
            if is_capacity_refusal(error):  # the trigger's guard, under the row lock
                raise BookingRefused() from None
            if is_unique_violation(error, "idempotency"):
                raise DuplicateIdempotencyKey() from None
            if is_foreign_key_violation(error):  # the event row was read by the statement itself
                raise UserMissing() from None
            raise
        if booking is None:
            raise BookingRefused()
        return booking

    async def by_key(self, caller_id: int, key: str) -> Booking | None:
        return await self._one(and_(t.bookings.c.created_by == caller_id, t.bookings.c.idempotency_key == key))

    async def get(self, booking_id: int) -> Booking | None:
        return await self._one(t.bookings.c.id == booking_id)

    async def _one(self, condition: Any) -> Booking | None:
        async def work(conn: AsyncConnection) -> Booking | None:
            row = (await conn.execute(select(t.bookings).where(condition))).mappings().first()
            if row is None:
                return None
            return (await _with_tickets(conn, [row]))[0]

        return await self.db.read(work)

    async def page(
        self, page: Page, *, user_id: int | None = None, event_id: int | None = None
    ) -> tuple[list[Booking], int]:
        conditions = []
        if user_id is not None:
            conditions.append(t.bookings.c.user_id == user_id)
        if event_id is not None:
            conditions.append(t.bookings.c.event_id == event_id)
        query = select(t.bookings).where(*conditions).order_by(t.bookings.c.id.desc()).limit(page.limit).offset(page.offset)
        count = select(func.count()).select_from(t.bookings).where(*conditions)

        async def work(conn: AsyncConnection) -> tuple[list[Booking], int]:
            found = (await conn.execute(query)).mappings().all()
            total = (await conn.execute(count)).scalar_one()
            return await _with_tickets(conn, found), total

        return await self.db.read(work)

    async def cancel(self, booking: Booking) -> Booking:
        # The status change is the whole write: the database's trigger releases the capacity
        # and voids the tickets. "WHERE status = 'CONFIRMED'" makes a second cancel a no-op.
        statement = (
            update(t.bookings)
            .where(t.bookings.c.id == booking.id, t.bookings.c.status == BookingStatus.CONFIRMED.value)
            .values(status=BookingStatus.CANCELLED.value)
        )

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(statement)

        # The trigger locks the event's row: keyed like a booking, so a batch stays in lock order.
        await self.db.write(work, lock_key=(booking.event_id,))
        cancelled = await self.get(booking.id)
        assert cancelled is not None
        return cancelled


async def _with_tickets(conn: AsyncConnection, found: Sequence[rows.Row]) -> list[Booking]:
    if not found:
        return []
    ids = [row["id"] for row in found]
    query = select(t.tickets).where(t.tickets.c.booking_id.in_(ids)).order_by(t.tickets.c.id)
    by_booking: dict[int, list[Ticket]] = {i: [] for i in ids}
    for ticket_row in (await conn.execute(query)).mappings():
        by_booking[ticket_row["booking_id"]].append(rows.ticket(ticket_row))
    return [rows.booking(row, by_booking[row["id"]]) for row in found]


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
        self.bookings = SqlBookings(db)
        self.tickets = SqlTickets(db)
