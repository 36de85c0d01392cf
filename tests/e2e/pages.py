"""Steps that several browser tests share, written against data-testid selectors."""

from __future__ import annotations

from pathlib import Path

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


# --- The shop (issue 11): every step seen in both languages, on a phone and a laptop -------------

ROOT = Path(__file__).resolve().parents[2]
# axe-core is a pinned devDependency of the web app (web/package.json), installed by web-build.
AXE_SOURCE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SHOP_ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "shop"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help} -> ` +
    v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\\s+/g, ' ')).join(' | '));
}"""


def axe_violations(page: Page) -> list[str]:
    """What axe-core (all its rules for WCAG 2 A/AA and best practice) finds on the page now.

    Injected through the DevTools protocol, which the page's Content-Security-Policy does not
    govern, so the app is checked under its real CSP.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    return list(page.evaluate(RUN_AXE))


def use_language(page: Page, lang: str) -> None:
    by(page, f"lang-{lang}").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


def capture(page: Page, name: str) -> None:
    """One step of a flow, as a person would meet it: in English and Thai, axe-core reports
    nothing, the phone layout needs no sideways scroll, and a full-page screenshot of each
    language on a phone and a laptop lands in tests/e2e/artifacts/shop/. The page is left in
    its language and size."""
    SHOP_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    start_lang = page.evaluate("() => document.documentElement.lang") or "en"
    start_size = page.viewport_size or LAPTOP
    problems: list[str] = []
    for lang in ("en", "th"):
        use_language(page, lang)
        problems += [f"[{lang}] {violation}" for violation in axe_violations(page)]
        for device, size in (("phone", PHONE), ("laptop", LAPTOP)):
            page.set_viewport_size(size)
            if device == "phone" and not page.evaluate(
                "() => document.documentElement.scrollWidth <= window.innerWidth"
            ):
                problems.append(f"[{lang}] the phone layout scrolls sideways")
            page.screenshot(path=str(SHOP_ARTIFACTS / f"{name}-{lang}-{device}.png"), full_page=True)
    page.set_viewport_size(start_size)
    use_language(page, start_lang)
    assert not problems, f"{name}:\n" + "\n".join(problems)
