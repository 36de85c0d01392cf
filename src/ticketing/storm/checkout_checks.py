"""Checkout's invariants 5-8 (checkout.md), checked on the admin API's view after a storm that
booked by ticket type or paid for its holds. No I/O here.

The view must be settled: a hold past its deadline already reads EXPIRED, but its tickets count
in ``tickets_held`` until it is released (at the latest 1 s later), so the caller reads only once
no hold it made is inside that window (see ``command.settle``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from ticketing.storm.checks import LIVE_TICKET_STATUSES, Status, Verdict, _verdict
from ticketing.storm.pay import Payment

STATES = {"PENDING", "CONFIRMED", "EXPIRED", "CANCELLED"}
PAID = {"paid", "refund_due"}


def _sum_items(bookings: Sequence[Mapping[str, Any]], status: str) -> Counter[int]:
    by_type: Counter[int] = Counter()
    for b in bookings:
        if b["status"] == status:
            for item in b.get("items", []):
                by_type[item["ticket_type_id"]] += item["quantity"]
    return by_type


def counters_match_states(event: Mapping[str, Any], bookings: Sequence[Mapping[str, Any]]) -> Verdict:
    """Invariant 5: per event and per type, sold = CONFIRMED quantities, held = PENDING ones,
    sold + held <= capacity, and the types' sold and held add up to the event's."""
    problems = []
    sold, held, capacity = event["tickets_sold"], event.get("tickets_held", 0), event["capacity"]
    confirmed = sum(b["quantity"] for b in bookings if b["status"] == "CONFIRMED")
    pending = sum(b["quantity"] for b in bookings if b["status"] == "PENDING")
    if sold != confirmed:
        problems.append(f"event tickets_sold {sold} != CONFIRMED quantities {confirmed}")
    if held != pending:
        problems.append(f"event tickets_held {held} != PENDING quantities {pending}")
    if sold + held > capacity:
        problems.append(f"event sold {sold} + held {held} > capacity {capacity}")
    types = event.get("ticket_types") or []
    type_sold, type_held = _sum_items(bookings, "CONFIRMED"), _sum_items(bookings, "PENDING")
    for t in types:
        name = f"type {t['id']}"
        if t["tickets_sold"] != type_sold[t["id"]]:
            problems.append(f"{name} tickets_sold {t['tickets_sold']} != CONFIRMED quantities {type_sold[t['id']]}")
        if t["tickets_held"] != type_held[t["id"]]:
            problems.append(f"{name} tickets_held {t['tickets_held']} != PENDING quantities {type_held[t['id']]}")
        if t.get("capacity") is not None and t["tickets_sold"] + t["tickets_held"] > t["capacity"]:
            problems.append(f"{name} sold {t['tickets_sold']} + held {t['tickets_held']} > its capacity {t['capacity']}")
    types_sold, types_held = sum(t["tickets_sold"] for t in types), sum(t["tickets_held"] for t in types)
    if types and (types_sold != sold or types_held != held):
        problems.append(f"types' sold {types_sold} / held {types_held} do not add up to the event's {sold} / {held}")
    capped = ", ".join(f"{t['tickets_sold']}+{t['tickets_held']}<={t['capacity']}" for t in types
                       if t.get("capacity") is not None)
    detail = (f"event sold {sold} = CONFIRMED, held {held} = PENDING, {sold + held} <= {capacity}; "
              f"{len(types)} types add up" + (f" (capped: {capped})" if capped else ""))
    return _verdict("counters_match_states", not problems, "; ".join(problems[:4]) or detail)


def bookings_whole(event: Mapping[str, Any], bookings: Sequence[Mapping[str, Any]]) -> Verdict:
    """Invariant 6: one state each; CONFIRMED ones have all their tickets (per type too) and, on a
    payment event with a total above zero, a payment paid or refund_due; no other has a live ticket."""
    payment_event = event.get("checkout") == "payment"
    bad: Counter[str] = Counter()
    for b in bookings:
        live = [t for t in b.get("tickets", []) if t["status"] in LIVE_TICKET_STATUSES]
        items = b.get("items", [])
        if b["status"] not in STATES:
            bad[f"state {b['status']!r}"] += 1
        elif items and sum(i["quantity"] for i in items) != b["quantity"]:
            bad["items not adding up to the quantity"] += 1
        elif b["status"] == "CONFIRMED":
            by_type = Counter(t.get("ticket_type_id") for t in live)
            if len(live) != b["quantity"] or (items and by_type != Counter(
                    {i["ticket_type_id"]: i["quantity"] for i in items})):
                bad["CONFIRMED without all its tickets"] += 1
            if payment_event and float(b["total_amount"]) > 0 and b["payment"]["status"] not in PAID:
                bad[f"CONFIRMED with payment {b['payment']['status']}"] += 1
        elif live:
            bad[f"{b['status']} with live tickets"] += 1
        elif b["status"] == "PENDING" and (b.get("expires_at") is None or b["payment"]["status"] != "due"):
            bad["PENDING without a deadline or a payment due"] += 1
    states = Counter(b["status"] for b in bookings)
    detail = f"{len(bookings)} bookings: " + ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    if bad:
        return _verdict("bookings_whole", False, "; ".join(f"{n} {what}" for what, n in bad.most_common()))
    return _verdict("bookings_whole", True, detail + "; CONFIRMED ones whole" + (" and paid" if payment_event else ""))


def customer_limit_kept(event: Mapping[str, Any], bookings: Sequence[Mapping[str, Any]]) -> Verdict:
    """Invariant 7: per user, PENDING + CONFIRMED quantities <= the event's per_customer_limit."""
    limit = event.get("per_customer_limit")
    if limit is None:
        return Verdict("customer_limit_kept", Status.SKIP, "the event has no per-customer limit")
    taken: Counter[int] = Counter()
    for b in bookings:
        if b["status"] in ("PENDING", "CONFIRMED"):
            taken[b["user_id"]] += b["quantity"]
    over = {user: n for user, n in taken.items() if n > limit}
    most = max(taken.values(), default=0)
    if over:
        return _verdict("customer_limit_kept", False, f"{len(over)} buyers over the limit {limit} "
                        f"(e.g. user {next(iter(over))}: {next(iter(over.values()))})")
    return _verdict("customer_limit_kept", True, f"{len(taken)} buyers, at most {most} <= limit {limit}")


