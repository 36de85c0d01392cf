"""A customer signs up, books 2 tickets, sees them with QR codes, and cancels."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import book, by, sign_in

pytestmark = pytest.mark.browser


def test_sign_up_book_two_see_qr_codes_and_cancel(new_page, api, admin_token, shot) -> None:
    event = api.create_event(admin_token, name=f"Rooftop Jazz {uuid.uuid4().hex[:4]}", capacity=20, max_per_booking=5)
    page = new_page()

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/events$"))
    card = page.locator(f'[data-testid="event-card"][data-event-id="{event["id"]}"]')
    expect(card.get_by_test_id("availability")).to_have_text("20 left")
    expect(card).to_contain_text("1,500.00")
    shot(page, "01-events")

    by(page, "nav-sign-up").click()
    by(page, "name").fill("Nok Customer")
    by(page, "email").fill(f"nok-{uuid.uuid4().hex[:8]}@e2e.example.com")
    by(page, "password").fill("correct-horse-1")
    shot(page, "02-sign-up")
    by(page, "submit").click()
    expect(by(page, "current-user")).to_have_text("Nok Customer")
    expect(by(page, "nav-admin")).to_have_count(0)

    card.get_by_test_id("event-link").click()
    expect(by(page, "event-name")).to_have_text(event["name"])
    expect(by(page, "event-availability")).to_have_text("20 left")
    expect(by(page, "quantity").locator("option")).to_have_count(5)
    shot(page, "03-event-detail")

    codes = book(page, 2)
    assert len(set(codes)) == 2
    expect(by(page, "event-availability")).to_have_text("18 left")
    shot(page, "04-booked")
    assert api.event(event["id"])["available"] == 18

    by(page, "go-to-bookings").click()
    booking = by(page, "booking-card").first
    expect(booking.get_by_test_id("booking-status")).to_have_text("Confirmed")
    expect(booking.get_by_test_id("ticket-code")).to_have_text(codes)
    qr_images = booking.get_by_test_id("ticket-qr")
    expect(qr_images).to_have_count(2)
    for image in qr_images.all():
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    shot(page, "05-my-bookings")

    booking.get_by_test_id("cancel-booking").click()
    expect(booking.get_by_test_id("confirm-cancel")).to_be_visible()
    shot(page, "06-cancel-confirm")
    booking.get_by_test_id("confirm-cancel").click()
    expect(booking.get_by_test_id("booking-status")).to_have_text("Cancelled")
    expect(booking.get_by_test_id("ticket-status")).to_have_text(["Void", "Void"])
    shot(page, "07-cancelled")
    assert api.event(event["id"])["available"] == 20


def test_expired_session_sends_the_user_to_sign_in_and_back(new_page, new_account, shot) -> None:
    account = new_account()
    page = new_page()
    sign_in(page, account.email, account.password)

    # The token's lifetime ran out: the guard sends the user to sign in, then back.
    page.evaluate(
        """() => {
          const session = JSON.parse(sessionStorage.getItem('ticketing.session'));
          session.expiresAt = Date.now() - 1000;
          sessionStorage.setItem('ticketing.session', JSON.stringify(session));
        }"""
    )
    page.goto("/bookings")
    expect(page).to_have_url(re.compile(r"/sign-in\?returnUrl=%2Fbookings"))
    expect(by(page, "session-expired")).to_be_visible()
    shot(page, "08-session-expired")
    by(page, "email").fill(account.email)
    by(page, "password").fill(account.password)
    by(page, "submit").click()
    expect(page).to_have_url(re.compile(r"/bookings$"))
    expect(by(page, "no-bookings")).to_be_visible()

    # The service refuses the token (forged, revoked, expired early): the same, via the 401.
    page.evaluate(
        """() => {
          const session = JSON.parse(sessionStorage.getItem('ticketing.session'));
          session.token = 'not-a-valid-token';
          sessionStorage.setItem('ticketing.session', JSON.stringify(session));
        }"""
    )
    page.reload()
    expect(page).to_have_url(re.compile(r"/sign-in\?returnUrl=%2Fbookings"))
    expect(by(page, "session-expired")).to_be_visible()
    expect(by(page, "nav-sign-in")).to_be_visible()


def test_wrong_password_shows_the_contract_message(new_page, new_account, shot) -> None:
    account = new_account()
    page = new_page()
    page.goto("/sign-in")
    by(page, "email").fill(account.email)
    by(page, "password").fill("wrong-password")
    by(page, "submit").click()
    expect(by(page, "auth-error")).to_be_visible()
    shot(page, "09-sign-in-error")
    expect(by(page, "sign-out")).to_have_count(0)
