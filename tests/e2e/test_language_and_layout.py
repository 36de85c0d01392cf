"""English and Thai, and a layout that works on a phone; deep links load the app."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import by, open_event, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def test_thai_can_be_switched_on_and_is_remembered(new_page, api, admin_token, shot) -> None:
    event = api.create_event(admin_token, name="Songkran Beats", capacity=8, max_per_booking=8)
    api.book(admin_token, event["id"], 8)
    page = new_page()
    page.goto("/events")
    by(page, "lang-th").click()
    expect(by(page, "nav-events")).to_have_text("งานทั้งหมด")
    card = page.locator(f'[data-testid="event-card"][data-event-id="{event["id"]}"]')
    expect(card.get_by_test_id("availability")).to_have_text("ขายหมดแล้ว")
    assert page.evaluate("document.documentElement.lang") == "th"
    shot(page, "30-events-thai")

    page.reload()
    expect(by(page, "nav-events")).to_have_text("งานทั้งหมด")
    by(page, "lang-en").click()
    expect(card.get_by_test_id("availability")).to_have_text("Sold out")


def test_phone_layout_and_deep_links(new_page, new_account, api, admin_token, shot) -> None:
    event = api.create_event(admin_token, name="Phone Friendly Fest", capacity=100)
    account = new_account()
    page = new_page(viewport=PHONE)
    page.goto("/events")
    expect(by(page, "event-list")).to_be_visible()
    shot(page, "31-phone-events")

    sign_in(page, account.email, account.password)
    open_event(page, event["id"])  # a deep link, served by the SPA fallback
    no_sideways_scroll = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_sideways_scroll)
    book_button = by(page, "book-button")
    expect(book_button).to_be_visible()
    box = book_button.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    shot(page, "32-phone-event-detail")

    by(page, "quantity").select_option("2")
    book_button.click()
    expect(by(page, "booking-success")).to_be_visible()
    page.goto("/bookings")
    expect(by(page, "ticket-qr")).to_have_count(2)
    assert page.evaluate(no_sideways_scroll)
    shot(page, "33-phone-my-bookings")


def test_unknown_event_and_unknown_page(new_page) -> None:
    page = new_page()
    page.goto("/events/999999")
    expect(by(page, "event-not-found")).to_be_visible()
    page.goto("/no/such/page")
    expect(by(page, "not-found")).to_be_visible()
