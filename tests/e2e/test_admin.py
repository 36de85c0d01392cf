"""An admin creates an event, sees its sales, and checks tickets in at the door."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import book, by, open_event, sign_in

pytestmark = pytest.mark.browser


def test_admin_creates_an_event_and_checks_a_ticket_in(new_page, admin, shot) -> None:
    page = new_page()
    sign_in(page, admin.email, admin.password)
    by(page, "nav-admin").click()
    expect(page).to_have_url(re.compile(r"/admin$"))
    shot(page, "20-admin-events")

    by(page, "new-event").click()
    by(page, "event-name-input").fill("Door Test Night")
    by(page, "event-description-input").fill("An event made in the admin page.")
    by(page, "event-venue-input").fill("Warehouse 30")
    by(page, "event-starts-input").fill("2031-03-15T19:30")
    by(page, "event-capacity-input").fill("10")
    by(page, "event-max-input").fill("4")
    by(page, "event-price-input").fill("750")
    shot(page, "21-admin-event-form")
    by(page, "save-event").click()
    expect(page).to_have_url(re.compile(r"/admin/events/\d+/sales$"))
    expect(by(page, "sales-numbers")).to_contain_text("0 / 10")
    event_id = int(re.search(r"/admin/events/(\d+)/sales", page.url).group(1))  # type: ignore[union-attr]

    open_event(page, event_id)
    expect(by(page, "event-price")).to_contain_text("750.00")
    expect(by(page, "event-date")).to_contain_text("15 Mar 2031, 19:30")
    [code] = book(page, 1)

    page.goto(f"/admin/events/{event_id}/sales")
    expect(by(page, "sales-numbers")).to_contain_text("1 / 10")
    expect(by(page, "sales-booking")).to_have_count(1)
    shot(page, "22-admin-sales")

    page.goto("/admin/check-in")
    by(page, "check-in-code").fill(f"  {code}  ")
    by(page, "check-in-submit").click()
    result = by(page, "check-in-result")
    expect(result).to_have_attribute("data-result", "admitted")
    expect(result).to_contain_text("VALID → USED")
    shot(page, "23-check-in-valid")

    by(page, "check-in-code").fill(code)
    by(page, "check-in-code").press("Enter")
    expect(result).to_have_attribute("data-result", "already")
    expect(result).to_contain_text("Already checked in")
    shot(page, "24-check-in-already")


def test_admin_edits_an_event_and_sees_void_tickets(new_page, admin, api, admin_token, shot) -> None:
    event = api.create_event(admin_token, name="Edit Me", capacity=5)
    booking = api.book(admin_token, event["id"], 2)
    api.cancel(admin_token, booking["id"])
    page = new_page()
    sign_in(page, admin.email, admin.password)

    page.goto(f"/admin/events/{event['id']}/edit")
    expect(by(page, "event-name-input")).to_have_value("Edit Me")
    by(page, "event-name-input").fill("Edited Event")
    by(page, "event-capacity-input").fill("40")
    shot(page, "25-admin-edit-event")
    by(page, "save-event").click()
    expect(by(page, "sales-numbers")).to_contain_text("0 / 40")
    expect(page.get_by_role("heading", name="Sales: Edited Event")).to_be_visible()

    page.goto("/admin/check-in")
    by(page, "check-in-code").fill(booking["tickets"][0]["code"])
    by(page, "check-in-submit").click()
    expect(by(page, "check-in-result")).to_have_attribute("data-result", "void")
    shot(page, "26-check-in-void")

    by(page, "check-in-code").fill("no-such-ticket-code")
    by(page, "check-in-submit").click()
    expect(by(page, "check-in-result")).to_have_attribute("data-result", "unknown")


def test_admin_pages_are_for_admins_only(new_page, new_account) -> None:
    account = new_account()
    page = new_page()
    page.goto("/admin/check-in")
    expect(page).to_have_url(re.compile(r"/sign-in\?returnUrl=%2Fadmin%2Fcheck-in"))
    by(page, "email").fill(account.email)
    by(page, "password").fill(account.password)
    by(page, "submit").click()
    expect(page).to_have_url(re.compile(r"/events$"))
    expect(by(page, "nav-admin")).to_have_count(0)
