"""Show a ticket; check it in at the door."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from ticketing.api.deps import CurrentUser, StoreDep
from ticketing.api.schemas import COMMON_ERRORS, UNAUTHENTICATED, ErrorOut, TicketOut
from ticketing.app import tickets

router = APIRouter(prefix="/tickets", tags=["tickets"], responses=COMMON_ERRORS)


@router.get("/{code}", response_model=TicketOut, responses={401: UNAUTHENTICATED, 404: {"model": ErrorOut}})
async def get_ticket(code: str, user: CurrentUser, store: StoreDep) -> TicketOut:
    return TicketOut.of(await tickets.get_ticket(store, user, code))


@router.post(
    "/{code}/check-in", response_model=TicketOut,
    responses={401: UNAUTHENTICATED, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
async def check_in(code: str, user: CurrentUser, store: StoreDep) -> TicketOut:
    return TicketOut.of(await tickets.check_in(store, user, code, datetime.now(UTC)))
