"""Deadlines for slow clients under uvicorn: the request head and the request body.

uvicorn bounds an idle keep-alive connection (``timeout_keep_alive``) and the connections a
worker holds (``limit_concurrency``), but not how long a client may take to send a request: a
client that opens a connection and sends nothing, or a header a byte a minute (slowloris), or a
body that never ends, holds a connection and its memory forever. This protocol closes the
connection when the head (request line and headers) is not in within ``header_timeout`` seconds
of the connection opening or the request starting, or the body is not in within
``body_timeout`` seconds of its head. The application then sees the client as gone.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ticketing.config import Settings


@cache
def _timeouts() -> tuple[float, float]:
    # Read in each worker process from its environment, as the app factory reads its settings.
    settings = Settings()
    return settings.header_timeout, settings.body_timeout


class DeadlineHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout, self.body_timeout = _timeouts()
        self._deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn narrows BaseTransport too
        super().connection_made(transport)
        self._arm(self.header_timeout)  # until the first request's head is in

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.header_timeout)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_timeout)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()  # from here, the keep-alive timeout (uvicorn's) applies between requests
