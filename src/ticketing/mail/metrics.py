"""The sender's counters in /metrics (summed over worker processes like the others)."""

from __future__ import annotations

from prometheus_client import Counter

# sent: delivered; retried: an attempt failed and the message waits for the next; failed: the
# last attempt failed, the message is given up (an admin may resend it); skipped: not sent, its
# booking had left the state it tells of (content.py).
MESSAGES = Counter("ticketing_mail_messages", "Outbox messages by outcome of an attempt.", ["outcome"])
# A sender could not open an SMTP session (nothing was sent or counted against a message).
SMTP_UNAVAILABLE = Counter("ticketing_mail_smtp_unavailable", "Times a sender found the SMTP server unreachable.")
