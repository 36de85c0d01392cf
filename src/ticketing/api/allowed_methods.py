"""The methods a path takes: HEAD wherever GET is, and a 405's ``Allow`` naming them all.

FastAPI's routes, unlike Starlette's, do not answer HEAD where they answer GET (its issue
1773), so ``HEAD /healthz`` was a 405, while HTTP has a server that takes GET take HEAD too
(RFC 9110, 9.3.2). This middleware serves a HEAD as the path's GET, with the same status and
headers and no body. Adding HEAD to the routes instead would list a HEAD operation for each GET
in the OpenAPI description.

FastAPI makes one Starlette route per path operation, and Starlette's router answers 405 from
the first route whose path matched, so ``OPTIONS /api/v1/bookings`` said ``Allow: POST`` and
left out ``GET``. This middleware, inside the exception handlers (which build the 405 body),
rewrites that header with every method some route serves at the path.
"""

from __future__ import annotations

from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class AllowedMethods:
    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head and self.serves(scope, "GET") and not self.serves(scope, "HEAD"):
            # In place, so the layers outside see the route it matched (the latency metric's
            # label); the request context has noted the method as sent.
            scope["method"] = "GET"

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods = self.methods(scope)
                if methods:
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                    message = {**message, "headers": [*headers, (b"allow", ", ".join(methods).encode())]}
            elif head and message["type"] == "http.response.body":
                # No body to a HEAD, whatever answered it (the server drops one too, but not
                # every server, nor an in-process client). Content-Length stays the GET's.
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, send_with_allow)

    def methods(self, scope: Scope) -> list[str]:
        """Every method the router would serve at this request's path, HEAD where GET is."""
        served = {method for method in _METHODS if self.serves(scope, method)}
        if "GET" in served:
            served.add("HEAD")
        return sorted(served)

    def serves(self, scope: Scope, method: str) -> bool:
        """Whether some route serves ``method`` at this request's path.

        It asks each route, through Starlette's public ``matches``, rather than reading route
        lists: FastAPI keeps included routers as nested groups whose layout changes between
        versions, and a group answers ``matches`` like any route.
        """
        probe: Scope = {"type": "http", "path": scope["path"], "root_path": scope.get("root_path", ""), "method": method}
        return any(route.matches(probe)[0] is Match.FULL for route in self.router.routes)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
