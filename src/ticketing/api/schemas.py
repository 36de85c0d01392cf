"""Request and response bodies of the HTTP contract."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

import email_validator
from annotated_types import Ge, Le
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from ticketing import timezones
from ticketing.domain.models import (
    MAX_ITEMS,
    MAX_TICKET_TYPES,
    MAX_TICKETS_PER_BOOKING,
    Booking,
    BookingStatus,
    Event,
    Ticket,
    TicketType,
    User,
)
from ticketing.domain.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, acceptable_password
from ticketing.timezones import MAX_TIMEZONE_LENGTH

# The largest id a database column holds (64-bit: bigint on PostgreSQL, SQLite's integer). Ids
# are positive integers (the contract): one up to this names a row or nothing (the resource's
# 404), and a lookup cannot overflow; only past it is an id malformed (422). FastAPI's OpenAPI
# model writes a body's bounds as doubles, which show this one as 2^63: that one number is shown
# as allowed and refused. Nothing is capped for output: the service's own ids come from the
# databases' counters and stay far below 2^53, the largest every JSON reader holds exactly.
MAX_ID = 2**63 - 1


# PostgreSQL text cannot hold NUL. The OpenAPI schema says so with this pattern, so that clients
# generated from it (and schemathesis) know a NUL is refused.
_NO_NUL = r"^[^\x00]*$"


def _storable(value: str) -> str:
    # No database can store an unpaired surrogate either (JSON can spell one: "\ud800"), but no
    # generator makes one and a pattern cannot say it, so it is refused without being documented.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


# A price sent as text: plain digits, at most two places (what the web app's form allows), 0 to
# 1000000. The pattern is enforced, not only documented, so the OpenAPI schema says exactly what
# is accepted, the upper bound included (a string has no "maximum").
_MONEY_TEXT = r"^([0-9]{1,6}(\.[0-9]{1,2})?|1000000(\.00?)?)$"


def normalised_email(value: str) -> str:
    """``value`` as an account's email, normalised as sign-up takes it; ValueError when it is not
    one. What pydantic's EmailStr does, except that special-use test domains (user@shop.test) are
    addresses too: JSON Schema's "email" format admits them, and an email here is a login name,
    never a mailbox the service writes to."""
    try:
        return email_validator.validate_email(
            value, check_deliverability=False, test_environment=True, allow_display_name=True
        ).normalized
    except email_validator.EmailNotValidError as error:
        raise ValueError(str(error)) from None


def _email(value: str) -> str:
    try:
        return normalised_email(value)
    except ValueError as error:
        raise PydanticCustomError(
            "value_error", "value is not a valid email address: {reason}", {"reason": str(error)}
        ) from None


def _money_text(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(_MONEY_TEXT, value):
        raise ValueError('must be a decimal string with at most 2 places, like "1500.00"')
    return value


# A provider's amount sent as text: Money's rule (plain digits, optionally a point and decimals)
# with an optional minus sign, up to 18 digits before the point and 8 after it. The digits are
# bounded so that no amount is too large to handle; 26 of them fit decimal's default precision
# (28 digits), so comparing one with a booking's total is exact.
_AMOUNT_TEXT = r"^-?[0-9]{1,18}(\.[0-9]{1,8})?$"
# A provider's amount sent as a JSON number: any finite one from -10^18 to 10^18. pydantic reads a
# JSON number as a double; both bounds are doubles, so rounding never takes a number across them.
_MAX_PROVIDER_AMOUNT = 10**18


def _amount_text(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(_AMOUNT_TEXT, value):
        raise ValueError('must be a decimal string with at most 18 digits before the point and 8 after it, like "1500.00"')
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


def _integral(value: object) -> object:
    # JSON has one kind of number, and JSON Schema's "integer" is any number without a fraction,
    # so 2.0 is the integer 2 (clients whose numbers are all doubles send it so). "2", 2.5 and
    # true are not integers: the strict int below refuses them.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Text = Annotated[str, AfterValidator(_storable), Field(json_schema_extra={"pattern": _NO_NUL})]
# Integers in a JSON body, exactly what the schema's "integer" admits. (The bounds come before
# the validator: after it, pydantic would no longer document them as minimum and maximum.)
Id = Annotated[int, Field(ge=1, le=MAX_ID, strict=True), BeforeValidator(_integral)]
Quantity = Annotated[int, Field(ge=1, strict=True), BeforeValidator(_integral)]
Capacity = Annotated[int, Field(ge=0, le=1_000_000, strict=True), BeforeValidator(_integral)]
PerBooking = Annotated[int, Field(ge=1, le=MAX_TICKETS_PER_BOOKING, strict=True), BeforeValidator(_integral)]
# An id in a URL (path or query): digits only, in range. Routers wrap it in Path() or Query().
DigitsId = Annotated[int, Ge(1), Le(MAX_ID), BeforeValidator(_plain_digits)]
Money = Annotated[
    Decimal,
    BeforeValidator(_money_text),
    Field(ge=0, le=1_000_000, max_digits=9, decimal_places=2, allow_inf_nan=False),
    WithJsonSchema({"anyOf": [
        # JSON Schema's multipleOf is exact (0.57 is a multiple of 0.01); so is the service's check.
        {"type": "number", "minimum": 0, "maximum": 1_000_000, "multipleOf": 0.01},
        {"type": "string", "pattern": _MONEY_TEXT},
    ]}),
]
# What a payment provider says it was paid, checked for being a number and nothing more: an amount
# other than the booking's is 409 amount_mismatch (payments.md), not a malformed request.
ProviderAmount = Annotated[
    Decimal,
    BeforeValidator(_amount_text),
    Field(ge=-_MAX_PROVIDER_AMOUNT, le=_MAX_PROVIDER_AMOUNT, allow_inf_nan=False),
    WithJsonSchema({"anyOf": [
        {"type": "number", "minimum": -_MAX_PROVIDER_AMOUNT, "maximum": _MAX_PROVIDER_AMOUNT},
        {"type": "string", "pattern": _AMOUNT_TEXT},
    ]}),
]
# A provider's currency code in any case (Stripe sends "thb"): upper-cased, as bookings keep theirs.
ProviderCurrency = Annotated[Text, StringConstraints(min_length=1, max_length=16), AfterValidator(str.upper)]
MoneyOut = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json")]
Instant = Annotated[datetime, BeforeValidator(_date_time_text), AfterValidator(_utc)]
Email = Annotated[
    str, StringConstraints(max_length=320), AfterValidator(_storable), AfterValidator(_email),
    Field(json_schema_extra={"format": "email", "pattern": _NO_NUL}),
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def _known_timezone(value: str) -> str:
    if not timezones.is_known(value):
        raise ValueError('must be an IANA time zone name, like "Asia/Bangkok"')
    return value


# Which names exist is the time zone database's to say, not a pattern's: an unknown one is 422.
Timezone = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_TIMEZONE_LENGTH), AfterValidator(_known_timezone),
    Field(examples=["Asia/Bangkok"]),
]
Name = Annotated[Text, StringConstraints(min_length=1, max_length=200)]
# A password being set (sign-up, password change): the length, then domain/passwords.py's rule.
NewPassword = Annotated[
    Text, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH), AfterValidator(acceptable_password)
]

T = TypeVar("T")


class _NullUnshown:
    """Leaves ``null`` out of a nullable field's JSON schema, and only that: the schema shows the
    field as it must be sent (it may be omitted, not sent as null), exactly as ``SkipJsonSchema``
    did, and the web app's generated types stay the same."""

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # The whole nullable's schema, then its null choice dropped: generating only the inner
        # schema would lose what the inner type's own annotations add (patterns, bounds).
        shown = dict(handler(schema))
        choices = [choice for choice in shown.pop("anyOf") if choice != {"type": "null"}]
        return {**shown, **choices[0]} if len(choices) == 1 else {**shown, "anyOf": choices}


