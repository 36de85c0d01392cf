"""The refusals of the mail API (api/routers/messages.py); api/errors.py answers them."""

from __future__ import annotations

from ticketing.domain.errors import DomainError, NotFound, TooManyRequests


class MessageNotFound(NotFound):
    message = "Message not found."


class BookingNotConfirmed(DomainError):
    message = "Only a confirmed booking's tickets can be sent."


class TooManyResends(TooManyRequests):
    """The caller asked for tickets again too often; ``retry_after`` seconds until the next may."""

    message = "The tickets were sent again too often in the last hour. Try again later."
