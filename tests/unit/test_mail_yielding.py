"""Bookings first: the serving process's sender pauses while requests are in flight."""

from __future__ import annotations

import asyncio

from ticketing.mail.yielding import MAX_PAUSE_SECONDS, Yielding


def test_no_pause_while_idle_or_with_a_trickle_of_requests() -> None:
    tasks = iter([5, 5, 6, 7, 5, 4, 6])  # the fewest seen is the baseline: one or two more are a trickle
    yielding = Yielding(lambda: next(tasks))
    assert [yielding.pause_after(0.02) for _ in range(6)] == [0.0] * 6


def test_requests_in_flight_make_mail_take_a_twentieth_of_the_time_at_most() -> None:
    tasks = iter([5, 40, 40, 40, 6])  # made before serving (5); a sale from its first look on
    yielding = Yielding(lambda: next(tasks))
    assert yielding.pause_after(0.02) == 0.02 * 19  # 20 ms of mail, 380 ms of pause: 5 %
    assert yielding.pause_after(0.02) == 0.02 * 19
    assert yielding.pause_after(1.0) == MAX_PAUSE_SECONDS  # some mail still goes in a long sale
    assert yielding.pause_after(0.02) == 0.0  # the sale is over: full speed again


async def test_requests_in_flight_are_tasks_on_the_loop() -> None:
    """What the count stands for: each request uvicorn serves is a task while it runs."""
    yielding = Yielding()
    assert not yielding.busy()
    release = asyncio.Event()
    requests = [asyncio.create_task(release.wait()) for _ in range(8)]
    try:
        assert yielding.busy()
    finally:
        release.set()
        await asyncio.gather(*requests)
    assert not yielding.busy()