def webhook_one_effect(payments: Sequence[Payment], bookings: Sequence[Mapping[str, Any]]) -> Verdict:
    """Invariant 8: every delivery of one provider event got the same answer, and the booking is
    what that answer says (CONFIRMED and paid, or EXPIRED with refund_due), once."""
    if not payments:
        return Verdict("webhook_one_effect", Status.SKIP, "no payment was made (give --pay on a payment event)")
    by_id = {b["id"]: b for b in bookings}
    problems: Counter[str] = Counter()
    unanswered = 0
    results: Counter[str] = Counter()
    for p in payments:
        answered = p.answered
        unanswered += len(p.answers) - len(answered)
        if not answered:
            problems["payments with no answer at all"] += 1
            continue
        shapes = {(a.status, str(a.body)) for a in answered}
        if len(shapes) > 1:
            problems["event ids answered differently across deliveries"] += 1
            continue
        first = answered[0]
        if first.status != 200 or not isinstance(first.body, dict):
            problems[f"answered {first.describe()}"] += 1
            continue
        status = first.body.get("status")
        results[str(status)] += 1
        booking = by_id.get(p.booking_id)
        if booking is None or first.body.get("booking_id") != p.booking_id:
            problems["answers naming another or a missing booking"] += 1
        elif status == "CONFIRMED" and (booking["status"], booking["payment"]["status"]) != ("CONFIRMED", "paid"):
            problems[f"answered CONFIRMED, booking {booking['status']} / {booking['payment']['status']}"] += 1
        elif status == "EXPIRED" and (booking["status"], booking["payment"]["status"]) != ("EXPIRED", "refund_due"):
            problems[f"answered EXPIRED, booking {booking['status']} / {booking['payment']['status']}"] += 1
        elif status not in ("CONFIRMED", "EXPIRED"):
            problems[f"answered status {status}"] += 1
    deliveries = sum(len(p.answers) for p in payments)
    if problems:
        return _verdict("webhook_one_effect", False, "; ".join(f"{n} {what}" for what, n in problems.most_common()))
    detail = (f"{len(payments)} provider events, {deliveries} deliveries: each id one answer and one effect ("
              + ", ".join(f"{n} {s}" for s, n in sorted(results.items())) + ")")
    if unanswered:
        return Verdict("webhook_one_effect", Status.WARN, detail + f"; {unanswered} deliveries got no HTTP answer")
    return _verdict("webhook_one_effect", True, detail)


def check_checkout(event: Mapping[str, Any] | None, bookings: Sequence[Mapping[str, Any]] | None,
                   payments: Sequence[Payment] | None, unreadable: str | None = None) -> list[Verdict]:
    """Invariants 5-8, or why they could not be checked (no admin view: SKIP; no answer: FAIL)."""
    names = ("counters_match_states", "bookings_whole", "customer_limit_kept", "webhook_one_effect")
    if event is None or bookings is None:
        if unreadable:
            return [_verdict(n, False, f"could not be checked: {unreadable}") for n in names]
        return [Verdict(n, Status.SKIP, "needs --admin-email/--admin-password to see every booking") for n in names]
    return [
        counters_match_states(event, bookings),
        bookings_whole(event, bookings),
        customer_limit_kept(event, bookings),
        webhook_one_effect(payments or [], bookings) if payments is not None
        else Verdict("webhook_one_effect", Status.SKIP, "no payments made (no --pay)"),
    ]


def settled(event: Mapping[str, Any], bookings: Sequence[Mapping[str, Any]]) -> bool:
    """Whether counters and states agree on held tickets yet (a release may still be due)."""
    pending = sum(b["quantity"] for b in bookings if b["status"] == "PENDING")
    by_type = defaultdict(int, _sum_items(bookings, "PENDING"))
    return event.get("tickets_held", 0) == pending and all(
        t["tickets_held"] == by_type[t["id"]] for t in event.get("ticket_types") or [])
