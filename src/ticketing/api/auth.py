"""Bearer tokens (pyjwt, HS256): issued at sign-in for one session, and the caller they name."""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime, timedelta

import jwt

from ticketing.domain.errors import NotAuthenticated
from ticketing.domain.models import Caller

__all__ = ["ALGORITHM", "NotAuthenticated", "Tokens"]

ALGORITHM = "HS256"
_MAX_ID = 2**63


class Tokens:
    """A token names an account (``sub``) and the sign-in session it was issued for (``sid``);
    the signature vouches for both. Whether that session is still live (not signed out, not
    ended by a password change) is the database's to say on every use: only the signature
    check is cached here, so a revoked token is refused at once by every process and host."""

    def __init__(self, key: str, lifetime: timedelta) -> None:
        self._key = key
        self.lifetime = lifetime
        # A token's signature and claims never change, so each is verified once per process;
        # only its expiry is checked on every use. Invalid tokens raise and are not cached.
        self._verified = functools.lru_cache(maxsize=4096)(self._verify)

    def issue(self, caller: Caller, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        claims = {"sub": str(caller.user_id), "sid": str(caller.session_id), "iat": now, "exp": now + self.lifetime}
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def caller(self, token: str | None) -> Caller:
        """The caller a validly signed, unexpired token names. No token, an expired, forged or
        ``alg: none`` one raise, and so do tokens without a session (issued before sessions)."""
        if not token:
            raise NotAuthenticated()
        caller, expires = self._verified(token)
        if expires <= time.time():  # as pyjwt judges "exp", with no leeway
            raise NotAuthenticated("Invalid or expired token.")
        return caller

    def _verify(self, token: str) -> tuple[Caller, float]:
        try:
            # Pinning the algorithm list is what refuses "none" and key-confusion tricks.
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "sid"]})
            caller = Caller(int(claims["sub"]), int(claims["sid"]))
            expires = float(claims["exp"])
        except (jwt.PyJWTError, ValueError, TypeError):
            raise NotAuthenticated("Invalid or expired token.") from None
        if not (1 <= caller.user_id < _MAX_ID and 1 <= caller.session_id < _MAX_ID):
            raise NotAuthenticated("Invalid or expired token.")
        return caller, expires
