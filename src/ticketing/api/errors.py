"""The one table from outcome to HTTP answer: status, code, headers, and what OpenAPI says.

Every error answer is made here: domain errors raised by the use cases, the framework's own
(unknown route, wrong method, invalid input), the body-size limit, and anything unexpected.
Routes declare the errors they may answer by naming domain errors (``documented``), so their
OpenAPI ``responses`` come from this table too and cannot drift from what is answered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Union

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ticketing.api.schemas import ErrorOut, LimitOut, SoldOutOut
from ticketing.db.errors import as_domain_error
from ticketing.domain import errors as e
from ticketing.mail import errors as mail_errors

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    status: int
    code: str
    description: str


# Looked up along each error's class hierarchy: UserMissing answers as NotAuthenticated (a
# signed token whose account is gone is not a valid caller), every NotFound by its own row.
ERRORS: dict[type[e.DomainError], Answer] = {
    e.QuantityAboveLimit: Answer(400, "quantity_above_limit", "more tickets than the event allows in one booking"),
    e.InvalidSignature: Answer(400, "invalid_signature", "missing, wrong or stale Ticketing-Signature; nothing changed"),
    e.SalesClosed: Answer(400, "sales_closed", "the event has started"),
    e.NotAuthenticated: Answer(401, "not_authenticated", "missing, malformed, expired or forged token"),
    e.InvalidCredentials: Answer(401, "invalid_credentials", "wrong email or password"),
    e.Forbidden: Answer(403, "forbidden", "the caller's role does not allow this"),
    e.EventNotFound: Answer(404, "event_not_found", "no such event"),
    e.UserNotFound: Answer(404, "user_not_found", "no such user"),
    e.BookingNotFound: Answer(404, "booking_not_found", "no such booking, or not the caller's"),
    mail_errors.MessageNotFound: Answer(404, "message_not_found", "no such message"),
    e.TicketNotFound: Answer(404, "ticket_not_found", "no such ticket, or not the caller's"),
    e.TicketTypeNotFound: Answer(404, "ticket_type_not_found", "no such ticket type of this event"),
    e.NotFound: Answer(404, "not_found", "no such resource (or a feature this server does not offer)"),
    e.TicketsSoldOut: Answer(409, "sold_out", "not enough tickets left; `available` (event) and `items` (types) say how many"),
    e.CustomerLimitReached: Answer(409, "customer_limit_reached", "over the per-customer limit; `remaining` says how many more"),
    e.TicketTypeLimit: Answer(409, "ticket_type_limit", "the event has 20 ticket types already"),
    e.TicketTypeInUse: Answer(409, "ticket_type_in_use", "the type is named by bookings, or is the event's last"),
    e.CheckoutLocked: Answer(409, "checkout_locked", "checkout cannot change once the event has bookings"),
    e.LimitBelowBooked: Answer(409, "limit_below_booked", "a buyer has booked more than this per-customer limit"),
    e.AmountMismatch: Answer(409, "amount_mismatch", "the payment's amount or currency is not the booking's; nothing changed"),
    e.PaymentConflict: Answer(409, "payment_conflict", "the booking's payment state does not allow this"),
    e.EmailTaken: Answer(409, "email_taken", "an account with this email exists"),
    mail_errors.BookingNotConfirmed: Answer(409, "booking_not_confirmed", "only a CONFIRMED booking's tickets can be sent"),
    e.CapacityBelowSold: Answer(409, "capacity_below_sold", "capacity below the tickets already sold or held"),
    e.AlreadyCheckedIn: Answer(409, "already_checked_in", "the ticket was checked in before"),
    e.TicketVoid: Answer(409, "ticket_void", "the ticket's booking was cancelled"),
    e.RequestInProgress: Answer(409, "request_in_progress", "a request with this Idempotency-Key is running; retry"),
    e.PayloadTooLarge: Answer(413, "payload_too_large", "the body is over 64 KiB"),
    e.InvalidInput: Answer(422, "validation_error", "malformed or invalid input"),
    e.IdempotencyKeyMismatch: Answer(422, "idempotency_key_mismatch", "this Idempotency-Key came with another body"),
    e.TicketTypeRequired: Answer(422, "ticket_type_required", "the event has several ticket types: name them"),
    e.TooManyRequests: Answer(429, "too_many_requests", "too many sign-in or sign-up attempts; see Retry-After"),
    mail_errors.TooManyResends: Answer(429, "too_many_requests", "tickets sent again 3 times this hour; see Retry-After"),
    e.ServiceUnavailable: Answer(503, "unavailable", "the database cannot be reached or is overloaded; see Retry-After"),
}

# Codes for the errors the framework raises itself (routing, methods, content negotiation), and
# for a body found too large while the app reads it (see api/middleware.py).
_FRAMEWORK_CODES = {404: "not_found", 405: "method_not_allowed", 406: "not_acceptable",
                    413: ERRORS[e.PayloadTooLarge].code, 415: "unsupported_media_type"}

_BEARER = {"WWW-Authenticate": "Bearer"}
_RETRY_AFTER_DOC = {"description": "Seconds to wait before retrying.", "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]+$"}}
_BEARER_DOC = {"required": True, "schema": {"type": "string", "enum": ["Bearer"]}}


def answer_for(error: e.DomainError) -> Answer:
    return next(ERRORS[cls] for cls in type(error).__mro__ if cls in ERRORS)


# What any API operation may answer besides its own outcomes.
_COMMON = (e.PayloadTooLarge, e.InvalidInput, e.ServiceUnavailable)


def documented(*errors: type[e.DomainError], common: bool = True) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route that may answer these errors (and, unless ``common`` is
    off, the errors any API operation may answer), grouped by status: one status, one entry."""
    by_status: dict[int, list[type[e.DomainError]]] = {}
    for error in dict.fromkeys((*errors, *(_COMMON if common else ()))):
        by_status.setdefault(ERRORS[error].status, []).append(error)
    responses: dict[int | str, dict[str, Any]] = {}
    for status, group in sorted(by_status.items()):
        doc: dict[str, Any] = {
            "model": _model(group),
            "description": "; ".join(f"{ERRORS[g].code}: {ERRORS[g].description}" for g in group),
        }
        headers: dict[str, Any] = {}
        if status == 401:
            headers["WWW-Authenticate"] = _BEARER_DOC
        if status in (429, 503):
            headers["Retry-After"] = _RETRY_AFTER_DOC
        if headers:
            doc["headers"] = headers
        responses[status] = doc
    return responses