# A field that may be left out but not sent as null (the model's validator refuses a null).
# Validation is a plain "X | None", which pydantic checks as X or null, so one bad value is one
# error at the field's own location; "X | SkipJsonSchema[None]" was a union of two choices,
# answered with an error for each, located by pydantic's internal names of the validators.
Omittable = Annotated[T | None, _NullUnshown()]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- accounts ---------------------------------------------------------------------------------
class RegisterIn(Strict):
    email: Email
    password: NewPassword
    name: Name
    # The language of the account's emails (tickets, payment reminders).
    language: Literal["en", "th"] = "en"


class PasswordChangeIn(Strict):
    # Any password that could have been set is 1..128 characters; a longer one cannot be right.
    current_password: Annotated[Text, StringConstraints(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
    new_password: NewPassword


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
TypeName = Annotated[Text, StringConstraints(min_length=1, max_length=100)]
HoldMinutes = Annotated[int, Field(ge=1, le=120, strict=True), BeforeValidator(_integral)]
CustomerLimit = Annotated[int, Field(ge=1, le=100, strict=True), BeforeValidator(_integral)]
CheckoutMode = Literal["instant", "payment"]


class TicketTypeIn(Strict):
    name: TypeName
    price: Money
    capacity: Capacity | None = None


class TicketTypePatch(Strict):
    name: Omittable[TypeName] = None
    price: Omittable[Money] = None
    capacity: Capacity | None = None  # null: only the event's capacity bounds the type

    @model_validator(mode="after")
    def _no_null_for_required(self) -> TicketTypePatch:
        for name in self.model_fields_set - {"capacity"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


class EventIn(Strict):
    name: Name
    # null means empty, as in EventPatch (the router stores "").
    description: Annotated[Text, StringConstraints(max_length=5000)] | None = ""
    venue: Annotated[Text, StringConstraints(max_length=200)] | None = ""
    starts_at: Instant
    capacity: Capacity
    # Required without ticket_types; with them, optional and then the lowest type price.
    price: Omittable[Money] = None
    currency: Currency | None = None
    max_per_booking: PerBooking = 10
    timezone: Timezone | None = None
    checkout: CheckoutMode = "instant"
    hold_minutes: HoldMinutes = 15
    per_customer_limit: CustomerLimit | None = None
    ticket_types: Omittable[Annotated[list[TicketTypeIn], Field(min_length=1, max_length=MAX_TICKET_TYPES)]] = None

    @model_validator(mode="after")
    def _price_of_types(self) -> EventIn:
        if self.ticket_types is None:
            if self.price is None:
                raise ValueError("price is required when ticket_types is not given")
        elif self.price is not None and self.price != min(t.price for t in self.ticket_types):
            raise ValueError("price must equal the lowest ticket type price (or be left out)")
        return self


_NULLABLE_IN_PATCH = {"description", "venue", "per_customer_limit"}


class EventPatch(Strict):
    # Only description and venue (meaning "") and per_customer_limit (no limit) may be null; the
    # schema hides the others' None.
    name: Omittable[Name] = None
    description: Annotated[Text, StringConstraints(max_length=5000)] | None = None
    venue: Annotated[Text, StringConstraints(max_length=200)] | None = None
    starts_at: Omittable[Instant] = None
    capacity: Omittable[Capacity] = None
    price: Omittable[Money] = None
    currency: Omittable[Currency] = None
    max_per_booking: Omittable[PerBooking] = None
    timezone: Omittable[Timezone] = None
    checkout: Omittable[CheckoutMode] = None
    hold_minutes: Omittable[HoldMinutes] = None
    per_customer_limit: CustomerLimit | None = None  # null clears the limit

    @model_validator(mode="after")
    def _no_null_for_required(self) -> EventPatch:
        for name in self.model_fields_set - _NULLABLE_IN_PATCH:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return {
            name: ("" if value is None and name != "per_customer_limit" else value)
            for name, value in self.model_dump(include=self.model_fields_set).items()
        }


class TicketTypeOut(BaseModel):
    id: int
    event_id: int
    name: str
    price: MoneyOut
    capacity: int | None
    tickets_sold: int
    tickets_held: int
    available: int

    @classmethod
    def of(cls, ticket_type: TicketType, event_available: int) -> TicketTypeOut:
        return cls(
            id=ticket_type.id, event_id=ticket_type.event_id, name=ticket_type.name, price=ticket_type.price,
            capacity=ticket_type.capacity, tickets_sold=ticket_type.tickets_sold,
            tickets_held=ticket_type.tickets_held, available=ticket_type.available(event_available),
        )


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
    tickets_held: int
    available: int
    timezone: str
    checkout: CheckoutMode
    hold_minutes: int
    per_customer_limit: int | None
    ticket_types: list[TicketTypeOut]
    # What the signed-in caller may still book under the per-customer limit (null: no limit,
    # or no caller).
    my_remaining: int | None = None

    @classmethod
    def of(cls, event: Event, my_remaining: int | None = None) -> EventOut:
        return cls(
            id=event.id, name=event.name, description=event.description, venue=event.venue,
            starts_at=event.starts_at, capacity=event.capacity, price=event.price, currency=event.currency,
            max_per_booking=event.max_per_booking, tickets_sold=event.tickets_sold,
            tickets_held=event.tickets_held, available=max(event.available, 0),
            timezone=event.timezone, checkout=event.checkout.value, hold_minutes=event.hold_minutes,
            per_customer_limit=event.per_customer_limit,
            ticket_types=[TicketTypeOut.of(t, event.available) for t in event.ticket_types],
            my_remaining=my_remaining,
        )


# -- bookings and tickets ---------------------------------------------------------------------
class ItemIn(Strict):
    ticket_type_id: Id
    quantity: Quantity


class BookingIn(Strict):
    """v1's ``{"event_id", "quantity"}`` (an event with one type) or ``{"event_id", "items"}``."""

    event_id: Id
    # No upper bound here: above the event's own limit is a 400 quantity_above_limit.
    # Plain "| None" (not hidden from the schema): its errors keep v1's location, ["body", "quantity"].
    quantity: Quantity | None = None
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=MAX_ITEMS)] | None = None
    user_id: Id | None = None

    @model_validator(mode="after")
    def _quantity_or_items(self) -> BookingIn:
        if (self.quantity is None) == (self.items is None):
            raise ValueError("give either quantity or items")
        if self.items is not None:
            types = [item.ticket_type_id for item in self.items]
            if len(set(types)) != len(types):
                raise ValueError("items must name distinct ticket types")
        return self

    def pairs(self) -> tuple[tuple[int, int], ...]:
        """The items as sorted (type id, quantity) pairs; empty for the v1 form."""
        return tuple(sorted((item.ticket_type_id, item.quantity) for item in self.items or ()))

    def total(self) -> int:
        return self.quantity if self.quantity is not None else sum(item.quantity for item in self.items or ())


class TicketOut(BaseModel):
    id: int
    code: str
    booking_id: int
    event_id: int
    status: Literal["VALID", "USED", "VOID"]
    checked_in_at: datetime | None
    ticket_type_id: int | None

    @classmethod
    def of(cls, ticket: Ticket) -> TicketOut:
        return cls(
            id=ticket.id, code=ticket.code, booking_id=ticket.booking_id, event_id=ticket.event_id,
            status=ticket.status.value, checked_in_at=ticket.checked_in_at, ticket_type_id=ticket.ticket_type_id,
        )


class ItemOut(BaseModel):
    ticket_type_id: int
    name: str
    quantity: int
    unit_price: MoneyOut


class PaymentOut(BaseModel):
    status: Literal["none", "due", "paid", "refund_due", "refunded"]
    amount: MoneyOut
    currency: str
    # Names this payment to the provider (and on a bank transfer); null when nothing is paid.
    reference: str | None


class BuyerOut(BaseModel):
    id: int
    name: str
    email: str


class BookingOut(BaseModel):
    id: int
    user_id: int
    event_id: int
    quantity: int
    total_amount: MoneyOut
    currency: str
    status: Literal["PENDING", "CONFIRMED", "EXPIRED", "CANCELLED"]
    booking_date: datetime
    # The hold's deadline while PENDING; null in every other state.
    expires_at: datetime | None
    items: list[ItemOut]
    payment: PaymentOut
    buyer: BuyerOut | None
    tickets: list[TicketOut]

    @classmethod
    def of(cls, booking: Booking) -> BookingOut:
        pending = booking.status is BookingStatus.PENDING
        buyer = booking.buyer
        return cls(
            id=booking.id, user_id=booking.user_id, event_id=booking.event_id, quantity=booking.quantity,
            total_amount=booking.total_amount, currency=booking.currency, status=booking.status.value,
            booking_date=booking.booking_date, expires_at=booking.expires_at if pending else None,
            items=[ItemOut(ticket_type_id=i.ticket_type_id, name=i.name, quantity=i.quantity, unit_price=i.unit_price)
                   for i in booking.items],
            payment=PaymentOut(status=booking.payment_status.value, amount=booking.total_amount,
                               currency=booking.currency, reference=booking.payment_reference),
            buyer=None if buyer is None else BuyerOut(id=buyer.id, name=buyer.name, email=buyer.email),
            tickets=[TicketOut.of(t) for t in booking.tickets],
        )


# -- payments ---------------------------------------------------------------------------------
class WebhookIn(BaseModel):
    # Providers add fields of their own: unknown ones are ignored, not refused.
    id: Annotated[Text, StringConstraints(min_length=1, max_length=255)]
    type: Annotated[Text, StringConstraints(min_length=1, max_length=100)]
    reference: Annotated[Text, StringConstraints(min_length=1, max_length=64)]
    amount: Annotated[ProviderAmount, Field(description="An amount other than the booking's is answered 409 amount_mismatch.")]
    currency: Annotated[ProviderCurrency, Field(
        description="Compared with the booking's currency ignoring case (\"thb\" pays THB); any other is answered "
                    "409 amount_mismatch."
    )]


class WebhookOut(BaseModel):
    booking_id: int
    status: Literal["PENDING", "CONFIRMED", "EXPIRED", "CANCELLED"]


class DevPaymentIn(Strict):
    reference: Annotated[Text, StringConstraints(min_length=1, max_length=64)]
    outcome: Literal["succeeded", "failed"] = "succeeded"


class PublicConfigOut(BaseModel):
    dev_payments: bool


class ListOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# -- errors -----------------------------------------------------------------------------------
class ErrorOut(BaseModel):
    detail: str | list[Any]
    code: str


class ItemLeftOut(BaseModel):
    ticket_type_id: int
    available: int


class SoldOutOut(ErrorOut):
    available: int
    items: list[ItemLeftOut]


class LimitOut(ErrorOut):
    remaining: int


class HealthOut(BaseModel):
    status: str
