"""Two browser sessions race for the last ticket: exactly one gets it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import by, keep_event_stale_until_booking, open_event, sign_in

pytestmark = pytest.mark.browser


def test_two_sessions_race_for_the_last_ticket(new_page, new_account, api, admin_token, shot) -> None:
    event = api.create_event(admin_token, name="Last Seat Recital", capacity=3, max_per_booking=4)
    api.book(admin_token, event["id"], 2)  # one ticket left
    one_left = api.event(event["id"])
    pages: list[Page] = []
    for _ in range(2):
        account = new_account()
        page = new_page()
        sign_in(page, account.email, account.password)
        keep_event_stale_until_booking(page, one_left)
        open_event(page, event["id"])
        expect(by(page, "event-availability")).to_have_text("1 left")
        expect(by(page, "quantity").locator("option")).to_have_count(1)
        pages.append(page)

    # Both pages still say "1 left" when both buttons are pressed.
    for page in pages:
        by(page, "book-button").click(no_wait_after=True)
    for page in pages:
        expect(by(page, "booking-success").or_(by(page, "sold-out-message"))).to_be_visible()

    winners = [page for page in pages if by(page, "booking-success").is_visible()]
    losers = [page for page in pages if by(page, "sold-out-message").is_visible()]
    assert len(winners) == 1 and len(losers) == 1
    winner, loser = winners[0], losers[0]
    expect(by(winner, "booked-ticket-code")).to_have_count(1)
    shot(winner, "10-race-winner")

    expect(by(loser, "sold-out-message")).to_contain_text("Sold out")
    expect(by(loser, "quantity")).to_have_attribute("data-max", "0")
    expect(by(loser, "quantity")).to_be_disabled()
    expect(by(loser, "book-button")).to_be_disabled()
    expect(by(loser, "event-availability")).to_have_text("Sold out")
    shot(loser, "11-race-loser-sold-out")

    final = api.event(event["id"])
    assert (final["tickets_sold"], final["available"]) == (3, 0)


def test_sold_out_clamps_the_picker_to_what_is_left(new_page, new_account, api, admin_token, shot) -> None:
    event = api.create_event(admin_token, name="Small Room", capacity=6, max_per_booking=4)
    account = new_account()
    page = new_page()
    sign_in(page, account.email, account.password)
    keep_event_stale_until_booking(page, event)
    open_event(page, event["id"])
    by(page, "quantity").select_option("4")
    api.book(admin_token, event["id"], 4)  # someone else is faster: 2 left, the page still says 6

    by(page, "book-button").click()
    expect(by(page, "sold-out-message")).to_contain_text("only 2 left")
    expect(by(page, "quantity").locator("option")).to_have_count(2)
    expect(by(page, "quantity")).to_have_value("2")
    expect(by(page, "book-button")).to_be_enabled()
    shot(page, "12-clamped-to-what-is-left")
