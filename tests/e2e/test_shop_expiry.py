"""A hold that is not paid in time expires on its own: the checkout page says so, offers to try
again, and the tickets are back on the event page. Holds last SHORT_HOLD_SECONDS here
(TICKETING_HOLD_SECONDS), not the event's hold_minutes."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SHORT_HOLD_SECONDS, Shop
from tests.e2e.pages import by, capture, open_event, sign_in
from tests.support.credentials import PASSWORD

pytestmark = pytest.mark.browser


def test_an_unpaid_hold_expires_and_its_tickets_come_back(short_hold_shop: Shop, new_page) -> None:
    shop = short_hold_shop
    event = shop.api.create_event(
        shop.admin_token,
        name=f"Fast Hold {uuid.uuid4().hex[:4]}",
        checkout="payment",
        hold_minutes=1,
        capacity=10,
        price="800.00",
        timezone="Asia/Bangkok",
        ticket_types=[
            {"name": "Standard", "price": "800.00"},
            {"name": "Front row", "price": "1200.00", "capacity": 2},
        ],
    )
    email, token = shop.api.customer()
    page = new_page(url=shop.url)
    sign_in(page, email, PASSWORD)
    open_event(page, event["id"])
    front_row = page.locator('[data-testid="ticket-type"][data-type-name="Front row"]')
    front_row.get_by_test_id("type-quantity").select_option("2")
    by(page, "book-button").click()

    expect(by(page, "checkout")).to_have_attribute("data-status", "PENDING")
    booking_id = int(page.url.rsplit("/", 1)[1])
    left = int(by(page, "countdown").get_attribute("data-remaining-ms") or "0")
    assert 0 < left <= SHORT_HOLD_SECONDS * 1000, left
    # Meanwhile the two front-row seats are held: someone else sees them sold out.
    other = new_page(url=shop.url)
    open_event(other, event["id"])
    other_front = other.locator('[data-testid="ticket-type"][data-type-name="Front row"]')
    expect(other_front.get_by_test_id("availability")).to_have_text("Sold out")
    capture(page, "30-hold-counting-down")

    # No one acts: the countdown reaches 0:00 and the page shows the service's verdict.
    expect(by(page, "checkout")).to_have_attribute("data-status", "EXPIRED", timeout=(SHORT_HOLD_SECONDS + 15) * 1000)
    expect(by(page, "checkout-expired")).to_be_visible()
    expect(by(page, "ticket-qr")).to_have_count(0)
    expect(by(page, "payment-instructions")).to_have_count(0)
    capture(page, "31-hold-expired")
    assert shop.api.booking(token, booking_id)["status"] == "EXPIRED"

    by(page, "try-again").click()
    expect(page).to_have_url(re.compile(rf"/events/{event['id']}$"))
    expect(front_row.get_by_test_id("availability")).to_have_text("2 left")
    expect(front_row.get_by_test_id("type-quantity")).to_be_enabled()
    capture(page, "32-tickets-back-on-sale")
    # The other buyer's page sees them back too (it polls).
    expect(other_front.get_by_test_id("availability")).to_have_text("2 left")

    by(page, "nav-bookings").click()
    card = page.locator(f'[data-testid="booking-card"][data-booking-id="{booking_id}"]')
    expect(card.get_by_test_id("booking-status")).to_have_text("Expired")
    expect(card.get_by_test_id("expired-note")).to_be_visible()
    capture(page, "33-my-bookings-expired")
    back = shop.api.event(event["id"])
    assert (back["tickets_held"], back["available"]) == (0, 10)
