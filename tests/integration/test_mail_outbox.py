"""The outbox is written by the database, in the transaction of the change it tells of: each state
change of a booking writes one message row, whoever makes it, and a change rolled back leaves none."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tests.support.api import admin, book, create_event, customer
from tests.support.databases import temporary_database
from tests.support.settings import settings_for
from tests.support.smtp import mail_settings, outbox_rows, smtp_server
from ticketing.app import holds
from ticketing.db.database import Database
from ticketing.mail.sender import MailSender


async def test_an_instant_booking_and_its_cancel_each_write_one_message(client, app):
    event = await create_event(client, await admin(client, app))
    _, headers = await customer(client)
    booking = (await book(client, headers, event["id"], 2)).json()
    rows = await outbox_rows(app.state.services.db)
    assert [(r["kind"], r["booking_id"], r["status"], r["attempts"]) for r in rows] == [
        ("confirmed", booking["id"], "pending", 0)]
    assert len(rows[0]["message_key"]) == 32

    await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers)
    await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers)  # a no-op: nothing more
    assert [r["kind"] for r in await outbox_rows(app.state.services.db)] == ["confirmed", "cancelled"]


async def test_a_paid_booking_tells_of_each_step_once(client, app):
    admin_headers = await admin(client, app)
    event = await create_event(client, admin_headers, checkout="payment", price="800.00")
    _, headers = await customer(client)
    db = app.state.services.db

    paid = (await book(client, headers, event["id"], 1)).json()
    assert paid["status"] == "PENDING"
    assert (await client.post(f"/api/v1/bookings/{paid['id']}/mark-paid", headers=admin_headers)).status_code == 200
    # Cancelling a paid booking also makes its refund due: one message tells both.
    cancelled = await client.post(f"/api/v1/bookings/{paid['id']}/cancel", headers=headers)
    assert cancelled.json()["payment"]["status"] == "refund_due"
    await client.post(f"/api/v1/bookings/{paid['id']}/mark-refunded", headers=admin_headers)
    assert [r["kind"] for r in await outbox_rows(db) if r["booking_id"] == paid["id"]] == ["pending", "confirmed", "cancelled"]

    late = (await book(client, headers, event["id"], 1)).json()
    await holds.release_expired_holds(app.state.services.store, datetime.now(UTC) + timedelta(days=1))
    async with db.engine.connect() as conn:  # a payment that came too late: money owed, no tickets
        await conn.execute(text("UPDATE bookings SET payment_status = 'refund_due' WHERE id = :id"), {"id": late["id"]})
        await conn.commit()
    assert [r["kind"] for r in await outbox_rows(db) if r["booking_id"] == late["id"]] == ["pending", "expired", "refund_due"]


async def test_a_booking_rolled_back_leaves_no_message_and_nothing_is_sent(client, app):
    event = await create_event(client, await admin(client, app))
    user, _ = await customer(client)
    db = app.state.services.db
    async with db.write_engine.connect() as conn:
        # A transaction of our own on either database (the engines run in autocommit).
        if db.is_sqlite:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn = await conn.execution_options(isolation_level="READ COMMITTED")
            await conn.begin()
        await conn.execute(text(
            "INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date, created_by, "
            "currency, payment_status) VALUES (:u, :e, 1, 0, 'CONFIRMED', :at, :u, 'THB', 'none')"),
            {"u": user["id"], "e": event["id"], "at": datetime.now(UTC)})
        inside = (await conn.execute(text("SELECT count(*) FROM mail_outbox"))).scalar_one()
        await conn.rollback()
    assert inside == 1, "the trigger wrote the message inside the transaction"
    assert await outbox_rows(db) == []

    with smtp_server() as server:
        sender = MailSender.from_settings(db, mail_settings(app.state.services.settings.database_url, server.url))
        assert sender is not None
        assert await sender.send_due() == 0
        assert server.inbox.messages == []


async def test_without_an_smtp_server_messages_wait_and_bookings_go_on(client, app):
    event = await create_event(client, await admin(client, app))
    _, headers = await customer(client)
    for _ in range(3):
        assert (await book(client, headers, event["id"], 1)).status_code == 201
    settings = mail_settings(app.state.services.settings.database_url, None)
    assert MailSender.from_settings(app.state.services.db, settings) is None
    assert [r["status"] for r in await outbox_rows(app.state.services.db)] == ["pending"] * 3


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_outbox_migration_goes_down_to_0004_and_up_again(backend, tmp_path):
    from ticketing.db.migrate import downgrade, upgrade

    async def columns_and_triggers(url: str) -> tuple[set[str], set[str]]:
        db = Database.from_settings(settings_for(url))
        try:
            async with db.engine.connect() as conn:
                if db.is_sqlite:
                    users = {row[1] for row in await conn.exec_driver_sql("PRAGMA table_info(users)")}
                    found = await conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                else:
                    users = set((await conn.execute(text(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'"))).scalars())
                    found = await conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
                return users, {str(row[0]) for row in found if "outbox" in str(row[0])}
        finally:
            await db.dispose()

    with temporary_database(backend, tmp_path) as url:
        upgrade(url)
        _, up_triggers = asyncio.run(columns_and_triggers(url))
        assert len(up_triggers) == (3 if backend == "sqlite" else 2)
        downgrade(url, "0004")
        language, triggers = asyncio.run(columns_and_triggers(url))
        assert "language" not in language and not triggers
        upgrade(url)
        assert asyncio.run(columns_and_triggers(url)) == (language | {"language"}, up_triggers)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_skipped_status_comes_with_0007_and_the_outbox_keeps_its_rows_counter_and_triggers(backend, tmp_path):
    """0007 lets a row be skipped. On SQLite that rebuilds the table: its rows, its AUTOINCREMENT
    counter (the last id was deleted: it is not given again) and the bookings triggers that write
    into it survive; the downgrade turns skipped rows into failed ones."""
    from sqlalchemy.exc import IntegrityError

    from ticketing.db.migrate import downgrade, upgrade

    insert = ("INSERT INTO mail_outbox (kind, booking_id, status, attempts, next_attempt_at, message_key, created_at) "
              "VALUES ('confirmed', 1, '{status}', 0, '2026-12-02 10:00:00.000000', '{key}', '2026-12-02 10:00:00.000000')")

    async def run(url: str, *statements: str) -> list[list[tuple]]:
        db = Database.from_settings(settings_for(url))
        try:
            async with db.engine.connect() as conn:
                return [list(map(tuple, (await conn.execute(text(s))).all())) if s.startswith("SELECT")
                        else (await conn.execute(text(s)), [])[1] for s in statements]
        finally:
            await db.dispose()

    def status_refused(url: str, status: str) -> bool:
        try:
            asyncio.run(run(url, insert.format(status=status, key="f" * 32)))
        except IntegrityError:
            return True
        asyncio.run(run(url, f"DELETE FROM mail_outbox WHERE status = '{status}'"))
        return False

    triggers = ("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name" if backend == "sqlite"
                else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname")
    everything = "SELECT id, status, message_key FROM mail_outbox ORDER BY id"
    with temporary_database(backend, tmp_path) as url:
        upgrade(url, "0006")
        asyncio.run(run(url, *(insert.format(status=s, key=str(i) * 32) for i, s in enumerate(("sent", "failed", "pending"))),
                        "DELETE FROM mail_outbox WHERE message_key = '" + "2" * 32 + "'"))
        [rows, triggers_before] = asyncio.run(run(url, everything, triggers))
        assert status_refused(url, "skipped")

        upgrade(url)
        assert asyncio.run(run(url, everything, triggers)) == [rows, triggers_before]
        asyncio.run(run(url, insert.format(status="pending", key="n" * 32)))
        [[(new_id,)]] = asyncio.run(run(url, "SELECT max(id) FROM mail_outbox"))
        assert new_id >= rows[-1][0] + 2, "the deleted row's id is not given again"
        assert not status_refused(url, "skipped") and status_refused(url, "lost")
        asyncio.run(run(url, "UPDATE mail_outbox SET status = 'skipped' WHERE status = 'sent'"))

        downgrade(url, "0006")
        assert [status for _, status, _ in asyncio.run(run(url, everything))[0]] == ["failed", "failed", "pending"]
        assert status_refused(url, "skipped") and asyncio.run(run(url, triggers))[0] == triggers_before
        upgrade(url)
        assert not status_refused(url, "skipped")
