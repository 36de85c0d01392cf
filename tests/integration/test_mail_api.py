"""The mail API: the language chosen at sign-up; admins list and resend messages; a buyer asks for a
confirmed booking's tickets again, at most three times an hour, however the requests race."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from tests.support.api import admin, book, create_event, customer, unique_email
from tests.support.credentials import PASSWORD
from tests.support.smtp import mail_settings, outbox_rows, smtp_server
from ticketing.db import outbox
from ticketing.mail.sender import MailSender

MESSAGES = "/api/v1/admin/messages"


async def _language_of(db, email: str) -> str:
    async with db.engine.connect() as conn:
        return str((await conn.execute(text("SELECT language FROM users WHERE email = :e"), {"e": email})).scalar_one())


async def test_sign_up_keeps_the_language_of_the_emails(client, app):
    db = app.state.services.db
    for language in ("th", "en", None):
        email = unique_email()
        body = {"email": email, "password": PASSWORD, "name": "A", **({"language": language} if language else {})}
        assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201
        assert await _language_of(db, email) == (language or "en")
    refused = await client.post("/api/v1/auth/register",
                                json={"email": unique_email(), "password": PASSWORD, "name": "A", "language": "fr"})
    assert refused.status_code == 422 and refused.json()["code"] == "validation_error"


async def _sent_and_failed(client, app) -> tuple[dict[str, str], list[dict]]:
    """An admin, and two messages of two bookings: the first marked sent, the second failed."""
    admin_headers = await admin(client, app)
    event = await create_event(client, admin_headers)
    _, headers = await customer(client)
    for _ in range(2):
        assert (await book(client, headers, event["id"], 1)).status_code == 201
    db = app.state.services.db
    rows = await outbox_rows(db)
    async with db.engine.connect() as conn:
        await conn.execute(text("UPDATE mail_outbox SET status = 'sent' WHERE id = :id"), {"id": rows[0]["id"]})
        await conn.execute(text("UPDATE mail_outbox SET status = 'failed', attempts = 8, last_error = '550 no' "
                                "WHERE id = :id"), {"id": rows[1]["id"]})
        await conn.commit()
    return admin_headers, await outbox_rows(db)


async def test_admins_list_the_outbox_by_status_and_no_one_else_may(client, app):
    admin_headers, rows = await _sent_and_failed(client, app)
    everything = (await client.get(MESSAGES, headers=admin_headers)).json()
    assert [m["id"] for m in everything["items"]] == [rows[1]["id"], rows[0]["id"]] and everything["total"] == 2
    failed = (await client.get(MESSAGES, params={"status": "failed"}, headers=admin_headers)).json()
    assert [(m["status"], m["attempts"], m["last_error"]) for m in failed["items"]] == [("failed", 8, "550 no")]
    assert failed["items"][0]["message_id"] == f"<{rows[1]['message_key']}@localhost>"
    assert (await client.get(MESSAGES, params={"status": "lost"}, headers=admin_headers)).status_code == 422
    _, customer_headers = await customer(client)
    forbidden = await client.get(MESSAGES, headers=customer_headers)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    assert (await client.get(MESSAGES)).status_code == 401


async def test_a_failed_message_goes_again_as_it_was_and_a_sent_one_as_a_new_message(client, app):
    admin_headers, (sent, failed) = await _sent_and_failed(client, app)
    again = await client.post(f"{MESSAGES}/{failed['id']}/resend", headers=admin_headers)
    assert again.status_code == 202
    assert (again.json()["id"], again.json()["status"], again.json()["attempts"]) == (failed["id"], "pending", 0)
    assert again.json()["message_id"] == f"<{failed['message_key']}@localhost>"

    copy = (await client.post(f"{MESSAGES}/{sent['id']}/resend", headers=admin_headers)).json()
    assert copy["id"] not in (sent["id"], failed["id"]) and copy["booking_id"] == sent["booking_id"]
    assert copy["kind"] == "confirmed" and copy["status"] == "pending"
    assert copy["message_id"] != f"<{sent['message_key']}@localhost>"
    missing = await client.post(f"{MESSAGES}/999999/resend", headers=admin_headers)
    assert missing.status_code == 404 and missing.json()["code"] == "message_not_found"


async def test_tickets_are_resent_only_while_the_booking_is_confirmed(client, app):
    """A sent "your tickets" message of a booking cancelled since is not sent again by an admin
    (its tickets are void), as a buyer's own request is refused; other kinds go again."""
    admin_headers, (sent, _) = await _sent_and_failed(client, app)
    assert (await client.post(f"/api/v1/bookings/{sent['booking_id']}/cancel", headers=admin_headers)).status_code == 200
    refused = await client.post(f"{MESSAGES}/{sent['id']}/resend", headers=admin_headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "booking_not_confirmed"), refused.text
    cancellation = [r for r in await outbox_rows(app.state.services.db)
                    if r["booking_id"] == sent["booking_id"] and r["kind"] == "cancelled"]
    async with app.state.services.db.engine.connect() as conn:
        await conn.execute(text("UPDATE mail_outbox SET status = 'sent' WHERE id = :id"), {"id": cancellation[0]["id"]})
        await conn.commit()
    again = await client.post(f"{MESSAGES}/{cancellation[0]['id']}/resend", headers=admin_headers)
    assert (again.status_code, again.json()["kind"]) == (202, "cancelled")


