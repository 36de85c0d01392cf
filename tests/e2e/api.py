"""Direct API calls for arranging test data (the browser does the part under test)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx


class Api:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=f"{base_url}/api/v1", timeout=30)

    def close(self) -> None:
        self.http.close()

    def register(self, email: str, password: str, name: str) -> dict[str, Any]:
        response = self.http.post("/auth/register", json={"email": email, "password": password, "name": name})
        response.raise_for_status()
        return response.json()

    def token(self, email: str, password: str) -> str:
        response = self.http.post("/auth/token", data={"username": email, "password": password})
        response.raise_for_status()
        return str(response.json()["access_token"])

    def create_event(self, token: str, **fields: Any) -> dict[str, Any]:
        body = {
            "name": f"E2E event {uuid.uuid4().hex[:6]}",
            "venue": "Test Hall",
            "description": "Made by the end-to-end tests.",
            "starts_at": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
            "capacity": 20,
            "price": "1500.00",
            "max_per_booking": 5,
            **fields,
        }
        response = self.http.post("/events", json=body, headers=_bearer(token))
        response.raise_for_status()
        return response.json()

    def event(self, event_id: int) -> dict[str, Any]:
        response = self.http.get(f"/events/{event_id}")
        response.raise_for_status()
        return response.json()

    def book(self, token: str, event_id: int, quantity: int) -> dict[str, Any]:
        response = self.http.post(
            "/bookings",
            json={"event_id": event_id, "quantity": quantity},
            headers={**_bearer(token), "Idempotency-Key": uuid.uuid4().hex},
        )
        response.raise_for_status()
        return response.json()

    def cancel(self, token: str, booking_id: int) -> dict[str, Any]:
        response = self.http.post(f"/bookings/{booking_id}/cancel", headers=_bearer(token))
        response.raise_for_status()
        return response.json()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
