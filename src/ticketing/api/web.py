"""Serves the built web app at / with a fallback to index.html for the app's own routes."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
from starlette.convertors import Convertor, register_url_convertor

log = logging.getLogger(__name__)
# Where `scripts/web-build` puts the Angular build (editable install from the repository).
DEFAULT_WEB_DIR = Path(__file__).resolve().parents[3] / "web" / "dist" / "web" / "browser"
_NOT_APP_ROUTES = ("api/", "docs", "openapi.json", "redoc", "healthz", "readyz", "metrics")


class _OutsideApi(Convertor[str]):
    """Any path not under /api/: there, an unknown route must stay a 404 for every method, and
    a GET-only catch-all matching it would turn POST /api/v1/unknown into 405."""

    regex = r"(?!api(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("outside_api", _OutsideApi())

# Inline code the build leaves in index.html: <script> bodies, and event-handler attributes
# (the Angular build loads its stylesheet with onload="this.media='all'").
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
_HANDLER = re.compile(r"""\son[a-z]+=(?:"([^"]*)"|'([^']*)')""", re.I)


def _sha256(code: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode() + "'"


def content_security_policy(index_html: str) -> str:
    """The CSP of the web app: its own files only, plus exactly the inline code of this build
    (by hash). Styles may be inline (Angular adds its component styles as <style> elements);
    images may be data: URLs (the tickets' QR codes). No plugins, no framing, no <base> or
    form target elsewhere. The token lives in sessionStorage: this is the backstop against XSS."""
    scripts = [_sha256(code) for code in _INLINE_SCRIPT.findall(index_html) if code.strip()]
    handlers = [_sha256(a or b) for a, b in _HANDLER.findall(index_html)]
    script_src = " ".join(["'self'", *(["'unsafe-hashes'"] if handlers else []), *dict.fromkeys(scripts + handlers)])
    return (
        f"default-src 'self'; script-src {script_src}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def mount_web_app(app: FastAPI, web_dir: Path | None) -> bool:
    root = (web_dir or DEFAULT_WEB_DIR).resolve()
    index = root / "index.html"
    if not index.is_file():
        log.warning("web app not built (%s missing): serving the API only", index)
        return False
    csp = {"Content-Security-Policy": content_security_policy(index.read_text(encoding="utf-8"))}

    @app.get("/{path:outside_api}", include_in_schema=False)
    async def web_app(path: str) -> FileResponse:
        # A NUL (or other control character) names no file: the OS would refuse the name.
        if path.startswith(_NOT_APP_ROUTES) or _CONTROL.search(path):
            raise HTTPException(404, "Not Found")
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            return FileResponse(candidate, headers=csp)
        if "." in path.rsplit("/", 1)[-1]:
            raise HTTPException(404, "Not Found")  # a missing asset, not an app route
        return FileResponse(index, headers={"Cache-Control": "no-cache", **csp})

    return True
