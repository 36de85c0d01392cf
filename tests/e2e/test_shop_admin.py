"""The organiser's side of the shop: ticket types and checkout settings on the event form, the
sales per type, and the bookings view (buyer, filters, reference search, mark paid, refund)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Shop
from tests.e2e.pages import by, capture, sign_in
from tests.support.credentials import PASSWORD

pytestmark = pytest.mark.browser


def booking_row(page: Page, booking_id: int) -> Locator:
    return page.locator(f'[data-testid="sales-booking"][data-booking-id="{booking_id}"]')


def test_admin_sells_with_types_marks_a_transfer_paid_and_a_refund(shop: Shop, new_page) -> None:
    page = new_page(url=shop.url)
    sign_in(page, "admin@e2e.example.com", PASSWORD)
    by(page, "nav-admin").click()
    by(page, "new-event").click()
    name = f"Garden Concert {uuid.uuid4().hex[:4]}"
    by(page, "event-name-input").fill(name)
    by(page, "event-venue-input").fill("Lumphini Park")
    by(page, "event-timezone-input").fill("Asia/Bangkok")
    by(page, "event-starts-input").fill("2031-05-01T19:30")
    by(page, "event-capacity-input").fill("30")
    by(page, "event-max-input").fill("6")
    by(page, "event-limit-input").fill("4")
    by(page, "event-checkout-input").select_option("payment")
    by(page, "event-hold-input").fill("20")
    rows = by(page, "type-row")
    rows.nth(0).get_by_test_id("type-name-input").fill("Standard")
    by(page, "event-price-input").fill("600")
    by(page, "add-type").click()
    rows.nth(1).get_by_test_id("type-name-input").fill("VIP")
    rows.nth(1).get_by_test_id("type-price-input").fill("1500")
    rows.nth(1).get_by_test_id("type-capacity-input").fill("5")
    capture(page, "40-admin-new-event-with-types")
    by(page, "save-event").click()

    expect(page).to_have_url(re.compile(r"/admin/events/\d+/sales$"))
    event_id = int(re.search(r"/admin/events/(\d+)/sales", page.url).group(1))  # type: ignore[union-attr]
    expect(by(page, "sales-type")).to_have_count(2)
    expect(by(page, "checkout-mode")).to_contain_text("holds of 20 min")
    expect(by(page, "checkout-mode")).to_contain_text("at most 4 per customer")
    event = shop.api.event(event_id)
    assert (event["timezone"], event["starts_at"][:16], event["price"]) == ("Asia/Bangkok", "2031-05-01T12:30", "600.00")
    assert [(t["name"], t["price"], t["capacity"]) for t in event["ticket_types"]] == [
        ("Standard", "600.00", None),
        ("VIP", "1500.00", 5),
    ]

    # Edit: one more type, a new price, then the extra type deleted again.
    by(page, "edit-event").click()
    editor = by(page, "ticket-types-editor")
    expect(editor.get_by_test_id("type-row")).to_have_count(2)
    new_type = by(page, "new-type")
    new_type.get_by_test_id("type-name-input").fill("Student")
    new_type.get_by_test_id("type-price-input").fill("300")
    new_type.get_by_test_id("type-capacity-input").fill("10")
    new_type.get_by_test_id("add-type").click()
    expect(editor.get_by_test_id("type-row")).to_have_count(3)
    standard = editor.get_by_test_id("type-row").nth(0)
    standard.get_by_test_id("type-price-input").fill("650")
    standard.get_by_test_id("save-type").click()
    expect(standard.get_by_test_id("type-saved")).to_be_visible()
    capture(page, "41-admin-edit-types")
    student = editor.get_by_test_id("type-row").nth(2)
    student.get_by_test_id("delete-type").click()
    student.get_by_test_id("confirm-delete-type").click()
    expect(editor.get_by_test_id("type-row")).to_have_count(2)
    prices = {t["name"]: t["price"] for t in shop.api.event(event_id)["ticket_types"]}
    assert prices == {"Standard": "650.00", "VIP": "1500.00"}

    # Two buyers hold tickets, to be paid by bank transfer.
    types = {t["name"]: t["id"] for t in shop.api.event(event_id)["ticket_types"]}
    _, nok = shop.api.customer("Nok Transfer")
    _, lek = shop.api.customer("Lek Waiting")
    paying = shop.api.book_items(nok, event_id, [{"ticket_type_id": types["Standard"], "quantity": 2}])
    waiting = shop.api.book_items(lek, event_id, [{"ticket_type_id": types["VIP"], "quantity": 1}])
    assert paying["status"] == waiting["status"] == "PENDING"
    reference = paying["payment"]["reference"]

    page.goto(f"/admin/events/{event_id}/sales")
    expect(by(page, "sales-booking")).to_have_count(2)
    row = booking_row(page, paying["id"])
    expect(row.get_by_test_id("buyer-name")).to_have_text("Nok Transfer")
    expect(row.get_by_test_id("buyer-email")).to_contain_text("@e2e.example.com")
    expect(row.get_by_test_id("row-payment")).to_have_text("Payment due")
    standard_sales = page.locator('[data-testid="sales-type"]').nth(0)
    expect(standard_sales.get_by_test_id("type-held")).to_have_text("2")
    capture(page, "42-admin-sales-held")

    # The bank statement shows a transfer quoting the reference: find it, mark it paid.
    by(page, "reference-search").fill(reference)
    by(page, "reference-search-submit").click()
    expect(by(page, "sales-booking")).to_have_count(1)
    expect(row).to_be_visible()
    row.get_by_test_id("mark-paid").click()
    expect(row.get_by_test_id("confirm-action")).to_be_visible()
    capture(page, "43-admin-confirm-mark-paid")
    row.get_by_test_id("confirm-action").click()
    expect(row.get_by_test_id("row-status")).to_have_text("Confirmed")
    expect(row.get_by_test_id("row-payment")).to_have_text("Paid")
    expect(standard_sales.get_by_test_id("type-sold")).to_have_text("2")
    capture(page, "44-admin-marked-paid")

    # Filters: the one still waiting for its money.
    by(page, "reference-clear").click()
    by(page, "filter-payment").select_option("due")
    expect(by(page, "sales-booking")).to_have_count(1)
    expect(booking_row(page, waiting["id"]).get_by_test_id("buyer-name")).to_have_text("Lek Waiting")
    by(page, "filter-payment").select_option("")
    by(page, "filter-status").select_option("CONFIRMED")
    expect(by(page, "sales-booking")).to_have_count(1)
    expect(row).to_be_visible()
    capture(page, "45-admin-filtered")

    # The buyer cancels after all: the money is owed back, and paid back.
    by(page, "filter-status").select_option("")
    row.get_by_test_id("cancel").click()
    row.get_by_test_id("confirm-action").click()
    expect(row.get_by_test_id("row-status")).to_have_text("Cancelled")
    expect(row.get_by_test_id("row-payment")).to_have_text("Refund due")
    row.get_by_test_id("mark-refunded").click()
    row.get_by_test_id("confirm-action").click()
    expect(row.get_by_test_id("row-payment")).to_have_text("Refunded")
    expect(row.get_by_test_id("mark-refunded")).to_have_count(0)
    capture(page, "46-admin-refunded")
    assert shop.api.booking(shop.admin_token, paying["id"])["payment"]["status"] == "refunded"
