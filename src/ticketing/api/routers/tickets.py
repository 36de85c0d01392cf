"""Show a ticket; check it in at the door."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from ticketing.api.auth_first import AuthFirst
from ticketing.api.deps import CurrentUser, StoreDep
from ticketing.api.errors import COMMON_ERRORS, documented
from ticketing.api.schemas import TicketOut
from ticketing.app import tickets
from ticketing.domain.errors import AlreadyCheckedIn, Forbidden, NotAuthenticated, TicketNotFound, TicketVoid

router = APIRouter(prefix="/tickets", tags=["tickets"], responses=COMMON_ERRORS, route_class=AuthFirst)


@router.get("/{code}", response_model=TicketOut, responses=documented(NotAuthenticated, TicketNotFound))
async def get_ticket(code: str, user: CurrentUser, store: StoreDep) -> TicketOut:
    return TicketOut.of(await tickets.get_ticket(store, user, code))


@router.post(
    "/{code}/check-in", response_model=TicketOut,
    responses=documented(NotAuthenticated, Forbidden, TicketNotFound, AlreadyCheckedIn, TicketVoid),
)
async def check_in(code: str, user: CurrentUser, store: StoreDep) -> TicketOut:
    return TicketOut.of(await tickets.check_in(store, user, code, datetime.now(UTC)))