def _model(group: list[type[e.DomainError]]) -> Any:
    extended = [model for error, model in ((e.TicketsSoldOut, SoldOutOut), (e.CustomerLimitReached, LimitOut))
                if error in group]
    return Union[(*extended, ErrorOut)] if extended else ErrorOut


# For a router's operations that declare no errors of their own.
COMMON_ERRORS = documented()


def _json(status: int, code: str, detail: object, headers: dict[str, str] | None = None, **extra: object) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code, **extra}, status_code=status, headers=headers)


class ErrorAnswers:
    """Makes the error answers; built once per app from the settings (``Retry-After``)."""

    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds

    def answer(self, error: e.DomainError) -> JSONResponse:
        found = answer_for(error)
        extra: dict[str, object] = {}
        headers: dict[str, str] = {}
        if found.status == 401:
            # HTTP requires a challenge on every 401 (RFC 9110, 15.5.2), a wrong password's too.
            headers.update(_BEARER)
        if isinstance(error, e.TicketsSoldOut):
            extra["available"] = error.available
            extra["items"] = [{"ticket_type_id": t, "available": left} for t, left in error.items]
        if isinstance(error, e.CustomerLimitReached):
            extra["remaining"] = error.remaining
        if isinstance(error, e.TooManyRequests):
            headers["Retry-After"] = str(error.retry_after)
        if isinstance(error, e.ServiceUnavailable):
            headers["Retry-After"] = str(self.retry_after_seconds)
        return _json(found.status, found.code, error.detail, headers or None, **extra)

    def unexpected(self, error: Exception) -> JSONResponse:
        """An exception no layer turned into a domain error: a database outcome the database
        layer recognises still gets its contract answer; anything else is a logged 500."""
        known = as_domain_error(error)
        if known is not None:
            return self.answer(known)
        log.exception("unexpected error", exc_info=error)
        return _json(500, "internal_error", "Internal server error.")

    def framework(self, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:
            # Only the framework raises a bare 400, when it cannot even parse a body (JSON that is
            # not UTF-8, a broken form): malformed input, which the contract answers with 422.
            return self.answer(e.InvalidInput([{"type": "body_unparsable", "loc": ["body"], "msg": str(error.detail)}]))
        code = _FRAMEWORK_CODES.get(error.status_code, "error")
        return _json(error.status_code, code, error.detail, dict(error.headers or {}) or None)


def invalid_input(errors: Any) -> e.InvalidInput:
    # Echoing "input" back would reflect huge or binary payloads; "ctx" may hold exceptions.
    return e.InvalidInput([{k: v for k, v in err.items() if k in ("type", "loc", "msg")} for err in errors])


def install(app: FastAPI, answers: ErrorAnswers) -> None:
    @app.exception_handler(e.DomainError)
    async def _domain(_: Request, error: e.DomainError) -> JSONResponse:
        return answers.answer(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        return answers.answer(invalid_input(error.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return answers.framework(error)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        return answers.unexpected(error)
