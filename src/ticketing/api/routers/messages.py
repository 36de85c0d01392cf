"""Tickets by email: the admins' view of the outbox, and a buyer's "send my tickets again"."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from ticketing.api.auth_first import AuthFirst
from ticketing.api.deps import AdminUser, CurrentUser, PageDep, ServicesDep
from ticketing.api.errors import COMMON_ERRORS, documented
from ticketing.api.schemas import DigitsId, ListOut
from ticketing.db.outbox import OutboxRow, SqlOutbox
from ticketing.domain import errors as e
from ticketing.mail import errors as mail_errors
from ticketing.mail import messages
from ticketing.mail.render import Sender

router = APIRouter(tags=["messages"], responses=COMMON_ERRORS, route_class=AuthFirst)
MessageId = Annotated[DigitsId, Path()]
BookingId = Annotated[DigitsId, Path()]
# db/outbox.STATUSES
MessageStatus = Literal["pending", "sent", "failed", "skipped"]


class MessageOut(BaseModel):
    id: int
    kind: Literal["pending", "confirmed", "expired", "cancelled", "refund_due"]
    booking_id: int
    status: MessageStatus
    attempts: int
    # When it is due to be tried (or, while a sender holds it, when that sender's claim ends).
    next_attempt_at: datetime | None
    message_id: str
    requested_by: int | None
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, row: OutboxRow, sender: Sender) -> MessageOut:
        return cls(
            id=row.id, kind=row.kind.value, booking_id=row.booking_id, status=row.status,  # type: ignore[arg-type]  # the CHECK's values
            attempts=row.attempts, next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
            message_id=sender.message_id(row.message_key), requested_by=row.requested_by, created_at=row.created_at,
            sent_at=row.sent_at, last_error=row.last_error,
        )


def _sender(services: ServicesDep) -> Sender:
    return Sender(services.settings.mail_from, services.settings.public_url)


@router.get("/admin/messages", response_model=ListOut[MessageOut], responses=documented(e.NotAuthenticated, e.Forbidden))
async def list_messages(
    user: AdminUser, services: ServicesDep, page: PageDep, status: Annotated[MessageStatus | None, Query()] = None
) -> ListOut[MessageOut]:
    """The outbox, newest first (admins)."""
    rows, total = await messages.list_messages(SqlOutbox(services.db), user, page, status)
    sender = _sender(services)
    return ListOut(items=[MessageOut.of(row, sender) for row in rows], total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/admin/messages/{message_id}/resend", status_code=202, response_model=MessageOut,
    responses=documented(e.NotAuthenticated, e.Forbidden, mail_errors.MessageNotFound,
                         mail_errors.BookingNotConfirmed),
)
async def resend_message(message_id: MessageId, user: AdminUser, services: ServicesDep) -> MessageOut:
    """Sends a message again (admins): a failed or skipped one as it was, with its Message-ID (a
    skipped one is skipped again while its booking stays where it went); a sent one as a new
    message; a pending one is already on its way."""
    row = await messages.resend_message(SqlOutbox(services.db), user, message_id)
    return MessageOut.of(row, _sender(services))


@router.post(
    "/bookings/{booking_id}/resend-tickets", status_code=202, response_model=MessageOut,
    responses=documented(e.NotAuthenticated, e.BookingNotFound, mail_errors.BookingNotConfirmed, mail_errors.TooManyResends),
)
async def resend_tickets(booking_id: BookingId, user: CurrentUser, services: ServicesDep) -> MessageOut:
    """Emails a confirmed booking's tickets to its buyer again: at most 3 times an hour per caller."""
    row = await messages.resend_tickets(SqlOutbox(services.db), user, booking_id)
    return MessageOut.of(row, _sender(services))
