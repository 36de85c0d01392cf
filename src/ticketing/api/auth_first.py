"""Who asks is judged before what is asked: a route that needs a signed-in caller answers a bad
token 401 (and a customer on an admin route 403) before it refuses the request's input (422).

FastAPI runs a route's dependencies (the token, the session, the role: deps.py) before it
validates the body's fields, so that order holds by itself, except where FastAPI refuses
earlier or judges less: a body that is not JSON at all is refused while it is parsed, before any
dependency runs; and the booking route's caller is its token alone (a valid booking reads
nothing for it: the booking write checks the session), so a signed-out token with an invalid
body was refused as invalid. ``AuthFirst`` judges the caller again on those refusals, and only
on them: an answer that is not a refusal of input costs nothing more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from ticketing.api import deps

Judge = Callable[[Request], Awaitable[object]]


async def _admin_judge(request: Request) -> object:
    return await deps.require_admin(await deps.signed_in(request))


def _judge(dependant: Dependant) -> Judge | None:
    """How a route's caller is judged, from the dependencies it declares (None: no caller needed)."""
    calls: set[object] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        calls.add(current.call)
        pending.extend(current.dependencies)
    if deps.require_admin in calls:
        return _admin_judge
    if calls & {deps.require_user, deps.require_caller}:
        return deps.signed_in
    return None


class AuthFirst(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        judge = _judge(self.dependant)
        if judge is None:
            return handler

        async def caller_before_input(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError:
                await judge(request)  # 401 or 403 for the caller; else the 422 stands
                raise
            except HTTPException as error:
                if error.status_code == 400:  # a body FastAPI could not even parse (errors.py: 422)
                    await judge(request)
                raise

        return caller_before_input
