"""The sender against a real SMTP server (aiosmtpd), on both databases: what arrives, and what
happens when the server is down, refuses a recipient, or two senders share one outbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.support.api import admin, book, create_event, customer, unique_email
from tests.support.credentials import PASSWORD
from tests.support.smtp import (
    Inbox,
    SmtpServer,
    calendar_of,
    mail_settings,
    outbox_rows,
    qr_codes,
    smtp_server,
    text_of,
    until,
)
from ticketing.db import outbox, tables
from ticketing.db.database import Database
from ticketing.mail import sender as sender_module
from ticketing.mail.sender import MailSender
from ticketing.mail.smtp import SmtpUnavailable, smtp_session


def _sender(app, smtp_url: str, render_in_child: bool = False, **overrides) -> MailSender:
    settings = mail_settings(app.state.services.settings.database_url, smtp_url, **overrides)
    sender = MailSender.from_settings(app.state.services.db, settings, render_in_child=render_in_child)
    assert sender is not None
    return sender


async def _all_sent(db) -> bool:
    return {r["status"] for r in await outbox_rows(db)} == {"sent"}


async def _status_is(db, status: str) -> bool:
    return [r["status"] for r in await outbox_rows(db)] == [status]


def _count(outcome: str) -> float:
    return REGISTRY.get_sample_value("ticketing_mail_messages_total", {"outcome": outcome}) or 0.0


async def _thai_buyer(client) -> tuple[dict, dict[str, str]]:
    email = unique_email("thai")
    answer = await client.post("/api/v1/auth/register",
                               json={"email": email, "password": PASSWORD, "name": "สมหญิง", "language": "th"})
    assert answer.status_code == 201, answer.text
    token = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    return answer.json(), {"Authorization": f"Bearer {token.json()['access_token']}"}


@pytest.mark.parametrize("render_in_child", [False, True], ids=["rendered-here", "rendered-in-child"])
async def test_the_tickets_arrive_in_the_buyers_language_with_a_qr_code_per_ticket(client, app, render_in_child):
    event = await create_event(client, await admin(client, app), name="แจ๊สริมสวน", venue="สวนลุมพินี",
                               starts_at="2099-12-31T12:00:00Z", timezone="Asia/Bangkok", price="1500.00")
    buyer, headers = await _thai_buyer(client)
    booking = (await book(client, headers, event["id"], 3)).json()
    codes = [ticket["code"] for ticket in booking["tickets"]]

    with smtp_server() as server:
        sender = _sender(app, server.url, render_in_child)
        try:
            sent = await sender.send_due()
        finally:
            sender.close()
        [received] = server.inbox.wait_for_count(1)
    assert sent == 1
    email = received.message
    assert received.recipients == (buyer["email"],) and received.sender == "tickets@example.com"
    assert email["Subject"] == "บัตรของคุณสำหรับ แจ๊สริมสวน"
    assert sorted(qr_codes(email)) == sorted(codes)
    text = text_of(email, "plain")
    assert all(code in text for code in codes)
    assert "สวนลุมพินี" in text and "31 ธันวาคม พ.ศ. 2642 เวลา 19:00 น. (Asia/Bangkok)" in text
    assert text_of(email, "html").count('src="cid:') == 3
    vevent = calendar_of(email).walk("VEVENT")[0]
    assert str(vevent["SUMMARY"]) == "แจ๊สริมสวน" and vevent.decoded("DTSTART") == datetime(2099, 12, 31, 12, tzinfo=UTC)
    [row] = await outbox_rows(app.state.services.db)
    assert row["status"] == "sent" and email["Message-ID"] == f"<{row['message_key']}@example.com>"


async def _claim_then_connect(self: MailSender, stop: asyncio.Event | None = None) -> int:
    """The control of the outage test: MailSender.send_due claiming its rows before it connects."""
    if not await self.outbox.any_due():
        return 0
    claim = await self.outbox.claim(sender_module.CLAIM_BATCH, self.lease_seconds)
    try:
        async with smtp_session(self.server, self.timeout) as smtp:
            return await self._send_claimed(smtp, claim, stop)
    except SmtpUnavailable as down:
        for row in claim.rows:
            await self._failed(row, claim.token, str(down))
        raise


async def _read_without_claiming(self: outbox.SqlOutbox, limit: int, lease_seconds: float) -> outbox.Claim:
    """The control of the two-senders test: SqlOutbox.claim reading the due rows and leasing none
    (check, then act)."""
    o = outbox.t.mail_outbox.c
    picked = select(o.id).where(self._due()).order_by(o.next_attempt_at, o.id).limit(limit)

    async def read(conn: AsyncConnection) -> list[outbox.OutboxRow]:
        found = await conn.execute(select(outbox.t.mail_outbox).where(o.id.in_(picked.scalar_subquery())))
        return [outbox._row(r) for r in found.mappings()]

    return outbox.Claim(None, await self._read(read), datetime.now(UTC) + timedelta(seconds=lease_seconds))


@pytest.mark.parametrize("connect_first", [True, False], ids=["connect-first", "control-claim-first"])
async def test_smtp_down_messages_wait_then_each_goes_once_when_it_is_back(client, app, connect_first, monkeypatch):
    """The control claims before it connects: the same outage then charges every message attempts
    (and, given long enough, fails them), where they should only wait."""
    if not connect_first:
        monkeypatch.setattr(MailSender, "send_due", _claim_then_connect)
    event = await create_event(client, await admin(client, app))
    _, headers = await customer(client)
    for _ in range(5):
        assert (await book(client, headers, event["id"], 1)).status_code == 201
    db = app.state.services.db
    server = SmtpServer()  # its port, with nothing listening yet
    sender = _sender(app, server.url)
    unreachable = REGISTRY.get_sample_value("ticketing_mail_smtp_unavailable_total") or 0.0
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    try:
        await until(lambda: (REGISTRY.get_sample_value("ticketing_mail_smtp_unavailable_total") or 0) >= unreachable + 2,
                    what="the sender found the server down twice")
        rows = await outbox_rows(db)
        if not connect_first:
            assert all(r["attempts"] > 0 for r in rows), "the control charges the outage to the messages"
            return
        assert [(r["status"], r["attempts"]) for r in rows] == [("pending", 0)] * 5, "a server down costs no attempt"
        server.start()
        received = await server.inbox.wait_for_count_async(5)
        await until(lambda: _all_sent(db), what="every row marked sent")
    finally:
        stop.set()
        await running
        server.stop()
    assert len(server.inbox.messages) == 5 and len({r.message_id for r in received}) == 5


async def test_a_refused_recipient_is_marked_failed_after_the_retries_and_the_booking_is_untouched(client, app):
    event = await create_event(client, await admin(client, app))
    user, headers = await customer(client)
    booking = (await book(client, headers, event["id"], 2)).json()
    failed_before, retried_before = _count("failed"), _count("retried")
    inbox = Inbox()
    inbox.refused.add(user["email"])
    with smtp_server(inbox) as server:
        sender = _sender(app, server.url, mail_max_attempts=3)
        stop = asyncio.Event()
        running = asyncio.create_task(sender.run(stop))
        try:
            await until(lambda: _status_is(app.state.services.db, "failed"), what="the message marked failed")
        finally:
            stop.set()
            await running
    [row] = await outbox_rows(app.state.services.db)
    assert (row["status"], row["attempts"]) == ("failed", 3) and row["last_error"].startswith("550")
    assert (_count("failed") - failed_before, _count("retried") - retried_before) == (1, 2)
    assert inbox.messages == []
    again = (await client.get(f"/api/v1/bookings/{booking['id']}", headers=headers)).json()
    assert (again["status"], [t["status"] for t in again["tickets"]]) == ("CONFIRMED", ["VALID", "VALID"])


async def test_a_message_whose_booking_moved_on_is_skipped_and_the_new_states_message_goes(client, app):
    """"Your tickets" of a booking cancelled before it went out (its codes are void) and "what to
    pay" of a booking paid meanwhile are not sent: skipped, with why. The messages of the new
    states go. An admin's resend of a skipped message tries it again, and it is skipped again."""
    admin_headers = await admin(client, app)
    instant = await create_event(client, admin_headers)
    paying = await create_event(client, admin_headers, checkout="payment", price="800.00")
    _, headers = await customer(client)
    cancelled = (await book(client, headers, instant["id"], 2)).json()
    assert (await client.post(f"/api/v1/bookings/{cancelled['id']}/cancel", headers=headers)).status_code == 200
    paid = (await book(client, headers, paying["id"], 1)).json()
    assert (await client.post(f"/api/v1/bookings/{paid['id']}/mark-paid", headers=admin_headers)).status_code == 200
    db, skipped_before = app.state.services.db, _count("skipped")

    with smtp_server() as server:
        assert await _sender(app, server.url).send_due() == 2
        received = server.inbox.wait_for_count(2)
    rows = await outbox_rows(db)
    assert [(r["booking_id"], r["kind"], r["status"]) for r in rows] == [
        (cancelled["id"], "confirmed", "skipped"), (cancelled["id"], "cancelled", "sent"),
        (paid["id"], "pending", "skipped"), (paid["id"], "confirmed", "sent")]
    assert rows[0]["last_error"] == "not sent: the booking is CANCELLED now, no longer CONFIRMED"
    assert rows[2]["last_error"] == "not sent: the booking is CONFIRMED now, no longer PENDING"
    assert sorted(r.message_id for r in received) == sorted(f"<{r['message_key']}@example.com>" for r in rows
                                                            if r["status"] == "sent")
    assert not any(t["code"] in text_of(r.message, "plain") for r in received for t in cancelled["tickets"])
    assert _count("skipped") - skipped_before == 2

    listed = (await client.get("/api/v1/admin/messages?status=skipped", headers=admin_headers)).json()
    assert [(m["id"], m["status"]) for m in listed["items"]] == [(rows[2]["id"], "skipped"), (rows[0]["id"], "skipped")]
    again = await client.post(f"/api/v1/admin/messages/{rows[2]['id']}/resend", headers=admin_headers)
    assert (again.status_code, again.json()["status"]) == (202, "pending")
    void = await client.post(f"/api/v1/admin/messages/{rows[0]['id']}/resend", headers=admin_headers)
    assert (void.status_code, void.json()["code"]) == (409, "booking_not_confirmed")
    with smtp_server() as server:
        assert await _sender(app, server.url).send_due() == 0
        assert server.inbox.messages == []
    assert [r["status"] for r in await outbox_rows(db)] == ["skipped", "sent", "skipped", "sent"]


