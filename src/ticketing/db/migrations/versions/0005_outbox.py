"""Tickets by email: the outbox, filled by the database itself; users choose a language.

- ``mail_outbox``: one row per message to send. A trigger on ``bookings`` writes it in the same
  statement (so the same transaction) as the state change that causes it, whoever makes that
  change (the service, a sweeper, an admin by hand): the booking path itself is unchanged, and a
  change rolled back leaves no message behind.

  ============================================  ============
  change of the booking                         kind
  ============================================  ============
  inserted PENDING                              pending
  inserted CONFIRMED, or becomes CONFIRMED      confirmed
  becomes EXPIRED                               expired
  becomes CANCELLED                             cancelled
  payment_status becomes refund_due, same state refund_due
  ============================================  ============

  (A change of state that also makes a refund due, such as cancelling a paid booking, is one
  message: its template tells of the refund.) The row starts ``pending``, due at once, with 128
  random bits as ``message_key``: its Message-ID is ``<message_key@domain of TICKETING_MAIL_FROM>``,
  the same on every attempt. Its content is read from the database when it is sent.
  ``next_attempt_at`` is also the claim: a sender that takes a row moves it to the end of its
  lease, so a sender that dies leaves the row due again once the lease is over (see
  db/outbox.py).
  Every booking inserts one row, so the row is kept cheap to insert: no foreign key (its check
  would cost the booking another lookup of its own row), and besides the primary key only the
  partial index of pending rows is written at insert (``ix_mail_outbox_failed`` and
  ``ix_mail_outbox_requested`` hold only failed rows and requested copies). Bookings are never
  deleted; a message whose booking is gone fails with "booking not found".
- ``users.language``: 'en' or 'th' (default 'en'), the language of the user's messages.

SQLite: the triggers are ONE statement each. A later migration that rebuilds ``bookings`` on
SQLite drops them with the table and must create them again (``SQLITE_TRIGGERS`` here).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ticketing.db.types import Id, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

KINDS = ("pending", "confirmed", "expired", "cancelled", "refund_due")

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ticketing_bookings_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind varchar;
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status <> OLD.status THEN
        kind := CASE NEW.status WHEN 'PENDING' THEN 'pending' WHEN 'CONFIRMED' THEN 'confirmed'
                                WHEN 'EXPIRED' THEN 'expired' WHEN 'CANCELLED' THEN 'cancelled' END;
    ELSIF NEW.payment_status = 'refund_due' AND OLD.payment_status <> 'refund_due' THEN
        kind := 'refund_due';
    END IF;
    IF kind IS NOT NULL THEN
        INSERT INTO mail_outbox (kind, booking_id, status, attempts, next_attempt_at, message_key, created_at)
        VALUES (kind, NEW.id, 'pending', 0, now(), replace(gen_random_uuid()::text, '-', ''), now());
    END IF;
    RETURN NULL;
END
$$
"""

# The WHEN clauses keep the function from being called at all for changes that send nothing.
PG_TRIGGERS = [
    """
    CREATE TRIGGER bookings_outbox_insert AFTER INSERT ON bookings
    FOR EACH ROW WHEN (NEW.status IN ('PENDING', 'CONFIRMED')) EXECUTE FUNCTION ticketing_bookings_outbox()
    """,
    """
    CREATE TRIGGER bookings_outbox_update AFTER UPDATE OF status, payment_status ON bookings
    FOR EACH ROW WHEN (NEW.status <> OLD.status OR (NEW.payment_status = 'refund_due' AND OLD.payment_status <> 'refund_due'))
    EXECUTE FUNCTION ticketing_bookings_outbox()
    """,
]

# SQLAlchemy's own text form of a UTC time on SQLite ("2026-12-02 10:30:00.123000"), so that the
# sender's comparisons with its bound times are comparisons of like strings.
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"
_SQLITE_INSERT = (
    "INSERT INTO mail_outbox (kind, booking_id, status, attempts, next_attempt_at, message_key, created_at) "
    f"VALUES ({{kind}}, NEW.id, 'pending', 0, {_SQLITE_NOW}, lower(hex(randomblob(16))), {_SQLITE_NOW});"
)

SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER bookings_outbox_insert AFTER INSERT ON bookings WHEN NEW.status IN ('PENDING', 'CONFIRMED')
    BEGIN
        {_SQLITE_INSERT.format(kind="lower(NEW.status)")}
    END
    """,
    f"""
    CREATE TRIGGER bookings_outbox_status AFTER UPDATE OF status ON bookings
    WHEN NEW.status <> OLD.status AND NEW.status IN ('CONFIRMED', 'EXPIRED', 'CANCELLED')
    BEGIN
        {_SQLITE_INSERT.format(kind="lower(NEW.status)")}
    END
    """,
    f"""
    CREATE TRIGGER bookings_outbox_refund AFTER UPDATE OF payment_status ON bookings
    WHEN NEW.status = OLD.status AND NEW.payment_status = 'refund_due' AND OLD.payment_status <> 'refund_due'
    BEGIN
        {_SQLITE_INSERT.format(kind="'refund_due'")}
    END
    """,
]
_SQLITE_TRIGGER_NAMES = ("bookings_outbox_insert", "bookings_outbox_status", "bookings_outbox_refund")

_LANGUAGE_COLUMN = (
    "ALTER TABLE users ADD COLUMN language VARCHAR(2) NOT NULL DEFAULT 'en' "
    "CONSTRAINT ck_users_language CHECK (language IN ('en', 'th'))"
)


def _create_outbox() -> None:
    kinds = ", ".join(f"'{kind}'" for kind in KINDS)
    op.create_table(
        "mail_outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("booking_id", Id, nullable=False),  # no foreign key: see the module's docstring
        sa.Column("status", sa.String(8), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("message_key", sa.String(32), nullable=False),
        sa.Column("requested_by", Id, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.CheckConstraint(f"kind IN ({kinds})", name="ck_mail_outbox_kind"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_mail_outbox_status"),
        sa.CheckConstraint("attempts >= 0", name="ck_mail_outbox_attempts"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["next_attempt_at", "id"],
                    postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
    op.create_index("ix_mail_outbox_failed", "mail_outbox", ["id"],
                    postgresql_where=sa.text("status = 'failed'"), sqlite_where=sa.text("status = 'failed'"))
    op.create_index("ix_mail_outbox_requested", "mail_outbox", ["requested_by", "created_at"],
                    postgresql_where=sa.text("requested_by IS NOT NULL"), sqlite_where=sa.text("requested_by IS NOT NULL"))


def upgrade() -> None:
    conn = op.get_bind()
    conn.exec_driver_sql(_LANGUAGE_COLUMN)
    _create_outbox()
    if conn.dialect.name == "sqlite":
        for trigger in SQLITE_TRIGGERS:
            conn.exec_driver_sql(trigger)  # one CREATE TRIGGER statement each
        return
    op.execute(PG_FUNCTION)
    for trigger in PG_TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for name in _SQLITE_TRIGGER_NAMES:
            conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}"')
    else:
        op.execute("DROP TRIGGER IF EXISTS bookings_outbox_insert ON bookings")
        op.execute("DROP TRIGGER IF EXISTS bookings_outbox_update ON bookings")
        op.execute("DROP FUNCTION IF EXISTS ticketing_bookings_outbox()")
    op.drop_table("mail_outbox")
    conn.exec_driver_sql("ALTER TABLE users DROP COLUMN language")
