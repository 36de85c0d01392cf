"""Debian's Chromium for Playwright: no browser download, flags for running as root in a box."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

from ticketing.packages import PackageError, apt_install

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def ensure_thai_font() -> None:
    """Screenshots of the Thai pages need a Thai font; without one they still pass, as boxes."""
    if shutil.which("fc-list") is None:
        return
    listed = subprocess.run(["fc-list", ":lang=th"], capture_output=True, text=True, check=False)
    if not listed.stdout.strip():
        with contextlib.suppress(PackageError):
            apt_install("fonts-thai-tlwg", recommends=False)


def ensure_chromium() -> Path:
    """Installs Debian's chromium package when missing (tests run as root); fails if it cannot."""
    if not CHROMIUM.exists():
        apt_install("chromium", recommends=False)
    if not CHROMIUM.exists():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} is missing")
    return CHROMIUM