async def test_what_to_pay_of_a_hold_past_its_deadline_is_skipped_though_no_sweeper_released_it(client, app):
    """The in-process app runs no sweeper: the hold is still PENDING as stored, EXPIRED as read."""
    paying = await create_event(client, await admin(client, app), checkout="payment", price="800.00")
    _, headers = await customer(client)
    hold = (await book(client, headers, paying["id"], 1)).json()
    db = app.state.services.db
    async with db.engine.connect() as conn:
        await conn.execute(update(tables.bookings).where(tables.bookings.c.id == hold["id"])
                           .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        await conn.commit()
    with smtp_server() as server:
        assert await _sender(app, server.url).send_due() == 0
        assert server.inbox.messages == []
    [row] = await outbox_rows(db)
    assert (row["kind"], row["status"], row["last_error"]) == (
        "pending", "skipped", "not sent: the booking is EXPIRED now, no longer PENDING")


@pytest.mark.parametrize("claimed", [True, False], ids=["claimed", "control-unclaimed"])
async def test_two_senders_on_one_outbox_send_each_message_once(client, app, claimed, monkeypatch):
    """Two senders with their own engines (as two hosts), at once, on 40 messages. The control
    turns the claim off (rows read, then sent): the same test then sees messages sent twice."""
    if not claimed:
        monkeypatch.setattr(outbox.SqlOutbox, "claim", _read_without_claiming)
    event = await create_event(client, await admin(client, app), capacity=1000)
    _, headers = await customer(client)
    for _ in range(40):
        assert (await book(client, headers, event["id"], 1)).status_code == 201
    settings = app.state.services.settings
    engines = [Database.from_settings(settings) for _ in range(2)]
    try:
        with smtp_server() as server:
            senders = [MailSender.from_settings(db, mail_settings(settings.database_url, server.url)) for db in engines]
            await asyncio.gather(*(sender.send_due() for sender in senders if sender))
            server.inbox.wait_for_count(40)
            counts = server.inbox.by_message_id()
    finally:
        for db in engines:
            await db.dispose()
    assert len(counts) == 40, "every message arrived"
    twice = sum(1 for n in counts.values() if n > 1)
    if claimed:
        assert twice == 0, counts.most_common(3)
        assert {r["status"] for r in await outbox_rows(app.state.services.db)} == {"sent"}
    else:
        assert twice > 0, "the control must send some message twice"
