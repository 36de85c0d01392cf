"""The calendar file attached to a confirmation (RFC 5545), made with the icalendar library."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from ticketing.mail.content import BookingMessage

PRODUCT_ID = "-//ticketing//tickets by email//EN"


@functools.lru_cache(maxsize=64)
def _vtimezone(name: str) -> Timezone:
    # Worked out from the time zone database: about 30 ms of CPU, so once per zone and process
    # (a component is only read when a calendar is written).
    return Timezone.from_tzid(name)


def calendar_file(message: BookingMessage, *, domain: str, bookings_url: str, now: datetime | None = None) -> bytes:
    """One VEVENT at the event's start, in its own time zone (with its VTIMEZONE, as RFC 5545
    asks of every TZID used). Its UID is the booking's, so a second copy (a resend) updates the
    same calendar entry instead of adding one."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    zone = ZoneInfo(message.timezone)
    if message.timezone != "UTC":  # UTC is written as such ("...Z"), with no VTIMEZONE
        calendar.add_component(_vtimezone(message.timezone))
    event = Event()
    event.add("uid", f"booking-{message.booking_id}@{domain}")
    event.add("dtstamp", now or datetime.now(UTC))
    event.add("dtstart", message.starts_at.astimezone(zone))
    event.add("summary", message.event_name)
    if message.venue:
        event.add("location", message.venue)
    event.add("description", f"Booking {message.booking_id}: {message.quantity} ticket(s). {bookings_url}")
    event.add("url", bookings_url)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
