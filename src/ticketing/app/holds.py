"""Holds that expire with no one acting: the sweeper every server process runs.

A hold past its ``expires_at`` already reads EXPIRED (``Booking.as_seen``), and a booking that
needs its tickets releases it first (``book_tickets``). The sweeper releases the rest within
``sweep_interval_seconds``, so the event's ``tickets_held`` follows too. Any number of
processes and hosts may sweep at once: each release moves a hold from PENDING under its row lock
in the statement that gives its tickets back, and skips holds another has locked
(``FOR UPDATE SKIP LOCKED``), so a hold is released once and sweepers do not queue behind each
other. Events are released one at a time: one statement locks one event's rows, so it cannot
form a lock cycle with bookings (which lock events in id order).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from ticketing.app.ports import Store
from ticketing.domain.errors import ServiceUnavailable

log = logging.getLogger(__name__)

# At most this many events, and holds per event, per statement: a sweep stays short.
EVENTS_PER_SWEEP = 100
HOLDS_PER_RELEASE = 500


async def release_expired_holds(store: Store, now: datetime) -> int:
    """Releases every hold past its deadline at ``now``; how many."""
    released = 0
    while True:
        events = await store.bookings.events_with_expired_holds(now, EVENTS_PER_SWEEP)
        if not events:
            return released
        round_released = 0
        for event_id in sorted(events):
            round_released += await store.bookings.release_expired(event_id, now, HOLDS_PER_RELEASE)
        released += round_released
        if round_released == 0:  # all locked by others (being released or confirmed): theirs
            return released


async def sweep_forever(store: Store, interval_seconds: float) -> None:
    """Runs until cancelled. A database that is down only delays the next sweep."""
    while True:
        try:
            released = await release_expired_holds(store, datetime.now(UTC))
            if released:
                log.info("released %d expired holds", released)
        except ServiceUnavailable:
            log.warning("hold sweep skipped: database unavailable")
        except Exception:
            log.exception("hold sweep failed")
        await asyncio.sleep(interval_seconds)
