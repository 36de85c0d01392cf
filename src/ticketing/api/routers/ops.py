"""Liveness, readiness, metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ticketing.api import metrics
from ticketing.api.deps import ServicesDep
from ticketing.api.errors import unavailable_response
from ticketing.api.schemas import COMMON_ERRORS, HealthOut

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthOut)
async def healthz() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/readyz", response_model=HealthOut, responses={503: COMMON_ERRORS[503]})
async def readyz(services: ServicesDep) -> HealthOut | Response:
    if await services.db.ping(timeout=services.settings.connect_timeout):
        return HealthOut(status="ok")
    return unavailable_response()


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def prometheus() -> Response:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
