"""Direct API calls for arranging test data (the browser does the part under test)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support.credentials import PASSWORD


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

    def book_items(self, token: str, event_id: int, items: list[dict[str, int]]) -> dict[str, Any]:
        """Books (or, on a payment event, holds) ticket-type items."""
        response = self.http.post(
            "/bookings",
            json={"event_id": event_id, "items": items},
            headers={**_bearer(token), "Idempotency-Key": uuid.uuid4().hex},
        )
        response.raise_for_status()
        return response.json()

    def booking(self, token: str, booking_id: int) -> dict[str, Any]:
        response = self.http.get(f"/bookings/{booking_id}", headers=_bearer(token))
        response.raise_for_status()
        return response.json()

    def customer(self, name: str = "E2E Fan") -> tuple[str, str]:
        """Registers a fresh customer; answers (email, token)."""
        email = f"fan-{uuid.uuid4().hex[:10]}@e2e.example.com"
        self.register(email, PASSWORD, name)
        return email, self.token(email, PASSWORD)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
