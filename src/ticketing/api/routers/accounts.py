"""Register, sign in, who am I; sign out, sign out everywhere, change the password."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, params
from fastapi.security import OAuth2PasswordRequestForm

from ticketing.api.auth_first import AuthFirst
from ticketing.api.deps import CallerDep, CurrentUser, ServicesDep
from ticketing.api.errors import COMMON_ERRORS, documented, invalid_input
from ticketing.api.schemas import PasswordChangeIn, RegisterIn, TokenOut, UserOut
from ticketing.app import accounts
from ticketing.domain.errors import EmailTaken, InvalidCredentials, NotAuthenticated, TooManyRequests
from ticketing.domain.models import MAX_EMAIL_LENGTH

router = APIRouter(tags=["accounts"], responses=COMMON_ERRORS, route_class=AuthFirst)

# A password at sign-in is never stored; past this it is refused unread as malformed input.
_MAX_SIGN_IN_PASSWORD = 1000


def _client(request: Request) -> str:
    # The address the connection came from (or, behind a trusted proxy, the one it forwarded).
    return (request.client.host if request.client else "unknown")[:64]


def _limited(name: str) -> params.Depends:
    """Counts the request against the per-address limit ``name`` (api/rate_limit.py) first."""

    async def check(request: Request, services: ServicesDep) -> None:
        services.address_limits.hit(name, _client(request))

    dependency: params.Depends = Depends(check)
    return dependency


@router.post(
    "/auth/register", status_code=201, response_model=UserOut,
    responses=documented(EmailTaken, TooManyRequests), dependencies=[_limited("register")],
)
async def register(body: RegisterIn, services: ServicesDep) -> UserOut:
    user = await accounts.register(
        services.store, services.passwords, email=body.email, password=body.password, name=body.name,
        language=body.language,
    )
    return UserOut.of(user)


@router.post(
    "/auth/token", response_model=TokenOut,
    responses=documented(InvalidCredentials, TooManyRequests), dependencies=[_limited("sign_in")],
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, services: ServicesDep
) -> TokenOut:
    # No account's email is longer than its column (as stored: trimmed, lower case); a longer
    # one is malformed input, and is never written (not even as a failed sign-in).
    limits = (("username", len(accounts.normalise_email(form.username)), MAX_EMAIL_LENGTH),
              ("password", len(form.password), _MAX_SIGN_IN_PASSWORD))
    for field, length, most in limits:
        value = getattr(form, field)
        if "\x00" in value or length > most:
            raise invalid_input([{"type": "value_error", "loc": ("body", field), "msg": f"at most {most} characters, no NUL"}])
    settings = services.settings
    caller = await accounts.sign_in(
        services.store,
        services.passwords,
        email=form.username,
        password=form.password,
        client=_client(request),
        now=datetime.now(UTC),
        max_failures=settings.sign_in_max_failures,
        window=timedelta(seconds=settings.sign_in_window_seconds),
        lifetime=services.tokens.lifetime,
    )
    return TokenOut(
        access_token=services.tokens.issue(caller),
        expires_in=int(services.tokens.lifetime.total_seconds()),
    )


@router.post("/auth/logout", status_code=204, response_class=Response, responses=documented(NotAuthenticated))
async def logout(user: CurrentUser, caller: CallerDep, services: ServicesDep) -> None:
    """Ends this token's session: the token answers 401 from then on, on every process."""
    await accounts.sign_out(services.store, caller, datetime.now(UTC))


@router.get("/users/me", response_model=UserOut, responses=documented(NotAuthenticated))
async def me(user: CurrentUser) -> UserOut:
    return UserOut.of(user)


@router.post(
    "/users/me/password", status_code=204, response_class=Response,
    responses=documented(NotAuthenticated, InvalidCredentials, TooManyRequests),
)
async def change_password(body: PasswordChangeIn, user: CurrentUser, request: Request, services: ServicesDep) -> None:
    """Sets a new password and ends every session of the account, this one included."""
    settings = services.settings
    await accounts.change_password(
        services.store, services.passwords, user,
        current_password=body.current_password, new_password=body.new_password,
        client=_client(request), now=datetime.now(UTC),
        max_failures=settings.sign_in_max_failures, window=timedelta(seconds=settings.sign_in_window_seconds),
    )


@router.post(
    "/users/me/sign-out-everywhere", status_code=204, response_class=Response,
    responses=documented(NotAuthenticated),
)
async def sign_out_everywhere(user: CurrentUser, caller: CallerDep, services: ServicesDep) -> None:
    """Ends every session of the caller, this one included."""
    await accounts.sign_out_everywhere(services.store, caller, datetime.now(UTC))
