"""Check-in at the door with the phone's camera, in Chromium with a fake camera whose video is
a ticket's QR code (made here, from the QR image the app shows the ticket's owner)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from tests.e2e.browser import CHROMIUM_ARGS
from tests.e2e.conftest import Shop
from tests.e2e.pages import by, capture, sign_in
from tests.support.credentials import PASSWORD

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 640, 480
# The page draws the ticket's QR image (an SVG data URL) on a white frame and answers the
# frame's luma (BT.601, full range: the Y of 4:2:0 JPEG-range YUV) as base64.
FRAME_LUMA = """async ({ width, height }) => {
  const img = document.querySelector('[data-testid="ticket-qr"]');
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, width, height);
  g.imageSmoothingEnabled = false;
  const side = Math.round(height * 0.8);
  g.drawImage(img, (width - side) / 2, (height - side) / 2, side, side);
  const rgba = g.getImageData(0, 0, width, height).data;
  const luma = new Uint8Array(width * height);
  for (let i = 0; i < luma.length; i++) {
    luma[i] = Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]);
  }
  let binary = '';
  for (let i = 0; i < luma.length; i += 8192) binary += String.fromCharCode(...luma.subarray(i, i + 8192));
  return btoa(binary);
}"""


def write_y4m(path: Path, luma: bytes, frames: int = 5) -> None:
    """A grey Y4M video (4:2:0, neutral chroma) that Chromium's fake camera plays in a loop."""
    assert len(luma) == WIDTH * HEIGHT
    chroma = bytes([128]) * (WIDTH // 2 * (HEIGHT // 2))
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + luma + chroma + chroma)


@pytest.fixture
def camera_browser(playwright_driver: Playwright, chromium: Path, tmp_path: Path) -> Iterator[Callable[[bytes], Browser]]:
    """Launches a Chromium whose camera plays a still video of the given frame (its luma)."""
    launched: list[Browser] = []

    def launch(luma: bytes) -> Browser:
        video = tmp_path / "camera.y4m"
        write_y4m(video, luma)
        browser = playwright_driver.chromium.launch(
            executable_path=str(chromium),
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        launched.append(browser)
        return browser

    yield launch
    for browser in launched:
        browser.close()


def test_door_staff_scan_a_ticket_with_the_camera(shop: Shop, new_page, camera_browser) -> None:
    event = shop.api.create_event(
        shop.admin_token, name=f"Camera Door {uuid.uuid4().hex[:4]}", capacity=10, price="200.00"
    )
    email, token = shop.api.customer()
    [ticket] = shop.api.book(token, event["id"], 1)["tickets"]

    # The ticket as its owner sees it: its QR image becomes the camera's picture.
    owner = new_page(url=shop.url)
    sign_in(owner, email, PASSWORD)
    owner.goto("/bookings")
    expect(by(owner, "ticket-qr")).to_have_count(1)
    luma = base64.b64decode(owner.evaluate(FRAME_LUMA, {"width": WIDTH, "height": HEIGHT}))
    browser = camera_browser(luma)
    context = browser.new_context(base_url=shop.url, viewport={"width": 390, "height": 844}, timezone_id="Asia/Bangkok")
    context.grant_permissions(["camera"])
    context.set_default_timeout(15_000)
    try:
        page: Page = context.new_page()
        sign_in(page, "admin@e2e.example.com", PASSWORD)
        page.goto("/admin/check-in")
        capture(page, "50-check-in-camera-off")
        by(page, "camera-start").click()
        result = by(page, "check-in-result")
        expect(result).to_have_attribute("data-result", "admitted", timeout=30_000)
        expect(result).to_contain_text(ticket["code"])
        expect(by(page, "check-in-event")).to_have_text(event["name"])
        expect(by(page, "camera-state")).to_have_attribute("data-state", "on")
        capture(page, "51-check-in-camera-admitted")
        assert shop.api.booking(token, ticket["booking_id"])["tickets"][0]["status"] == "USED"

        # The same ticket shown again (camera restarted): already used.
        by(page, "camera-stop").click()
        by(page, "camera-start").click()
        expect(result).to_have_attribute("data-result", "already", timeout=30_000)
        expect(result).to_contain_text("Already checked in")
        capture(page, "52-check-in-camera-already-used")
        by(page, "camera-stop").click()
        expect(by(page, "camera-start")).to_be_visible()
    finally:
        context.close()
