"""``POST /api/v1/bookings`` without FastAPI's per-request machinery, for the on-sale rush.

Measured (bench/README.md), FastAPI's routing, dependency solving, body handling and response
validation cost a booking more CPU than the booking's own database work, and on a 2-core
machine CPU is what limits bookings per second. This layer answers the ordinary request
itself: a JSON body that ``BookingIn`` accepts, booking for the caller, a valid bearer token,
an absent or well-formed ``Idempotency-Key``. It runs the route's use case (``bookings.book``,
which ``book_tickets`` ends in), counts through the route's ``counted`` and maps outcomes with
the same table. It does not read the caller's account: booking for oneself needs no role,
and the booking's own insert refuses a user that does not exist (``UserMissing``), so a booking
is one database statement. Anything else (an invalid body or token, a booking for another
user, a missing content type, a chunked or large body, an account that is gone) is handed to
the FastAPI app unchanged, with the body replayed, so every such answer is the route's own.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketing.api.auth import NotAuthenticated
from ticketing.api.deps import IDEMPOTENCY_KEY_CHARS, IDEMPOTENCY_KEY_MAX
from ticketing.api.errors import domain_error_response, unexpected_error_response
from ticketing.api.routers.bookings import counted
from ticketing.api.schemas import BookingIn, BookingOut
from ticketing.api.services import Services
from ticketing.app import bookings
from ticketing.app.ports import UserMissing
from ticketing.domain.errors import DomainError
from ticketing.domain.models import BookingRequest

# A booking body is a few dozen bytes; larger ones (padding, junk) take the ordinary route.
_MAX_FAST_BODY = 1024
_IDEMPOTENCY_KEY = re.compile(f"[{IDEMPOTENCY_KEY_CHARS}]{{1,{IDEMPOTENCY_KEY_MAX}}}".encode())
_JSON = re.compile(rb"application/json\s*(;.*)?", re.IGNORECASE)


class BookingFastPath:
    def __init__(self, app: ASGIApp, services: Services, route: APIRoute, path: str) -> None:
        self.app = app
        self.services = services
        self.route = route  # what FastAPI puts in the scope: it labels the latency metric
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        token, key, fits = _read_headers(scope["headers"])
        if token is None or not fits:
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        if body is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        try:
            booking_in = BookingIn.model_validate_json(body)
        except ValidationError:
            await self.app(scope, _replay(messages, receive), send)
            return
        try:
            caller_id = self.services.tokens.user_id(token)
        except NotAuthenticated:
            caller_id = None
        if caller_id is None or booking_in.user_id not in (None, caller_id):
            # An invalid token, or a box-office booking for someone else: the route decides.
            await self.app(scope, _replay(messages, receive), send)
            return
        scope["route"] = self.route
        request = BookingRequest(caller_id, caller_id, booking_in.event_id, booking_in.quantity, key)
        try:
            booking = await counted(bookings.book(self.services.store, request, now=datetime.now(UTC)))
            response: Response = Response(
                BookingOut.of(booking).model_dump_json(), 201, media_type="application/json")
        except UserMissing:
            # A signed token of an account that is gone; nothing was written. The route answers 401.
            await self.app(scope, _replay(messages, receive), send)
            return
        except DomainError as error:
            response = domain_error_response(error)
        except Exception as error:  # noqa: BLE001 - mapped exactly as the app's own handler does
            response = unexpected_error_response(error)
        await response(scope, receive, send)


def _read_headers(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, str | None, bool]:
    """(bearer token, idempotency key, whether the request has the ordinary shape)."""
    token = key = None
    json_body = sized = False
    for name, value in headers:
        if name == b"authorization":
            if token is not None:
                return None, None, False
            scheme, _, credentials = value.partition(b" ")
            if scheme.lower() != b"bearer" or not credentials or b" " in credentials:
                return None, None, False
            token = credentials.decode("latin-1")
        elif name == b"idempotency-key":
            if key is not None or not _IDEMPOTENCY_KEY.fullmatch(value):
                return None, None, False
            key = value.decode("ascii")
        elif name == b"content-type":
            json_body = bool(_JSON.fullmatch(value))
        elif name == b"content-length":
            sized = value.isdigit() and int(value) <= _MAX_FAST_BODY
        elif name == b"transfer-encoding":
            return None, None, False
    return token, key, json_body and sized


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The messages received, and the whole body if it ended within the fast path's size."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None  # a disconnect: the app sees it
        size += len(message.get("body", b""))
        if size > _MAX_FAST_BODY:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive that first hands back, in order, what the fast path already received."""
    pending = iter(messages)

    async def replayed() -> Message:
        return next(pending, None) or await receive()

    return replayed
