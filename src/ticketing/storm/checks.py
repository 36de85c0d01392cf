"""The contract's invariants, checked from outside on what the storm saw. No I/O here.

Two sources of truth, and each verdict says which it used:
- with admin credentials: every booking of the event, read through the admin API;
- without: the storm's own answers, the event's counters before and after, and the storm
  accounts' own bookings (a customer may list theirs).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ticketing.storm.runner import Outcome, StormResult

# Every (status, code) pair the contract lets a booking request answer. Written out, as a client
# of the contract would; tests/unit/test_error_table.py holds it equal to the service's table.
CONTRACT_BOOKING_ANSWERS = {
    (400, "quantity_above_limit"), (400, "sales_closed"),
    (401, "not_authenticated"), (403, "forbidden"),
    (404, "event_not_found"), (404, "user_not_found"), (404, "ticket_type_not_found"),
    (409, "sold_out"), (409, "request_in_progress"), (409, "customer_limit_reached"),
    (413, "payload_too_large"),
    (422, "validation_error"), (422, "idempotency_key_mismatch"), (422, "ticket_type_required"),
    (503, "unavailable"),
}
LIVE_TICKET_STATUSES = {"VALID", "USED"}


class Status(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"  # allowed by the contract, but worth a look
    FAIL = "fail"
    SKIP = "skip"  # could not be checked this way


@dataclass(frozen=True)
class Verdict:
    name: str
    status: Status
    detail: str

    @property
    def broken(self) -> bool:
        return self.status is Status.FAIL


def _verdict(name: str, ok: bool, detail: str) -> Verdict:
    return Verdict(name, Status.PASS if ok else Status.FAIL, detail)


def _ids(outcomes: Iterable[Outcome], limit: int = 5) -> str:
    ids = [str(o.booking_id if o.booking_id is not None else f"#{o.index}") for o in outcomes]
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


# -- each invariant ----------------------------------------------------------------------------
def sold_within_capacity(event: Mapping[str, Any], bookings: Sequence[Mapping[str, Any]] | None) -> Verdict:
    """Invariant 1: tickets_sold = sum of CONFIRMED quantities <= capacity (and available adds up)."""
    sold, capacity, available = event["tickets_sold"], event["capacity"], event["available"]
    held = event.get("tickets_held", 0)  # checkout's holds (contract v1.1); 0 on an instant event
    problems = []
    if sold + held > capacity:
        problems.append(f"oversold: tickets_sold {sold}{f' + tickets_held {held}' if held else ''} > capacity {capacity}")
    if available != capacity - sold - held:
        problems.append(f"available {available} != capacity {capacity} - tickets_sold {sold}"
                        + (f" - tickets_held {held}" if held else ""))
    if bookings is None:
        detail = f"tickets_sold {sold} <= capacity {capacity}, available = capacity - tickets_sold"
        return _verdict("sold_within_capacity", not problems, "; ".join(problems) or detail)
    confirmed = sum(b["quantity"] for b in bookings if b["status"] == "CONFIRMED")
    if confirmed != sold:
        problems.append(f"tickets_sold {sold} != sum of CONFIRMED quantities {confirmed}")
    detail = f"tickets_sold {sold} = sum of CONFIRMED quantities {confirmed} <= capacity {capacity}"
    return _verdict("sold_within_capacity", not problems, "; ".join(problems) or detail)


def sold_equals_tickets(event: Mapping[str, Any], bookings: Sequence[Mapping[str, Any]] | None) -> Verdict:
    """Invariant 1, second half: tickets_sold = number of VALID or USED tickets."""
    if bookings is None:
        return Verdict("sold_equals_tickets", Status.SKIP, "needs --admin-email/--admin-password to see every ticket")
    live = sum(1 for b in bookings for t in b.get("tickets", []) if t["status"] in LIVE_TICKET_STATUSES)
    sold = event["tickets_sold"]
    return _verdict("sold_equals_tickets", live == sold,
                    f"tickets_sold {sold} {'=' if live == sold else '!='} VALID/USED tickets {live}"
                    f" across {len(bookings)} bookings")


def _whole(o: Outcome, holds: bool) -> bool:
    if o.booked_quantity != o.quantity:
        return False
    if holds and o.booking_status == "PENDING":  # a hold: no tickets until paid
        return o.tickets == 0 and o.payment is not None and o.payment.get("status") == "due"
    return o.booking_status == "CONFIRMED" and o.tickets == o.quantity


def created_are_whole(result: StormResult, holds: bool = False) -> Verdict:
    """Every 201 answer is the whole booking asked for: CONFIRMED, with ``quantity`` tickets
    (with ``holds``, on a payment event: or PENDING, no tickets yet, a payment due)."""
    bad = [o for o in result.created if not _whole(o, holds)]
    ids = Counter(o.booking_id for o in result.created)
    repeated = [i for i, n in ids.items() if n > 1]
    problems = []
    if bad:
        problems.append(f"{len(bad)} 201 answers were not a CONFIRMED booking of the quantity asked"
                        f" with as many tickets ({_ids(bad)})")
    if repeated:
        problems.append(f"{len(repeated)} booking ids were answered to more than one request"
                        f" ({', '.join(map(str, repeated[:5]))})")
    if holds:
        held = sum(1 for o in result.created if o.booking_status == "PENDING")
        fine = (f"all {len(result.created)} 201 answers: quantity asked; {held} PENDING with a payment due,"
                f" {len(result.created) - held} CONFIRMED with as many tickets")
    else:
        fine = f"all {len(result.created)} 201 answers: CONFIRMED, quantity asked, as many tickets"
    return _verdict("created_are_whole", not problems, "; ".join(problems) or fine)


def created_are_durable(result: StormResult, bookings: Sequence[Mapping[str, Any]] | None, source: str,
                        holds: bool = False) -> Verdict:
    """Invariant 3 from outside: every 201 booking can be read back, CONFIRMED, with its tickets
    (with ``holds``: or still PENDING, or EXPIRED, with no live tickets)."""
    if bookings is None:
        return Verdict("created_are_durable", Status.SKIP, "bookings could not be read back")
    by_id = {b["id"]: b for b in bookings}
    missing, wrong = [], []
    for outcome in result.created:
        booking = by_id.get(outcome.booking_id)
        if booking is None:
            missing.append(outcome)
            continue
        live = [t for t in booking.get("tickets", []) if t["status"] in LIVE_TICKET_STATUSES]
        if holds and booking["status"] in ("PENDING", "EXPIRED"):
            if live or booking["quantity"] != outcome.quantity:
                wrong.append(outcome)
        elif booking["status"] != "CONFIRMED" or booking["quantity"] != outcome.quantity or len(live) != outcome.quantity:
            wrong.append(outcome)
    problems = []
    if missing:
        problems.append(f"{len(missing)} booked ids are missing ({_ids(missing)})")
    if wrong:
        problems.append(f"{len(wrong)} are not CONFIRMED with all their tickets ({_ids(wrong)})")
    if holds:
        states = Counter(by_id[o.booking_id]["status"] for o in result.created if o.booking_id in by_id)
        fine = (f"all {len(result.created)} booked ids read back ({source}): "
                + ", ".join(f"{n} {s}" for s, n in sorted(states.items())) + "; the CONFIRMED ones with all tickets")
    else:
        fine = f"all {len(result.created)} booked ids read back ({source}), CONFIRMED, with all tickets"
    return _verdict("created_are_durable", not problems, "; ".join(problems) or fine)


def no_server_errors(result: StormResult) -> Verdict:
    """Invariant 4: no 5xx."""
    errors = Counter(f"{o.status} {o.code or ''}".strip() for o in result.outcomes if o.status is not None and o.status >= 500)
    if not errors:
        return _verdict("no_5xx", True, f"none in {len(result.outcomes)} answers")
    return _verdict("no_5xx", False, ", ".join(f"{n} x {what}" for what, n in errors.most_common()))


def _told_honestly(o: Outcome) -> bool:
    """A sold_out says what is left: the event's, and with items each type's; one must be short."""
    if o.available is None:
        return False
    if o.items is not None and o.items_available is not None:
        return o.available < o.quantity or any(o.items_available.get(t, 0) < q for t, q in o.items)
    return o.available < o.quantity


def failures_are_sold_out(result: StormResult, expected: frozenset[tuple[int, str]] = frozenset()) -> Verdict:
    """Every refusal is 409 sold_out, told honestly (its ``available`` below the quantity asked).

    Other answers the contract allows (400 quantity_above_limit, ...) are a warning; anything
    outside the contract fails. 5xx and missing answers have verdicts of their own. ``expected``:
    refusals that are as good as a sold_out for this storm (409 customer_limit_reached on an event
    with a per-customer limit, told honestly: its ``remaining`` below the quantity asked).
    """
    refused = [o for o in result.outcomes if o.status is not None and 300 <= o.status < 500]
    sold_out = [o for o in refused if (o.status, o.code) == (409, "sold_out")]
    limited = [o for o in refused if (o.status, o.code) in expected]
    other = Counter((o.status, o.code) for o in refused if (o.status, o.code) != (409, "sold_out")
                    and (o.status, o.code) not in expected)
    dishonest = [o for o in sold_out if not _told_honestly(o)]
    dishonest += [o for o in limited if o.code == "customer_limit_reached" and (o.remaining is None or o.remaining >= o.quantity)]
    outside = {k: n for k, n in other.items() if k not in CONTRACT_BOOKING_ANSWERS}
    allowed = {k: n for k, n in other.items() if k in CONTRACT_BOOKING_ANSWERS}
    problems = []
    if outside:
        problems.append("outside the contract: " + ", ".join(f"{n} x {s} {c}" for (s, c), n in outside.items()))
    if dishonest:
        problems.append(f"{len(dishonest)} sold_out answers said enough was available"
                        f" (e.g. asked {dishonest[0].quantity}, available {dishonest[0].available})")
    if problems:
        return _verdict("failures_are_sold_out", False, "; ".join(problems))
    also = ""
    if limited:
        kinds = Counter((o.status, o.code) for o in limited)
        also = ", and " + ", ".join(f"{n} x {s} {c} told honestly" for (s, c), n in kinds.items())
    if allowed:
        return Verdict("failures_are_sold_out", Status.WARN,
                       f"{len(sold_out)} x 409 sold_out, and other contract answers: "
                       + ", ".join(f"{n} x {s} {c}" for (s, c), n in allowed.items()))
    if not sold_out and not limited:
        return _verdict("failures_are_sold_out", True, "no request was refused")
    if not sold_out:
        return _verdict("failures_are_sold_out", True, f"no sold_out{also}")
    return _verdict("failures_are_sold_out", True,
                    f"{len(sold_out)} refusals, all 409 sold_out with available < quantity asked{also}")


def every_request_answered(result: StormResult) -> Verdict:
    unanswered = Counter(o.error for o in result.outcomes if o.status is None)
    if not unanswered:
        count = len(result.outcomes)
        return _verdict("every_request_answered", True, f"{count} of {count} got an HTTP answer")
    return _verdict("every_request_answered", False,
                    "no HTTP answer: " + ", ".join(f"{n} x {why}" for why, n in unanswered.most_common()))


def nothing_unsold(result: StormResult, before: Mapping[str, Any], after: Mapping[str, Any], holds: bool = False) -> Verdict:
    """Invariant 2: once buyers asked for more than was left, what is left is less than any refused ask.

    With items (per ticket type): each request refused as sold out still asks more of one of its
    types than that type has left. With ``holds`` (a payment event) it is not applicable: a hold
    that expired gave back what a refusal before it was told was gone."""
    if holds:
        return Verdict("nothing_unsold", Status.SKIP,
                       "not applicable on a payment event: expired holds give back what earlier refusals saw taken")
    if any(o.items is not None for o in result.outcomes):
        return _nothing_unsold_by_type(result, after)
    asked = sum(o.quantity for o in result.outcomes)
    refused = [o.quantity for o in result.outcomes if (o.status, o.code) == (409, "sold_out")]
    if asked <= before["available"] and not refused:
        return Verdict("nothing_unsold", Status.SKIP,
                       f"not applicable: {asked} tickets asked, {before['available']} were available")
    if not refused:
        return _verdict("nothing_unsold", False,
                        f"{asked} tickets asked with {before['available']} available, yet no request was refused as sold out")
    smallest = min(refused)
    return _verdict("nothing_unsold", after["available"] < smallest,
                    f"available {after['available']} {'<' if after['available'] < smallest else '>='}"
                    f" smallest quantity refused as sold out ({smallest})")


def _nothing_unsold_by_type(result: StormResult, after: Mapping[str, Any]) -> Verdict:
    left = {t["id"]: t["available"] for t in after.get("ticket_types") or []}
    refused = [o for o in result.outcomes if (o.status, o.code) == (409, "sold_out") and o.items is not None]
    if not refused:
        return Verdict("nothing_unsold", Status.SKIP, "not applicable: no request was refused as sold out")
    unsold = [(o.index, o.items) for o in refused if o.items is not None and all(left.get(t, 0) >= q for t, q in o.items)]
    if unsold:
        index, items = unsold[0]
        return _verdict("nothing_unsold", False, f"{len(unsold)} requests refused as sold out could be booked now"
                        f" (e.g. #{index}: " + ", ".join(f"type {t} x{q}, {left.get(t, 0)} left" for t, q in items) + ")")
    return _verdict("nothing_unsold", True, f"each of {len(refused)} refused requests still asks more of a type than is left ("
                    + ", ".join(f"type {t}: {n}" for t, n in sorted(left.items())) + ")")


def sold_delta_matches(result: StormResult, before: Mapping[str, Any], after: Mapping[str, Any],
                       confirmed_now: int | None = None) -> Verdict:
    """From own counts: the event's tickets_sold moved by exactly what the storm was told it booked.

    A request that got no answer may or may not have booked, so it widens the allowed range.
    This assumes nobody else booked or cancelled for the event while the storm ran. With holds,
    ``confirmed_now`` is what of the storm's bookings reads CONFIRMED now (paid holds included).
    """
    delta = after["tickets_sold"] - before["tickets_sold"]
    booked = result.booked_quantity if confirmed_now is None else confirmed_now
    unknown = sum(o.quantity for o in result.outcomes if o.status is None or o.status >= 500)
    ok = booked <= delta <= booked + unknown
    detail = (f"tickets_sold moved by {delta}; the storm's 201s booked {booked}" if confirmed_now is None
              else f"tickets_sold moved by {delta}; the storm's bookings CONFIRMED now: {booked} tickets")
    if unknown:
        detail += f" (+ up to {unknown} from requests without a clear answer)"
    return _verdict("sold_delta_matches", ok, detail + " (assumes no other buyers meanwhile)")


def check_all(
    result: StormResult,
    before: Mapping[str, Any],
    after: Mapping[str, Any] | None,
    *,
    all_bookings: Sequence[Mapping[str, Any]] | None = None,
    own_bookings: Sequence[Mapping[str, Any]] | None = None,
    unreadable: str | None = None,
    with_admin: bool | None = None,
    holds: bool = False,
    expected: frozenset[tuple[int, str]] = frozenset(),
) -> list[Verdict]:
    """All verdicts. ``all_bookings``: the admin's view of the event; ``own_bookings``: the
    storm accounts' own bookings of it (used for durability when there is no admin view).
    ``after`` is None, or ``unreadable`` says why, when the service could not be asked after
    the storm: what needs that answer fails. ``with_admin``: whether the admin view was meant
    to be read (default: whether it was). ``holds``: the event is a payment event (201s may be
    PENDING; what is sold is what reads CONFIRMED now). ``expected``: refusals as good as sold_out."""
    with_admin = all_bookings is not None if with_admin is None else with_admin
    readback = all_bookings if all_bookings is not None else own_bookings
    source = "admin API" if all_bookings is not None else "each buyer's own list"

    def needs(name: str, check: Callable[..., Verdict], *args: Any, bookings: bool = False) -> Verdict:
        if after is None or (bookings and readback is None and unreadable):
            return _verdict(name, False, f"could not be checked: {unreadable or 'the event could not be read'}")
        return check(*args)

    confirmed_now = None
    if holds and readback is not None:
        mine = {o.booking_id for o in result.created}
        confirmed_now = sum(b["quantity"] for b in readback if b["id"] in mine and b["status"] == "CONFIRMED")
    return [
        needs("sold_within_capacity", sold_within_capacity, after, all_bookings, bookings=with_admin),
        needs("sold_equals_tickets", sold_equals_tickets, after, all_bookings, bookings=True) if with_admin
        else sold_equals_tickets({}, None),
        created_are_whole(result, holds),
        needs("created_are_durable", created_are_durable, result, readback, source, holds, bookings=True),
        no_server_errors(result),
        failures_are_sold_out(result, expected),
        every_request_answered(result),
        needs("nothing_unsold", nothing_unsold, result, before, after, holds),
        Verdict("sold_delta_matches", Status.SKIP, "with holds it needs the bookings read back")
        if holds and confirmed_now is None and after is not None
        else needs("sold_delta_matches", sold_delta_matches, result, before, after, confirmed_now),
    ]


def broken(verdicts: Iterable[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if v.broken]
