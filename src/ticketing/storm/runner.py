"""The storm itself: N booking requests, at most C in flight, every answer recorded."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ticketing.storm.client import Answer, Api


@dataclass(slots=True)
class Outcome:
    """One booking request and what came of it."""

    index: int
    quantity: int
    sent_at: float  # seconds since the storm started
    latency: float
    status: int | None  # None: no HTTP answer (see ``error``)
    code: str | None = None
    error: str | None = None
    booking_id: int | None = None
    booking_status: str | None = None
    booked_quantity: int | None = None
    tickets: int = 0  # tickets in a 201's body
    available: int | None = None  # in a 409 sold_out's body
    retry_after: str | None = None
    # Checkout (contract v1.1): what the request asked by type, and what a 201 or 409 said of it.
    items: tuple[tuple[int, int], ...] | None = None  # (ticket type id, quantity); None: v1's form
    expires_at: str | None = None  # a hold's deadline (server time, ISO 8601)
    booking_date: str | None = None  # the server's clock when it made the booking
    payment: dict[str, Any] | None = None  # {"status", "amount", "currency", "reference"}
    items_available: dict[int, int] | None = None  # a 409 sold_out's per-type "available"
    remaining: int | None = None  # a 409 customer_limit_reached's "remaining"
    answered_wall: float = 0.0  # this machine's wall clock (time.time()) when the answer came

    def local_deadline(self) -> float | None:
        """A hold's deadline on this machine's wall clock: the server's ``expires_at`` shifted by
        the offset between its ``booking_date`` and our clock at the answer (early by at most the
        answer's latency)."""
        if not (self.expires_at and self.booking_date and self.answered_wall):
            return None
        offset = datetime.fromisoformat(self.booking_date).timestamp() - self.answered_wall
        return datetime.fromisoformat(self.expires_at).timestamp() - offset

    @property
    def finished_at(self) -> float:
        return self.sent_at + self.latency

    @classmethod
    def of(cls, index: int, quantity: int, sent_at: float, answer: Answer,
           items: tuple[tuple[int, int], ...] | None = None) -> Outcome:
        outcome = cls(index, quantity, sent_at, answer.latency, answer.status, answer.code, answer.error,
                      retry_after=answer.retry_after, items=items)
        body = answer.body
        if isinstance(body, dict):
            if answer.status == 201:
                outcome.booking_id = body.get("id")
                outcome.booking_status = body.get("status")
                outcome.booked_quantity = body.get("quantity")
                tickets = body.get("tickets")
                outcome.tickets = len(tickets) if isinstance(tickets, list) else 0
                outcome.expires_at = body.get("expires_at")
                outcome.booking_date = body.get("booking_date")
                payment = body.get("payment")
                outcome.payment = payment if isinstance(payment, dict) else None
            else:
                if isinstance(body.get("available"), int):
                    outcome.available = body["available"]
                if isinstance(body.get("items"), list):
                    outcome.items_available = {i["ticket_type_id"]: i["available"] for i in body["items"]
                                               if isinstance(i, dict) and "ticket_type_id" in i}
                if isinstance(body.get("remaining"), int):
                    outcome.remaining = body["remaining"]
        return outcome


@dataclass
class StormResult:
    outcomes: list[Outcome]
    planned: int
    concurrency: int
    elapsed: float  # from the first request sent to the last answer
    stopped_early: bool = False

    @property
    def created(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == 201]

    @property
    def booked_quantity(self) -> int:
        return sum(o.quantity for o in self.created)


@dataclass
class Storm:
    """Fires ``len(quantities)`` bookings for ``event_id``; request i uses ``tokens[i % len]``.

    ``run()`` may be awaited as a task while the caller watches ``completed`` and calls
    ``stop()`` (no new requests; those in flight finish). With ``items``, request i books
    ``items[i]`` (type id, quantity pairs; its quantity is their sum) in checkout's items form.
    ``on_answer`` sees each outcome as it comes in (the payer starts paying a hold with it).
    """

    api: Api
    event_id: int
    tokens: Sequence[str]
    quantities: Sequence[int]
    concurrency: int = 64
    idempotency_keys: bool = False
    items: Sequence[tuple[tuple[int, int], ...]] | None = None
    on_answer: Callable[[Outcome], None] | None = None
    completed: int = field(default=0, init=False)
    _outcomes: list[Outcome | None] = field(default_factory=list, init=False, repr=False)
    _next: int = field(default=0, init=False, repr=False)
    _stopped: bool = field(default=False, init=False, repr=False)
    _origin: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.tokens:
            raise ValueError("a storm needs at least one token")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.items is not None and len(self.items) != len(self.quantities):
            raise ValueError("items, when given, name one request's items per quantity")

    @property
    def planned(self) -> int:
        return len(self.quantities)

    @property
    def outcomes(self) -> list[Outcome]:
        """The answers so far, in the order the requests were made."""
        return [o for o in self._outcomes if o is not None]

    def stop(self) -> None:
        self._stopped = True

    def now(self) -> float:
        """Seconds since the storm started, on the clock its outcomes use."""
        return time.perf_counter() - self._origin

    async def reached(self, count: int, timeout: float = 60.0) -> None:  # noqa: ASYNC109 - raises with the count reached
        """Returns once ``count`` answers are in (or the storm is over)."""
        deadline = time.monotonic() + timeout
        while self.completed < min(count, self.planned) and not self._stopped:
            if time.monotonic() > deadline:
                raise TimeoutError(f"storm reached {self.completed} of {count} answers in {timeout}s")
            await asyncio.sleep(0.01)

    async def _worker(self) -> None:
        api, event_id, tokens, quantities = self.api, self.event_id, self.tokens, self.quantities
        key_prefix = secrets.token_hex(6) if self.idempotency_keys else None
        while not self._stopped and self._next < len(quantities):
            index = self._next
            self._next += 1
            quantity = quantities[index]
            sent_at = time.perf_counter() - self._origin
            key = f"storm-{key_prefix}-{index}" if key_prefix else None
            items = self.items[index] if self.items is not None else None
            if items is None:  # v1's form, and v1's call (the fakes of the tests know no items)
                answer = await api.book(tokens[index % len(tokens)], event_id, quantity, key)
            else:
                answer = await api.book(tokens[index % len(tokens)], event_id, quantity, key, items=items)
            outcome = Outcome.of(index, quantity, sent_at, answer, items)
            outcome.answered_wall = time.time()
            self._outcomes[index] = outcome
            self.completed += 1
            if self.on_answer is not None:
                self.on_answer(outcome)

    async def run(self) -> StormResult:
        self._outcomes = [None] * len(self.quantities)
        self._origin = time.perf_counter()
        workers = min(self.concurrency, len(self.quantities))
        await asyncio.gather(*(self._worker() for _ in range(workers)))
        outcomes = self.outcomes
        elapsed = max((o.finished_at for o in outcomes), default=0.0) - min((o.sent_at for o in outcomes), default=0.0)
        return StormResult(outcomes, self.planned, self.concurrency, elapsed, stopped_early=len(outcomes) < self.planned)
