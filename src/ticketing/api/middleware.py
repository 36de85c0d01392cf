"""The outermost layer: request ids, the body size limit, latency metrics and the access log.

It wraps even Starlette's error middleware, so a 500 carries X-Request-ID like any answer.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketing.api import metrics

MAX_BODY_BYTES = 64 * 1024
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
_VALID_REQUEST_ID = re.compile(rb"[\x21-\x7e]{1,128}")
log = logging.getLogger("ticketing.access")


class PayloadTooLarge(HTTPException):
    code = "payload_too_large"

    def __init__(self) -> None:
        super().__init__(413, f"Request body is larger than {MAX_BODY_BYTES // 1024} KiB.")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            length = _header(scope, b"content-length")
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
                await self._too_large(send_with_id)
            else:
                await self.app(scope, _limited(receive), send_with_id)
        except Exception:
            # Starlette re-raises after it has answered 500; the handler has logged it already.
            if not response_started:
                log.exception("unhandled error before any response")
                raise
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            metrics.REQUEST_SECONDS.labels(scope["method"], path, str(status)).observe(elapsed)
            log.info("%s %s %d %.1fms", scope["method"], scope["path"], status, elapsed * 1000)
            REQUEST_ID.reset(token)

    @staticmethod
    async def _too_large(send: Send) -> None:
        error = PayloadTooLarge()
        body = json.dumps({"detail": error.detail, "code": error.code}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _limited(receive: Receive) -> Receive:
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise PayloadTooLarge()
        return message

    return limited
