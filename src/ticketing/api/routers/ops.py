"""Liveness, readiness, metrics."""

from __future__ import annotations

import hmac
from ipaddress import IPv6Address, ip_address

from fastapi import APIRouter, Request, Response

from ticketing.api import metrics
from ticketing.api.deps import ServicesDep
from ticketing.api.errors import documented
from ticketing.api.schemas import HealthOut
from ticketing.config import Settings
from ticketing.domain.errors import Forbidden, ServiceUnavailable

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthOut)
async def healthz() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/readyz", response_model=HealthOut, responses=documented(ServiceUnavailable, common=False))
async def readyz(services: ServicesDep) -> HealthOut:
    if await services.db.ping(timeout=services.settings.connect_timeout):
        return HealthOut(status="ok")
    raise ServiceUnavailable()


def _may_scrape(request: Request, settings: Settings) -> bool:
    """The metrics token as a bearer token, or a peer in TICKETING_METRICS_ALLOW (the client
    address after trusted proxies, see docs/security.md)."""
    token = settings.metrics_token
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    if token is not None and scheme.lower() == "bearer" and hmac.compare_digest(sent.encode(), token.get_secret_value().encode()):
        return True
    try:
        peer = ip_address(request.client.host) if request.client else None
    except ValueError:  # a unix socket or a test client's made-up name
        return False
    if isinstance(peer, IPv6Address) and peer.ipv4_mapped:
        peer = peer.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return peer is not None and any(peer in network for network in settings.metrics_allow)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}, **documented(Forbidden, common=False)})
async def prometheus(request: Request, services: ServicesDep) -> Response:
    if not _may_scrape(request, services.settings):
        raise Forbidden("Metrics are served only with the metrics token or to an allowed network.")
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
