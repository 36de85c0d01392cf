"""The outbox's rows may be ``skipped``: not sent, because the booking left the state the message
tells of before it went out ("what to pay" for a booking no longer PENDING, "your tickets" for
one no longer CONFIRMED: mail/content.py). ``last_error`` says why.

Only ``ck_mail_outbox_status`` changes. PostgreSQL replaces the constraint (in the migration's
transaction: the bookings trigger's inserts into the outbox wait while the table is checked).
SQLite cannot change a CHECK: the table is built again under its own name, as SQLite's
documentation describes (new table, copy, drop, rename, indexes), with the bookings triggers that
write into it dropped first and made again from 0005 (a rename checks every trigger, and theirs
would name a table that is gone for a moment); the AUTOINCREMENT counter carries over.

The downgrade turns skipped rows into failed ones (given up) and puts the old constraint back.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op
from sqlalchemy.engine import Connection

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BEFORE = "status IN ('pending', 'sent', 'failed')"
AFTER = "status IN ('pending', 'sent', 'failed', 'skipped')"


def _migration_0005() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ticketing_migration_0005", Path(__file__).with_name("0005_outbox.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rebuild_sqlite(conn: Connection, old: str, new: str) -> None:
    outbox = _migration_0005()
    table_sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'mail_outbox'").scalar_one()
    if old not in table_sql:
        raise RuntimeError(f"mail_outbox's status CHECK is not {old!r}: {table_sql}")
    index_sql = [row[0] for row in conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'mail_outbox' AND sql IS NOT NULL")]
    sequence = conn.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = 'mail_outbox'").scalar()
    for name in outbox._SQLITE_TRIGGER_NAMES:
        conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}"')
    create = table_sql.replace(old, new).replace("mail_outbox", "mail_outbox_new", 1)
    conn.exec_driver_sql(create)
    conn.exec_driver_sql("INSERT INTO mail_outbox_new SELECT * FROM mail_outbox")
    conn.exec_driver_sql("DROP TABLE mail_outbox")
    conn.exec_driver_sql("ALTER TABLE mail_outbox_new RENAME TO mail_outbox")
    for sql in index_sql:
        conn.exec_driver_sql(sql)
    if sequence is not None:
        conn.exec_driver_sql("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'mail_outbox'", (sequence,))
    for trigger in outbox.SQLITE_TRIGGERS:
        conn.exec_driver_sql(trigger)


def _replace(old: str, new: str) -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        _rebuild_sqlite(conn, old, new)
        return
    op.execute("ALTER TABLE mail_outbox DROP CONSTRAINT ck_mail_outbox_status")
    op.execute(f"ALTER TABLE mail_outbox ADD CONSTRAINT ck_mail_outbox_status CHECK ({new})")


def upgrade() -> None:
    _replace(BEFORE, AFTER)


def downgrade() -> None:
    op.execute("UPDATE mail_outbox SET status = 'failed' WHERE status = 'skipped'")
    _replace(AFTER, BEFORE)
