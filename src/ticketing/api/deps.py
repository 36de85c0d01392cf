"""FastAPI dependencies as Annotated aliases, so routes read like sentences."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import OAuth2PasswordBearer

from ticketing.api.schemas import MAX_ID
from ticketing.api.services import Services
from ticketing.app.ports import Page, Store
from ticketing.domain.errors import Forbidden, InvalidInput, SessionEnded
from ticketing.domain.models import Caller, User

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]


async def _store(services: ServicesDep) -> Store:
    return services.store


StoreDep = Annotated[Store, Depends(_store)]
# The bearer token as sent, if any: routes that need no account read resolve it themselves.
BearerToken = Annotated[str | None, Depends(_bearer)]


async def require_caller(services: ServicesDep, token: BearerToken) -> Caller:
    return services.tokens.caller(token)


# Who the token names (its signature checked, nothing read): with CurrentUser, whose session it is.
CallerDep = Annotated[Caller, Depends(require_caller)]


async def require_user(services: ServicesDep, caller: CallerDep) -> User:
    # One read: the account, only while the token's session is live (signed out, ended by a
    # password change or an account gone all answer 401 here, on every process at once).
    user = await services.store.users.by_session(caller)
    if user is None:
        raise SessionEnded()
    return user


CurrentUser = Annotated[User, Depends(require_user)]


async def signed_in(request: Request) -> User:
    """The account of ``request``'s token while its session is live, judged as CallerDep then
    CurrentUser judge it (401 otherwise), for a route that needs it where they did not run."""
    services = await _services(request)
    return await require_user(services, await require_caller(services, await _bearer(request)))


async def require_admin(user: CurrentUser) -> User:
    # The role is judged before the body, the path and the query (422), as the token is before
    # the role: a customer learns that the action is not theirs, not what else is wrong with it.
    # (The use cases check the role again: this is the route's early answer, not the guard.)
    if not user.is_admin:
        raise Forbidden()
    return user


AdminUser = Annotated[User, Depends(require_admin)]


def _page(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    # As far as a 64-bit OFFSET goes, as an id does: past the last row, an empty page.
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Page:
    return Page(limit=limit, offset=offset)


PageDep = Annotated[Page, Depends(_page)]

# The contract's key: 1..255 visible ASCII characters (the booking fast path checks the same).
IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_KEY_CHARS = r"\x21-\x7e"
_OneKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=IDEMPOTENCY_KEY_MAX, pattern=f"^[{IDEMPOTENCY_KEY_CHARS}]+$"),
]


async def _idempotency_key(request: Request, key: _OneKey = None) -> str | None:
    # The header parameter reads only the first of several: a second key, which the client meant
    # for something, would be ignored without a word. Two keys are malformed input instead.
    if len(request.headers.getlist("Idempotency-Key")) > 1:
        raise InvalidInput([{"type": "value_error", "loc": ["header", "Idempotency-Key"],
                             "msg": "Idempotency-Key must be sent at most once"}])
    return key


IdempotencyKey = Annotated[str | None, Depends(_idempotency_key)]
