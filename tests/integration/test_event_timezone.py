"""Contract (checkout.md, "Event gains ... timezone"): an event's IANA time zone, written on POST
and PATCH, answered in Event, defaulted from TICKETING_DEFAULT_TIMEZONE; unknown names refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from fastapi import FastAPI

from tests.support.api import admin, create_event, event_body, in_process_client
from ticketing.config import ConfigError, Settings
from ticketing.timezones import is_known

MakeApp = Callable[..., Awaitable[FastAPI]]
UNKNOWN = ["Mars/Olympus_Mons", "asia/bangkok", "", "Asia/Bangkok ", "../etc/passwd", "/etc/localtime",
           "Asia/" + "x" * 80, "Asia\x00Bangkok"]


async def test_an_event_is_created_in_its_zone_and_answers_it(client, app):
    headers = await admin(client, app)
    event = await create_event(client, headers, timezone="Asia/Bangkok")
    assert event["timezone"] == "Asia/Bangkok"
    assert (await client.get(f"/api/v1/events/{event['id']}")).json()["timezone"] == "Asia/Bangkok"
    listed = (await client.get("/api/v1/events")).json()["items"]
    assert [e["timezone"] for e in listed] == ["Asia/Bangkok"]


async def test_without_one_the_default_setting_applies(client, app):
    event = await create_event(client, await admin(client, app))
    assert event["timezone"] == "UTC"  # TICKETING_DEFAULT_TIMEZONE's own default


async def test_the_default_comes_from_the_setting(make_app: MakeApp) -> None:
    app = await make_app(default_timezone="America/Argentina/Buenos_Aires")
    async with in_process_client(app) as client:
        headers = await admin(client, app)
        assert (await create_event(client, headers))["timezone"] == "America/Argentina/Buenos_Aires"
        assert (await create_event(client, headers, timezone="Europe/Berlin"))["timezone"] == "Europe/Berlin"


async def test_patch_changes_the_zone_and_nothing_else(client, app):
    headers = await admin(client, app)
    event = await create_event(client, headers)
    patched = await client.patch(f"/api/v1/events/{event['id']}", json={"timezone": "Asia/Tokyo"}, headers=headers)
    assert patched.status_code == 200, patched.text
    assert patched.json() == {**event, "timezone": "Asia/Tokyo"}
    both = await client.patch(f"/api/v1/events/{event['id']}", json={"timezone": "UTC", "capacity": 7}, headers=headers)
    assert both.status_code == 200 and (both.json()["timezone"], both.json()["capacity"]) == ("UTC", 7)


@pytest.mark.parametrize("name", UNKNOWN)
async def test_an_unknown_zone_is_422_on_post_and_patch(client, app, name):
    headers = await admin(client, app)
    created = await client.post("/api/v1/events", json=event_body(timezone=name), headers=headers)
    assert created.status_code == 422 and created.json()["code"] == "validation_error", created.text
    event = await create_event(client, headers, timezone="Asia/Bangkok")
    patched = await client.patch(f"/api/v1/events/{event['id']}", json={"timezone": name}, headers=headers)
    assert patched.status_code == 422 and patched.json()["code"] == "validation_error", patched.text
    assert (await client.get(f"/api/v1/events/{event['id']}")).json()["timezone"] == "Asia/Bangkok"


async def test_a_zone_must_be_a_string_and_patch_cannot_null_it(client, app):
    headers = await admin(client, app)
    for bad in (7, ["UTC"], {"name": "UTC"}, True):
        created = await client.post("/api/v1/events", json=event_body(timezone=bad), headers=headers)
        assert created.status_code == 422 and created.json()["code"] == "validation_error", bad
    event = await create_event(client, headers)
    nulled = await client.patch(f"/api/v1/events/{event['id']}", json={"timezone": None}, headers=headers)
    assert nulled.status_code == 422 and nulled.json()["code"] == "validation_error"


def test_an_unknown_default_zone_stops_the_start() -> None:
    assert Settings(default_timezone="Asia/Bangkok").default_timezone == "Asia/Bangkok"
    for name in ("Mars/Olympus_Mons", "", "utc"):
        with pytest.raises(ConfigError, match="TICKETING_DEFAULT_TIMEZONE"):
            Settings(default_timezone=name)


def test_the_known_zones_are_the_iana_names() -> None:
    assert all(is_known(name) for name in ("UTC", "Asia/Bangkok", "America/Argentina/ComodRivadavia", "Etc/GMT+7"))
    assert not any(is_known(name) for name in UNKNOWN)
