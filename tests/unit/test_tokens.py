"""Bearer tokens: verified once per process, yet refused the moment they expire."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from ticketing.api.auth import NotAuthenticated, Tokens


def test_a_verified_token_is_refused_once_it_expires() -> None:
    tokens = Tokens("k" * 48, timedelta(minutes=60))
    token = tokens.issue(7, now=datetime.now(UTC) - timedelta(minutes=60) + timedelta(seconds=1.5))
    assert tokens.user_id(token) == 7
    assert tokens.user_id(token) == 7  # from the cache
    time.sleep(1.6)
    with pytest.raises(NotAuthenticated):
        tokens.user_id(token)


@pytest.mark.parametrize("key, algorithm", [("another key entirely" * 3, "HS256"), (None, "none")])
def test_forged_tokens_are_refused_every_time(key: str | None, algorithm: str) -> None:
    tokens = Tokens("k" * 48, timedelta(minutes=60))
    forged = jwt.encode({"sub": "7", "exp": datetime.now(UTC) + timedelta(hours=1)}, key, algorithm)
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            tokens.user_id(forged)
