"""The storm's summary: numbers a person reads at a glance, or the same as one JSON object."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.text import Text

from ticketing.storm.checks import Status, Verdict, broken
from ticketing.storm.pay import Payment
from ticketing.storm.runner import StormResult


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_ms(result: StormResult) -> dict[str, float]:
    """Percentiles over the requests that got an HTTP answer."""
    values = sorted(o.latency for o in result.outcomes if o.status is not None)
    return {
        "p50": round(percentile(values, 0.50) * 1000, 1),
        "p95": round(percentile(values, 0.95) * 1000, 1),
        "p99": round(percentile(values, 0.99) * 1000, 1),
        "max": round((values[-1] if values else 0.0) * 1000, 1),
    }


def answer_counts(result: StormResult) -> list[tuple[str, int]]:
    """``[("201", 250), ("409 sold_out", 1750), ("no answer: timeout", 3)]``, by status then count."""
    counts = Counter(
        (o.status, o.code or "") if o.status is not None else (1000, f"no answer: {o.error}") for o in result.outcomes
    )
    rows = []
    for (status, code), count in sorted(counts.items(), key=lambda item: (item[0][0], -item[1])):
        label = code if status == 1000 else f"{status} {code}".strip()
        rows.append((label, count))
    return rows


@dataclass
class Report:
    url: str
    event_id: int
    buyers: int
    quantities: str
    result: StormResult
    before: Mapping[str, Any]
    after: Mapping[str, Any] | None  # None: the event could not be read after the storm
    verdicts: list[Verdict]
    checked_via: str  # "admin API" or "own counts"
    payments: list[Payment] | None = None  # with --pay: each hold's provider event and its answers
    late_skipped: int = 0  # holds picked to be paid late whose deadline was too far off to wait for

    @property
    def ok(self) -> bool:
        return not broken(self.verdicts)

    @property
    def requests_per_second(self) -> float:
        return len(self.result.outcomes) / self.result.elapsed if self.result.elapsed > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        result = self.result
        by_status: Counter[str] = Counter()
        by_code: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        for o in result.outcomes:
            if o.status is None:
                errors[o.error or "unknown"] += 1
            else:
                by_status[str(o.status)] += 1
                if o.code:
                    by_code[o.code] += 1
        return {
            "url": self.url,
            "event_id": self.event_id,
            "requests": {"planned": result.planned, "sent": len(result.outcomes), "concurrency": result.concurrency,
                         "buyers": self.buyers, "quantities": self.quantities},
            "by_status": dict(by_status),
            "by_code": dict(by_code),
            "transport_errors": dict(errors),
            "booked": {"bookings": len(result.created), "tickets": result.booked_quantity},
            "elapsed_s": round(result.elapsed, 3),
            "requests_per_second": round(self.requests_per_second, 1),
            "latency_ms": latency_ms(result),
            "event": {
                "before": {k: self.before[k] for k in ("capacity", "tickets_sold", "available")},
                "after": {k: self.after[k] for k in ("capacity", "tickets_sold", "available")} if self.after else None,
            },
            **({"payments": payment_summary(self.payments, self.late_skipped)} if self.payments is not None else {}),
            "checked_via": self.checked_via,
            "invariants": [{"name": v.name, "status": v.status.value, "detail": v.detail} for v in self.verdicts],
            "ok": self.ok,
        }


def payment_summary(payments: Sequence[Payment], late_skipped: int = 0) -> dict[str, Any]:
    """How many holds were paid, how many late, and what the deliveries were answered."""
    answers: Counter[str] = Counter()
    for p in payments:
        for a in p.answers:
            status = a.body.get("status") if a.status == 200 and isinstance(a.body, dict) else None
            answers[f"200 {status}" if status else a.describe()] += 1
    first: Counter[str] = Counter()
    for p in payments:
        done = p.answered
        if done and done[0].status == 200 and isinstance(done[0].body, dict):
            first[str(done[0].body.get("status"))] += 1
    late = [p for p in payments if p.late]
    late_confirmed = sum(1 for p in late if p.answered and isinstance(p.answered[0].body, dict)
                         and p.answered[0].body.get("status") == "CONFIRMED")
    return {"holds_paid": len(payments), "late": len(late), "late_confirmed": late_confirmed,
            "late_skipped": late_skipped, "deliveries": sum(len(p.answers) for p in payments),
            "outcomes": dict(first), "answers": dict(answers)}


_STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim"}


def render(report: Report, console: Console) -> None:
    result, after = report.result, report.after
    console.print(
        f"[bold]ticketing storm[/]: {len(result.outcomes):,} booking requests"
        f"{f' (of {result.planned:,}, stopped early)' if result.stopped_early else ''} for event {report.event_id}"
        f" at {report.url}; {result.concurrency} in flight, {report.buyers} buyers, quantity {report.quantities}",
        soft_wrap=True,
    )
    console.print()
    total = len(result.outcomes) or 1
    rows = answer_counts(result)
    width = max([len("answer"), *(len(label) for label, _ in rows)])
    console.print(Text(f"  {'answer':<{width}}  {'count':>7}  {'share':>6}", style="bold"), soft_wrap=True)
    for label, count in rows:
        style = "red" if label.startswith(("5", "no answer")) else ""
        line = Text("  ")
        line.append(f"{label:<{width}}", style=style)
        line.append(f"  {count:>7,}  {100 * count / total:>5.1f}%")
        console.print(line, soft_wrap=True)
    lat = latency_ms(result)
    console.print()
    facts = [
        ("throughput", f"{report.requests_per_second:,.0f} requests/s ({len(result.outcomes):,} in {result.elapsed:.2f} s)"),
        ("latency", f"p50 {lat['p50']} ms   p95 {lat['p95']} ms   p99 {lat['p99']} ms   max {lat['max']} ms"),
        ("booked", f"{len(result.created):,} bookings, {result.booked_quantity:,} tickets"),
        (f"event {report.event_id}",
         f"capacity {after['capacity']:,} / tickets_sold {after['tickets_sold']:,} / available {after['available']:,}"
         f"   (before: {report.before['tickets_sold']:,} sold)" if after is not None
         else f"could not be read after the storm (before: {report.before['tickets_sold']:,} sold)"),
    ]
    if report.payments is not None:
        paid = payment_summary(report.payments, report.late_skipped)
        outcomes = ", ".join(f"{n:,} {s}" for s, n in sorted(paid["outcomes"].items())) or "none answered"
        value = (f"{paid['holds_paid']:,} holds, {paid['deliveries']:,} webhook deliveries -> {outcomes};"
                 f" {paid['late']:,} paid after expiry ({paid['late_confirmed']:,} of them still CONFIRMED)")
        if paid["late_skipped"]:
            value += f"; {paid['late_skipped']:,} meant to be late had holds too long to wait out"
        facts.append(("paid", value))
    for label, value in facts:
        line = Text("  ")
        line.append(f"{label:<12}", style="bold")
        line.append(value)
        console.print(line, soft_wrap=True)
    via = "through the admin API" if report.checked_via == "admin API" else "from the storm's own counts (no admin credentials)"
    console.print()
    console.print(f"[bold]invariants[/], checked {via}:", soft_wrap=True)
    width = max(len(v.name) for v in report.verdicts) if report.verdicts else 0
    for v in report.verdicts:
        line = Text("  ")
        line.append(f"{v.status.value.upper():<4}", style=_STYLE[v.status])
        line.append(f"  {v.name:<{width}}  {v.detail}")
        console.print(line, soft_wrap=True)
    failed = broken(report.verdicts)
    console.print()
    if failed:
        console.print(f"[bold red]BROKEN[/]: {', '.join(v.name for v in failed)} (exit status 1)")
    else:
        console.print("[bold green]OK[/]: every invariant checked holds")
