"""The outermost layer: request ids, the body size limit, security headers, latency metrics
and the access log.

It wraps even Starlette's error middleware, so a 500 carries X-Request-ID like any answer.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketing.api import metrics
from ticketing.api.errors import ErrorAnswers
from ticketing.api.logs import printable
from ticketing.domain.errors import PayloadTooLarge

MAX_BODY_BYTES = 64 * 1024
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
_VALID_REQUEST_ID = re.compile(rb"[\x21-\x7e]{1,128}")
log = logging.getLogger("ticketing.access")

# On every answer: no MIME sniffing (a JSON body is never run as a script or page), no framing
# by other sites, no URL leaked to other sites in Referer. The web app's pages add a CSP (web.py).
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
# API answers hold personal data or tokens: no cache (browser, proxy) may keep them. The public
# catalogue (the event list and an event) is the same for everyone and may be cached, when it is
# asked for without a token (with one, an event answers the caller's own my_remaining).
_NO_STORE = (b"cache-control", b"no-store")
_PUBLIC_CATALOGUE = re.compile(r"/api/v1/events(?:/[^/]*)?")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class RequestContext:
    def __init__(self, app: ASGIApp, errors: ErrorAnswers) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = _header(scope, b"x-request-id")
        request_id = sent.decode() if sent and _VALID_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False
        path: str = scope["path"]
        # As the client sent it: a HEAD is served as a GET inside (api/allowed_methods.py).
        method: str = scope["method"]
        private = path.startswith("/api/") and not (
            method in ("GET", "HEAD") and _PUBLIC_CATALOGUE.fullmatch(path)
            and _header(scope, b"authorization") is None)

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode()), *SECURITY_HEADERS]
                if private:
                    headers.append(_NO_STORE)
                message["headers"] = headers
            await send(message)

        try:
            within_limit = await _within_limit(scope, receive)
            if within_limit is None:
                await self.errors.answer(PayloadTooLarge(MAX_BODY_BYTES))(scope, receive, send_with_id)
            else:
                await self.app(scope, within_limit, send_with_id)
        except Exception:
            # Starlette re-raises after it has answered 500; the handler has logged it already.
            if not response_started:
                log.exception("unhandled error before any response")
                raise
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            metrics.REQUEST_SECONDS.labels(method, getattr(route, "path", "unmatched"), str(status)).observe(elapsed)
            if log.isEnabledFor(logging.INFO):
                # Escaped here as well as by the formatter: any handler (a test's, an operator's)
                # gets the access line as one line.
                log.info("%s %s %d %.1fms", printable(method), printable(path), status, elapsed * 1000)
            REQUEST_ID.reset(token)


async def _within_limit(scope: Scope, receive: Receive) -> Receive | None:
    """What the app receives the body from, or None when the body is over the limit.

    A Content-Length over the limit is refused before any of the body is read. Without one
    (``Transfer-Encoding: chunked``; a request without a body is one empty message) the size
    is known only once the body is in, and a route that never reads its body (a cancel, a
    sign-out) would act on it all the same: so such a body is read here first, never holding
    more than the limit, and the app gets it whole.
    """
    length = _header(scope, b"content-length")
    if length is not None:
        return _limited(receive) if length.isdigit() and int(length) <= MAX_BODY_BYTES else None
    parts: list[bytes] = []
    received = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client left: the app hears it as it would have
        body = message.get("body", b"")
        received += len(body)
        if received > MAX_BODY_BYTES:
            return None
        parts.append(body)
        if not message.get("more_body", False):
            message = {"type": "http.request", "body": b"".join(parts), "more_body": False}
            break
    pending = [message]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def _limited(receive: Receive) -> Receive:
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                # A backstop, for a server that does not hold a body to its Content-Length.
                # Raised inside the app's body read: FastAPI lets an HTTPException through there
                # (any other error becomes a 400); the error table answers it as PayloadTooLarge.
                raise HTTPException(413, str(PayloadTooLarge(MAX_BODY_BYTES)))
        return message

    return limited
