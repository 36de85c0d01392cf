"""`ticketing storm` as a subprocess, and the payment event its checkout runs (--pay) book on:
shared by the storm tests (one server) and the cluster tests (three hosts)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.server import TICKETING
from ticketing.storm import Api

# The checks a storm with --pay must pass (nothing_unsold is skipped there: expired holds give back
# what refusals saw taken).
PAY_CHECKS = (
    "sold_within_capacity", "sold_equals_tickets", "created_are_whole", "created_are_durable", "no_5xx",
    "failures_are_sold_out", "every_request_answered", "sold_delta_matches",
    "counters_match_states", "bookings_whole", "customer_limit_kept", "webhook_one_effect",
)


async def storm_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> tuple[int, str, str]:  # noqa: ASYNC109
    """Runs `ticketing storm ARGS`; its exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        TICKETING, "storm", *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def payment_event(api: Api, admin_token: str, capacity: int, front_cap: int, limit: int,
                        name: str = "Storm checkout") -> dict[str, Any]:
    """A payment event in 30 days: Front row (capped), Standing and Student, ``limit`` per buyer."""
    answer = await api.request("POST", "/api/v1/events", token=admin_token, json_body={
        "name": name, "starts_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "capacity": capacity, "checkout": "payment", "per_customer_limit": limit, "max_per_booking": 10,
        "ticket_types": [{"name": "Front row", "price": "3500.00", "capacity": front_cap},
                         {"name": "Standing", "price": "1200.00"}, {"name": "Student", "price": "600.00"}],
    })
    assert answer.status == 201, answer
    return dict(answer.body)
