"""A faster way in for ``POST /api/v1/bookings``: parsing only, no logic of its own.

Measured (``python -m bench.inprocess``, bench/README.md), FastAPI's per-request machinery
(routing, dependency solving, body handling) costs a booking about as much CPU as the booking
itself, and on a 2-core machine CPU is what limits bookings per second. This door, wrapped
around the app in ``create_app``, parses the ordinary request itself (a valid bearer token, an
absent or well-formed ``Idempotency-Key``, a small JSON body that ``BookingIn`` accepts) and
hands it to ``answer_booking``, the one function the route calls too, so the answer is the same
whichever way a request comes in. Anything else (no, odd or invalid token or headers, a chunked,
large or invalid body) goes to the FastAPI app unchanged, with the body replayed, and the route
parses and answers it; a body past the size limit is answered 413 by whichever reads it.
"""

from __future__ import annotations

import re

from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketing.api.auth import NotAuthenticated
from ticketing.api.deps import IDEMPOTENCY_KEY_CHARS, IDEMPOTENCY_KEY_MAX
from ticketing.api.routers.bookings import answer_booking
from ticketing.api.schemas import BookingIn
from ticketing.api.services import Services

# A booking body is a few dozen bytes; larger ones (padding, junk) take the ordinary route.
_MAX_BODY = 1024
_IDEMPOTENCY_KEY = re.compile(f"[{IDEMPOTENCY_KEY_CHARS}]{{1,{IDEMPOTENCY_KEY_MAX}}}".encode())
_JSON = re.compile(rb"application/json\s*(;.*)?", re.IGNORECASE)


class BookingDoor:
    def __init__(self, app: ASGIApp, services: Services, route: APIRoute, path: str) -> None:
        self.app = app
        self.services = services
        self.route = route  # the route's own object, as the router puts it in the scope
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        token, key, ordinary = _read_headers(scope["headers"])
        if not ordinary:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route  # what the router sets for a matched route (the metrics' label)
        try:
            messages, body = await _read_body(receive)
        except HTTPException as error:
            # The body size limit (api/middleware.py) raises as the body is read: past a
            # Content-Length that said less than was sent. The app answers it (413) when it reads
            # the body; the door has read it, so it answers it the same way.
            await self.services.errors.framework(error)(scope, receive, send)
            return
        try:
            caller = self.services.tokens.caller(token)
            booking_in = BookingIn.model_validate_json(body) if body is not None else None
        except (NotAuthenticated, ValidationError):
            booking_in = None
        if booking_in is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        response = await answer_booking(self.services, caller, booking_in, key)
        await response(scope, receive, send)


def _read_headers(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, str | None, bool]:
    """(bearer token, idempotency key, whether the request has the ordinary shape)."""
    token = key = None
    json_body = sized = False
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.partition(b" ")
            if token is not None or scheme.lower() != b"bearer" or not credentials or b" " in credentials:
                return None, None, False
            token = credentials.decode("latin-1")
        elif name == b"idempotency-key":
            if key is not None or not _IDEMPOTENCY_KEY.fullmatch(value):
                return None, None, False
            key = value.decode("ascii")
        elif name == b"content-type":
            json_body = bool(_JSON.fullmatch(value))
        elif name == b"content-length":
            sized = value.isdigit() and int(value) <= _MAX_BODY
        elif name == b"transfer-encoding":
            return None, None, False
    return token, key, token is not None and json_body and sized


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The messages received, and the whole body if it ended within the door's size."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None  # a disconnect: the app sees it
        size += len(message.get("body", b""))
        if size > _MAX_BODY:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive that first hands back, in order, what the door already received."""
    pending = iter(messages)

    async def replayed() -> Message:
        return next(pending, None) or await receive()

    return replayed
