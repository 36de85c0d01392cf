"""A buyer asks for a confirmed booking's tickets by email again, from My bookings (issue 12).

Runs against a server that mails through a real SMTP server (aiosmtpd, tests/support/smtp.py):
the first message is the booking's confirmation, each click of "Email my tickets again" is one
more, with a Message-ID of its own, and the fourth click within the hour is refused and said so.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Shop, shop_server
from tests.e2e.pages import book, by, open_event, sign_in
from tests.support.credentials import PASSWORD
from tests.support.smtp import Inbox, Received, qr_codes, smtp_server

pytestmark = pytest.mark.browser

# The service mails within about a second on a free machine; this only bounds the wait on a busy one.
MAIL_SECONDS = 30
RESEND_BUTTON = "Email my tickets again"
RESENT_NOTE = "Sent: check your inbox in a minute."


@dataclass(frozen=True)
class MailShop:
    shop: Shop
    inbox: Inbox


@pytest.fixture(scope="module")
def mail_shop(web_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailShop]:
    """The service with its sender on an SMTP server of the test's own. The sender looks for mail
    every 0.1 s (not 1 s), so each message is a short wait; a refused delivery (none is expected)
    would be retried at once rather than after 2 s."""
    with smtp_server() as smtp:
        env = {
            "TICKETING_SMTP_URL": smtp.url,
            "TICKETING_MAIL_FROM": "Ticketing <tickets@e2e.example.com>",
            "TICKETING_MAIL_POLL_SECONDS": "0.1",
            "TICKETING_MAIL_RETRY_SECONDS": "0.1",
            "TICKETING_SMTP_TIMEOUT": "5",
            "TICKETING_MAIL_LEASE_SECONDS": "30",
        }
        with shop_server(tmp_path_factory, env) as shop:
            yield MailShop(shop, smtp.inbox)


def ticket_mails(inbox: Inbox, email: str, event_name: str, count: int) -> list[Received]:
    """The ticket messages to ``email`` for the event, once there are ``count`` of them."""

    def mine(messages: list[Received]) -> list[Received]:
        return [m for m in messages if m.recipients == (email,) and m.message["Subject"] == f"Your tickets for {event_name}"]

    return mine(inbox.wait_for(lambda messages: len(mine(messages)) >= count, timeout=MAIL_SECONDS))


def click_resend(page: Page, card: Locator, booking_id: int) -> int:
    """Clicks the card's "Email my tickets again" and answers the status of the API's answer."""
    with page.expect_response(lambda r: r.url.endswith(f"/api/v1/bookings/{booking_id}/resend-tickets")) as answer:
        card.get_by_role("button", name=RESEND_BUTTON).click()
    return answer.value.status


def test_the_buyer_gets_the_tickets_again_by_email_at_most_three_times(mail_shop: MailShop, new_page) -> None:
    shop, inbox = mail_shop.shop, mail_shop.inbox
    event = shop.api.create_event(shop.admin_token, name=f"Resend Night {uuid.uuid4().hex[:4]}", capacity=10)
    email, _ = shop.api.customer("Mali Resender")
    page = new_page(url=shop.url)
    sign_in(page, email, PASSWORD)
    open_event(page, event["id"])
    codes = book(page, 2)

    by(page, "nav-bookings").click()
    card = by(page, "booking-card")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("booking-status")).to_have_text("Confirmed")
    booking_id = int(card.get_attribute("data-booking-id") or "0")

    # The confirmation comes by itself, with a QR code per ticket.
    [first] = ticket_mails(inbox, email, event["name"], 1)
    assert sorted(qr_codes(first.message)) == sorted(codes)

    assert click_resend(page, card, booking_id) == 202
    expect(card.get_by_role("status")).to_have_text(RESENT_NOTE)
    confirmation, again = ticket_mails(inbox, email, event["name"], 2)[:2]
    assert confirmation == first
    assert again.message_id != first.message_id, "a copy with the first one's Message-ID is dropped by mail clients"
    assert sorted(qr_codes(again.message)) == sorted(codes)

    # Two more within the hour are allowed; the fourth is refused, and the page says when to try again.
    for _ in range(2):
        assert click_resend(page, card, booking_id) == 202
        expect(card.get_by_role("status")).to_have_text(RESENT_NOTE)
    assert click_resend(page, card, booking_id) == 429
    expect(card.get_by_role("status")).to_have_count(0)
    limit = by(page, "bookings-error")
    expect(limit).to_have_attribute("role", "alert")
    expect(limit).to_have_text(re.compile(r"^\s*Too many attempts\. Try again in \d+ seconds\.\s*$"))
    seconds = int(re.findall(r"\d+", limit.inner_text())[0])
    assert 3500 <= seconds <= 3600, seconds

    # The outbox holds the confirmation and three copies, no more; each arrives once, with its own ID.
    outbox = shop.api.http.get("/admin/messages", params={"limit": 200},
                               headers={"Authorization": f"Bearer {shop.admin_token}"})
    assert outbox.status_code == 200, outbox.text
    rows = [row for row in outbox.json()["items"] if row["booking_id"] == booking_id]
    assert sorted(row["requested_by"] is not None for row in rows) == [False, True, True, True]
    assert {row["kind"] for row in rows} == {"confirmed"}
    received = ticket_mails(inbox, email, event["name"], 4)
    assert sorted(r.message_id for r in received) == sorted(row["message_id"] for row in rows)
