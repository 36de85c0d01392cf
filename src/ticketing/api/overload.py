"""At most ``TICKETING_MAX_CONCURRENCY`` requests in flight in a process; past it, the contract's 503.

uvicorn's own ``limit_concurrency`` answers with a plain-text ``503 Service Unavailable`` of its
own (no ``{"detail", "code": "unavailable"}``, no ``Retry-After``, no ``X-Request-ID``), and it
counts idle keep-alive connections as well as requests. This layer sits inside the request
context, so its answer carries the request id, security headers, metrics and the access line
like any other, and it counts only the requests the app is working on. It holds under any
server (granian has no such limit of its own). ``ticketing serve`` keeps uvicorn's limit as a
backstop far above it (``server_backstop``), bounding open connections.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ticketing.api.errors import ErrorAnswers
from ticketing.domain.errors import ServiceUnavailable

# uvicorn's limit counts connections too: each request in flight holds one, and more sit idle
# between a client's requests (the benchmark keeps 256 per worker open); four times the
# requests leaves them room while still bounding a flood of connections.
_BACKSTOP_FACTOR = 4
# "200 while the process runs" (the contract): a full process is alive, and a liveness probe
# that saw 503 could have it restarted just when it is busiest. It touches no database.
_LIVENESS = "/healthz"


def server_backstop(max_concurrency: int) -> int:
    """uvicorn's ``limit_concurrency``: only a flood of connections reaches it."""
    return max_concurrency * _BACKSTOP_FACTOR


class InFlightLimit:
    def __init__(self, app: ASGIApp, limit: int, errors: ErrorAnswers) -> None:
        self.app = app
        self.limit = limit
        self.errors = errors
        # One event loop per process, and no await between the test and the count: no lock.
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == _LIVENESS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await self.errors.answer(ServiceUnavailable())(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
