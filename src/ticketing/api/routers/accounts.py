"""Register, sign in, who am I."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import OAuth2PasswordRequestForm

from ticketing.api.deps import CurrentUser, ServicesDep
from ticketing.api.schemas import (
    COMMON_ERRORS,
    TOO_MANY_REQUESTS,
    UNAUTHENTICATED,
    ErrorOut,
    RegisterIn,
    TokenOut,
    UserOut,
)
from ticketing.app import accounts

router = APIRouter(tags=["accounts"], responses=COMMON_ERRORS)


@router.post(
    "/auth/register", status_code=201, response_model=UserOut,
    responses={409: {"model": ErrorOut, "description": "email_taken"}},
)
async def register(body: RegisterIn, services: ServicesDep) -> UserOut:
    user = await accounts.register(
        services.store, services.passwords, email=body.email, password=body.password, name=body.name
    )
    return UserOut.of(user)


@router.post(
    "/auth/token", response_model=TokenOut,
    responses={401: {"model": ErrorOut, "description": "invalid_credentials"}, 429: TOO_MANY_REQUESTS},
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, services: ServicesDep
) -> TokenOut:
    for field, value in (("username", form.username), ("password", form.password)):
        if "\x00" in value or len(value) > 1000:
            raise RequestValidationError([{"type": "value_error", "loc": ("body", field), "msg": "invalid value"}])
    settings = services.settings
    user = await accounts.sign_in(
        services.store,
        services.passwords,
        email=form.username,
        password=form.password,
        client=(request.client.host if request.client else "unknown")[:64],
        now=datetime.now(UTC),
        max_failures=settings.sign_in_max_failures,
        window=timedelta(seconds=settings.sign_in_window_seconds),
    )
    return TokenOut(
        access_token=services.tokens.issue(user.id),
        expires_in=int(services.tokens.lifetime.total_seconds()),
    )


@router.get("/users/me", response_model=UserOut, responses={401: UNAUTHENTICATED})
async def me(user: CurrentUser) -> UserOut:
    return UserOut.of(user)
