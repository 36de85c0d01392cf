"""Where the storm's buyers come from: fresh accounts, or tokens from a file."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from ticketing.storm.client import Answer, Api, ApiError

# Registering and signing in each hash or verify a password with argon2 on the server, which
# is CPU-heavy by design: a few at a time keep the server's cores busy without queueing.
DEFAULT_PARALLEL = 4
_RETRIES = 5
# A server limits sign-ups and sign-ins per client address, and a storm makes them all from one.
_LIMITED = ("the server limits sign-ups and sign-ins per client address: for a load test start it with "
            "TICKETING_REGISTER_RATE_LIMIT and TICKETING_SIGN_IN_RATE_LIMIT raised (e.g. 10000/minute), "
            "or pass --token-file")


def read_token_file(path: Path) -> list[str]:
    """One bearer token per line; blank lines and lines starting with ``#`` are skipped."""
    tokens = [line.strip() for line in path.read_text().splitlines()]
    tokens = [t for t in tokens if t and not t.startswith("#")]
    if not tokens:
        raise ValueError(f"{path} holds no tokens")
    return tokens


async def _patiently(call: Callable[[], Awaitable[Answer]]) -> Answer:
    """Retries what the contract says is safe to retry: 429 and 503 (after Retry-After)."""
    answer = await call()
    for attempt in range(_RETRIES):
        if answer.status not in (429, 503):
            break
        delay = float(answer.retry_after) if answer.retry_after and answer.retry_after.isdigit() else 1.0
        await asyncio.sleep(min(delay, 5.0) * (attempt + 1) / 2)
        answer = await call()
    return answer


async def sign_in(api: Api, email: str, password: str) -> str:
    answer = await _patiently(lambda: api.sign_in(email, password))
    if answer.status != 200 or not isinstance(answer.body, dict):
        raise ApiError(f"signing in as {email} answered {answer.describe()}" + _hint(answer))
    return str(answer.body["access_token"])


def _hint(answer: Answer) -> str:
    return f" ({_LIMITED})" if answer.status == 429 else ""


async def register_accounts(
    api: Api, count: int, *, parallel: int = DEFAULT_PARALLEL, run_id: str | None = None,
    on_done: Callable[[], None] | None = None,
) -> list[str]:
    """Registers ``count`` new customers and returns a bearer token for each, in order."""
    run_id = run_id or secrets.token_hex(4)
    password = secrets.token_urlsafe(12)
    gate = asyncio.Semaphore(parallel)

    async def one(index: int) -> str:
        email = f"storm-{run_id}-{index}@example.com"
        async with gate:
            answer = await _patiently(lambda: api.register(email, password, f"Storm buyer {index}"))
            if answer.status != 201:
                raise ApiError(f"registering {email} answered {answer.describe()}" + _hint(answer))
            token = await sign_in(api, email, password)
        if on_done is not None:
            on_done()
        return token

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(i)) for i in range(count)]
    except* ApiError as failures:
        raise failures.exceptions[0] from None
    return [task.result() for task in tasks]
