"""The release of holds past their deadline: one statement for whoever releases them (the
sweepers, a booking that needs their tickets, a late payment that needs them back)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from ticketing.db import tables as t

# What a late payment releases of its event's other expired holds before it takes its tickets
# back (as many as a refused booking releases before it tries again).
RELEASED_FOR_A_LATE_PAYMENT = 100


def release_due(event_id: int, at: datetime, limit: int, *, skip_locked: bool) -> Any:
    """Moves up to ``limit`` of the event's holds past their deadline from PENDING to EXPIRED
    (the triggers give their tickets back, once: a hold is released only from PENDING, under its
    row lock); returns their ids. ``skip_locked`` (PostgreSQL): holds another transaction has
    locked (being confirmed, cancelled or released elsewhere) are skipped, not waited for."""
    b = t.bookings.c
    due = (
        select(b.id).where(b.event_id == event_id, b.status == "PENDING", b.expires_at <= at)
        .order_by(b.expires_at).limit(limit)
    )
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    return (
        update(t.bookings).where(b.id.in_(due.scalar_subquery()), b.status == "PENDING")
        .values(status="EXPIRED").returning(b.id)
    )
