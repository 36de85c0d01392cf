"""IANA time zone names ("Asia/Bangkok"): which ones an event may be given.

One list for the setting TICKETING_DEFAULT_TIMEZONE and the API alike: the zones the system's
(or the tzdata package's) time zone database offers, as ``zoneinfo.available_timezones()``
lists them, read once. A name is checked against that list rather than by ``ZoneInfo(name)``,
which also opens files that are not zones ("posixrules", "right/...") and raises a different
error for each kind of bad name.
"""

from __future__ import annotations

import functools
import zoneinfo

# The longest name in the database is 32 characters ("America/Argentina/ComodRivadavia").
MAX_TIMEZONE_LENGTH = 64
DEFAULT_TIMEZONE = "UTC"


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_known(name: str) -> bool:
    return name in _known()
