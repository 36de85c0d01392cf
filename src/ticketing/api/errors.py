"""One table from outcome to HTTP status and code, and the handlers that use it."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ticketing.db.errors import is_capacity_refusal, is_unavailable
from ticketing.domain import errors as e

log = logging.getLogger(__name__)

ERROR_TABLE: dict[type[e.DomainError], tuple[int, str]] = {
    e.QuantityAboveLimit: (400, "quantity_above_limit"),
    e.SalesClosed: (400, "sales_closed"),
    e.InvalidCredentials: (401, "invalid_credentials"),
    e.Forbidden: (403, "forbidden"),
    e.EventNotFound: (404, "event_not_found"),
    e.UserNotFound: (404, "user_not_found"),
    e.BookingNotFound: (404, "booking_not_found"),
    e.TicketNotFound: (404, "ticket_not_found"),
    e.TicketsSoldOut: (409, "sold_out"),
    e.EmailTaken: (409, "email_taken"),
    e.CapacityBelowSold: (409, "capacity_below_sold"),
    e.AlreadyCheckedIn: (409, "already_checked_in"),
    e.TicketVoid: (409, "ticket_void"),
    e.RequestInProgress: (409, "request_in_progress"),
    e.IdempotencyKeyMismatch: (422, "idempotency_key_mismatch"),
    e.TooManySignInAttempts: (429, "too_many_requests"),
    e.ServiceUnavailable: (503, "unavailable"),
}

# Codes for errors raised by the framework itself (routing, methods, auth).
_HTTP_CODES = {
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "unavailable",
}

RETRY_AFTER_SECONDS = 2


def error_response(status: int, code: str, detail: object, headers: dict[str, str] | None = None, **extra: object) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code, **extra}, status_code=status, headers=headers)


def domain_error_response(error: e.DomainError) -> JSONResponse:
    status, code = next(ERROR_TABLE[cls] for cls in type(error).__mro__ if cls in ERROR_TABLE)
    extra: dict[str, object] = {}
    headers: dict[str, str] = {}
    if isinstance(error, e.TicketsSoldOut):
        extra["available"] = error.available
    if isinstance(error, e.TooManySignInAttempts):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, e.ServiceUnavailable):
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return error_response(status, code, error.detail, headers or None, **extra)


def unavailable_response() -> JSONResponse:
    return domain_error_response(e.ServiceUnavailable())


def unexpected_error_response(error: Exception) -> JSONResponse:
    # Belt and braces: a database refusal that escaped the repositories still maps cleanly.
    if is_capacity_refusal(error):
        return domain_error_response(e.TicketsSoldOut(0))
    if is_unavailable(error):
        return unavailable_response()
    log.exception("unexpected error")
    return error_response(500, "internal_error", "Internal server error.")


def _clean_validation_errors(errors: list[dict[str, object]]) -> list[dict[str, object]]:
    # Echoing "input" back would reflect huge or binary payloads; "ctx" may hold exceptions.
    return [{k: v for k, v in err.items() if k in ("type", "loc", "msg")} for err in errors]


def install(app: FastAPI) -> None:
    @app.exception_handler(e.DomainError)
    async def _domain(_: Request, error: e.DomainError) -> JSONResponse:
        return domain_error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(422, "validation_error", _clean_validation_errors(list(error.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:
            # Only the framework raises a bare 400, when it cannot even parse a body (JSON that is
            # not UTF-8, a broken form): malformed input, which the contract answers with 422.
            detail = [{"type": "body_unparsable", "loc": ["body"], "msg": str(error.detail)}]
            return error_response(422, "validation_error", detail)
        code = getattr(error, "code", None) or _HTTP_CODES.get(error.status_code, "error")
        return error_response(error.status_code, code, error.detail, dict(error.headers or {}) or None)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        return unexpected_error_response(error)
