"""Request and response bodies of the HTTP contract."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from annotated_types import Ge, Le
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from ticketing.domain.models import MAX_TICKETS_PER_BOOKING, Booking, Event, Ticket, User

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


# A price sent as text: plain digits, at most two places (what the web app's form allows). The
# pattern is enforced, not only documented, so the OpenAPI schema says exactly what is accepted.
_MONEY_TEXT = r"^[0-9]{1,7}(\.[0-9]{1,2})?$"


def _money_text(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(_MONEY_TEXT, value):
        raise ValueError('must be a decimal string with at most 2 places, like "1500.00"')
    return value


_DATE_TIME_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _date_time_text(value: object) -> object:
    # Left alone, pydantic would also take 0, 1.5e9 or "2026-01-01" (a date) as a time.
    if (isinstance(value, str) and _DATE_TIME_TEXT.match(value)) or isinstance(value, datetime):
        return value
    raise ValueError("must be an ISO 8601 date and time, like 2026-12-31T19:00:00Z")


def _utc(value: datetime) -> datetime:
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("date is out of range") from None


def _plain_digits(value: object) -> object:
    # Ids in paths and queries arrive as text; int() would also read "+1", " 1", "1_0" and "1.0".
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be a positive integer written in digits")
    return value


Text = Annotated[str, AfterValidator(_storable)]
# JSON integers only: "2", 2.0 and true are not quantities or ids.
Id = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]
# An id in a URL (path or query): digits only, in range. Routers wrap it in Path() or Query().
DigitsId = Annotated[int, Ge(1), Le(MAX_ID), BeforeValidator(_plain_digits)]
Money = Annotated[
    Decimal,
    BeforeValidator(_money_text),
    Field(ge=0, le=1_000_000, max_digits=9, decimal_places=2, allow_inf_nan=False),
    WithJsonSchema({"anyOf": [
        {"type": "number", "minimum": 0, "maximum": 1_000_000},
        {"type": "string", "pattern": _MONEY_TEXT},
    ]}),
]
MoneyOut = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json")]
Instant = Annotated[datetime, BeforeValidator(_date_time_text), AfterValidator(_utc)]
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
    max_per_booking: Annotated[int, Field(ge=1, le=MAX_TICKETS_PER_BOOKING, strict=True)] = 10


_NULLABLE_IN_PATCH = {"description", "venue"}


class EventPatch(Strict):
    # Only description and venue may be null (meaning ""); the schema hides the others' None.
    name: Name | SkipJsonSchema[None] = None
    description: Annotated[Text, StringConstraints(max_length=5000)] | None = None
    venue: Annotated[Text, StringConstraints(max_length=200)] | None = None
    starts_at: Instant | SkipJsonSchema[None] = None
    capacity: Annotated[int, Field(ge=0, le=1_000_000, strict=True)] | SkipJsonSchema[None] = None
    price: Money | SkipJsonSchema[None] = None
    currency: Currency | SkipJsonSchema[None] = None
    max_per_booking: Annotated[int, Field(ge=1, le=MAX_TICKETS_PER_BOOKING, strict=True)] | SkipJsonSchema[None] = None

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


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "required": True,
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
# What any API operation may answer besides its own outcomes; routers declare these for OpenAPI.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorOut, "description": "payload_too_large: the body is over 64 KiB"},
    422: {"model": ErrorOut, "description": "validation_error: malformed or invalid input"},
    503: {"model": ErrorOut, "description": "unavailable: the database cannot be reached", "headers": _RETRY_AFTER},
}
UNAUTHENTICATED: dict[str, Any] = {
    "model": ErrorOut,
    "description": "not_authenticated: missing, malformed, expired or forged token",
    "headers": {"WWW-Authenticate": {"required": True, "schema": {"type": "string", "enum": ["Bearer"]}}},
}
TOO_MANY_REQUESTS: dict[str, Any] = {
    "model": ErrorOut, "description": "too_many_requests: too many failed sign-ins", "headers": _RETRY_AFTER,
}


class HealthOut(BaseModel):
    status: str
