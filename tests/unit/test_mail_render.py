"""Rendering a message from what the database holds: the parts, the QR codes (decoded again), the
calendar file, the buyer's language and time zone; and the settings that reach the SMTP server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import cast

import pytest

from tests.support.smtp import calendar_of, qr_codes, text_of
from ticketing.config import ConfigError, Settings
from ticketing.db.outbox import retry_delay
from ticketing.mail.content import BookingMessage, Item, Kind, TicketLine
from ticketing.mail.render import Sender, render_message
from ticketing.mail.smtp_url import SmtpServer, parse_smtp_url

SENDER = Sender("Ticketing <tickets@example.com>", "https://tickets.example.com/")
CODES = ("Vq3x9Qk2tHc8L0pZr7sYwA", "b4Kd-_Tn1uM6oPq2xR9sEg", "Zz0aA1bB2cC3dD4eE5fF6g")

MESSAGE = BookingMessage(
    outbox_id=41, kind=Kind.CONFIRMED, message_key="0f" * 16, booking_id=7, status="CONFIRMED",
    payment_status="paid", payment_reference="pay_3c9d1e", expires_at=datetime(2099, 12, 1, 5, 15, tzinfo=UTC),
    total=Decimal("4500.00"), currency="THB", quantity=3, booked_at=datetime(2099, 12, 1, 5, 0, tzinfo=UTC),
    recipient_email="fan@example.com", recipient_name="Somchai", language="en", event_id=3,
    event_name="Bangkok Jazz Night", venue="Lumpini Park",
    # 12:00 UTC is 19:00 in Bangkok: what the buyer must read.
    starts_at=datetime(2099, 12, 31, 12, 0, tzinfo=UTC), timezone="Asia/Bangkok",
    items=(Item("General admission", 2, Decimal("1500.00")), Item("Front row", 1, Decimal("1500.00"))),
    tickets=tuple(TicketLine(code, "General admission" if n < 2 else "Front row", "VALID") for n, code in enumerate(CODES)),
)


def _over_the_wire(email: EmailMessage) -> EmailMessage:
    # What a mail server receives: the bytes, parsed again.
    return cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(email.as_bytes(policy=policy.SMTP)))


def test_a_confirmation_has_text_html_one_decodable_qr_per_ticket_and_a_calendar_file() -> None:
    email = _over_the_wire(render_message(MESSAGE, SENDER))

    assert email["To"].addresses[0].addr_spec == "fan@example.com"
    assert email["Subject"] == "Your tickets for Bangkok Jazz Night"
    assert email["Message-ID"] == f"<{'0f' * 16}@example.com>"
    assert email.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in email.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "multipart/related", "text/html",
        "image/png", "image/png", "image/png", "text/calendar",
    ]
    assert qr_codes(email) == list(CODES)
    html, text = text_of(email, "html"), text_of(email, "plain")
    for part in email.walk():
        if part.get_content_type() == "image/png":
            assert f'src="cid:{part["Content-ID"].strip("<>")}"' in html
    for code in CODES:
        assert code in text and code in html
    for shown in ("Thursday 31 December 2099, 19:00 (Asia/Bangkok)", "Lumpini Park", "4,500.00 THB",
                  "https://tickets.example.com/bookings"):
        assert shown in text and shown in html

    event = calendar_of(email).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Bangkok Jazz Night" and str(event["LOCATION"]) == "Lumpini Park"
    assert event.decoded("DTSTART") == datetime(2099, 12, 31, 12, 0, tzinfo=UTC)
    assert event["DTSTART"].params["TZID"] == "Asia/Bangkok"
    assert str(event["UID"]) == "booking-7@example.com"


def test_thai_buyers_read_thai_in_subject_body_and_dates_whatever_the_transfer_encoding() -> None:
    email = _over_the_wire(render_message(replace(MESSAGE, language="th", recipient_name="สมชาย"), SENDER))

    assert email["Subject"] == "บัตรของคุณสำหรับ Bangkok Jazz Night"
    assert email["To"].addresses[0].display_name == "สมชาย"
    assert email["Content-Language"] == "th"
    text = text_of(email, "plain")
    assert "สวัสดีคุณสมชาย" in text
    # Thai month names and the Buddhist Era year, in the event's time zone.
    assert "วันพฤหัสบดีที่ 31 ธันวาคม พ.ศ. 2642 เวลา 19:00 น. (Asia/Bangkok)" in text
    assert 'lang="th"' in text_of(email, "html") and "การจองของฉัน" in text_of(email, "html")
    assert qr_codes(email) == list(CODES)
    # The raw message is 7-bit clean: every part says its charset and encoding.
    assert all(byte < 128 for byte in render_message(replace(MESSAGE, language="th"), SENDER).as_bytes())


@pytest.mark.parametrize("language", ["en", "th"])
@pytest.mark.parametrize(("kind", "status", "payment", "must_show"), [
    (Kind.PENDING, "PENDING", "due", ["pay_3c9d1e", "4,500.00 THB", "2642|2099", "12:15"]),
    (Kind.EXPIRED, "EXPIRED", "due", ["12:15"]),
    (Kind.CANCELLED, "CANCELLED", "refund_due", ["4,500.00 THB"]),
    (Kind.REFUND_DUE, "EXPIRED", "refund_due", ["4,500.00 THB", "pay_3c9d1e"]),
])
def test_every_kind_renders_in_both_languages_with_what_comes_next(
    language: str, kind: Kind, status: str, payment: str, must_show: list[str]
) -> None:
    message = replace(MESSAGE, kind=kind, status=status, payment_status=payment, language=language, tickets=())
    email = _over_the_wire(render_message(message, SENDER))
    text, html = text_of(email, "plain"), text_of(email, "html")
    for shown in must_show:
        assert any(alternative in text and alternative in html for alternative in shown.split("|")), (shown, text)
    assert "Bangkok Jazz Night" in email["Subject"]
    assert not [p for p in email.walk() if p.get_content_type() in ("image/png", "text/calendar")]
    if kind is Kind.CANCELLED:  # a paid booking cancelled: the refund is told in the same message
        assert ("refunded" if language == "en" else "คืนเงิน") in text


def test_line_breaks_in_names_never_reach_a_header() -> None:
    message = replace(MESSAGE, recipient_name="Bob\r\nBcc: victim@example.com", event_name="Jazz\r\nBcc: x@example.com")
    email = _over_the_wire(render_message(message, SENDER))
    assert email["Bcc"] is None
    assert email["To"].addresses[0].display_name == "Bob Bcc: victim@example.com"
    assert email["Subject"] == "Your tickets for Jazz Bcc: x@example.com"


def test_smtp_urls_name_the_security_and_default_port() -> None:
    assert parse_smtp_url("smtp://mail.example.com") == SmtpServer("mail.example.com", 25, "plain")
    assert parse_smtp_url("smtp+starttls://u%40x:p%3Ass@mail.example.com") == SmtpServer(
        "mail.example.com", 587, "starttls", "u@x", "p:ss")
    assert parse_smtp_url("smtps://mail.example.com:2465") == SmtpServer("mail.example.com", 2465, "tls")
    assert "p:ss" not in str(parse_smtp_url("smtp://u:p:ss@h")) + repr(parse_smtp_url("smtp://u:p:ss@h"))
    for wrong in ("http://mail.example.com", "smtp://", "smtp://h:99999", "smtp://h/path"):
        with pytest.raises(ValueError):
            parse_smtp_url(wrong)


def test_a_wrong_smtp_url_or_a_lease_shorter_than_a_delivery_stops_the_start() -> None:
    with pytest.raises(ConfigError, match="TICKETING_SMTP_URL"):
        Settings(smtp_url="smtps//mail.example.com")
    with pytest.raises(ConfigError, match="LEASE"):
        Settings(mail_lease_seconds=50, smtp_timeout=30)
    assert Settings(smtp_url="").smtp_url is None  # set but empty: no SMTP server
    for wrong in ("not an address", "abc", "Tickets <tickets@>", "<@example.com>"):
        with pytest.raises(ConfigError, match="TICKETING_MAIL_FROM"):
            Settings(mail_from=wrong)
    for right in ("tickets@example.com", "Tickets <tickets@example.com>", "Ticketing <tickets@localhost>"):
        assert Settings(mail_from=right).mail_from == right


def test_retries_wait_longer_each_time_and_never_more_than_a_minute() -> None:
    assert [retry_delay(n, 2.0) for n in range(1, 9)] == [2, 4, 8, 16, 32, 60, 60, 60]


# (kind, the booking's status when the message is sent) that are out of date: what to pay when
# nothing is due any more, tickets that are not (or no longer) valid.
OUTDATED = {("pending", "CONFIRMED"), ("pending", "EXPIRED"), ("pending", "CANCELLED"),
            ("confirmed", "PENDING"), ("confirmed", "EXPIRED"), ("confirmed", "CANCELLED")}


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("status", ["PENDING", "CONFIRMED", "EXPIRED", "CANCELLED"])
def test_only_what_to_pay_and_the_tickets_go_out_of_date_when_the_booking_moves_on(kind, status):
    before_the_deadline = MESSAGE.expires_at - timedelta(seconds=1)
    outdated = replace(MESSAGE, kind=kind, status=status).outdated(before_the_deadline)
    assert (outdated is not None) == ((kind.value, status) in OUTDATED)
    assert outdated is None or outdated.startswith(f"not sent: the booking is {status} now")


def test_what_to_pay_is_out_of_date_from_the_holds_deadline_on_though_no_sweeper_released_it():
    held = replace(MESSAGE, kind=Kind.PENDING, status="PENDING")
    assert held.expires_at is not None
    assert held.outdated(held.expires_at - timedelta(microseconds=1)) is None
    assert held.outdated(held.expires_at) == "not sent: the booking is EXPIRED now, no longer PENDING"
