"""A provider event's repeat answers what its first delivery did; nothing to pay is never paid.

- PostgreSQL: ``ticketing_pay`` stores with the provider event id (``payment_events.result_status``)
  the status its answer shows, as every read shows it at the payment's moment: a PENDING hold past
  its deadline that no sweeper has released yet is EXPIRED (checkout.md). It stored the row's raw
  status, which the service then showed as EXPIRED only if the deadline had passed by the time of
  each answer: a ``payment.failed`` first answered EXPIRED was answered PENDING again once an admin
  or a late payment had confirmed the hold, and one first answered PENDING was answered EXPIRED
  again after the deadline. A repeat now answers the stored value alone, as the contract says.
- PostgreSQL: ``ticketing_pay`` leaves a booking with nothing to pay (a zero total, CONFIRMED at
  once with payment ``none``) as it is: mark-paid made it ``paid`` 0.00, and a cancel then
  ``refund_due`` 0.00 (with a refund mail); a payment for a cancelled one made it ``refund_due``.
  Such a booking has no payment reference, so only mark-paid names it.

SQLite's ``db/payments.record_payment`` does the same in Python. Existing rows are not changed.
The function is otherwise 0006's, unchanged. The downgrade puts 0006's back.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PG_PAY_FUNCTION = """
CREATE OR REPLACE FUNCTION ticketing_pay(
    p_provider_event_id varchar, p_reference varchar, p_booking_id bigint, p_amount_minor bigint,
    p_currency varchar, p_succeeded boolean, p_codes text[], p_at timestamptz
) RETURNS TABLE (booking_id bigint, result_status varchar, replayed boolean) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    claimed varchar;
    b record;
    st varchar;
BEGIN
    IF p_provider_event_id IS NOT NULL THEN
        INSERT INTO payment_events (id, received_at) VALUES (p_provider_event_id, p_at)
        ON CONFLICT (id) DO NOTHING RETURNING id INTO claimed;
        IF claimed IS NULL THEN
            RETURN QUERY SELECT e.booking_id, e.result_status, true FROM payment_events e WHERE e.id = p_provider_event_id;
            RETURN;
        END IF;
    END IF;
    IF p_reference IS NOT NULL THEN
        SELECT k.id, k.status, k.payment_status, k.total_minor, k.currency, k.event_id, k.expires_at INTO b
        FROM bookings k WHERE k.payment_reference = p_reference FOR UPDATE;
    ELSE
        SELECT k.id, k.status, k.payment_status, k.total_minor, k.currency, k.event_id, k.expires_at INTO b
        FROM bookings k WHERE k.id = p_booking_id FOR UPDATE;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ticketing_pay: booking_not_found';
    END IF;
    IF p_amount_minor IS NOT NULL AND (p_amount_minor <> b.total_minor OR p_currency <> b.currency) THEN
        RAISE EXCEPTION 'ticketing_pay: amount_mismatch';
    END IF;
    st := b.status;
    -- A booking with nothing to pay (a zero total: CONFIRMED at once, payment 'none') stays as it
    -- is: never 'paid', never 'refund_due'.
    IF p_succeeded AND b.total_minor > 0 THEN
        IF b.status IN ('PENDING', 'EXPIRED') AND b.payment_status = 'due' THEN
            IF b.status = 'EXPIRED' THEN
                -- Other holds past their deadline count as held until released, though their
                -- tickets are free from their deadline on: release them first, as a booking that
                -- needs their tickets does (db/holds.py's statement, at most 100).
                UPDATE bookings SET status = 'EXPIRED'
                 WHERE id IN (SELECT k.id FROM bookings k
                              WHERE k.event_id = b.event_id AND k.status = 'PENDING' AND k.expires_at <= p_at
                              ORDER BY k.expires_at LIMIT 100 FOR UPDATE SKIP LOCKED)
                   AND status = 'PENDING';
            END IF;
            BEGIN
                UPDATE bookings SET status = 'CONFIRMED', payment_status = 'paid' WHERE id = b.id;
                INSERT INTO tickets (code, booking_id, event_id, ticket_type_id, status)
                SELECT p_codes[x.n], b.id, b.event_id, x.ticket_type_id, 'VALID'
                FROM (SELECT i.ticket_type_id, row_number() OVER (ORDER BY i.ticket_type_id, g) AS n
                      FROM booking_items i, generate_series(1, i.quantity) AS g WHERE i.booking_id = b.id) AS x;
                st := 'CONFIRMED';
            EXCEPTION WHEN check_violation THEN
                -- Only an EXPIRED booking can be refused: a PENDING one still holds its tickets.
                IF b.status <> 'EXPIRED' THEN
                    RAISE;
                END IF;
                UPDATE bookings SET payment_status = 'refund_due' WHERE id = b.id;
            END;
        ELSIF b.status = 'CONFIRMED' AND b.payment_status = 'none' THEN
            UPDATE bookings SET payment_status = 'paid' WHERE id = b.id;
        ELSIF b.status = 'CONFIRMED' AND b.payment_status = 'paid' THEN
            RAISE WARNING 'booking % is paid already: this payment changed nothing (reconcile it)', b.id;
        ELSIF (b.status = 'CANCELLED' AND b.payment_status IN ('none', 'due', 'refunded'))
              OR (b.status = 'EXPIRED' AND b.payment_status IN ('none', 'refunded')) THEN
            -- Cancelled, an expired hold its owner cancelled (nothing due), or paid again after
            -- its refund: the money is owed back.
            UPDATE bookings SET payment_status = 'refund_due' WHERE id = b.id;
        ELSIF b.payment_status = 'refund_due' THEN
            RAISE WARNING 'booking % is owed a refund already: this payment is owed back too (reconcile it)', b.id;
        END IF;
    END IF;
    -- The answer, and what a repeat of this event id answers, is the status as every read shows it
    -- now: a hold past its deadline that no one has released yet is EXPIRED.
    IF st = 'PENDING' AND b.expires_at <= p_at THEN
        st := 'EXPIRED';
    END IF;
    IF p_provider_event_id IS NOT NULL THEN
        UPDATE payment_events SET booking_id = b.id, result_status = st WHERE id = p_provider_event_id;
    END IF;
    RETURN QUERY SELECT b.id::bigint, st, false;
END
$$
"""


def _migration_0006() -> ModuleType:
    """0006's module (frozen, as every migration is), whose function the downgrade restores."""
    spec = importlib.util.spec_from_file_location(
        "ticketing_migration_0006", Path(__file__).with_name("0006_checkout_races.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(PG_PAY_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(_migration_0006().PG_PAY_FUNCTION)
