"""Every page of the app in both languages, checked with axe-core and photographed on a phone
and a laptop (the flows' own pages are checked in their tests); and the development payment
page stays off on a service that did not switch it on."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Shop
from tests.e2e.pages import by, capture, open_event, sign_in
from tests.support.credentials import PASSWORD

pytestmark = pytest.mark.browser


def test_every_other_page_passes_axe_in_both_languages(shop: Shop, new_page) -> None:
    event = shop.api.create_event(
        shop.admin_token,
        name=f"Axe Fair {uuid.uuid4().hex[:4]}",
        capacity=12,
        max_per_booking=4,
        price="250.00",
        timezone="Asia/Bangkok",
        ticket_types=[
            {"name": "Adult", "price": "400.00"},
            {"name": "Child", "price": "250.00", "capacity": 2},
            {"name": "Family", "price": "900.00", "capacity": 0},
        ],
    )
    email, token = shop.api.customer("Axe Tester")
    types = {t["name"]: t["id"] for t in event["ticket_types"]}
    kept = shop.api.book_items(token, event["id"], [{"ticket_type_id": types["Adult"], "quantity": 2}])
    cancelled = shop.api.book_items(token, event["id"], [{"ticket_type_id": types["Child"], "quantity": 1}])
    shop.api.cancel(token, cancelled["id"])
    assert kept["status"] == "CONFIRMED"

    page = new_page(url=shop.url)
    page.goto("/events")
    expect(by(page, "event-list")).to_be_visible()
    capture(page, "60-events")
    open_event(page, event["id"])
    expect(by(page, "ticket-type")).to_have_count(3)
    capture(page, "61-event-signed-out")
    page.goto("/sign-up")
    expect(by(page, "submit")).to_be_visible()
    capture(page, "62-sign-up")
    page.goto("/no/such/page")
    expect(by(page, "not-found")).to_be_visible()
    capture(page, "63-not-found")
    page.goto("/sign-in")
    capture(page, "64-sign-in")

    sign_in(page, email, PASSWORD)
    page.goto("/bookings")
    expect(by(page, "booking-card")).to_have_count(2)
    expect(by(page, "ticket-qr")).to_have_count(3)  # the cancelled one's ticket stays, void
    capture(page, "65-my-bookings-confirmed-and-cancelled")
    by(page, "nav-account").click()
    expect(by(page, "account-email")).to_be_visible()
    capture(page, "66-account")

    admin = new_page(url=shop.url)
    sign_in(admin, "admin@e2e.example.com", PASSWORD)
    admin.goto("/admin")
    expect(by(admin, "admin-event").first).to_be_visible()
    capture(admin, "67-admin-events")
    admin.goto(f"/admin/events/{event['id']}/sales")
    expect(by(admin, "sales-type")).to_have_count(3)
    capture(admin, "68-admin-sales-three-types")


def test_without_dev_payments_the_page_is_off_and_others_cannot_see_a_booking(
    api, admin_token, new_account, new_page
) -> None:
    """The main e2e server runs with the defaults: development payments off."""
    event = api.create_event(
        admin_token,
        name=f"Bank Only {uuid.uuid4().hex[:4]}",
        checkout="payment",
        price="700.00",
        ticket_types=[{"name": "Seat", "price": "700.00"}],
    )
    buyer = new_account()
    page = new_page()
    sign_in(page, buyer.email, buyer.password)
    open_event(page, event["id"])
    by(page, "quantity").select_option("2")
    by(page, "book-button").click()
    expect(by(page, "checkout")).to_have_attribute("data-status", "PENDING")
    expect(by(page, "payment-reference")).not_to_be_empty()
    expect(by(page, "go-dev-pay")).to_have_count(0)
    booking_path = page.url.split("://", 1)[1].split("/", 1)[1]
    page.goto(f"/{booking_path}/pay")
    expect(by(page, "dev-payments-off")).to_be_visible()
    expect(by(page, "dev-pay-succeed")).to_have_count(0)

    stranger = new_account()
    other = new_page()
    sign_in(other, stranger.email, stranger.password)
    other.goto(f"/{booking_path}")
    expect(by(other, "checkout-not-found")).to_be_visible()
    expect(by(other, "checkout")).to_have_count(0)
