"""The booking client retries lost or refused requests with one Idempotency-Key per click."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import by, open_event, sign_in

pytestmark = pytest.mark.browser


def test_retries_after_a_lost_request_and_a_503_with_the_same_key(new_page, new_account, api, admin_token) -> None:
    event = api.create_event(admin_token, name="Flaky Network Night", capacity=10)
    account = new_account()
    page = new_page()
    sign_in(page, account.email, account.password)
    open_event(page, event["id"])

    keys: list[str] = []

    def flaky(route, request) -> None:  # type: ignore[no-untyped-def]
        keys.append(request.headers.get("idempotency-key", ""))
        if len(keys) == 1:
            route.abort("connectionreset")
        elif len(keys) == 2:
            route.fulfill(
                status=503,
                headers={"Retry-After": "1"},
                content_type="application/json",
                body=json.dumps({"detail": "Service unavailable", "code": "unavailable"}),
            )
        else:
            route.continue_()

    page.route("**/api/v1/bookings", flaky)
    by(page, "quantity").select_option("3")
    by(page, "book-button").click()
    expect(by(page, "book-button")).to_be_disabled()
    expect(by(page, "booking-success")).to_be_visible()
    expect(by(page, "booked-ticket-code")).to_have_count(3)

    assert len(keys) == 3 and len(set(keys)) == 1 and keys[0]
    assert api.event(event["id"])["tickets_sold"] == 3

    # A second click is a new purchase with a new key.
    by(page, "quantity").select_option("1")
    by(page, "book-button").click()
    expect(by(page, "booked-ticket-code")).to_have_count(1)
    assert len(keys) == 4 and keys[3] != keys[0]


def test_other_client_errors_show_the_contract_message(new_page, new_account, api, admin_token) -> None:
    event = api.create_event(admin_token, name="Closed Sales", capacity=10)
    account = new_account()
    page = new_page()
    sign_in(page, account.email, account.password)
    open_event(page, event["id"])
    calls: list[str] = []

    def closed(route, request) -> None:  # type: ignore[no-untyped-def]
        calls.append(request.url)
        route.fulfill(
            status=400,
            content_type="application/json",
            body=json.dumps({"detail": "Ticket sales for this event are closed.", "code": "sales_closed"}),
        )

    page.route("**/api/v1/bookings", closed)
    by(page, "book-button").click()
    expect(by(page, "booking-error")).to_have_text("Ticket sales for this event are closed.")
    assert len(calls) == 1
