"""Admin writes racing a booking, on PostgreSQL (SQLite runs one writer: what a booking's
statement reads cannot change before it writes). Each race is forced, not hoped for: an outside
transaction holds the event's row, so that the booking's statement has read the event and waits
at its foreign-key check while the admin's write takes the sales row and waits for the event's
row too; the outside transaction then lets both go, and the admin's write commits while the
booking waits for the sales row. Conditions are waited for in pg_locks, never by sleeping.

- A change of checkout (instant -> payment) against a booking that read "instant": the booking
  must end a hold (PENDING), not CONFIRMED unpaid on a payment event (checkout.md, invariant 6).
  Guard: the bookings trigger reads the mode again under the sales row's lock (migration 0006).
  CONTROL: the trigger of migration 0004, without that read: the booking ends CONFIRMED.
- A ticket type deleted under a booking of it: `404 ticket_type_not_found`, not 401. Guard: a
  foreign key that names no user column is a refusal the use case explains
  (errors.foreign_key_names_user). CONTROL: every foreign key read as the user's: 401.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.api import admin, create_event, customer, event_body, in_process_client
from tests.support.databases import drop_pg_database, make_database, pg_rows, require_postgres
from tests.support.faults import read_db_state
from tests.support.settings import settings_for
from tests.support.smtp import until
from ticketing.api.app import create_app
from ticketing.db import repositories

MIGRATIONS = Path(repositories.__file__).with_name("migrations") / "versions"
_WAITING = """
SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE NOT l.granted AND a.datname = current_database()
"""


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Any, str]]:
    await asyncio.to_thread(require_postgres)  # it runs a loop of its own
    url = await asyncio.to_thread(make_database, "postgres", tmp_path)
    app = create_app(settings_for(url))
    try:
        async with in_process_client(app) as client:
            yield client, app, url
    finally:
        await app.state.services.db.dispose()
        await asyncio.to_thread(drop_pg_database, url)


def _migration(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"migration_{name}", MIGRATIONS / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _waiting_for(watcher: asyncpg.Connection, count: int) -> None:
    async def waiting() -> bool:
        return bool(await watcher.fetchval(_WAITING) >= count)

    await until(waiting, 30, f"{count} lock requests waiting")


async def _race(url: str, event_id: int, booking: Awaitable[httpx.Response],
                admin_write: Callable[[], Awaitable[httpx.Response]]) -> tuple[httpx.Response, httpx.Response]:
    """The booking's statement reads the event, then waits (its foreign-key check) behind an
    outside lock on the event's row; the admin's write takes the sales row and waits there too;
    the lock goes, the admin's write commits first (the booking now waits for the sales row)."""
    # The watcher is a connection of its own: inside a transaction pg_stat_activity is a snapshot
    # taken at its first read, which would never see the admin's backend arrive.
    outside, watcher = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        transaction = outside.transaction()
        await transaction.start()
        await outside.execute("SELECT 1 FROM events WHERE id = $1 FOR UPDATE", event_id)
        booked = asyncio.ensure_future(booking)
        await _waiting_for(watcher, 1)
        written = asyncio.ensure_future(admin_write())
        await _waiting_for(watcher, 2)
        await transaction.rollback()
        return await booked, await written
    finally:
        await outside.close()
        await watcher.close()


@pytest.mark.parametrize("guarded", [True, False], ids=["guarded", "control-0004-trigger"])
async def test_a_booking_racing_a_change_of_checkout_ends_as_the_new_mode_says(site, guarded) -> None:  # type: ignore[no-untyped-def]
    client, app, url = site
    if not guarded:
        await pg_rows(url, _migration("0004_checkout.py").PG_BOOKINGS_FUNCTION)
    boss = await admin(client, app)
    event = await create_event(client, boss, capacity=10)
    _, buyer = await customer(client)

    booked, changed = await _race(
        url, event["id"],
        client.post("/api/v1/bookings", json={"event_id": event["id"], "quantity": 2}, headers=buyer),
        lambda: client.patch(f"/api/v1/events/{event['id']}", json={"checkout": "payment"}, headers=boss),
    )

    assert (changed.status_code, changed.json()["checkout"]) == (200, "payment"), changed.text
    assert booked.status_code == 201, booked.text
    if not guarded:  # the race happened: confirmed at once, unpaid, on a payment event
        assert (booked.json()["status"], booked.json()["payment"]["status"]) == ("CONFIRMED", "none")
        return
    body = booked.json()
    assert (body["status"], body["payment"]["status"], body["tickets"]) == ("PENDING", "due", []), body
    after = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert (after["tickets_held"], after["tickets_sold"]) == (2, 0)
    assert (await read_db_state(url, event["id"])).problems() == []


@pytest.mark.parametrize("guarded", [True, False], ids=["guarded", "control-every-key-the-users"])
async def test_a_booking_of_a_type_deleted_under_it_is_404_not_401(site, guarded, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client, app, url = site
    if not guarded:
        monkeypatch.setattr(repositories, "foreign_key_names_user", lambda error: True)
    boss = await admin(client, app)
    types = [{"name": "Standing", "price": "1200.00"}, {"name": "Student", "price": "600.00"}]
    body = event_body(capacity=10, ticket_types=types)
    body.pop("price")
    made = await client.post("/api/v1/events", json=body, headers=boss)
    assert made.status_code == 201, made.text
    event = made.json()
    student = event["ticket_types"][1]["id"]
    _, buyer = await customer(client)

    booked, deleted = await _race(
        url, event["id"],
        client.post("/api/v1/bookings", json={"event_id": event["id"], "items": [
            {"ticket_type_id": student, "quantity": 1}]}, headers=buyer),
        lambda: client.delete(f"/api/v1/events/{event['id']}/ticket-types/{student}", headers=boss),
    )

    assert deleted.status_code == 204, deleted.text
    if not guarded:
        assert (booked.status_code, booked.json()["code"]) == (401, "not_authenticated"), booked.text
        return
    assert (booked.status_code, booked.json()["code"]) == (404, "ticket_type_not_found"), booked.text
    after = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert (after["tickets_held"], after["tickets_sold"], len(after["ticket_types"])) == (0, 0, 1)
