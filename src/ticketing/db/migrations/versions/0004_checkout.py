"""Checkout: ticket types, bookings with items, holds that expire, payment, per-customer limits.

- ``ticket_types``: 1..20 per event, sharing its capacity, each with a price and an optional cap,
  and narrow counters of its own (``tickets_sold``, ``tickets_held``) checked by
  ``ck_ticket_types_within_capacity``. Every existing event gets one type, "General admission",
  at its price, with its counters. ``events.price_minor`` is kept equal to its types' lowest price
  by a trigger.
- ``events`` gains ``checkout`` ('instant' | 'payment') and ``hold_minutes`` (1..120);
  ``event_sales`` gains ``per_customer_limit`` (NULL: none).
- ``bookings``: states PENDING and EXPIRED join CONFIRMED and CANCELLED; ``expires_at``,
  ``payment_status``, ``payment_reference`` (unique) and ``currency`` are new (existing bookings
  get their event's currency and payment status 'none'). Partial indexes over PENDING rows only.
- ``booking_items`` (one row per booked type, at the unit price of the booking's moment;
  existing bookings get one item of their event's type), ``tickets.ticket_type_id``,
  ``customer_usage`` (per user and event, kept only while the event has a limit) and
  ``payment_events`` (each provider event id once).

The triggers are the database's own guard, whoever writes: per event and per type, sold and held
follow the CONFIRMED and PENDING quantities; a move past the event's capacity, a type's cap or
a buyer's per-customer limit aborts the whole statement that caused it. Rows are locked in one
order: the booking, the event's sales row, the buyer's usage row, the types by id (a booking's
own insert locks the sales row and usage row in its trigger, then its items lock their types).

The downgrade is not supported: holds, payments and types other than the first have nowhere to
go in 0003's schema. Restore a backup taken before the upgrade instead.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import CreateIndex, CreateTable

from ticketing.db.types import Id, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CAPACITY_MESSAGE = "exceeds available capacity"
LIMIT_MESSAGE = "exceeds the per-customer limit"
TYPES_MESSAGE = "an event has at most 20 ticket types"

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

# The booking, on PostgreSQL: one statement, kept in a function so that its plan is made once per
# server connection and reused. Sent as a plain statement, the service's prepared statement does
# the same, but behind PgBouncer in transaction mode nothing prepared may outlive its statement,
# and planning this one costs PostgreSQL about 1.4 ms per booking (EXPLAIN's "Planning Time"),
# more than the booking itself. plpgsql caches the plan of RETURN QUERY per connection, pooled or
# not. db/hot_path.py explains each part; the rows it returns are the booking, its items and its
# tickets as arrays.
PG_BOOK_FUNCTION = """
CREATE OR REPLACE FUNCTION ticketing_book(
    p_event_id bigint, p_user_id bigint, p_caller_id bigint, p_session_id bigint, p_quantity integer,
    p_type_ids bigint[], p_quantities integer[], p_at timestamptz, p_idempotency_key varchar,
    p_fingerprint varchar, p_codes text[], p_reference varchar, p_hold_seconds double precision
) RETURNS TABLE (
    id bigint, user_id bigint, event_id bigint, quantity integer, total_minor bigint, status varchar,
    booking_date timestamptz, request_fingerprint varchar, currency varchar, expires_at timestamptz,
    payment_status varchar, payment_reference varchar, buyer_name varchar, buyer_email varchar,
    item_type_ids bigint[], item_names varchar[], item_quantities integer[], item_prices bigint[],
    ticket_ids bigint[], ticket_codes varchar[], ticket_type_ids bigint[]
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH req AS (
        SELECT r.type_id, r.quantity
        FROM unnest(p_type_ids, p_quantities) AS r(type_id, quantity)
        UNION ALL
        SELECT t.id, p_quantity FROM ticket_types t
        WHERE cardinality(p_type_ids) = 0 AND t.event_id = p_event_id
    ), items AS (
        SELECT req.type_id, req.quantity, t.price_minor, t.name
        FROM req JOIN ticket_types t ON t.id = req.type_id AND t.event_id = p_event_id
        WHERE t.capacity IS NULL OR t.tickets_sold + t.tickets_held + req.quantity <= t.capacity
    ), ev AS (
        SELECT e.id, e.currency, e.checkout, e.hold_minutes,
               CAST((SELECT sum(items.quantity * items.price_minor) FROM items) AS bigint) AS total
        FROM events e JOIN event_sales s ON s.event_id = e.id
        WHERE e.id = p_event_id AND e.starts_at > p_at
          AND e.max_per_booking >= p_quantity
          AND s.tickets_sold + s.tickets_held + p_quantity <= s.capacity
          AND (SELECT count(*) FROM req) = greatest(cardinality(p_type_ids), 1)
          AND (SELECT count(*) FROM items) = (SELECT count(*) FROM req)
          AND (s.per_customer_limit IS NULL
               OR coalesce((SELECT u.quantity FROM customer_usage u
                            WHERE u.event_id = e.id AND u.user_id = p_user_id), 0)
                  + p_quantity <= s.per_customer_limit)
          AND EXISTS (SELECT 1 FROM sessions WHERE id = p_session_id
                      AND user_id = p_caller_id AND revoked_at IS NULL)
    ), mode AS (
        SELECT ev.*, (ev.checkout = 'payment' AND ev.total > 0) AS pending FROM ev
    ), b AS (
        INSERT INTO bookings (user_id, event_id, quantity, total_minor, status, booking_date, created_by,
                              idempotency_key, request_fingerprint, currency, expires_at, payment_status,
                              payment_reference)
        SELECT p_user_id, m.id, p_quantity, m.total,
               CASE WHEN m.pending THEN 'PENDING' ELSE 'CONFIRMED' END, p_at,
               p_caller_id, p_idempotency_key, p_fingerprint,
               m.currency,
               CASE WHEN m.pending THEN p_at + coalesce(
                   make_interval(secs => p_hold_seconds),
                   make_interval(mins => m.hold_minutes)) END,
               CASE WHEN m.pending THEN 'due' ELSE 'none' END,
               CASE WHEN m.pending THEN p_reference END
        FROM mode m
        RETURNING id, user_id, event_id, quantity, total_minor, status, booking_date, request_fingerprint,
                  currency, expires_at, payment_status, payment_reference
    ), bi AS (
        INSERT INTO booking_items (booking_id, ticket_type_id, quantity, unit_price_minor)
        SELECT b.id, items.type_id, items.quantity, items.price_minor FROM b, items ORDER BY items.type_id
    ), tk AS (
        INSERT INTO tickets (code, booking_id, event_id, ticket_type_id, status)
        SELECT p_codes[x.n], b.id, b.event_id, x.type_id, 'VALID'
        FROM b, (SELECT items.type_id, row_number() OVER (ORDER BY items.type_id, g) AS n
                 FROM items, generate_series(1, items.quantity) AS g) AS x
        WHERE b.status = 'CONFIRMED'
        RETURNING id, code, ticket_type_id
    )
    SELECT b.id, b.user_id, b.event_id, b.quantity, b.total_minor, b.status, b.booking_date,
           b.request_fingerprint, b.currency, b.expires_at, b.payment_status, b.payment_reference,
           u.name AS buyer_name, u.email AS buyer_email,
           ARRAY(SELECT type_id FROM items ORDER BY type_id) AS item_type_ids,
           ARRAY(SELECT name FROM items ORDER BY type_id) AS item_names,
           ARRAY(SELECT quantity FROM items ORDER BY type_id) AS item_quantities,
           ARRAY(SELECT price_minor FROM items ORDER BY type_id) AS item_prices,
           ARRAY(SELECT id FROM tk ORDER BY id) AS ticket_ids,
           ARRAY(SELECT code FROM tk ORDER BY id) AS ticket_codes,
           ARRAY(SELECT ticket_type_id FROM tk ORDER BY id) AS ticket_type_ids
    FROM b JOIN users u ON u.id = b.user_id;
END
$$
"""

# A payment, on PostgreSQL: the transaction db/payments.py runs on SQLite, as one call, so that it
# costs one round trip and the event's row is locked only until its own COMMIT (a webhook cost the
# service about 3 ms of CPU as five statements). Same order and effects: the provider event's key
# first (a racing or repeated delivery waits for it, then answers its stored result), the booking's
# row, then (in the bookings trigger) the event, usage and types. A late payment that the guards
# refuse is undone by the exception block (a savepoint) and leaves refund_due. An unknown booking
# or a wrong amount raises, so nothing (not even the provider event) is recorded.
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
        ELSIF b.status = 'CANCELLED' AND b.payment_status IN ('none', 'due') THEN
            UPDATE bookings SET payment_status = 'refund_due' WHERE id = b.id;
        END IF;
    END IF;
    IF p_provider_event_id IS NOT NULL THEN
        UPDATE payment_events SET booking_id = b.id, result_status = st WHERE id = p_provider_event_id;
    END IF;
    RETURN QUERY SELECT b.id::bigint, st, false;
END
$$
"""

PG_BOOKINGS_TRIGGER = """
CREATE TRIGGER bookings_keep_sold
AFTER INSERT OR DELETE OR UPDATE OF status, quantity, event_id, user_id ON bookings
FOR EACH ROW EXECUTE FUNCTION ticketing_bookings_keep_sold()
"""

PG_ITEMS_FUNCTION = """
CREATE OR REPLACE FUNCTION ticketing_booking_items_keep_sold() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    item booking_items;
    sign integer;
    state varchar;
    ev bigint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'booking items never change' USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'INSERT' THEN item := NEW; sign := 1; ELSE item := OLD; sign := -1; END IF;
    SELECT status, event_id INTO state, ev FROM bookings WHERE id = item.booking_id;
    UPDATE ticket_types
       SET tickets_sold = tickets_sold + sign * item.quantity * (state = 'CONFIRMED')::integer,
           tickets_held = tickets_held + sign * item.quantity * (state = 'PENDING')::integer
     WHERE id = item.ticket_type_id AND event_id = ev;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'a booking item must name a ticket type of its booking''s event'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$
"""

PG_ITEMS_TRIGGER = """
CREATE TRIGGER booking_items_keep_sold AFTER INSERT OR DELETE OR UPDATE ON booking_items
FOR EACH ROW EXECUTE FUNCTION ticketing_booking_items_keep_sold()
"""

PG_TYPES_FUNCTIONS = [
    f"""
    CREATE OR REPLACE FUNCTION ticketing_ticket_types_at_most_20() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- The event's sales row is the lock every change of its types and bookings takes first.
        PERFORM 1 FROM event_sales WHERE event_id = NEW.event_id FOR UPDATE;
        IF (SELECT count(*) FROM ticket_types WHERE event_id = NEW.event_id) >= 20 THEN
            RAISE EXCEPTION '{TYPES_MESSAGE}' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION ticketing_ticket_types_price() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        ev bigint;
    BEGIN
        IF TG_OP = 'DELETE' THEN ev := OLD.event_id; ELSE ev := NEW.event_id; END IF;
        UPDATE events SET price_minor = (SELECT min(price_minor) FROM ticket_types WHERE event_id = ev)
        WHERE id = ev AND EXISTS (SELECT 1 FROM ticket_types WHERE event_id = ev);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION ticketing_customer_usage_rebuild() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- This sales row is locked by the update that fired this: every booking of the event
        -- that is not yet committed waits for it, every committed one is counted below.
        DELETE FROM customer_usage WHERE event_id = NEW.event_id;
        IF NEW.per_customer_limit IS NOT NULL THEN
            INSERT INTO customer_usage (event_id, user_id, quantity)
            SELECT event_id, user_id, sum(quantity) FROM bookings
            WHERE event_id = NEW.event_id AND status IN ('PENDING', 'CONFIRMED')
            GROUP BY event_id, user_id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
]

PG_TYPES_TRIGGERS = [
    "CREATE TRIGGER ticket_types_at_most_20 BEFORE INSERT ON ticket_types "
    "FOR EACH ROW EXECUTE FUNCTION ticketing_ticket_types_at_most_20()",
    "CREATE TRIGGER ticket_types_price AFTER INSERT OR DELETE OR UPDATE OF price_minor ON ticket_types "
    "FOR EACH ROW EXECUTE FUNCTION ticketing_ticket_types_price()",
    "CREATE TRIGGER event_sales_limit_changed AFTER UPDATE OF per_customer_limit ON event_sales "
    "FOR EACH ROW WHEN (OLD.per_customer_limit IS DISTINCT FROM NEW.per_customer_limit) "
    "EXECUTE FUNCTION ticketing_customer_usage_rebuild()",
]

# SQLite: one writer at a time, so a check and the update after it inside a trigger cannot race.
# The CHECKs of event_sales, ticket_types and customer_usage abort the statement too.
_SOLD = "((NEW.status = 'CONFIRMED') - (OLD.status = 'CONFIRMED'))"
_HELD = "((NEW.status = 'PENDING') - (OLD.status = 'PENDING'))"
_TAKEN = "((NEW.status IN ('PENDING', 'CONFIRMED')) - (OLD.status IN ('PENDING', 'CONFIRMED')))"
_LIMIT = "(SELECT per_customer_limit FROM event_sales WHERE event_id = NEW.event_id)"


def _sqlite_usage(taken: str) -> str:
    """The buyer's usage moved by ``taken`` bookings' worth, refused past the event's limit."""
    return f"""
        INSERT OR IGNORE INTO customer_usage (event_id, user_id, quantity)
        SELECT NEW.event_id, NEW.user_id, 0 WHERE {taken} > 0 AND {_LIMIT} IS NOT NULL;
        SELECT RAISE(ABORT, 'booking {LIMIT_MESSAGE}') FROM customer_usage
        WHERE {taken} > 0 AND event_id = NEW.event_id AND user_id = NEW.user_id
          AND quantity + NEW.quantity > {_LIMIT};
        UPDATE customer_usage SET quantity = quantity + {taken} * NEW.quantity
        WHERE event_id = NEW.event_id AND user_id = NEW.user_id;
    """


_SQLITE_ROOM = (
    "SELECT RAISE(ABORT, 'booking {capacity}') WHERE {taken} > 0 AND coalesce("
    "(SELECT tickets_sold + tickets_held + NEW.quantity > capacity FROM event_sales WHERE event_id = NEW.event_id), 1);"
)

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER bookings_fixed BEFORE UPDATE OF event_id, user_id, quantity ON bookings
    WHEN NEW.event_id <> OLD.event_id OR NEW.user_id <> OLD.user_id OR NEW.quantity <> OLD.quantity
    BEGIN
        SELECT RAISE(ABORT, 'a booking''s event, user and quantity never change');
    END
    """,
    f"""
    CREATE TRIGGER bookings_counted_insert AFTER INSERT ON bookings WHEN NEW.status IN ('PENDING', 'CONFIRMED')
    BEGIN
        {_SQLITE_ROOM.format(capacity=CAPACITY_MESSAGE, taken="1")}
        UPDATE event_sales SET tickets_sold = tickets_sold + (NEW.status = 'CONFIRMED') * NEW.quantity,
                               tickets_held = tickets_held + (NEW.status = 'PENDING') * NEW.quantity
        WHERE event_id = NEW.event_id;
        {_sqlite_usage("1")}
    END
    """,
    f"""
    CREATE TRIGGER bookings_counted_update AFTER UPDATE OF status ON bookings WHEN NEW.status <> OLD.status
    BEGIN
        {_SQLITE_ROOM.format(capacity=CAPACITY_MESSAGE, taken=_TAKEN)}
        UPDATE event_sales SET tickets_sold = tickets_sold + {_SOLD} * NEW.quantity,
                               tickets_held = tickets_held + {_HELD} * NEW.quantity
        WHERE event_id = NEW.event_id;
        {_sqlite_usage(_TAKEN)}
        UPDATE ticket_types
           SET tickets_sold = tickets_sold + {_SOLD} * (SELECT i.quantity FROM booking_items i
                                                         WHERE i.booking_id = NEW.id AND i.ticket_type_id = ticket_types.id),
               tickets_held = tickets_held + {_HELD} * (SELECT i.quantity FROM booking_items i
                                                         WHERE i.booking_id = NEW.id AND i.ticket_type_id = ticket_types.id)
         WHERE id IN (SELECT ticket_type_id FROM booking_items WHERE booking_id = NEW.id);
        UPDATE tickets SET status = 'VOID'
        WHERE booking_id = NEW.id AND status <> 'VOID' AND OLD.status = 'CONFIRMED';
        UPDATE tickets SET status = 'VALID'
        WHERE booking_id = NEW.id AND status = 'VOID' AND NEW.status = 'CONFIRMED';
    END
    """,
    """
    CREATE TRIGGER bookings_counted_delete AFTER DELETE ON bookings WHEN OLD.status IN ('PENDING', 'CONFIRMED')
    BEGIN
        UPDATE event_sales SET tickets_sold = tickets_sold - (OLD.status = 'CONFIRMED') * OLD.quantity,
                               tickets_held = tickets_held - (OLD.status = 'PENDING') * OLD.quantity
        WHERE event_id = OLD.event_id;
        UPDATE customer_usage SET quantity = quantity - OLD.quantity
        WHERE event_id = OLD.event_id AND user_id = OLD.user_id;
    END
    """,
    """
    CREATE TRIGGER booking_items_counted_insert AFTER INSERT ON booking_items
    BEGIN
        SELECT RAISE(ABORT, 'a booking item must name a ticket type of its booking''s event')
        WHERE NOT EXISTS (SELECT 1 FROM bookings b JOIN ticket_types t ON t.event_id = b.event_id
                          WHERE b.id = NEW.booking_id AND t.id = NEW.ticket_type_id);
        UPDATE ticket_types
           SET tickets_sold = tickets_sold
                              + NEW.quantity * ((SELECT status FROM bookings WHERE id = NEW.booking_id) = 'CONFIRMED'),
               tickets_held = tickets_held
                              + NEW.quantity * ((SELECT status FROM bookings WHERE id = NEW.booking_id) = 'PENDING')
         WHERE id = NEW.ticket_type_id;
    END
    """,
    """
    CREATE TRIGGER booking_items_counted_delete AFTER DELETE ON booking_items
    BEGIN
        UPDATE ticket_types
           SET tickets_sold = tickets_sold
                              - OLD.quantity * ((SELECT status FROM bookings WHERE id = OLD.booking_id) = 'CONFIRMED'),
               tickets_held = tickets_held
                              - OLD.quantity * ((SELECT status FROM bookings WHERE id = OLD.booking_id) = 'PENDING')
         WHERE id = OLD.ticket_type_id;
    END
    """,
    """
    CREATE TRIGGER booking_items_fixed BEFORE UPDATE ON booking_items
    BEGIN
        SELECT RAISE(ABORT, 'booking items never change');
    END
    """,
    f"""
    CREATE TRIGGER ticket_types_at_most_20 BEFORE INSERT ON ticket_types
    BEGIN
        SELECT RAISE(ABORT, '{TYPES_MESSAGE}')
        WHERE (SELECT count(*) FROM ticket_types WHERE event_id = NEW.event_id) >= 20;
    END
    """,
    """
    CREATE TRIGGER ticket_types_price_insert AFTER INSERT ON ticket_types
    BEGIN
        UPDATE events SET price_minor = (SELECT min(price_minor) FROM ticket_types WHERE event_id = NEW.event_id)
        WHERE id = NEW.event_id;
    END
    """,
    """
    CREATE TRIGGER ticket_types_price_update AFTER UPDATE OF price_minor ON ticket_types
    BEGIN
        UPDATE events SET price_minor = (SELECT min(price_minor) FROM ticket_types WHERE event_id = NEW.event_id)
        WHERE id = NEW.event_id;
    END
    """,
    """
    CREATE TRIGGER ticket_types_price_delete AFTER DELETE ON ticket_types
    BEGIN
        UPDATE events SET price_minor = (SELECT min(price_minor) FROM ticket_types WHERE event_id = OLD.event_id)
        WHERE id = OLD.event_id AND EXISTS (SELECT 1 FROM ticket_types WHERE event_id = OLD.event_id);
    END
    """,
    """
    CREATE TRIGGER event_sales_limit_changed AFTER UPDATE OF per_customer_limit ON event_sales
    WHEN OLD.per_customer_limit IS NOT NEW.per_customer_limit
    BEGIN
        DELETE FROM customer_usage WHERE event_id = NEW.event_id;
        INSERT INTO customer_usage (event_id, user_id, quantity)
        SELECT event_id, user_id, sum(quantity) FROM bookings
        WHERE event_id = NEW.event_id AND status IN ('PENDING', 'CONFIRMED') AND NEW.per_customer_limit IS NOT NULL
        GROUP BY event_id, user_id;
    END
    """,
]

_OLD_SQLITE_TRIGGERS = ("bookings_sold_insert", "bookings_sold_delete", "bookings_sold_update")

_OLD_BOOKING_COLUMNS = (
    "id", "user_id", "event_id", "quantity", "total_minor", "status", "booking_date", "created_by",
    "idempotency_key", "request_fingerprint",
)


def _bookings_v4() -> sa.Table:
    """bookings as this revision leaves it (frozen here: later changes to db/tables.py must not
    change what this migration did)."""
    pending = sa.text("status = 'PENDING'")
    metadata = sa.MetaData()
    for referenced in ("users", "events"):  # only for the foreign keys to resolve; not created
        sa.Table(referenced, metadata, sa.Column("id", Id, primary_key=True))
    return sa.Table(
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
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("payment_status", sa.String(16), nullable=False, server_default="none"),
        sa.Column("payment_reference", sa.String(64), nullable=True, unique=True),
        sa.CheckConstraint("quantity > 0", name="ck_bookings_quantity"),
        sa.CheckConstraint("status IN ('PENDING', 'CONFIRMED', 'EXPIRED', 'CANCELLED')", name="ck_bookings_status"),
        sa.CheckConstraint("status <> 'PENDING' OR expires_at IS NOT NULL", name="ck_bookings_pending_expires"),
        sa.CheckConstraint(
            "payment_status IN ('none', 'due', 'paid', 'refund_due', 'refunded')", name="ck_bookings_payment_status"
        ),
        sa.UniqueConstraint("created_by", "idempotency_key", name="uq_bookings_idempotency"),
        sa.Index("ix_bookings_user", "user_id", "id"),
        sa.Index("ix_bookings_event", "event_id", "id"),
        sa.Index("ix_bookings_pending_event", "event_id", "expires_at", postgresql_where=pending, sqlite_where=pending),
        sa.Index("ix_bookings_pending", "expires_at", postgresql_where=pending, sqlite_where=pending),
        sqlite_autoincrement=True,
    )


def _new_tables() -> None:
    op.create_table(
        "ticket_types",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("event_id", Id, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("price_minor", sa.BigInteger, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=True),
        sa.Column("tickets_sold", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tickets_held", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("price_minor >= 0", name="ck_ticket_types_price"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="ck_ticket_types_capacity"),
        sa.CheckConstraint(
            "tickets_sold >= 0 AND tickets_held >= 0 AND (capacity IS NULL OR tickets_sold + tickets_held <= capacity)",
            name="ck_ticket_types_within_capacity",
        ),
        sa.Index("ix_ticket_types_event", "event_id", "id"),
        sqlite_autoincrement=True,
        postgresql_with={"fillfactor": 50},
    )
    op.execute(
        "INSERT INTO ticket_types (event_id, name, price_minor, capacity, tickets_sold, tickets_held) "
        "SELECT e.id, 'General admission', e.price_minor, NULL, s.tickets_sold, s.tickets_held "
        "FROM events e JOIN event_sales s ON s.event_id = e.id ORDER BY e.id"
    )
    op.create_table(
        "customer_usage",
        sa.Column("event_id", Id, sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
        sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.CheckConstraint("quantity >= 0", name="ck_customer_usage_quantity"),
    )


def _items_and_payments() -> None:
    op.create_table(
        "booking_items",
        sa.Column("booking_id", Id, sa.ForeignKey("bookings.id"), primary_key=True, autoincrement=False),
        sa.Column("ticket_type_id", Id, sa.ForeignKey("ticket_types.id"), primary_key=True, autoincrement=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger, nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_booking_items_quantity"),
        sa.CheckConstraint("unit_price_minor >= 0", name="ck_booking_items_price"),
        sa.Index("ix_booking_items_type", "ticket_type_id"),
    )
    # Existing bookings: one item each, of their event's only type (before its trigger exists:
    # the types' counters were copied from the events' already).
    op.execute(
        "INSERT INTO booking_items (booking_id, ticket_type_id, quantity, unit_price_minor) "
        "SELECT b.id, t.id, b.quantity, b.total_minor / b.quantity FROM bookings b "
        "JOIN ticket_types t ON t.event_id = b.event_id"
    )
    id_type = "INTEGER" if op.get_bind().dialect.name == "sqlite" else "BIGINT"
    op.execute(f"ALTER TABLE tickets ADD COLUMN ticket_type_id {id_type} REFERENCES ticket_types (id)")
    op.execute("UPDATE tickets SET ticket_type_id = (SELECT t.id FROM ticket_types t WHERE t.event_id = tickets.event_id)")
    op.create_table(
        "payment_events",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("booking_id", Id, sa.ForeignKey("bookings.id"), nullable=True),
        sa.Column("result_status", sa.String(16), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )


def _event_columns() -> None:
    # Plain SQL, the same on both: SQLite adds a column with a named CHECK in place (Alembic's
    # add_column would want a table rebuild for the constraint).
    for statement in (
        "ALTER TABLE events ADD COLUMN checkout VARCHAR(8) DEFAULT 'instant' NOT NULL "
        "CONSTRAINT ck_events_checkout CHECK (checkout IN ('instant', 'payment'))",
        "ALTER TABLE events ADD COLUMN hold_minutes INTEGER DEFAULT 15 NOT NULL "
        "CONSTRAINT ck_events_hold_minutes CHECK (hold_minutes BETWEEN 1 AND 120)",
        "ALTER TABLE event_sales ADD COLUMN per_customer_limit INTEGER "
        "CONSTRAINT ck_event_sales_per_customer_limit CHECK (per_customer_limit BETWEEN 1 AND 100)",
    ):
        op.execute(statement)


def _upgrade_pg() -> None:
    op.execute("DROP TRIGGER IF EXISTS bookings_keep_sold ON bookings")
    _event_columns()
    _new_tables()
    op.add_column("bookings", sa.Column("currency", sa.String(3), nullable=True))
    op.execute("UPDATE bookings SET currency = e.currency FROM events e WHERE e.id = bookings.event_id")
    op.alter_column("bookings", "currency", nullable=False)
    op.add_column("bookings", sa.Column("expires_at", UTCDateTime(), nullable=True))
    op.add_column("bookings", sa.Column("payment_status", sa.String(16), nullable=False, server_default="none"))
    op.add_column("bookings", sa.Column("payment_reference", sa.String(64), nullable=True))
    op.create_unique_constraint("bookings_payment_reference_key", "bookings", ["payment_reference"])
    op.drop_constraint("ck_bookings_status", "bookings", type_="check")
    table = _bookings_v4()
    for constraint in table.constraints:
        if isinstance(constraint, sa.CheckConstraint) and constraint.name != "ck_bookings_quantity":
            op.create_check_constraint(str(constraint.name), "bookings", str(constraint.sqltext))
    for index in table.indexes:
        if index.name in {"ix_bookings_pending_event", "ix_bookings_pending"}:
            op.execute(CreateIndex(index))
    _items_and_payments()
    op.execute(PG_BOOKINGS_FUNCTION)
    op.execute(PG_BOOKINGS_TRIGGER)
    op.execute(PG_ITEMS_FUNCTION)
    op.execute(PG_ITEMS_TRIGGER)
    for statement in (*PG_TYPES_FUNCTIONS, *PG_TYPES_TRIGGERS):
        op.execute(statement)
    op.execute(PG_BOOK_FUNCTION)
    op.execute(PG_PAY_FUNCTION)


def _upgrade_sqlite() -> None:
    conn = op.get_bind()
    for name in _OLD_SQLITE_TRIGGERS:
        conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}"')
    _event_columns()
    _new_tables()
    # bookings is rebuilt (SQLite cannot change a CHECK or add a UNIQUE column in place), as 0002 does.
    table = _bookings_v4()
    create = str(CreateTable(table).compile(dialect=conn.dialect)).strip()
    prefix = "CREATE TABLE bookings ("
    assert create.startswith(prefix), create
    conn.exec_driver_sql("CREATE TABLE bookings_new (" + create[len(prefix):])
    columns = ", ".join(_OLD_BOOKING_COLUMNS)
    conn.exec_driver_sql(
        f"INSERT INTO bookings_new ({columns}, currency, payment_status) "
        f"SELECT {', '.join('b.' + c for c in _OLD_BOOKING_COLUMNS)}, e.currency, 'none' "
        "FROM bookings b JOIN events e ON e.id = b.event_id"
    )
    conn.exec_driver_sql("DROP TABLE bookings")
    conn.exec_driver_sql("ALTER TABLE bookings_new RENAME TO bookings")
    for index in table.indexes:
        conn.exec_driver_sql(str(CreateIndex(index).compile(dialect=conn.dialect)))
    _items_and_payments()
    for trigger in SQLITE_TRIGGERS:
        conn.exec_driver_sql(trigger)  # one CREATE TRIGGER statement each


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _upgrade_sqlite()
    else:
        _upgrade_pg()


def downgrade() -> None:
    raise NotImplementedError(
        "0004 (checkout) cannot be undone: holds, payments and ticket types have nowhere to go in 0003's "
        "schema. Restore the backup taken before the upgrade."
    )
