"""Plays the payment provider in tests: a signed webhook delivery, as a real provider sends it."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from tests.support.settings import WEBHOOK_SECRET
from ticketing.app.payments import sign

WEBHOOK = "/api/v1/payments/webhook"


def notice(booking: dict[str, Any], *, event_id: str | None = None, kind: str = "payment.succeeded",
           **overrides: Any) -> bytes:
    """The provider's JSON body paying ``booking`` (its reference, amount and currency)."""
    body = {
        "id": event_id or f"evt_{uuid.uuid4().hex}", "type": kind, "reference": booking["payment"]["reference"],
        "amount": booking["payment"]["amount"], "currency": booking["payment"]["currency"], **overrides,
    }
    return json.dumps(body).encode()


def signed(body: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    return {"Ticketing-Signature": sign(secret, int(time.time()) if at is None else at, body),
            "Content-Type": "application/json"}


async def deliver(client: httpx.AsyncClient, body: bytes, **signing: Any) -> httpx.Response:
    return await client.post(WEBHOOK, content=body, headers=signed(body, **signing))
