"""The application factory: ``uvicorn --factory ticketing.api.app:create_app``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ticketing.api import errors
from ticketing.api.allowed_methods import AllowedMethods
from ticketing.api.booking_door import BookingDoor
from ticketing.api.logs import OneLineFormatter
from ticketing.api.middleware import RequestContext, RequestIdFilter
from ticketing.api.overload import InFlightLimit
from ticketing.api.routers import accounts, bookings, events, messages, ops, payments, tickets
from ticketing.api.services import Services
from ticketing.api.web import mount_web_app
from ticketing.app import holds
from ticketing.config import Settings
from ticketing.mail.sender import running_sender

API_PREFIX = "/api/v1"
# The routers served under API_PREFIX (ops.router's health and metrics sit at the root).
API_ROUTERS = (accounts.router, events.router, bookings.router, tickets.router, payments.router, messages.router)


class TicketingApp:
    """What is served: the request context outermost (request ids, body limit, metrics, access
    log: it sees every answer, a 500 included), then the limit of requests in flight, then the
    booking door, then the FastAPI app."""

    def __init__(self, api: FastAPI, services: Services) -> None:
        self.api = api
        self.state = api.state  # the services, for tools and tests
        self.door: BookingDoor | None = None
        if services.settings.booking_fast_path:
            route = next(r for r in bookings.router.routes if isinstance(r, APIRoute) and r.endpoint is bookings.book)
            self.door = BookingDoor(api, services, route, API_PREFIX + route.path)
        limited = InFlightLimit(self.door or api, services.settings.max_concurrency, services.errors)
        self._asgi: ASGIApp = RequestContext(limited, services.errors)
        proxies = services.settings.trusted_proxies
        if proxies:
            # The one place X-Forwarded-For is believed, in-process and under any server (which
            # `ticketing serve` starts with its own proxy handling off): only from these peers.
            self._asgi = ProxyHeadersMiddleware(self._asgi, trusted_hosts=[str(net) for net in proxies])  # type: ignore[arg-type,assignment]  # uvicorn's own ASGI types

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        return self.api.openapi()


def configure_logging(level: str) -> None:
    logger = logging.getLogger("ticketing")
    if any(isinstance(f, RequestIdFilter) for h in logger.handlers for f in h.filters):
        return
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False


def create_app(settings: Settings | None = None) -> TicketingApp:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    services = Services.build(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(holds.sweep_forever(services.store, settings.sweep_interval_seconds))
        try:
            async with running_sender(services.db, settings):  # tickets by email (mail/sender.py)
                yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await services.db.dispose()

    api = FastAPI(
        title="ticketing",
        version="1",
        summary="Event ticket booking that never oversells.",
        lifespan=lifespan,
        # No redirect from /path/ to /path: Starlette builds its Location from the Host header,
        # which a client chooses (Host: evil.com -> http://evil.com/...). Such a path is a 404.
        redirect_slashes=False,
    )
    api.state.services = services
    errors.install(api, services.errors)
    for router in API_ROUTERS:
        api.include_router(router, prefix=API_PREFIX)
    api.include_router(ops.router)
    api.add_middleware(AllowedMethods, router=api.router)
    mount_web_app(api, settings.web_dir)
    return TicketingApp(api, services)
