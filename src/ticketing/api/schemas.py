"""Request and response bodies of the HTTP contract."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, PlainSerializer, StringConstraints, model_validator

from ticketing.domain.models import Booking, Event, Ticket, User

MAX_ID = 2**63 - 1


def _storable(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and no database can store an unpaired surrogate.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _utc(value: datetime) -> datetime:
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("date is out of range") from None


Text = Annotated[str, AfterValidator(_storable)]
# JSON integers only: "2", 2.0 and true are not quantities or ids.
Id = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]
Money = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=9, decimal_places=2, allow_inf_nan=False)]
MoneyOut = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json")]
Instant = Annotated[datetime, AfterValidator(_utc)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Name = Annotated[Text, StringConstraints(min_length=1, max_length=200)]

T = TypeVar("T")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- accounts ---------------------------------------------------------------------------------
class RegisterIn(Strict):
    email: Annotated[EmailStr, AfterValidator(_storable), StringConstraints(max_length=320)]
    password: Annotated[Text, StringConstraints(min_length=8, max_length=128)]
    name: Name


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: Literal["customer", "admin"]

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, email=user.email, name=user.name, role=user.role.value)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


# -- events -----------------------------------------------------------------------------------
class EventIn(Strict):
    name: Name
    description: Annotated[Text, StringConstraints(max_length=5000)] = ""
    venue: Annotated[Text, StringConstraints(max_length=200)] = ""
    starts_at: Instant
    capacity: Annotated[int, Field(ge=0, le=1_000_000, strict=True)]
    price: Money
    currency: Currency | None = None
    max_per_booking: Annotated[int, Field(ge=1, le=100, strict=True)] = 10


_NULLABLE_IN_PATCH = {"description", "venue"}


class EventPatch(Strict):
    name: Name | None = None
    description: Annotated[Text, StringConstraints(max_length=5000)] | None = None
    venue: Annotated[Text, StringConstraints(max_length=200)] | None = None
    starts_at: Instant | None = None
    capacity: Annotated[int, Field(ge=0, le=1_000_000, strict=True)] | None = None
    price: Money | None = None
    currency: Currency | None = None
    max_per_booking: Annotated[int, Field(ge=1, le=100, strict=True)] | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> EventPatch:
        for name in self.model_fields_set - _NULLABLE_IN_PATCH:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return {
            name: ("" if value is None else value)
            for name, value in self.model_dump(include=self.model_fields_set).items()
        }


class EventOut(BaseModel):
    id: int
    name: str
    description: str
    venue: str
    starts_at: datetime
    capacity: int
    price: MoneyOut
    currency: str
    max_per_booking: int
    tickets_sold: int
    available: int

    @classmethod
    def of(cls, event: Event) -> EventOut:
        return cls(
            id=event.id, name=event.name, description=event.description, venue=event.venue,
            starts_at=event.starts_at, capacity=event.capacity, price=event.price, currency=event.currency,
            max_per_booking=event.max_per_booking, tickets_sold=event.tickets_sold, available=event.available,
        )


# -- bookings and tickets ---------------------------------------------------------------------
class BookingIn(Strict):
    event_id: Id
    # No upper bound here: above the event's own limit is a 400 quantity_above_limit.
    quantity: Annotated[int, Field(ge=1, strict=True)]
    user_id: Id | None = None


class TicketOut(BaseModel):
    id: int
    code: str
    booking_id: int
    event_id: int
    status: Literal["VALID", "USED", "VOID"]
    checked_in_at: datetime | None

    @classmethod
    def of(cls, ticket: Ticket) -> TicketOut:
        return cls(
            id=ticket.id, code=ticket.code, booking_id=ticket.booking_id, event_id=ticket.event_id,
            status=ticket.status.value, checked_in_at=ticket.checked_in_at,
        )


class BookingOut(BaseModel):
    id: int
    user_id: int
    event_id: int
    quantity: int
    total_amount: MoneyOut
    status: Literal["CONFIRMED", "CANCELLED"]
    booking_date: datetime
    tickets: list[TicketOut]

    @classmethod
    def of(cls, booking: Booking) -> BookingOut:
        return cls(
            id=booking.id, user_id=booking.user_id, event_id=booking.event_id, quantity=booking.quantity,
            total_amount=booking.total_amount, status=booking.status.value, booking_date=booking.booking_date,
            tickets=[TicketOut.of(t) for t in booking.tickets],
        )


class ListOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# -- errors -----------------------------------------------------------------------------------
class ErrorOut(BaseModel):
    detail: str | list[Any]
    code: str


class SoldOutOut(ErrorOut):
    available: int


class HealthOut(BaseModel):
    status: str
