"""``ticketing mail-worker`` and ``ticketing mail-test`` (registered in ticketing/cli.py)."""

from __future__ import annotations

import asyncio
import secrets
import signal
from typing import TYPE_CHECKING, Annotated

import typer

from ticketing.config import ConfigError, Settings

if TYPE_CHECKING:
    from ticketing.mail.sender import MailSender


def _mail_settings() -> Settings:
    try:
        settings = Settings()
    except ConfigError as error:
        typer.echo(f"ticketing: {error}", err=True)
        raise typer.Exit(2) from None
    if settings.smtp_url is None:
        typer.echo("ticketing: TICKETING_SMTP_URL is not set (smtp://[user:password@]host[:port], "
                   "smtp+starttls://... or smtps://...)", err=True)
        raise typer.Exit(2)
    return settings


def mail_worker(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then exit.")] = False,
) -> None:
    """Deliver the outbox's messages over TICKETING_SMTP_URL until stopped, without serving HTTP.

    Any number may run, beside `ticketing serve`'s own senders too: each message is claimed by
    one sender at a time. Run `ticketing migrate` first."""
    from ticketing.api.app import configure_logging

    settings = _mail_settings()
    configure_logging(settings.log_level)
    raise typer.Exit(asyncio.run(_work(settings, once)))


async def _work(settings: Settings, once: bool) -> int:
    from ticketing.db.database import Database
    from ticketing.mail.sender import MailSender

    db = Database.from_settings(settings)
    try:
        # Rendering at the lowest priority: a worker beside `ticketing serve` yields to it too.
        sender = MailSender.from_settings(db, settings, render_in_child=True)
        assert sender is not None  # the SMTP URL is set
        try:
            return await _send(sender, once)
        finally:
            sender.close()
    finally:
        await db.dispose()


async def _send(sender: MailSender, once: bool) -> int:
    from ticketing.mail.smtp import SmtpUnavailable

    if once:
        try:
            typer.echo(f"mail-worker: sent {await sender.send_due()} message(s)")
        except SmtpUnavailable as error:
            typer.echo(f"mail-worker: {error}", err=True)
            return 1
        return 0
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    typer.echo(f"mail-worker: sending through {sender.server} (Ctrl-C to stop)")
    await sender.run(stop)
    typer.echo(f"mail-worker: stopped after sending {sender.sent} message(s)")
    return 0


def mail_test(
    to: Annotated[str, typer.Option("--to", help="The address to send the test message to.")],
) -> None:
    """Send one test message through TICKETING_SMTP_URL, to check the mail settings."""
    from email.utils import parseaddr

    settings = _mail_settings()
    address = parseaddr(to)[1]
    if "@" not in address or address != to.strip():
        typer.echo(f"ticketing: --to must be an email address like fan@example.com, not {to!r}", err=True)
        raise typer.Exit(2)
    raise typer.Exit(asyncio.run(_send_test(settings, address)))


async def _send_test(settings: Settings, to: str) -> int:
    from ticketing.mail.render import Sender, render_test_message
    from ticketing.mail.smtp import DeliveryFailed, Outgoing, SmtpUnavailable, smtp_session
    from ticketing.mail.smtp_url import parse_smtp_url

    assert settings.smtp_url is not None
    server = parse_smtp_url(settings.smtp_url.get_secret_value())
    email = render_test_message(to, Sender(settings.mail_from, settings.public_url), str(server), secrets.token_hex(16))
    try:
        async with smtp_session(server, settings.smtp_timeout) as smtp:
            await smtp.send(Outgoing.of(email))
    except (SmtpUnavailable, DeliveryFailed) as error:
        typer.echo(f"mail-test: not sent: {error}", err=True)
        return 1
    typer.echo(f"mail-test: sent to {to} through {server} (Message-ID {email['Message-ID']})")
    return 0
