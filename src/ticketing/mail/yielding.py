"""Bookings first: while this process is serving requests, its sender slows down to a trickle.

The heavy part of a message, rendering, runs at the lowest CPU priority already (renderer.py).
What stays in the serving process (reading the booking, the SMTP exchange, marking it sent) is
about 3 ms of CPU a message, about three bookings' worth: at full speed during a sale, mail would
take a tenth of the sale's CPU. So after each message the sender counts the tasks on its event
loop: uvicorn runs each request in flight as a task of its own, so BUSY_TASKS more than the
fewest ever seen means requests are being served. The sender then waits long enough that mail
takes at most MAIL_SHARE of the time (at most MAX_PAUSE_SECONDS: some mail still goes during a
long sale), and the backlog goes out at full speed once the sale is over. A trickle of requests
(one or two at a time) does not slow it.

Only `ticketing serve`'s senders yield; `ticketing mail-worker` serves no requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

BUSY_TASKS = 3
MAIL_SHARE = 0.05
MAX_PAUSE_SECONDS = 5.0


def _tasks_on_this_loop() -> int:
    return len(asyncio.all_tasks())


class Yielding:
    def __init__(self, tasks: Callable[[], int] = _tasks_on_this_loop) -> None:
        """Made before the process serves anything (the app's lifespan): the tasks it counts
        then are its own, and its first verdict cannot take a sale for the quiet."""
        self._tasks = tasks
        self._fewest = tasks()

    def busy(self) -> bool:
        now = self._tasks()
        self._fewest = min(self._fewest, now)
        return now - self._fewest >= BUSY_TASKS

    def pause_after(self, spent: float) -> float:
        """Seconds to wait after a message that took ``spent`` seconds: none unless busy."""
        if not self.busy():
            return 0.0
        return min(MAX_PAUSE_SECONDS, spent * (1 / MAIL_SHARE - 1))
