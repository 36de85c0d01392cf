"""The shop as a buyer meets it: ticket types, a hold with a countdown, paying, the limits.

Runs against a server with development payments on (the `shop` fixture), so paying is walked
end to end through the development payment page, which plays the provider.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Shop
from tests.e2e.pages import by, capture, keep_event_stale_until_booking, open_event, sign_in
from tests.support.credentials import PASSWORD

pytestmark = pytest.mark.browser


def two_type_event(shop: Shop, **fields: object) -> dict:  # type: ignore[type-arg]
    """A payment event with Standard (event's cap only) and VIP (its own cap of 5)."""
    body = {
        "name": f"Shop Night {uuid.uuid4().hex[:4]}",
        "checkout": "payment",
        "hold_minutes": 15,
        "capacity": 40,
        "max_per_booking": 6,
        "price": "500.00",
        "timezone": "Asia/Bangkok",
        "ticket_types": [
            {"name": "Standard", "price": "500.00"},
            {"name": "VIP", "price": "2000.00", "capacity": 5},
        ],
        **fields,
    }
    return shop.api.create_event(shop.admin_token, **body)


def ticket_type(page: Page, name: str) -> Locator:
    return page.locator(f'[data-testid="ticket-type"][data-type-name="{name}"]')


def remaining_ms(page: Page) -> int:
    return int(by(page, "countdown").get_attribute("data-remaining-ms") or "0")


def test_buy_two_types_pay_on_the_dev_payment_page_and_get_tickets(shop: Shop, new_page) -> None:
    event = two_type_event(shop)
    email, token = shop.api.customer("Nok Buyer")
    page = new_page(url=shop.url)
    # The browser's clock is two hours fast: the countdown must still follow the server's.
    page.clock.install(time=datetime.now(UTC) + timedelta(hours=2))
    sign_in(page, email, PASSWORD)
    open_event(page, event["id"])
    expect(by(page, "event-date")).to_contain_text("(Asia/Bangkok)")
    expect(by(page, "ticket-type")).to_have_count(2)
    expect(ticket_type(page, "VIP")).to_contain_text("2,000.00")
    expect(ticket_type(page, "VIP")).to_contain_text("5 left")
    capture(page, "01-event-two-types")

    ticket_type(page, "Standard").get_by_test_id("type-quantity").select_option("2")
    ticket_type(page, "VIP").get_by_test_id("type-quantity").select_option("1")
    expect(by(page, "order-total")).to_contain_text("3 ticket(s)")
    expect(by(page, "order-total")).to_contain_text("3,000.00")
    capture(page, "02-event-picked")
    by(page, "book-button").click()

    expect(page).to_have_url(re.compile(r"/checkout/\d+$"))
    checkout = by(page, "checkout")
    expect(checkout).to_have_attribute("data-status", "PENDING")
    expect(by(page, "checkout-item")).to_have_count(2)
    expect(by(page, "checkout-total")).to_contain_text("3,000.00")
    reference = by(page, "payment-reference").inner_text().strip()
    assert len(reference) >= 16
    # 15 minutes on the server's clock, counting down.
    first = remaining_ms(page)
    assert 14 * 60_000 < first <= 15 * 60_000, first
    page.wait_for_function(
        "(first) => Number(document.querySelector('[data-testid=countdown]').dataset.remainingMs) < first - 1000",
        arg=first,
    )
    capture(page, "03-checkout-pending")
    booking_id = int(page.url.rsplit("/", 1)[1])
    held = shop.api.event(event["id"])
    assert (held["tickets_held"], held["tickets_sold"]) == (3, 0)

    by(page, "go-dev-pay").click()
    expect(by(page, "dev-pay-reference")).to_have_text(reference)
    expect(by(page, "dev-pay-amount")).to_contain_text("3,000.00")
    capture(page, "04-dev-payment")
    by(page, "dev-pay-succeed").click()

    expect(page).to_have_url(re.compile(rf"/checkout/{booking_id}$"))
    expect(checkout).to_have_attribute("data-status", "CONFIRMED")
    expect(by(page, "checkout-paid")).to_be_visible()
    expect(by(page, "ticket-qr")).to_have_count(3)
    capture(page, "05-checkout-paid")

    by(page, "nav-bookings").click()
    card = page.locator(f'[data-testid="booking-card"][data-booking-id="{booking_id}"]')
    expect(card.get_by_test_id("booking-status")).to_have_text("Confirmed")
    expect(card.get_by_test_id("payment-status")).to_have_text("Paid")
    expect(card.get_by_test_id("ticket-qr")).to_have_count(3)
    expect(card.get_by_test_id("booking-items")).to_contain_text("2 \u00d7 Standard")
    capture(page, "06-my-bookings-paid")

    paid = shop.api.booking(token, booking_id)
    assert (paid["status"], paid["payment"]["status"], len(paid["tickets"])) == ("CONFIRMED", "paid", 3)
    sold = shop.api.event(event["id"])
    assert (sold["tickets_held"], sold["tickets_sold"]) == (0, 3)


def focus_by_tab(page: Page, test_id: str, limit: int = 60) -> None:
    """Presses Tab until the element with `test_id` has focus, and checks the focus is shown."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => document.activeElement?.dataset?.testid === {test_id!r}"):
            outline = page.evaluate(
                "() => { const s = getComputedStyle(document.activeElement);"
                " return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"
            )
            assert outline, f"{test_id} has focus but no visible focus ring"
            return
    raise AssertionError(f"Tab never reached {test_id}")


def test_keyboard_alone_books_and_pays(shop: Shop, new_page) -> None:
    event = two_type_event(shop, name=f"Keyboard Gig {uuid.uuid4().hex[:4]}")
    email, _ = shop.api.customer()
    page = new_page(url=shop.url)
    sign_in(page, email, PASSWORD)
    open_event(page, event["id"])
    page.locator("body").focus()

    focus_by_tab(page, "type-quantity")  # Standard's picker comes first
    page.keyboard.press("ArrowDown")
    expect(ticket_type(page, "Standard").get_by_test_id("type-quantity")).to_have_value("1")
    focus_by_tab(page, "book-button")
    page.keyboard.press("Enter")
    expect(by(page, "checkout")).to_have_attribute("data-status", "PENDING")

    focus_by_tab(page, "go-dev-pay")
    page.keyboard.press("Enter")
    expect(by(page, "dev-pay-succeed")).to_be_visible()
    focus_by_tab(page, "dev-pay-succeed")
    page.keyboard.press("Enter")
    expect(by(page, "checkout")).to_have_attribute("data-status", "CONFIRMED")
    expect(by(page, "ticket-qr")).to_have_count(1)


def test_the_per_customer_limit_is_shown_and_explained(shop: Shop, new_page) -> None:
    event = shop.api.create_event(
        shop.admin_token,
        name=f"Limited Run {uuid.uuid4().hex[:4]}",
        capacity=30,
        max_per_booking=6,
        per_customer_limit=3,
        price="300.00",
        timezone="Asia/Bangkok",
    )
    email, token = shop.api.customer()
    shop.api.book(token, event["id"], 2)  # instant checkout: 2 of the 3 are booked already
    page = new_page(url=shop.url)
    sign_in(page, email, PASSWORD)
    open_event(page, event["id"])
    expect(by(page, "my-remaining")).to_have_text("You can book 1 more ticket(s) for this event.")
    expect(by(page, "quantity").locator("option")).to_have_count(1)
    capture(page, "10-limit-remaining")

    # A page that still thinks 3 remain (booked meanwhile in another tab) asks for 3.
    page.goto("/events")
    stale = {**shop.api.event(event["id"]), "my_remaining": 3}
    keep_event_stale_until_booking(page, stale)
    open_event(page, event["id"])
    by(page, "quantity").select_option("3")
    by(page, "book-button").click()
    error = by(page, "booking-error")
    expect(error).to_have_attribute("data-code", "customer_limit_reached")
    expect(error).to_contain_text("only 1 more ticket(s)")
    expect(by(page, "quantity")).to_have_value("1")
    expect(by(page, "quantity").locator("option")).to_have_count(1)
    capture(page, "11-limit-reached")

    by(page, "book-button").click()
    expect(by(page, "booking-success")).to_be_visible()
    expect(by(page, "my-remaining")).to_contain_text("as many tickets for this event as one customer may")
    expect(by(page, "book-button")).to_be_disabled()
    capture(page, "12-limit-used-up")


def test_two_buyers_race_for_the_last_ticket_of_a_capped_type(shop: Shop, new_page) -> None:
    event = two_type_event(
        shop,
        name=f"Last VIP {uuid.uuid4().hex[:4]}",
        ticket_types=[
            {"name": "Standard", "price": "500.00"},
            {"name": "VIP", "price": "2000.00", "capacity": 1},
        ],
    )
    one_left = shop.api.event(event["id"])
    pages: list[Page] = []
    for _ in range(2):
        email, _ = shop.api.customer()
        page = new_page(url=shop.url)
        sign_in(page, email, PASSWORD)
        keep_event_stale_until_booking(page, one_left)
        open_event(page, event["id"])
        expect(ticket_type(page, "VIP")).to_contain_text("1 left")
        ticket_type(page, "VIP").get_by_test_id("type-quantity").select_option("1")
        pages.append(page)

    for page in pages:  # both pages still say "1 left" when both buttons are pressed
        by(page, "book-button").click(no_wait_after=True)
    for page in pages:
        expect(by(page, "checkout").or_(by(page, "sold-out-message"))).to_be_visible()

    winners = [page for page in pages if by(page, "checkout").is_visible()]
    losers = [page for page in pages if by(page, "sold-out-message").is_visible()]
    assert len(winners) == 1 and len(losers) == 1
    winner, loser = winners[0], losers[0]
    expect(by(winner, "checkout")).to_have_attribute("data-status", "PENDING")
    capture(winner, "20-race-winner-holds")

    expect(by(loser, "sold-out-item")).to_have_text("VIP: sold out.")
    vip = ticket_type(loser, "VIP")
    expect(vip.get_by_test_id("availability")).to_have_text("Sold out")
    expect(vip.get_by_test_id("type-quantity")).to_be_disabled()
    expect(ticket_type(loser, "Standard").get_by_test_id("type-quantity")).to_be_enabled()
    capture(loser, "21-race-loser-clamped")

    final = shop.api.event(event["id"])
    vip_type = next(t for t in final["ticket_types"] if t["name"] == "VIP")
    assert (vip_type["tickets_held"], vip_type["available"]) == (1, 0)
