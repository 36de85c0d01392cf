"""The sender: delivers the outbox's due messages over SMTP, one at a time, each exactly once
unless the sender dies in the middle of one.

Loop: every ``mail_poll_seconds`` one indexed read asks whether anything is due. If so, an SMTP
session is opened first (a server that is down costs no message an attempt: they wait), then
rows are claimed a few at a time (each claim a lease, see db/outbox.py) and sent one by one:
read from the database, render (in a child process at the lowest CPU priority, renderer.py:
bookings get the CPU first), send, mark sent, and pause if the process is busy serving
(yielding.py). A refused or broken delivery counts an attempt and the row waits
``retry_delay`` (doubling, at most a minute), until ``mail_max_attempts`` marks it failed. A
message whose booking has left the state it tells of by then ("what to pay" for a booking no
longer PENDING, "your tickets" for one no longer CONFIRMED) is marked skipped, not sent
(content.py). A message is started only while its claim's lease outlasts the longest a delivery
may take, so no other sender can take it over mid-send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from ticketing.config import Settings
from ticketing.db.database import Database
from ticketing.db.outbox import Claim, OutboxRow, SqlOutbox
from ticketing.mail import metrics
from ticketing.mail.render import Sender
from ticketing.mail.renderer import Renderer
from ticketing.mail.smtp import DeliveryFailed, Outgoing, SmtpSession, SmtpUnavailable, smtp_session
from ticketing.mail.smtp_url import SmtpServer, parse_smtp_url
from ticketing.mail.yielding import Yielding

log = logging.getLogger(__name__)

# Rows claimed at a time: few, so that a sender that dies delays few messages by a lease, and
# several senders share a burst.
CLAIM_BATCH = 10
# The longest pause between tries to reach an SMTP server that is down.
MAX_PAUSE_SECONDS = 60.0


class MailSender:
    def __init__(self, outbox: SqlOutbox, server: SmtpServer, settings: Settings, *, render_in_child: bool = False,
                 yield_to_requests: bool = False) -> None:
        """``render_in_child``: render in a child process at the lowest CPU priority (the
        serving processes and the mail worker do; see renderer.py), not on this event loop.
        ``yield_to_requests``: slow down while the process serves requests (yielding.py)."""
        self.outbox = outbox
        self.server = server
        self.renderer = Renderer(Sender(settings.mail_from, settings.public_url), in_child=render_in_child)
        self.poll_seconds = settings.mail_poll_seconds
        self.lease_seconds = settings.mail_lease_seconds
        self.timeout = settings.smtp_timeout
        self.max_attempts = settings.mail_max_attempts
        self.first_retry = settings.mail_retry_seconds
        self.sent = 0  # in this process, for logs and tests
        self._yielding = Yielding() if yield_to_requests else None

    @classmethod
    def from_settings(cls, db: Database, settings: Settings, *, render_in_child: bool = False,
                      yield_to_requests: bool = False) -> MailSender | None:
        """None without an SMTP server: the messages wait in the outbox."""
        if settings.smtp_url is None:
            return None
        return cls(SqlOutbox(db), parse_smtp_url(settings.smtp_url.get_secret_value()), settings,
                   render_in_child=render_in_child, yield_to_requests=yield_to_requests)

    def close(self) -> None:
        self.renderer.close()

    async def run(self, stop: asyncio.Event) -> None:
        """Sends until ``stop`` is set; never raises (a failure is logged and tried again)."""
        pause = self.poll_seconds
        down_since: datetime | None = None
        while not stop.is_set():
            try:
                sent = await self.send_due(stop)
                if down_since is not None and sent:
                    log.warning("SMTP server %s reachable again (down since %s)", self.server, down_since.isoformat())
                    down_since = None
                pause = self.poll_seconds
            except SmtpUnavailable as error:
                metrics.SMTP_UNAVAILABLE.inc()
                if down_since is None:
                    down_since = datetime.now(UTC)
                    log.warning("SMTP server unreachable, messages wait: %s", error)
                pause = min(MAX_PAUSE_SECONDS, max(self.first_retry, pause * 2))
            except Exception:
                # The database, most likely (a restart): the next poll tries again.
                log.exception("mail sender: a round failed; trying again")
                pause = min(MAX_PAUSE_SECONDS, max(self.poll_seconds, pause * 2))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)

    async def send_due(self, stop: asyncio.Event | None = None) -> int:
        """Sends what is due now; how many were sent. Raises SmtpUnavailable (nothing claimed)."""
        if not await self.outbox.any_due():
            return 0
        sent = 0
        # The SMTP session is opened before any row is claimed, so a server that is down costs no
        # message an attempt.
        async with smtp_session(self.server, self.timeout) as smtp:
            while smtp.usable and not (stop and stop.is_set()):
                claim = await self.outbox.claim(CLAIM_BATCH, self.lease_seconds)
                if not claim.rows:
                    break
                sent += await self._send_claimed(smtp, claim, stop)
        return sent

    async def _send_claimed(self, smtp: SmtpSession, claim: Claim, stop: asyncio.Event | None) -> int:
        remaining = list(claim.rows)
        sent = 0
        try:
            while remaining and smtp.usable and not (stop and stop.is_set()) and self._lease_allows(claim):
                row = remaining[0]
                started = time.monotonic()
                outgoing = await self._render(row, claim.token)
                if outgoing is None:  # counted as a failed attempt, or skipped: nothing to send
                    remaining.pop(0)
                    continue
                if not (self._lease_allows(claim) and smtp.usable):
                    break  # a starved renderer took long, or the server hung up meanwhile: it goes back, unsent
                remaining.pop(0)
                sent += await self._send(smtp, row, outgoing, claim.token)
                await self._make_way(started, stop)
        finally:
            # Not tried: due again at once for any sender. (The row in flight when a cancel
            # arrives is not among them: it may have gone, so it waits out its lease.)
            await self.outbox.release([row.id for row in remaining], claim.token)
        return sent

    async def _make_way(self, started: float, stop: asyncio.Event | None) -> None:
        """Bookings first (yielding.py): a pause after the message while the process serves."""
        pause = self._yielding.pause_after(time.monotonic() - started) if self._yielding else 0.0
        if pause:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for((stop or asyncio.Event()).wait(), pause)

    def _lease_allows(self, claim: Claim) -> bool:
        # A delivery takes at most the timeout, marking it one more round trip: both must end
        # before the lease does, or another sender could take the row mid-send.
        return datetime.now(UTC) + timedelta(seconds=2 * self.timeout) <= claim.leased_until

    async def _render(self, row: OutboxRow, token: str | None) -> Outgoing | None:
        try:
            content = await self.outbox.content(row)
            if content is None:
                raise LookupError(f"booking {row.booking_id} not found")
            outdated = content.outdated(datetime.now(UTC))
            if outdated is None:
                return await self.renderer.render(content)
        except Exception as error:  # a bug or bad data: logged, counted, and tried again later
            log.exception("mail: cannot render message %d", row.id)
            await self._failed(row, token, f"cannot render: {error!r}")
            return None
        log.info("mail: message %d (%s) skipped: %s", row.id, row.kind.value, outdated)
        if await self.outbox.mark_skipped(row.id, token, outdated):
            metrics.MESSAGES.labels(outcome="skipped").inc()
        return None

    async def _send(self, smtp: SmtpSession, row: OutboxRow, outgoing: Outgoing, token: str | None) -> int:
        try:
            await smtp.send(outgoing)
        except DeliveryFailed as failure:
            log.info("mail: message %d not delivered: %s", row.id, failure)
            await self._failed(row, token, str(failure))
            return 0
        if not await self.outbox.mark_sent(row.id, token):
            log.warning("mail: message %d was sent after its lease ended", row.id)
        metrics.MESSAGES.labels(outcome="sent").inc()
        self.sent += 1
        return 1

    async def _failed(self, row: OutboxRow, token: str | None, reason: str) -> None:
        status = await self.outbox.record_failure(row, token, reason, max_attempts=self.max_attempts,
                                                  first_delay=self.first_retry)
        if status == "failed":
            log.warning("mail: message %d failed after %d attempts: %s", row.id, row.attempts + 1, reason)
        metrics.MESSAGES.labels(outcome="failed" if status == "failed" else "retried").inc()


@contextlib.asynccontextmanager
async def running_sender(db: Database, settings: Settings, *, grace_seconds: float = 5.0) -> AsyncIterator[MailSender | None]:
    """A sender running in the background of this process while the block runs (``ticketing
    serve``'s lifespan). Nothing runs without an SMTP server or with TICKETING_MAIL_SENDER off."""
    sender = (MailSender.from_settings(db, settings, render_in_child=True, yield_to_requests=True)
              if settings.mail_sender else None)
    if sender is None:
        yield None
        return
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop), name="mail-sender")
    try:
        yield sender
    finally:
        stop.set()
        # The message in flight may finish; past the grace period it is cut off, and waits out
        # its lease to go again with the same Message-ID.
        done, _ = await asyncio.wait({task}, timeout=grace_seconds)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        sender.close()
