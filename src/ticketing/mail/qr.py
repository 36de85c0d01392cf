"""A ticket's QR code as a PNG: what the door scans (it holds the ticket code, nothing else)."""

from __future__ import annotations

import io

import segno

# Medium error correction survives a creased printout or a cracked phone screen; scale 6 makes
# a 22-character code about 200 pixels wide, readable from a screen at arm's length.
_ERROR_CORRECTION = "m"
_SCALE = 6
_QUIET_ZONE = 4  # modules of white around it, as the standard asks


def qr_png(code: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(code, error=_ERROR_CORRECTION, micro=False).save(buffer, kind="png", scale=_SCALE, border=_QUIET_ZONE)
    return buffer.getvalue()
