"""Bearer tokens: verified once per process, yet refused the moment they expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import jwt
import pytest

from ticketing.api import auth
from ticketing.api.auth import NotAuthenticated, Tokens
from ticketing.domain.models import Caller


def test_a_verified_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = Tokens("k" * 48, timedelta(minutes=60))
    issued = datetime.now(UTC)
    token = tokens.issue(Caller(7, 3), now=issued)
    assert tokens.caller(token) == Caller(7, 3)
    assert tokens.caller(token) == Caller(7, 3)  # from the cache
    # The clock moves to the second the token expires (its "exp"), without waiting for it.
    expires_at = int((issued + timedelta(minutes=60)).timestamp())
    monkeypatch.setattr(auth, "time", SimpleNamespace(time=lambda: float(expires_at)))
    with pytest.raises(NotAuthenticated):
        tokens.caller(token)


@pytest.mark.parametrize("key, algorithm", [("another key entirely" * 3, "HS256"), (None, "none")])
def test_forged_tokens_are_refused_every_time(key: str | None, algorithm: str) -> None:
    tokens = Tokens("k" * 48, timedelta(minutes=60))
    forged = jwt.encode({"sub": "7", "sid": "3", "exp": datetime.now(UTC) + timedelta(hours=1)}, key, algorithm)
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            tokens.caller(forged)


@pytest.mark.parametrize("claims", [{"sub": "7"}, {"sub": "7", "sid": "0"}, {"sub": "7", "sid": "x"}, {"sub": "0", "sid": "3"}])
def test_a_token_names_an_account_and_a_session_or_is_refused(claims: dict[str, str]) -> None:
    """A token signed with the right key but naming no session (as every token did before
    sessions existed) cannot be revoked, so it is not accepted."""
    tokens = Tokens("k" * 48, timedelta(minutes=60))
    signed = jwt.encode({**claims, "exp": datetime.now(UTC) + timedelta(hours=1)}, "k" * 48, "HS256")
    with pytest.raises(NotAuthenticated):
        tokens.caller(signed)
