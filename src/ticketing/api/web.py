"""Serves the built web app at / with a fallback to index.html for the app's own routes."""

from __future__ import annotations

import logging
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


def mount_web_app(app: FastAPI, web_dir: Path | None) -> bool:
    root = (web_dir or DEFAULT_WEB_DIR).resolve()
    index = root / "index.html"
    if not index.is_file():
        log.warning("web app not built (%s missing): serving the API only", index)
        return False

    @app.get("/{path:outside_api}", include_in_schema=False)
    async def web_app(path: str) -> FileResponse:
        if path.startswith(_NOT_APP_ROUTES):
            raise HTTPException(404, "Not Found")
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            return FileResponse(candidate)
        if "." in path.rsplit("/", 1)[-1]:
            raise HTTPException(404, "Not Found")  # a missing asset, not an app route
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    return True
