"""The mail API's use cases: admins list messages and send one again; a buyer asks for a
confirmed booking's tickets again (at most RESEND_LIMIT times within RESEND_WINDOW: the limit
keeps a customer from flooding a mailbox; staff at the box office are not limited)."""

from __future__ import annotations

from datetime import timedelta

from ticketing.app.ports import Page
from ticketing.db.outbox import OutboxRow, SqlOutbox
from ticketing.domain.errors import BookingNotFound, Forbidden
from ticketing.domain.models import User
from ticketing.mail.content import Kind
from ticketing.mail.errors import BookingNotConfirmed, MessageNotFound, TooManyResends

RESEND_LIMIT = 3
RESEND_WINDOW = timedelta(hours=1)


def _admin_only(user: User) -> None:
    if not user.is_admin:
        raise Forbidden()


async def list_messages(outbox: SqlOutbox, user: User, page: Page, status: str | None) -> tuple[list[OutboxRow], int]:
    _admin_only(user)
    return await outbox.page(page, status=status)


async def resend_message(outbox: SqlOutbox, user: User, message_id: int) -> OutboxRow:
    """A failed or skipped message is tried again as it was; a sent one goes again as a new
    message. A message's content is read when it is sent: "your tickets" goes only while the
    booking is CONFIRMED, as a buyer's own request does (its tickets would be void)."""
    _admin_only(user)
    found = await outbox.get(message_id)
    if found is None:
        raise MessageNotFound()
    if found.kind is Kind.CONFIRMED:
        owner = await outbox.booking_owner(found.booking_id)
        if owner is None or owner[1] != "CONFIRMED":
            raise BookingNotConfirmed()
    row = await outbox.resend(message_id, user.id)
    if row is None:
        raise MessageNotFound()
    return row


async def resend_tickets(outbox: SqlOutbox, user: User, booking_id: int) -> OutboxRow:
    """The confirmation of the caller's CONFIRMED booking (an admin: of anyone's) once more."""
    owner = await outbox.booking_owner(booking_id)
    if owner is None or (owner[0] != user.id and not user.is_admin):
        raise BookingNotFound()
    if owner[1] != "CONFIRMED":
        raise BookingNotConfirmed()
    limit = None if user.is_admin else RESEND_LIMIT
    copy = await outbox.request_tickets(booking_id, user.id, limit=limit, window=RESEND_WINDOW)
    if isinstance(copy, int):
        raise TooManyResends(copy)
    if copy is None:  # cancelled meanwhile
        raise BookingNotConfirmed()
    return copy
