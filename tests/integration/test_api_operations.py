"""Contract: health, readiness, metrics, docs, request ids, body limit, error shapes."""

from __future__ import annotations

import httpx

from tests.support.api import admin, book, create_event, customer


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200


async def test_metrics_count_booking_outcomes_and_latency(client, app):
    event = await create_event(client, await admin(client, app), capacity=1)
    _, headers = await customer(client)
    await book(client, headers, event["id"], 1)
    await book(client, headers, event["id"], 1)
    # /metrics answers loopback peers by default (TICKETING_METRICS_ALLOW), not the test client's address.
    loopback = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 4711)), base_url="http://testserver")
    async with loopback:
        text = (await loopback.get("/metrics")).text
    assert 'ticketing_bookings_total{outcome="booked"}' in text
    assert 'ticketing_bookings_total{outcome="TicketsSoldOut"}' in text
    assert "ticketing_http_request_duration_seconds_bucket" in text


async def test_openapi_describes_every_contract_path(client):
    schema = (await client.get("/openapi.json")).json()
    expected = {
        "/api/v1/auth/register", "/api/v1/auth/token", "/api/v1/users/me", "/api/v1/events",
        "/api/v1/events/{event_id}", "/api/v1/bookings", "/api/v1/bookings/{booking_id}",
        "/api/v1/bookings/{booking_id}/cancel", "/api/v1/tickets/{code}", "/api/v1/tickets/{code}/check-in",
        "/healthz", "/readyz", "/metrics",
    }
    assert expected <= set(schema["paths"])
    assert (await client.get("/docs")).status_code == 200


async def test_request_id_is_echoed_or_made(client):
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    made = await client.get("/healthz")
    assert len(made.headers["X-Request-ID"]) >= 16
    too_long = await client.get("/healthz", headers={"X-Request-ID": "x" * 129})
    assert too_long.headers["X-Request-ID"] != "x" * 129
    on_error = await client.get("/api/v1/events/999999", headers={"X-Request-ID": "err-1"})
    assert on_error.headers["X-Request-ID"] == "err-1"


async def test_bodies_over_64_kib_are_refused(client, app):
    headers = await admin(client, app)
    body = '{"name": "' + "x" * (70 * 1024) + '"}'
    response = await client.post("/api/v1/events", content=body, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(70):
            yield b"x" * 1024

    streamed = await client.post("/api/v1/events", content=chunks(), headers={**headers, "Content-Type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["code"] == "payload_too_large"
    assert (await client.get("/api/v1/events")).json()["total"] == 0


async def test_framework_errors_carry_a_code(client):
    unknown = await client.get("/api/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    bad_json = await client.post("/api/v1/auth/register", content="{nope", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 422 and bad_json.json()["code"] == "validation_error"
    wrong_method = await client.delete("/api/v1/events")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"
