"""Limits on attempts per client address (sign-in, sign-up), with the ``limits`` library.

A moving window: at most N attempts in any period of the limit's length (``"30/minute"``).
The counts live in this process's memory: each worker process (and host) counts on its own, so
a client may make up to (processes x N) attempts; the per-account sign-in throttle
(app/accounts.py), kept in the database, is the limit every process shares.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ticketing.domain.errors import TooManyRequests


class AddressLimits:
    def __init__(self, **limits: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._items: dict[str, RateLimitItem] = {name: parse(text) for name, text in limits.items()}

    def hit(self, name: str, client: str) -> None:
        """Counts an attempt at ``name`` from ``client``; TooManyRequests (with the seconds until
        the window lets one more through) when the limit is reached."""
        item = self._items[name]
        if not self._limiter.hit(item, name, client):
            reset = self._limiter.get_window_stats(item, name, client).reset_time
            raise TooManyRequests(max(1, math.ceil(reset - time.time())))
