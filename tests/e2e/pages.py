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


def keep_event_stale_until_booking(page: Page, event: dict) -> None:  # type: ignore[type-arg]
    """Until this page posts a booking, its polls of the event answer `event` as it is now.

    Someone else's purchase then cannot reach the page before the Book click, so the test
    always exercises the stale-page path (the one a real race produces) and never flakes
    on a poll landing in between. Reads after the booking request are real.
    """
    booked = False

    def handle(route, request) -> None:  # type: ignore[no-untyped-def]
        nonlocal booked
        if request.method == "POST" and request.url.endswith("/api/v1/bookings"):
            booked = True
        if request.method == "GET" and not booked:
            route.fulfill(json=event)
        else:
            route.continue_()

    page.route(f"**/api/v1/events/{event['id']}", handle)
    page.route("**/api/v1/bookings", handle)


def session_token(page: Page) -> str:
    """The bearer token the app holds for this tab (sessionStorage), to check it at the API."""
    token = page.evaluate("() => JSON.parse(sessionStorage.getItem('ticketing.session') ?? 'null')?.token ?? null")
    assert isinstance(token, str) and token, "the page holds no session"
    return token


def change_password(page: Page, current: str, new: str) -> None:
    """Changes the password on the account page; the app then sends the user to sign in again."""
    by(page, "nav-account").click()
    by(page, "current-password").fill(current)
    by(page, "new-password").fill(new)
    by(page, "confirm-password").fill(new)
    by(page, "change-password-submit").click()
    expect(by(page, "sign-in-notice")).to_be_visible()
