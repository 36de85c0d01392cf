"""SQLAlchemy adapters for the use cases' ports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ticketing.app.ports import BookingRefused, DuplicateIdempotencyKey, NewEvent, Page, UserMissing
from ticketing.db import hot_path
from ticketing.db import tables as t
from ticketing.db.database import Database
from ticketing.db.errors import is_capacity_refusal, is_foreign_key_violation, is_unique_violation
from ticketing.domain.errors import CapacityBelowSold, EmailTaken, EventNotFound
from ticketing.domain.models import Booking, BookingRequest, BookingStatus, Event, Role, Ticket, TicketStatus, User

CENTS = Decimal(100)


def _to_minor(amount: Decimal) -> int:
    return int((amount * CENTS).to_integral_value())


def _from_minor(minor: int) -> Decimal:
    return (Decimal(minor) / CENTS).quantize(Decimal("0.01"))


def _now() -> datetime:
    return datetime.now(UTC)


def _user(row: Mapping[str, Any]) -> User:
    return User(row["id"], row["email"], row["name"], Role(row["role"]), row["password_hash"])


def _event(row: Mapping[str, Any]) -> Event:
    return Event(
        id=row["id"], name=row["name"], description=row["description"], venue=row["venue"],
        starts_at=row["starts_at"], capacity=row["capacity"], price=_from_minor(row["price_minor"]),
        currency=row["currency"], max_per_booking=row["max_per_booking"], tickets_sold=row["tickets_sold"],
    )


def _ticket(row: Mapping[str, Any]) -> Ticket:
    return Ticket(row["id"], row["code"], row["booking_id"], row["event_id"], TicketStatus(row["status"]), row["checked_in_at"])


def _booking(row: Mapping[str, Any], tickets: Sequence[Ticket]) -> Booking:
    return Booking(
        id=row["id"], user_id=row["user_id"], event_id=row["event_id"], quantity=row["quantity"],
        total_amount=_from_minor(row["total_minor"]), status=BookingStatus(row["status"]),
        booking_date=row["booking_date"], tickets=tuple(tickets),
        request_fingerprint=row["request_fingerprint"],
    )


class SqlUsers:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, email: str, name: str, password_hash: str, role: Role) -> User:
        values = {"email": email, "name": name, "role": role.value, "password_hash": password_hash, "created_at": _now()}

        async def work(conn: AsyncConnection) -> User:
            row = (await conn.execute(insert(t.users).values(values).returning(*t.users.c))).mappings().one()
            return _user(row)

        try:
            return await self.db.write(work)
        except IntegrityError as error:
            if is_unique_violation(error, "email"):
                raise EmailTaken() from None
            raise

    async def make_admin(self, email: str, name: str, password_hash: str) -> User:
        dialect_insert = _dialect_insert(self.db)
        statement = dialect_insert(t.users).values(
            email=email, name=name, role=Role.ADMIN.value, password_hash=password_hash, created_at=_now()
        )
        statement = statement.on_conflict_do_update(
            index_elements=[t.users.c.email],
            set_={"role": Role.ADMIN.value, "password_hash": password_hash},
        ).returning(*t.users.c)

        async def work(conn: AsyncConnection) -> User:
            return _user((await conn.execute(statement)).mappings().one())

        return await self.db.write(work)

    async def get(self, user_id: int) -> User | None:
        return await self._one(t.users.c.id == user_id)

    async def by_email(self, email: str) -> User | None:
        return await self._one(t.users.c.email == email)

    async def _one(self, condition: Any) -> User | None:
        async def work(conn: AsyncConnection) -> User | None:
            row = (await conn.execute(select(t.users).where(condition))).mappings().first()
            return _user(row) if row else None

        return await self.db.read(work)


def _dialect_insert(db: Database):  # type: ignore[no-untyped-def]
    if db.is_sqlite:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    return pg_insert


class SqlSignInFailures:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _key(self, email: str, client: str) -> Any:
        return and_(t.sign_in_failures.c.email == email, t.sign_in_failures.c.client == client)

    async def since(self, email: str, client: str, since: datetime) -> list[datetime]:
        query = select(t.sign_in_failures.c.failed_at).where(
            self._key(email, client), t.sign_in_failures.c.failed_at > since
        )

        async def work(conn: AsyncConnection) -> list[datetime]:
            return list((await conn.execute(query)).scalars())

        return await self.db.read(work)

    async def record(self, email: str, client: str, at: datetime) -> None:
        async def work(conn: AsyncConnection) -> None:
            await conn.execute(insert(t.sign_in_failures).values(email=email, client=client, failed_at=at))

        await self.db.write(work)

    async def clear(self, email: str, client: str) -> None:
        async def work(conn: AsyncConnection) -> None:
            await conn.execute(delete(t.sign_in_failures).where(self._key(email, client)))

        await self.db.write(work)


class SqlEvents:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, event: NewEvent) -> Event:
        values = {
            "name": event.name, "description": event.description, "venue": event.venue,
            "starts_at": event.starts_at, "capacity": event.capacity, "price_minor": _to_minor(event.price),
            "currency": event.currency, "max_per_booking": event.max_per_booking, "tickets_sold": 0,
        }

        async def work(conn: AsyncConnection) -> Event:
            return _event((await conn.execute(insert(t.events).values(values).returning(*t.events.c))).mappings().one())

        return await self.db.write(work)

    async def get(self, event_id: int) -> Event | None:
        async def work(conn: AsyncConnection) -> Event | None:
            row = (await conn.execute(select(t.events).where(t.events.c.id == event_id))).mappings().first()
            return _event(row) if row else None

        return await self.db.read(work)

    async def page(self, page: Page) -> tuple[list[Event], int]:
        query = select(t.events).order_by(t.events.c.starts_at, t.events.c.id).limit(page.limit).offset(page.offset)

        async def work(conn: AsyncConnection) -> tuple[list[Event], int]:
            rows = (await conn.execute(query)).mappings().all()
            total = (await conn.execute(select(func.count()).select_from(t.events))).scalar_one()
            return [_event(r) for r in rows], total

        return await self.db.read(work)

    async def update(self, event_id: int, changes: dict[str, Any]) -> Event:
        values = dict(changes)
        if "price" in values:
            values["price_minor"] = _to_minor(values.pop("price"))
        statement = update(t.events).where(t.events.c.id == event_id).values(values).returning(*t.events.c)
        if "capacity" in values:
            # Checked in the same statement as the write, so a concurrent sale cannot slip between.
            statement = statement.where(t.events.c.tickets_sold <= values["capacity"])

        async def work(conn: AsyncConnection) -> Event | None:
            row = (await conn.execute(statement)).mappings().first()
            return _event(row) if row else None

        updated = await self.db.write(work)
        if updated is not None:
            return updated
        current = await self.get(event_id)
        if current is None:
            raise EventNotFound()
        raise CapacityBelowSold(current.tickets_sold)


class SqlBookings:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = hot_path.insert_booking_sqlite if db.is_sqlite else hot_path.insert_booking_pg

    async def book(self, request: BookingRequest, codes: list[str], at: datetime) -> Booking:
        async def work(conn: AsyncConnection):  # type: ignore[no-untyped-def]
            return await self._insert(conn, request, codes, at)

        try:
            rows = await self.db.write(work)
        except IntegrityError as error:
            if is_capacity_refusal(error):  # the trigger's guard, under the row lock
                raise BookingRefused() from None
            if is_unique_violation(error, "idempotency"):
                raise DuplicateIdempotencyKey() from None
            if is_foreign_key_violation(error):  # the event row was read by the statement itself
                raise UserMissing() from None
            raise
        if not rows:
            raise BookingRefused()
        tickets = [
            Ticket(r["ticket_id"], r["code"], r["id"], r["event_id"], TicketStatus(r["ticket_status"]), r["checked_in_at"])
            for r in rows
        ]
        return _booking(rows[0], tickets)

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
            rows = (await conn.execute(query)).mappings().all()
            total = (await conn.execute(count)).scalar_one()
            return await _with_tickets(conn, rows), total

        return await self.db.read(work)

    async def cancel(self, booking_id: int) -> Booking:
        # The status change is the whole write: the database's trigger releases the capacity
        # and voids the tickets. "WHERE status = 'CONFIRMED'" makes a second cancel a no-op.
        statement = (
            update(t.bookings)
            .where(t.bookings.c.id == booking_id, t.bookings.c.status == BookingStatus.CONFIRMED.value)
            .values(status=BookingStatus.CANCELLED.value)
        )

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(statement)

        await self.db.write(work)
        booking = await self.get(booking_id)
        assert booking is not None
        return booking


async def _with_tickets(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> list[Booking]:
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    query = select(t.tickets).where(t.tickets.c.booking_id.in_(ids)).order_by(t.tickets.c.id)
    by_booking: dict[int, list[Ticket]] = {i: [] for i in ids}
    for ticket_row in (await conn.execute(query)).mappings():
        by_booking[ticket_row["booking_id"]].append(_ticket(ticket_row))
    return [_booking(row, by_booking[row["id"]]) for row in rows]


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
            return (_ticket(row), row["user_id"]) if row else None

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
            return _ticket(row) if row else None

        return await self.db.write(work)


class SqlStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.users = SqlUsers(db)
        self.sign_in_failures = SqlSignInFailures(db)
        self.events = SqlEvents(db)
        self.bookings = SqlBookings(db)
        self.tickets = SqlTickets(db)
