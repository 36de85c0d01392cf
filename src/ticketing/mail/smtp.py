"""The SMTP client (aiosmtplib): one connection for a run of messages, and the two ways a
delivery goes wrong.

- ``SmtpUnavailable``: no connection (refused, timed out, TLS or sign-in failed). Nothing was
  sent, so nothing is counted against any message: they wait for the server to come back.
- ``DeliveryFailed``: this message went wrong: the server refused it (a recipient, the sender,
  the data) or the connection broke during it. It is tried again later, up to the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr

import aiosmtplib

from ticketing.mail.smtp_url import SmtpServer

log = logging.getLogger(__name__)


class SmtpUnavailable(Exception):
    """The SMTP server cannot be reached or refused the session; nothing was sent."""


class DeliveryFailed(Exception):
    """This message was not accepted; ``connection_lost`` when the session is no longer usable."""

    def __init__(self, reason: str, *, connection_lost: bool) -> None:
        super().__init__(reason)
        self.connection_lost = connection_lost


@dataclass(frozen=True)
class Outgoing:
    """A message as it goes over the wire: the envelope and the bytes."""

    envelope_from: str
    recipients: tuple[str, ...]
    data: bytes

    @classmethod
    def of(cls, message: EmailMessage) -> Outgoing:
        """From the message's From and To, flattened with CRLF line ends (the CPU-bound part of
        sending, done here so that the caller can count it)."""
        to = message["To"]
        recipients = tuple(address.addr_spec for address in to.addresses) if hasattr(to, "addresses") else (str(to),)
        return cls(parseaddr(str(message["From"]))[1], recipients, message.as_bytes(policy=policy.SMTP))


class SmtpSession:
    """An open, signed-in SMTP connection."""

    def __init__(self, client: aiosmtplib.SMTP, timeout: float) -> None:
        self._client = client
        self._timeout = timeout

    @property
    def usable(self) -> bool:
        return self._client.is_connected

    async def send(self, message: Outgoing) -> None:
        """Sends ``message``, within the timeout as a whole (not per reply)."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._client.sendmail(message.envelope_from, list(message.recipients), message.data)
        except aiosmtplib.SMTPResponseException as refused:  # the server answered: no
            raise DeliveryFailed(f"{refused.code} {refused.message}", connection_lost=False) from refused
        except aiosmtplib.SMTPRecipientsRefused as refused:
            reasons = "; ".join(f"{r.code} {r.message}" for r in refused.recipients)
            raise DeliveryFailed(reasons, connection_lost=False) from refused
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as broken:
            # Whether the server kept the message is unknown: it goes again, same Message-ID.
            raise DeliveryFailed(f"connection lost: {broken!r}", connection_lost=True) from broken


@contextlib.asynccontextmanager
async def smtp_session(server: SmtpServer, time_limit: float) -> AsyncIterator[SmtpSession]:
    """A session whose every step (connect, each delivery, quit) takes at most ``time_limit`` seconds."""
    client = aiosmtplib.SMTP(
        hostname=server.host, port=server.port, username=server.username, password=server.password,
        use_tls=server.security == "tls", start_tls=server.security == "starttls", timeout=time_limit,
    )
    try:
        async with asyncio.timeout(time_limit):
            await client.connect()
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        raise SmtpUnavailable(f"{server}: {error!r}") from error
    try:
        yield SmtpSession(client, time_limit)
    finally:
        if client.is_connected:
            try:
                async with asyncio.timeout(time_limit):
                    await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()
