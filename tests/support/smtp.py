"""A real SMTP server for the mail tests (aiosmtpd, on a thread of its own, so that the sender
under test, in-process or a `ticketing` process, talks to it over a socket as to any server).

``Inbox`` is its handler: it keeps every message it accepted, parsed, and can refuse recipients
or hold a delivery open (the message is kept, the "250 OK" is not sent yet) to catch a sender
in the middle of one."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, cast

from aiosmtpd.controller import Controller

from tests.support.server import free_port


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage
    at: float  # time.monotonic() when it arrived

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class Inbox:
    """aiosmtpd's handler: every accepted message, in order of arrival."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.refused: set[str] = set()  # recipients answered "550"
        self._changed = threading.Condition()
        # Holding: the delivery that makes len(messages) == hold_at is kept, then left waiting.
        self.hold_at: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address in self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(envelope.content))
        with self._changed:
            self.messages.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message, time.monotonic()))
            hold = self.hold_at is not None and len(self.messages) == self.hold_at
            self._changed.notify_all()
        if hold:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        return "250 Message accepted for delivery"

    def wait_for(self, condition: Callable[[list[Received]], bool], timeout: float = 30) -> list[Received]:
        """Waits until ``condition(messages)`` holds; AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self.messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"SMTP server: condition not met in {timeout} s ({len(self.messages)} messages)")
                self._changed.wait(left)
            return list(self.messages)

    def wait_for_count(self, count: int, timeout: float = 30) -> list[Received]:
        return self.wait_for(lambda messages: len(messages) >= count, timeout)

    async def wait_for_count_async(self, count: int, within: float = 30) -> list[Received]:
        return await asyncio.to_thread(self.wait_for_count, count, within)

    def by_message_id(self) -> Counter[str]:
        with self._changed:
            return Counter(received.message_id for received in self.messages)


class SmtpServer:
    """aiosmtpd on ``address``:``port`` (127.0.0.1 and a free port unless given), started and
    stopped at will. Servers on several addresses may share one inbox."""

    def __init__(self, inbox: Inbox | None = None, port: int | None = None, address: str = "127.0.0.1") -> None:
        self.inbox = inbox or Inbox()
        self.port = port or free_port()
        self.address = address
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.address}:{self.port}"

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname=self.address, port=self.port, ready_timeout=10)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self.inbox.release.set()  # a held delivery must not keep the server's thread
            self._controller.stop()
            self._controller = None


@contextlib.contextmanager
def smtp_server(inbox: Inbox | None = None, port: int | None = None, address: str = "127.0.0.1") -> Iterator[SmtpServer]:
    server = SmtpServer(inbox, port, address)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# -- what the mail tests read from a message ------------------------------------------------------
def qr_codes(message: EmailMessage) -> list[str]:
    """The text of the QR code in each inline PNG, decoded from the image (zxing-cpp)."""
    import io

    import zxingcpp
    from PIL import Image

    codes = []
    for part in message.walk():
        if part.get_content_type() == "image/png":
            found = zxingcpp.read_barcodes(Image.open(io.BytesIO(part.get_content())))
            assert len(found) == 1, f"one QR code per image, found {len(found)}"
            codes.append(found[0].text)
    return codes


def calendar_of(message: EmailMessage) -> Any:
    """The attached .ics, parsed (icalendar raises on a malformed one)."""
    from icalendar import Calendar

    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in message.walk()]
    assert parts[0].get_filename() == "event.ics"
    return Calendar.from_ical(parts[0].get_content())


def text_of(message: EmailMessage, subtype: str) -> str:
    body = message.get_body((subtype,))
    assert body is not None, f"no text/{subtype} part"
    return str(cast(EmailMessage, body).get_content())


# -- the outbox, read with plain SQL (not the code under test) ----------------------------------
async def outbox_rows(db: Any) -> list[dict[str, Any]]:
    """Every mail_outbox row, oldest first: id, kind, booking_id, status, attempts, last_error."""
    from sqlalchemy import text

    async with db.engine.connect() as conn:
        found = await conn.execute(text(
            "SELECT id, kind, booking_id, status, attempts, last_error, message_key, requested_by "
            "FROM mail_outbox ORDER BY id"))
        return [dict(row) for row in found.mappings()]


def mail_settings(database_url: str, smtp_url: str | None, **overrides: Any) -> Any:
    """Test settings with a quick sender: retries after 50 ms, 3 attempts, 5 s timeouts."""
    from tests.support.settings import settings_for

    values: dict[str, Any] = {"smtp_url": smtp_url, "mail_retry_seconds": 0.05, "mail_max_attempts": 3,
                              "smtp_timeout": 5, "mail_lease_seconds": 30, "mail_poll_seconds": 0.05,
                              "mail_from": "Ticketing <tickets@example.com>", **overrides}
    return settings_for(database_url, **values)


async def until(condition: Callable[[], Any], within: float = 30, what: str = "condition") -> None:
    """Waits until ``await condition()`` (or ``condition()``) is true, checking every 20 ms; an
    AssertionError after ``within`` seconds. For states no event announces (rows in a database,
    a counter another task moves)."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not met in {within} s")
        await asyncio.sleep(0.02)
