"""The built web app works under its Content-Security-Policy: the browser blocks nothing.

Chromium reports each blocked script, style, image or connection as a ``securitypolicyviolation``
event; the pages a customer sees (events, an event, sign-in, bookings with QR codes) must raise
none, and the build's stylesheet (switched on by an inline onload handler, allowed by its hash)
must be applied.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import book, by, open_event, sign_in

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def test_the_app_runs_under_its_csp_without_a_violation(new_page, api, admin_token, new_account) -> None:
    event = api.create_event(admin_token, name=f"CSP Night {uuid.uuid4().hex[:4]}", capacity=5, max_per_booking=2)
    account = new_account()
    page = new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto("/")
    assert response is not None and "frame-ancestors 'none'" in response.headers["content-security-policy"]
    # The stylesheet loaded with media="print" is switched to "all" by the allowed inline handler.
    expect(page.locator('link[rel="stylesheet"]')).to_have_attribute("media", "all")
    sign_in(page, account.email, account.password)
    open_event(page, event["id"])
    book(page, 2)
    by(page, "go-to-bookings").click()  # in-app navigation: the page (and its listener) stays
    qr_images = by(page, "booking-card").first.get_by_test_id("ticket-qr")
    expect(qr_images).to_have_count(2)
    for image in qr_images.all():  # data: URLs, allowed by img-src
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.evaluate("window.__cspViolations") == []
