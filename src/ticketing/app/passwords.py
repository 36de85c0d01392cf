"""Argon2 password hashing (pwdlib), off the event loop and bounded.

One argon2 check costs ~200 ms of CPU at the production cost: run on the event loop, a handful
of sign-ins a second would stall every other request of the process. Here hashing runs on a
small thread pool of its own (argon2-cffi releases the GIL while it hashes), and at most
``max_in_flight`` hashes (running or queued for a thread) are admitted per process: the next
one is refused at once with ServiceUnavailable (503 with Retry-After) rather than queued, so a
burst of sign-ins can neither grow an unbounded queue nor hold requests for many seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from ticketing.config import Settings
from ticketing.domain.errors import ServiceUnavailable

T = TypeVar("T")


_BUSY = "Too many passwords are being checked right now. Please retry."


class Argon2Passwords:
    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, *, threads: int = 2, max_in_flight: int = 8) -> None:
        self._hash = PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib),))
        # Verified against when the email is unknown, so both failures take the same time.
        self._dummy = self._hash.hash("not a real password")
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")
        self.max_in_flight = max(max_in_flight, 1)
        self.in_flight = 0  # changed on the event loop only: no lock needed

    async def hash(self, password: str) -> str:
        return await self._off_loop(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str) -> bool:
        return await self._off_loop(self._hash.verify, password, password_hash or self._dummy)

    async def _off_loop(self, work: Callable[..., T], *args: str) -> T:
        if self.in_flight >= self.max_in_flight:
            raise ServiceUnavailable(_BUSY)
        self.in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)
        finally:
            self.in_flight -= 1

    @classmethod
    def from_settings(cls, settings: Settings) -> Argon2Passwords:
        return cls(settings.argon2_time_cost, settings.argon2_memory_kib,
                   threads=settings.password_hash_threads, max_in_flight=settings.password_hash_max_in_flight)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
