"""Settings for an in-process test app and the environment of a test server process: real
hashing and signing, made cheap."""

from __future__ import annotations

from typing import Any

from tests.support.credentials import SECRET_KEY
from ticketing.config import Settings

# Cheaper argon2 for tests: hashing is still real, just not tuned for production.
ARGON2_TIME_COST = 1
ARGON2_MEMORY_KIB = 8192

UNLIMITED = "1000000/second"
# The payment provider's webhook secret in tests (tests/support/payments.py signs with it).
WEBHOOK_SECRET = "whsec_test_0123456789abcdef"

# The same settings as a `ticketing` process's environment.
TEST_ENV = {
    "TICKETING_SECRET_KEY": SECRET_KEY,
    "TICKETING_ARGON2_TIME_COST": str(ARGON2_TIME_COST),
    "TICKETING_ARGON2_MEMORY_KIB": str(ARGON2_MEMORY_KIB),
    "TICKETING_LOG_LEVEL": "WARNING",
    # Every test signs up and in from one address: the per-address limits are tested on their own.
    "TICKETING_SIGN_IN_RATE_LIMIT": UNLIMITED,
    "TICKETING_REGISTER_RATE_LIMIT": UNLIMITED,
    "TICKETING_PAYMENT_WEBHOOK_SECRET": WEBHOOK_SECRET,
}


def settings_for(database_url: str, **overrides: Any) -> Settings:
    """The test settings on ``database_url``; ``overrides`` replace any of them (validated)."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": SECRET_KEY,
        "argon2_time_cost": ARGON2_TIME_COST,
        "argon2_memory_kib": ARGON2_MEMORY_KIB,
        "log_level": "WARNING",
        "sign_in_rate_limit": UNLIMITED,
        "register_rate_limit": UNLIMITED,
        "payment_webhook_secret": WEBHOOK_SECRET,
        **overrides,
    }
    return Settings(**values)
