"""The application factory: ``uvicorn --factory ticketing.api.app:create_app``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from ticketing.api import errors
from ticketing.api.booking_fast_path import BookingFastPath
from ticketing.api.middleware import RequestContext, RequestIdFilter
from ticketing.api.routers import accounts, bookings, events, ops, tickets
from ticketing.api.services import Services
from ticketing.api.web import mount_web_app
from ticketing.config import Settings

API_PREFIX = "/api/v1"


class TicketingAPI(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        services: Services = self.state.services
        if services.settings.booking_fast_path:
            route = next(r for r in bookings.router.routes if getattr(r, "endpoint", None) is bookings.book)
            app = BookingFastPath(app, services, route, API_PREFIX + route.path)
        return RequestContext(app)


def configure_logging(level: str) -> None:
    logger = logging.getLogger("ticketing")
    if any(isinstance(f, RequestIdFilter) for h in logger.handlers for f in h.filters):
        return
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    services = Services.build(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await services.db.dispose()

    app = TicketingAPI(
        title="ticketing",
        version="1",
        summary="Event ticket booking that never oversells.",
        lifespan=lifespan,
    )
    app.state.services = services
    errors.install(app)
    for router in (accounts.router, events.router, bookings.router, tickets.router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(ops.router)
    mount_web_app(app, settings.web_dir)
    return app
