"""Contract: the public catalogue, admin create and patch, money and time formats."""

from __future__ import annotations

from tests.support.api import admin, book, create_event, customer, event_body


async def test_create_event_answers_the_full_event(client, app):
    headers = await admin(client, app)
    event = await create_event(client, headers, price=1500, capacity=5)
    assert event["price"] == "1500.00" and event["currency"] == "THB"
    assert event["tickets_sold"] == 0 and event["available"] == 5 and event["max_per_booking"] == 10
    assert event["starts_at"].endswith(("Z", "+00:00"))
    public = await client.get(f"/api/v1/events/{event['id']}")
    assert public.status_code == 200 and public.json() == event


async def test_times_are_normalised_to_utc(client, app):
    headers = await admin(client, app)
    event = await create_event(client, headers, starts_at="2030-01-01T02:00:00+07:00")
    assert event["starts_at"] in ("2029-12-31T19:00:00Z", "2029-12-31T19:00:00+00:00")


async def test_list_is_public_soonest_first_and_paged(client, app):
    headers = await admin(client, app)
    late = await create_event(client, headers, name="late", starts_at="2031-01-01T00:00:00Z")
    early = await create_event(client, headers, name="early", starts_at="2030-01-01T00:00:00Z")
    listed = (await client.get("/api/v1/events")).json()
    assert [e["id"] for e in listed["items"]] == [early["id"], late["id"]]
    assert (listed["total"], listed["limit"], listed["offset"]) == (2, 50, 0)
    second = (await client.get("/api/v1/events", params={"limit": 1, "offset": 1})).json()
    assert [e["id"] for e in second["items"]] == [late["id"]] and second["limit"] == 1
    for bad in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "x"}):
        response = await client.get("/api/v1/events", params=bad)
        assert response.status_code == 422 and response.json()["code"] == "validation_error"


async def test_unknown_event_is_404(client):
    response = await client.get("/api/v1/events/999999")
    assert response.status_code == 404 and response.json()["code"] == "event_not_found"


async def test_only_admins_create_and_patch(client, app):
    _, customer_headers = await customer(client)
    assert (await client.post("/api/v1/events", json=event_body())).status_code == 401
    denied = await client.post("/api/v1/events", json=event_body(), headers=customer_headers)
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    event = await create_event(client, await admin(client, app))
    patch = await client.patch(f"/api/v1/events/{event['id']}", json={"name": "x"}, headers=customer_headers)
    assert patch.status_code == 403 and patch.json()["code"] == "forbidden"


async def test_event_validation(client, app):
    headers = await admin(client, app)
    bad = [
        {"name": ""}, {"name": "n" * 201}, {"description": "d" * 5001}, {"venue": "v" * 201},
        {"capacity": -1}, {"capacity": 1_000_001}, {"price": "-1"}, {"price": "1000000.01"},
        {"price": "1.234"}, {"price": "abc"}, {"max_per_booking": 0}, {"max_per_booking": 101},
        {"currency": "thb"}, {"starts_at": "tomorrow"}, {"capacity": "many"}, {"unknown": 1},
    ]
    for override in bad:
        response = await client.post("/api/v1/events", json=event_body(**override), headers=headers)
        assert response.status_code == 422, override
        assert response.json()["code"] == "validation_error"
    total = (await client.get("/api/v1/events")).json()["total"]
    assert total == 0


async def test_price_accepts_number_and_string_and_keeps_cents(client, app):
    headers = await admin(client, app)
    assert (await create_event(client, headers, price=99.5))["price"] == "99.50"
    assert (await create_event(client, headers, price="0"))["price"] == "0.00"
    assert (await create_event(client, headers, price="1000000"))["price"] == "1000000.00"


async def test_patch_any_subset(client, app):
    headers = await admin(client, app)
    event = await create_event(client, headers)
    changes = {"name": "Renamed", "price": "10.10", "currency": "USD", "max_per_booking": 2, "venue": "Hall"}
    patched = await client.patch(f"/api/v1/events/{event['id']}", json=changes, headers=headers)
    assert patched.status_code == 200
    body = patched.json()
    assert {k: body[k] for k in changes} == changes
    assert body["capacity"] == event["capacity"]
    nulled = await client.patch(f"/api/v1/events/{event['id']}", json={"name": None}, headers=headers)
    assert nulled.status_code == 422
    missing = await client.patch("/api/v1/events/424242", json={"name": "x"}, headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "event_not_found"


async def test_capacity_cannot_drop_below_sold(client, app):
    headers = await admin(client, app)
    event = await create_event(client, headers, capacity=10)
    _, buyer = await customer(client)
    assert (await book(client, buyer, event["id"], 4)).status_code == 201
    refused = await client.patch(f"/api/v1/events/{event['id']}", json={"capacity": 3, "name": "new"}, headers=headers)
    assert refused.status_code == 409 and refused.json()["code"] == "capacity_below_sold"
    unchanged = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert unchanged["capacity"] == 10 and unchanged["name"] == event["name"]
    lowered = await client.patch(f"/api/v1/events/{event['id']}", json={"capacity": 4}, headers=headers)
    assert lowered.status_code == 200 and lowered.json()["available"] == 0