async def test_staff_are_not_held_to_the_buyers_limit_of_three_an_hour(client, app):
    """The limit keeps a buyer from flooding a mailbox; the box office sends as often as needed,
    and an admin's resends of messages do not count against it either."""
    admin_headers, (sent, _) = await _sent_and_failed(client, app)
    assert (await client.post(f"{MESSAGES}/{sent['id']}/resend", headers=admin_headers)).status_code == 202
    resend = f"/api/v1/bookings/{sent['booking_id']}/resend-tickets"
    answers = [await client.post(resend, headers=admin_headers) for _ in range(5)]
    assert [a.status_code for a in answers] == [202] * 5


async def test_the_owner_gets_the_tickets_again_at_most_three_times_an_hour(client, app):
    admin_headers = await admin(client, app)
    event = await create_event(client, admin_headers)
    user, headers = await customer(client)
    booking = (await book(client, headers, event["id"], 2)).json()
    resend = f"/api/v1/bookings/{booking['id']}/resend-tickets"

    answers = [await client.post(resend, headers=headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert answers[3].json()["code"] == "too_many_requests"
    assert 3500 <= int(answers[3].headers["Retry-After"]) <= 3600
    assert {a.json()["requested_by"] for a in answers[:3]} == {user["id"]}

    _, stranger = await customer(client)
    not_theirs = await client.post(resend, headers=stranger)
    assert not_theirs.status_code == 404 and not_theirs.json()["code"] == "booking_not_found"
    other = (await book(client, headers, event["id"], 1)).json()
    await client.post(f"/api/v1/bookings/{other['id']}/cancel", headers=headers)
    cancelled = await client.post(f"/api/v1/bookings/{other['id']}/resend-tickets", headers=admin_headers)
    assert cancelled.status_code == 409 and cancelled.json()["code"] == "booking_not_confirmed"

    with smtp_server() as server:  # the copies go like any message, each with an ID of its own
        sender = MailSender.from_settings(app.state.services.db, mail_settings(
            app.state.services.settings.database_url, server.url))
        assert sender is not None
        await sender.send_due()
        # 1 confirmation, 3 copies, 1 cancellation: the other booking's confirmation, cancelled
        # before it went out, is skipped (its tickets are void).
        received = server.inbox.wait_for_count(5)
    tickets = [r for r in received if r.message["Subject"] == f"Your tickets for {event['name']}"]
    assert len(tickets) == 4 and len({r.message_id for r in tickets}) == 4


@pytest.mark.parametrize("locked", [True, False], ids=["locked", "control-unlocked"])
async def test_racing_resend_requests_are_counted_one_after_the_other(client, app, locked, monkeypatch):
    """Eight requests at once: three go, five get 429. The control (PostgreSQL, whose writes run
    side by side; SQLite has one writer) drops the requester's lock and lines the requests up
    between their count and their insert: more than three then go."""
    db = app.state.services.db
    if not locked:
        if db.is_sqlite:
            pytest.skip("SQLite runs one writer at a time: there is no lock to take away")
        async def no_lock(self, conn, user_id):  # type: ignore[no-untyped-def]
            pass

        monkeypatch.setattr(outbox.SqlOutbox, "_lock_requester", no_lock)
        counted = asyncio.Barrier(2)  # the write pool's two connections, both counted before either inserts
        real = outbox.SqlOutbox._requested_since

        async def count_then_wait(self, conn, user_id, window, limit):  # type: ignore[no-untyped-def]
            asked = await real(self, conn, user_id, window, limit)
            await counted.wait()
            return asked

        monkeypatch.setattr(outbox.SqlOutbox, "_requested_since", count_then_wait)
    event = await create_event(client, await admin(client, app))
    _, headers = await customer(client)
    booking = (await book(client, headers, event["id"], 1)).json()
    answers = await asyncio.gather(*(
        client.post(f"/api/v1/bookings/{booking['id']}/resend-tickets", headers=headers) for _ in range(8)))
    statuses = sorted(a.status_code for a in answers)
    copies = [r for r in await outbox_rows(db) if r["requested_by"] is not None]
    if locked:
        assert statuses == [202] * 3 + [429] * 5 and len(copies) == 3
    else:
        assert statuses.count(202) > 3 and len(copies) > 3, statuses
