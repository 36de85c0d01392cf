"""A message's email: subject, plain text and HTML from Jinja2 templates in the buyer's language,
one QR code per ticket as an inline image, and the calendar file for a confirmation.

Templates live in ``templates/<language>/<kind>.{txt,html}.j2``; the text template holds the
subject in a block of its own. The structure is the usual one that every mail client shows:

    multipart/mixed
      multipart/alternative
        text/plain
        multipart/related
          text/html
          image/png (one per ticket, referenced as cid:...)
      text/calendar (event.ics, confirmations only)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, cast

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from ticketing.mail.content import DEFAULT_LANGUAGE, LANGUAGES, BookingMessage, Kind
from ticketing.mail.formats import local_time, money
from ticketing.mail.ics import calendar_file
from ticketing.mail.qr import qr_png

# The web app's page that lists the caller's bookings (web/src/app/app.routes.ts).
BOOKINGS_PATH = "/bookings"


@dataclass(frozen=True)
class Sender:
    """Who the messages come from and where their links point (from the settings)."""

    from_address: str  # "Ticketing <tickets@example.com>" or a bare address
    public_url: str

    @functools.cached_property
    def domain(self) -> str:
        """The From address's domain: Message-IDs and calendar UIDs are made unique under it."""
        address = parseaddr(self.from_address)[1]
        return address.rpartition("@")[2] or "localhost"

    @property
    def bookings_url(self) -> str:
        return self.public_url.rstrip("/") + BOOKINGS_PATH

    def message_id(self, message_key: str) -> str:
        return f"<{message_key}@{self.domain}>"


@functools.cache
def _templates() -> Environment:
    # StrictUndefined: a misspelt name fails the render (and the test), not a blank in a message.
    return Environment(
        loader=PackageLoader("ticketing.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _subject(template: Template, context: dict[str, Any]) -> str:
    block = template.blocks["subject"]
    # One line, however the template was wrapped (a header must not fold on our newlines).
    return " ".join("".join(block(template.new_context(context))).split())


def _tidy(text: str) -> str:
    # trim_blocks leaves runs of blank lines where blocks were empty: at most one in a row.
    lines, blank = [], False
    for line in text.strip().splitlines():
        if not line.strip():
            if not blank:
                lines.append("")
            blank = True
            continue
        lines.append(line.rstrip())
        blank = False
    return "\n".join(lines) + "\n"


def _context(message: BookingMessage, sender: Sender, language: str) -> dict[str, Any]:
    return {
        "language": language,
        "name": message.recipient_name,
        "recipient_email": message.recipient_email,
        "booking_id": message.booking_id,
        "quantity": message.quantity,
        "total": money(message.total, message.currency),
        "reference": message.payment_reference or "",
        "expires_time": local_time(message.expires_at, message.timezone, language) if message.expires_at else "",
        "refund_due": message.payment_status == "refund_due",
        "refunded": message.payment_status == "refunded",
        "expired": message.status == "EXPIRED",
        "event_name": message.event_name,
        "venue": message.venue,
        "event_time": local_time(message.starts_at, message.timezone, language),
        "bookings_url": sender.bookings_url,
        "items": [
            {"name": item.name, "quantity": item.quantity, "unit_price": money(item.unit_price, message.currency)}
            for item in message.items
        ],
        "tickets": [
            {"code": ticket.code, "type_name": ticket.type_name, "cid": f"ticket-{n}.{message.message_key}@{sender.domain}"}
            for n, ticket in enumerate(message.tickets, start=1)
        ],
    }


def _envelope(subject: str, to: Address, message_id: str, sender: Sender) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = sender.from_address
    email["To"] = to
    email["Date"] = format_datetime(datetime.now(UTC))
    email["Message-ID"] = message_id
    # Transactional mail: an autoresponder must not answer it (RFC 3834).
    email["Auto-Submitted"] = "auto-generated"
    return email


def _attach(email: EmailMessage, text: str, html: str, images: list[tuple[str, bytes]]) -> None:
    email.set_content(text, charset="utf-8")
    email.add_alternative(html, subtype="html", charset="utf-8")
    if images:
        html_part = cast(EmailMessage, email.get_payload()[1])  # type: ignore[index]  # multipart: a list of parts
        for cid, png in images:
            html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>",
                                  filename=cid.split(".", 1)[0] + ".png")


def render_message(message: BookingMessage, sender: Sender) -> EmailMessage:
    """The email for one outbox row, in its buyer's language (English when it has none we know)."""
    language = message.language if message.language in LANGUAGES else DEFAULT_LANGUAGE
    context = _context(message, sender, language)
    env = _templates()
    text_template = env.get_template(f"{language}/{message.kind.value}.txt.j2")
    subject = _subject(text_template, context)
    text = _tidy(text_template.render(context))
    html = env.get_template(f"{language}/{message.kind.value}.html.j2").render({**context, "subject": subject})
    # A name is the buyer's own text: line breaks in it must not reach a header (nor fail it).
    to = Address(display_name=" ".join(message.recipient_name.split()), addr_spec=message.recipient_email)
    email = _envelope(subject, to, sender.message_id(message.message_key), sender)
    images = [(ticket["cid"], qr_png(ticket["code"])) for ticket in context["tickets"]] if message.kind is Kind.CONFIRMED else []
    _attach(email, text, html, images)
    if message.kind is Kind.CONFIRMED:
        ics = calendar_file(message, domain=sender.domain, bookings_url=sender.bookings_url)
        email.add_attachment(ics.decode(), subtype="calendar", charset="utf-8", filename="event.ics",
                             params={"method": "PUBLISH"})
    # After the parts: setting the content drops the Content-* headers set before it.
    email["Content-Language"] = language
    return email


def render_test_message(to: str, sender: Sender, server: str, message_key: str) -> EmailMessage:
    """What ``ticketing mail-test`` sends: both languages, no booking."""
    env = _templates()
    context = {"language": "en", "server": server, "sent_at": format_datetime(datetime.now(UTC))}
    text_template = env.get_template("test.txt.j2")
    subject = _subject(text_template, context)
    email = _envelope(subject, Address(addr_spec=to), sender.message_id(message_key), sender)
    html = env.get_template("test.html.j2").render({**context, "subject": subject})
    _attach(email, _tidy(text_template.render(context)), html, [])
    return email
