"""``TICKETING_SMTP_URL``: which SMTP server, how to secure the connection, and who signs in.

Kept apart from the client (smtp.py) so that config.py can check the setting at start without
importing the SMTP machinery."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

Security = Literal["plain", "starttls", "tls"]

# scheme -> (how the connection is secured, the port when none is given)
SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        # For logs and messages: never the password.
        who = f"{self.username}@" if self.username else ""
        return f"{self.security} {who}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpServer:
    """``smtp://[user:password@]host[:port]`` (plain), ``smtp+starttls://...`` or ``smtps://...``;
    ValueError, saying what is wrong (never echoing the password), for anything else."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"the scheme must be one of {', '.join(s + '://' for s in SCHEMES)}, not {scheme or 'none'!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError("a host is needed, like smtp://mail.example.com:587")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("nothing may follow host[:port]")
    security, default_port = SCHEMES[scheme]
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return SmtpServer(parts.hostname, port or default_port, security, username, password)
