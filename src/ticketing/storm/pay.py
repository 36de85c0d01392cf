"""Paying for the storm's holds as a payment provider does: signed webhook deliveries, each
event id delivered several times (some at once, as providers' retries race), some payments
deliberately after the hold expired (then the contract confirms or marks ``refund_due``)."""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from dataclasses import dataclass, field

from ticketing.app.payments import sign
from ticketing.storm.client import Answer, Api
from ticketing.storm.runner import Outcome

# A late payment lands this long after the hold's deadline, drawn per payment: below 1 s it
# may meet the hold not yet released (the contract's release window), above it released.
LATE_BY = (0.05, 1.5)


@dataclass
class Payment:
    """One provider event paying one hold, and every answer its deliveries got."""

    booking_id: int
    provider_event_id: str
    late: bool
    answers: list[Answer] = field(default_factory=list)

    @property
    def answered(self) -> list[Answer]:
        return [a for a in self.answers if a.status is not None]


@dataclass
class Payer:
    """Pays each hold handed to ``take`` (a 201 PENDING with a payment due) in the background;
    ``finish()`` waits for every payment and returns them.

    ``late_fraction`` of the holds are paid after their deadline, as long as that deadline is at
    most ``late_horizon`` seconds away (holds of minutes are paid at once: waiting them out would
    stall the storm); ``late_skipped`` counts those. Each payment's event id is delivered
    ``deliveries`` times at once, then once more after those answered (a provider's retry).
    """

    api: Api
    secret: str
    late_fraction: float = 0.2
    deliveries: int = 3
    seed: int | None = None
    late_horizon: float = 30.0
    payments: list[Payment] = field(default_factory=list)
    late_skipped: int = 0
    _rng: random.Random = field(init=False, repr=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False, repr=False)
    _run: str = field(default_factory=lambda: secrets.token_hex(4), init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.late_fraction <= 1.0:
            raise ValueError("the late fraction must be between 0 and 1")
        if self.deliveries < 1:
            raise ValueError("each payment needs at least one delivery")
        self._rng = random.Random(self.seed)

    def take(self, outcome: Outcome) -> None:
        """Starts paying ``outcome``'s booking if it is a hold with a payment due."""
        booking_id, payment = outcome.booking_id, outcome.payment
        if booking_id is None or outcome.booking_status != "PENDING" or not payment or payment.get("status") != "due":
            return
        delay = 0.0
        if self._rng.random() < self.late_fraction:
            deadline = outcome.local_deadline()
            if deadline is not None and deadline - time.time() <= self.late_horizon:
                delay = max(0.0, deadline - time.time()) + self._rng.uniform(*LATE_BY)
            else:
                self.late_skipped += 1
        record = Payment(booking_id, f"evt_storm_{self._run}_{booking_id}", late=delay > 0)
        self.payments.append(record)
        body = json.dumps({"id": record.provider_event_id, "type": "payment.succeeded",
                           "reference": payment["reference"], "amount": payment["amount"],
                           "currency": payment["currency"]}).encode()
        task = asyncio.create_task(self._pay(record, body, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pay(self, record: Payment, body: bytes, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)  # the point of a late payment: after the hold's deadline
        first = await asyncio.gather(*(self._deliver(body) for _ in range(self.deliveries)))
        record.answers.extend(first)
        record.answers.append(await self._deliver(body))

    async def _deliver(self, body: bytes) -> Answer:
        return await self.api.webhook(body, sign(self.secret, int(time.time()), body))

    async def finish(self) -> list[Payment]:
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
        return self.payments
