"""A booking's mode agrees with its event's checkout under any race; more payments are owed back.

- PostgreSQL: ``ticketing_bookings_keep_sold`` reads the event's ``checkout`` again after it has
  locked the event's sales row, for a new booking: a booking whose statement read ``instant``
  before a change to ``payment`` committed (the change takes the same row lock, and is allowed
  only while the event has no bookings) would otherwise be CONFIRMED unpaid on a payment event
  (checkout.md, invariant 6). The mismatch raises ``serialization_failure``, which the service
  retries as contention: the booking runs again and reads the new mode. SQLite runs one writer
  at a time, so the mode a booking reads cannot change before it is written: nothing to do.
- PostgreSQL: ``ticketing_pay``, paid for an EXPIRED booking, first releases the event's other
  holds past their deadline (up to 100; they count as held until released, though their tickets
  are free from their deadline on), so that the late payment takes its tickets back whenever a
  booking could; and it marks ``refund_due`` (the money is owed back) a CANCELLED or
  EXPIRED booking that was ``refunded`` and is paid again, and an expired hold its owner cancelled
  (EXPIRED with nothing due: the cancel does not let a late payment confirm it); it logs a payment
  for a booking that is owed a refund already, for reconciliation. SQLite's
  ``db/payments.record_payment`` does the same in Python.

Both functions are otherwise 0004's, unchanged. The downgrade puts 0004's back.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PG_BOOKINGS_FUNCTION = """
CREATE OR REPLACE FUNCTION ticketing_bookings_keep_sold() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_sold integer := 0;
    was_held integer := 0;
    is_sold integer := 0;
    is_held integer := 0;
    ev bigint;
    buyer bigint;
    qty integer;
    usage_delta integer;
    lim integer;
    item record;
    pays boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.event_id <> OLD.event_id OR NEW.user_id <> OLD.user_id
                             OR NEW.quantity <> OLD.quantity) THEN
        RAISE EXCEPTION 'a booking''s event, user and quantity never change' USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        ev := OLD.event_id; buyer := OLD.user_id; qty := OLD.quantity;
    ELSE
        ev := NEW.event_id; buyer := NEW.user_id; qty := NEW.quantity;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        was_sold := (OLD.status = 'CONFIRMED')::integer;
        was_held := (OLD.status = 'PENDING')::integer;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        is_sold := (NEW.status = 'CONFIRMED')::integer;
        is_held := (NEW.status = 'PENDING')::integer;
    END IF;
    IF is_sold = was_sold AND is_held = was_held THEN
        RETURN NULL;
    END IF;
    -- The event's counters. Under READ COMMITTED a blocked UPDATE re-checks its WHERE against
    -- the newest committed row, so concurrent bookings can neither oversell nor lose a move.
    UPDATE event_sales
       SET tickets_sold = tickets_sold + qty * (is_sold - was_sold),
           tickets_held = tickets_held + qty * (is_held - was_held)
     WHERE event_id = ev
       AND tickets_sold + tickets_held + qty * (is_sold + is_held - was_sold - was_held) <= capacity
    RETURNING per_customer_limit INTO lim;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'booking of % tickets for event % exceeds available capacity', qty, ev
            USING ERRCODE = 'check_violation';
    END IF;
    -- A new booking is held or confirmed at once by its event's checkout as its statement read it,
    -- before this lock. A change of checkout takes this lock too and happens only while the event
    -- has no bookings, so a booking that waited here for one carries the old mode: read the mode
    -- again now (this function is VOLATILE: the query sees what committed meanwhile) and let the
    -- service run the booking again (serialization_failure is contention, retried there).
    IF TG_OP = 'INSERT' THEN
        SELECT e.checkout = 'payment' INTO pays FROM events e WHERE e.id = ev;
        IF (NEW.status = 'PENDING') IS DISTINCT FROM (pays AND NEW.total_minor > 0) THEN
            RAISE EXCEPTION 'the checkout of event % changed while booking % was written', ev, NEW.id
                USING ERRCODE = 'serialization_failure';
        END IF;
    END IF;
    -- The buyer's usage, while the event has a limit (the sales row above is locked: no other
    -- booking of this event moves it meanwhile).
    usage_delta := qty * (is_sold + is_held - was_sold - was_held);
    IF lim IS NOT NULL AND usage_delta > 0 THEN
        INSERT INTO customer_usage AS u (event_id, user_id, quantity) VALUES (ev, buyer, usage_delta)
        ON CONFLICT (event_id, user_id) DO UPDATE SET quantity = u.quantity + EXCLUDED.quantity
        WHERE u.quantity + EXCLUDED.quantity <= lim;
        IF NOT FOUND OR usage_delta > lim THEN
            RAISE EXCEPTION 'booking of % tickets for event % exceeds the per-customer limit', qty, ev
                USING ERRCODE = 'check_violation';
        END IF;
    ELSIF lim IS NOT NULL AND usage_delta < 0 THEN
        UPDATE customer_usage SET quantity = quantity + usage_delta WHERE event_id = ev AND user_id = buyer;
    END IF;
    -- A booking's own insert: its items do not exist yet; their trigger moves their types.
    IF TG_OP = 'UPDATE' THEN
        FOR item IN SELECT ticket_type_id, quantity FROM booking_items WHERE booking_id = NEW.id
                    ORDER BY ticket_type_id LOOP
            UPDATE ticket_types
               SET tickets_sold = tickets_sold + item.quantity * (is_sold - was_sold),
                   tickets_held = tickets_held + item.quantity * (is_held - was_held)
             WHERE id = item.ticket_type_id;
        END LOOP;
        IF was_sold = 1 THEN
            UPDATE tickets SET status = 'VOID' WHERE booking_id = NEW.id AND status <> 'VOID';
        ELSIF is_sold = 1 THEN
            UPDATE tickets SET status = 'VALID' WHERE booking_id = NEW.id AND status = 'VOID';
        END IF;
    END IF;
    RETURN NULL;
END
$$
"""

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
        SELECT k.id, k.status, k.payment_status, k.total_minor, k.currency, k.event_id INTO b
        FROM bookings k WHERE k.payment_reference = p_reference FOR UPDATE;
    ELSE
        SELECT k.id, k.status, k.payment_status, k.total_minor, k.currency, k.event_id INTO b
        FROM bookings k WHERE k.id = p_booking_id FOR UPDATE;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ticketing_pay: booking_not_found';
    END IF;
    IF p_amount_minor IS NOT NULL AND (p_amount_minor <> b.total_minor OR p_currency <> b.currency) THEN
        RAISE EXCEPTION 'ticketing_pay: amount_mismatch';
    END IF;
    st := b.status;
    IF p_succeeded THEN
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
    IF p_provider_event_id IS NOT NULL THEN
        UPDATE payment_events SET booking_id = b.id, result_status = st WHERE id = p_provider_event_id;
    END IF;
    RETURN QUERY SELECT b.id::bigint, st, false;
END
$$
"""


def _migration_0004() -> ModuleType:
    """0004's module (frozen, as every migration is), whose two functions the downgrade restores."""
    spec = importlib.util.spec_from_file_location("ticketing_migration_0004", Path(__file__).with_name("0004_checkout.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(PG_BOOKINGS_FUNCTION)
    op.execute(PG_PAY_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    before = _migration_0004()
    op.execute(before.PG_BOOKINGS_FUNCTION)
    op.execute(before.PG_PAY_FUNCTION)
