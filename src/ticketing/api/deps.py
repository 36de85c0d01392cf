"""FastAPI dependencies as Annotated aliases, so routes read like sentences."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import OAuth2PasswordBearer

from ticketing.api.auth import NotAuthenticated
from ticketing.api.schemas import MAX_ID
from ticketing.api.services import Services
from ticketing.app.ports import Page
from ticketing.db.repositories import SqlStore
from ticketing.domain.models import User

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(_services)]


async def _store(services: ServicesDep) -> SqlStore:
    return services.store


StoreDep = Annotated[SqlStore, Depends(_store)]


async def _current_user(services: ServicesDep, token: Annotated[str | None, Depends(_bearer)]) -> User:
    if not token:
        raise NotAuthenticated()
    user = await services.store.users.get(services.tokens.user_id(token))
    if user is None:
        raise NotAuthenticated("Invalid or expired token.")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]


def _page(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Page:
    return Page(limit=limit, offset=offset)


PageDep = Annotated[Page, Depends(_page)]

# The contract's key: 1..255 visible ASCII characters (the booking fast path checks the same).
IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_KEY_CHARS = r"\x21-\x7e"
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=IDEMPOTENCY_KEY_MAX, pattern=f"^[{IDEMPOTENCY_KEY_CHARS}]+$"),
]
