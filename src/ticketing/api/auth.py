"""Bearer tokens (pyjwt, HS256) and the caller behind them."""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime, timedelta

import jwt
from fastapi import HTTPException

ALGORITHM = "HS256"
_UNAUTHENTICATED_HEADERS = {"WWW-Authenticate": "Bearer"}


class NotAuthenticated(HTTPException):
    code = "not_authenticated"

    def __init__(self, detail: str = "Not authenticated.") -> None:
        super().__init__(401, detail, headers=_UNAUTHENTICATED_HEADERS)


class Tokens:
    def __init__(self, key: str, lifetime: timedelta) -> None:
        self._key = key
        self.lifetime = lifetime
        # A token's signature and claims never change, so each is verified once per process;
        # only its expiry is checked on every use. Invalid tokens raise and are not cached.
        self._verified = functools.lru_cache(maxsize=4096)(self._verify)

    def issue(self, user_id: int, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        claims = {"sub": str(user_id), "iat": now, "exp": now + self.lifetime}
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def user_id(self, token: str) -> int:
        """The user id a valid token names. Expired, forged or ``alg: none`` tokens raise."""
        user_id, expires = self._verified(token)
        if expires <= time.time():  # as pyjwt judges "exp", with no leeway
            raise NotAuthenticated("Invalid or expired token.")
        return user_id

    def _verify(self, token: str) -> tuple[int, float]:
        try:
            # Pinning the algorithm list is what refuses "none" and key-confusion tricks.
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
            user_id = int(claims["sub"])
            expires = float(claims["exp"])
        except (jwt.PyJWTError, ValueError, TypeError):
            raise NotAuthenticated("Invalid or expired token.") from None
        if not 1 <= user_id < 2**63:
            raise NotAuthenticated("Invalid or expired token.")
        return user_id, expires
