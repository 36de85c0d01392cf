"""A 405 answer's ``Allow`` header names every method of the path, as RFC 9110 requires.

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

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods = self.methods(scope)
                if methods:
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                    message = {**message, "headers": [*headers, (b"allow", ", ".join(methods).encode())]}
            await send(message)

        await self.app(scope, receive, send_with_allow)

    def methods(self, scope: Scope) -> list[str]:
        """Every method the router would serve at this request's path.

        It asks each route, through Starlette's public ``matches``, rather than reading route
        lists: FastAPI keeps included routers as nested groups whose layout changes between
        versions, and a group answers ``matches`` like any route.
        """
        allowed = []
        for method in _METHODS:
            probe: Scope = {"type": "http", "path": scope["path"], "root_path": scope.get("root_path", ""), "method": method}
            if any(route.matches(probe)[0] is Match.FULL for route in self.router.routes):
                allowed.append(method)
        return allowed


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
