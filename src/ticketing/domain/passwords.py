"""What a new password must be, for every way one is set (sign-up, password change)."""

from __future__ import annotations

from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]  # zxcvbn ships no types

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
# zxcvbn's list of the 30,000 most common passwords (from leaked password sets), lowercase.
_COMMON: frozenset[str] = frozenset(FREQUENCY_LISTS["passwords"])


def acceptable_password(password: str) -> str:
    """``password`` if it may be set, else ValueError saying why (the API answers it as
    422 validation_error). Length is the schema's to check; this refuses what a length rule lets
    through: only whitespace, or one of the most common passwords (in any letter case)."""
    if not password.strip():
        raise ValueError("the password must not be only spaces")
    if password.lower() in _COMMON:
        raise ValueError("this password is one of the most common ones; choose another")
    return password
