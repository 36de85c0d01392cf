"""Sign-in sessions (revocable tokens), an atomic failed-sign-in counter, ids never reused.

- ``sessions``: one row per sign-in; a token names its session, and is good only while the
  session is not revoked (sign-out, sign out everywhere, password change). Deleted with its
  account.
- ``sign_in_failures`` becomes one counter row per (email, client), counted by one upsert
  (the old table, one row per failure, was counted with a read before the write: a burst of
  attempts all read the same count). Counts in flight at the upgrade are dropped.
- SQLite: every table is rebuilt with AUTOINCREMENT, so that a deleted row's id (an account's,
  whose tokens name it) is never handed out again. PostgreSQL's sequences never go back.

The SQLite rebuild follows SQLite's own procedure (https://sqlite.org/lang_altertable.html,
"Making Other Kinds Of Table Schema Changes"): env.py turns foreign keys off before the
migration and runs ``PRAGMA foreign_key_check`` after it; each table is created under a new
name, filled, the old one dropped and the new one renamed. The triggers on ``bookings`` are
read from the schema first, dropped (a rename re-checks every trigger, and theirs name tables
that are briefly missing) and created again afterwards, each as ONE statement, exactly as they
were.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import CreateIndex, CreateTable

from ticketing.db.types import Id, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _rebuilt_tables() -> list[sa.Table]:
    """The tables of 0001 as they were, now AUTOINCREMENT (frozen here: later changes to
    db/tables.py must not change what this migration did)."""
    metadata = sa.MetaData()
    return [
        sa.Table(
            "users", metadata,
            sa.Column("id", Id, primary_key=True, autoincrement=True),
            sa.Column("email", sa.String(320), nullable=False, unique=True),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("password_hash", sa.String(255), nullable=False),
            sa.Column("created_at", UTCDateTime(), nullable=False),
            sqlite_autoincrement=True,
        ),
        sa.Table(
            "events", metadata,
            sa.Column("id", Id, primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("description", sa.Text, nullable=False, server_default=""),
            sa.Column("venue", sa.String(200), nullable=False, server_default=""),
            sa.Column("starts_at", UTCDateTime(), nullable=False),
            sa.Column("capacity", sa.Integer, nullable=False),
            sa.Column("price_minor", sa.BigInteger, nullable=False),
            sa.Column("currency", sa.String(3), nullable=False),
            sa.Column("max_per_booking", sa.Integer, nullable=False),
            sa.Column("tickets_sold", sa.Integer, nullable=False, server_default="0"),
            sa.CheckConstraint("tickets_sold >= 0 AND tickets_sold <= capacity", name="ck_events_sold_within_capacity"),
            sa.CheckConstraint("capacity >= 0", name="ck_events_capacity"),
            sa.CheckConstraint("max_per_booking >= 1", name="ck_events_max_per_booking"),
            sa.CheckConstraint("price_minor >= 0", name="ck_events_price"),
            sa.Index("ix_events_starts_at", "starts_at", "id"),
            sqlite_autoincrement=True,
        ),
        sa.Table(
            "bookings", metadata,
            sa.Column("id", Id, primary_key=True, autoincrement=True),
            sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
            sa.Column("event_id", Id, sa.ForeignKey("events.id"), nullable=False),
            sa.Column("quantity", sa.Integer, nullable=False),
            sa.Column("total_minor", sa.BigInteger, nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("booking_date", UTCDateTime(), nullable=False),
            sa.Column("created_by", Id, sa.ForeignKey("users.id"), nullable=False),
            sa.Column("idempotency_key", sa.String(255), nullable=True),
            sa.Column("request_fingerprint", sa.String(64), nullable=True),
            sa.CheckConstraint("quantity > 0", name="ck_bookings_quantity"),
            sa.CheckConstraint("status IN ('CONFIRMED', 'CANCELLED')", name="ck_bookings_status"),
            sa.UniqueConstraint("created_by", "idempotency_key", name="uq_bookings_idempotency"),
            sa.Index("ix_bookings_user", "user_id", "id"),
            sa.Index("ix_bookings_event", "event_id", "id"),
            sqlite_autoincrement=True,
        ),
        sa.Table(
            "tickets", metadata,
            sa.Column("id", Id, primary_key=True, autoincrement=True),
            sa.Column("code", sa.String(64), nullable=False, unique=True),
            sa.Column("booking_id", Id, sa.ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False),
            sa.Column("event_id", Id, sa.ForeignKey("events.id"), nullable=False),
            sa.Column("status", sa.String(8), nullable=False),
            sa.Column("checked_in_at", UTCDateTime(), nullable=True),
            sa.CheckConstraint("status IN ('VALID', 'USED', 'VOID')", name="ck_tickets_status"),
            sa.Index("ix_tickets_booking", "booking_id"),
            sqlite_autoincrement=True,
        ),
    ]


def _rebuild_sqlite_with_autoincrement() -> None:
    conn = op.get_bind()
    triggers = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetchall()
    for name, _ in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    for table in _rebuilt_tables():
        create = str(CreateTable(table).compile(dialect=conn.dialect)).strip()
        prefix = f"CREATE TABLE {table.name} ("
        assert create.startswith(prefix), create
        conn.exec_driver_sql(f"CREATE TABLE {table.name}_new (" + create[len(prefix):])
        columns = ", ".join(column.name for column in table.columns)
        conn.exec_driver_sql(f"INSERT INTO {table.name}_new ({columns}) SELECT {columns} FROM {table.name}")
        conn.exec_driver_sql(f"DROP TABLE {table.name}")
        conn.exec_driver_sql(f"ALTER TABLE {table.name}_new RENAME TO {table.name}")
        for index in table.indexes:
            conn.exec_driver_sql(str(CreateIndex(index).compile(dialect=conn.dialect)))
    for _, sql in triggers:
        conn.exec_driver_sql(sql)  # as it was written: one CREATE TRIGGER statement


def _sign_in_failures_v1() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_sign_in_failures_key", "sign_in_failures", ["email", "client", "failed_at"])


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite_with_autoincrement()
    op.drop_table("sign_in_failures")
    op.create_table(
        "sign_in_failures",
        sa.Column("email", sa.String(320), primary_key=True),
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sessions_user", "sessions", ["user_id"])


def downgrade() -> None:
    # The SQLite tables keep AUTOINCREMENT: the schema of 0001 works the same with it.
    op.drop_table("sessions")
    op.drop_table("sign_in_failures")
    _sign_in_failures_v1()
