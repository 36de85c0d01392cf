"""Steps that several browser tests share, written against data-testid selectors."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def by(page: Page, test_id: str):  # type: ignore[no-untyped-def]
    return page.get_by_test_id(test_id)


def sign_in(page: Page, email: str, password: str, *, path: str = "/sign-in") -> None:
    page.goto(path)
    by(page, "email").fill(email)
    by(page, "password").fill(password)
    by(page, "submit").click()
    expect(by(page, "sign-out")).to_be_visible()


def open_event(page: Page, event_id: int) -> None:
    page.goto(f"/events/{event_id}")
    expect(by(page, "event-name")).to_be_visible()


def book(page: Page, quantity: int) -> list[str]:
    """Books on the open event page and returns the ticket codes shown."""
    by(page, "quantity").select_option(str(quantity))
    by(page, "book-button").click()
    expect(by(page, "booking-success")).to_be_visible()
    codes = by(page, "booked-ticket-code")
    expect(codes).to_have_count(quantity)
    return [text.strip() for text in codes.all_inner_texts()]
