"""Bearer tokens (pyjwt, HS256) and the caller behind them."""

from __future__ import annotations

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

    def issue(self, user_id: int, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        claims = {"sub": str(user_id), "iat": now, "exp": now + self.lifetime}
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def user_id(self, token: str) -> int:
        """The user id a valid token names. Expired, forged or ``alg: none`` tokens raise."""
        try:
            # Pinning the algorithm list is what refuses "none" and key-confusion tricks.
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
            user_id = int(claims["sub"])
        except (jwt.PyJWTError, ValueError, TypeError):
            raise NotAuthenticated("Invalid or expired token.") from None
        if not 1 <= user_id < 2**63:
            raise NotAuthenticated("Invalid or expired token.")
        return user_id
