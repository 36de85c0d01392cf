"""``ticketing storm``: the Typer command (registered by ``ticketing.cli``)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from ticketing.storm import checkout_checks, checks
from ticketing.storm.accounts import (
    DEFAULT_PARALLEL,
    read_token_file,
    register_accounts,
    sign_in,
)
from ticketing.storm.client import Api, ApiError
from ticketing.storm.pay import Payer
from ticketing.storm.plan import ItemsPlan, QuantityPlan
from ticketing.storm.report import Report, render
from ticketing.storm.runner import Storm, StormResult

# Holds expiring within this many seconds are waited out before the final read (so that their
# release is counted); later ones stay PENDING while it reads.
SETTLE_HORIZON = 60.0
RELEASE_WINDOW = 1.0  # checkout.md: a hold is released at the latest 1 s after its expires_at
CLOCK_MARGIN = 0.5  # the deadlines' error on our clock (an answer's latency, Date resolution)
SETTLE_READS = 20


class Usage(Exception):
    """Something to tell the operator before any storm runs (exit status 2)."""


async def _event(api: Api, event_id: int) -> dict[str, Any]:
    answer = await api.event(event_id)
    if answer.status != 200 or not isinstance(answer.body, dict):
        raise Usage(f"event {event_id} at {api.base_url}: {answer.describe()}")
    return answer.body


async def own_bookings(api: Api, tokens: Sequence[str], event_id: int, parallel: int = 8) -> list[dict[str, Any]]:
    """The bookings of the event that the storm's accounts can each see (their own)."""
    gate = asyncio.Semaphore(parallel)

    async def one(token: str) -> list[dict[str, Any]]:
        async with gate:
            return await api.bookings(token, event_id)

    pages = await asyncio.gather(*(one(t) for t in dict.fromkeys(tokens)))
    return list({b["id"]: b for page in pages for b in page}.values())


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
        TextColumn("{task.fields[note]}"), TimeElapsedColumn(),
        console=console, transient=True, disable=not console.is_terminal,
    )


async def _watch(storm: Storm, progress: Progress, task: Any) -> None:
    # Polled, not advanced per answer: at 1,000+ answers/s a call per answer costs real CPU.
    while True:
        progress.update(task, completed=storm.completed, note=f"{storm.completed / max(storm.now(), 1e-9):,.0f}/s")
        await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Checkout:
    """What the storm does beyond v1 (contract v1.1): book by ticket type, pay for its holds."""

    ticket_type: int | None = None  # each request books this type, quantity from the plan
    items: ItemsPlan | None = None  # each request books these types and quantities
    webhook_secret: str | None = None  # pay through the provider's webhook (--pay)
    late_fraction: float = 0.2
    deliveries: int = 3

    def items_of(self, quantities: Sequence[int]) -> list[tuple[tuple[int, int], ...]] | None:
        if self.items is not None:
            return [self.items.items] * len(quantities)
        if self.ticket_type is not None:
            return [((self.ticket_type, q),) for q in quantities]
        return None


async def settle(api: Api, admin_token: str, event_id: int, result: StormResult) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The admin's view once it is settled: no hold of the storm inside its release window (its
    deadline up to 1 s past, the contract's bound), and the counters equal to what the states say,
    unchanged while the bookings were listed. Reads again while not (up to ``SETTLE_READS``)."""
    deadlines = [o.local_deadline() for o in result.created if o.booking_status == "PENDING"]
    soon = [d for d in deadlines if d is not None and d <= time.time() + SETTLE_HORIZON]
    if soon:
        wait = max(soon) + RELEASE_WINDOW + CLOCK_MARGIN - time.time()
        if wait > 0:
            await asyncio.sleep(wait)  # the contract's own deadline for releasing these holds
    event, bookings = await _event(api, event_id), []
    for _ in range(SETTLE_READS):
        bookings = await api.bookings(admin_token, event_id)
        again = await _event(api, event_id)
        if _counters(again) == _counters(event) and checkout_checks.settled(again, bookings):
            return again, bookings
        event = again
        await asyncio.sleep(0.2)
    return event, bookings


def _counters(event: dict[str, Any]) -> tuple[Any, ...]:
    return (event["tickets_sold"], event.get("tickets_held"),
            tuple((t["id"], t["tickets_sold"], t["tickets_held"]) for t in event.get("ticket_types") or []))


async def execute(
    *, url: str, event_id: int, requests: int, concurrency: int, plan: QuantityPlan, users: int,
    token_file: Path | None, admin_email: str | None, admin_password: str | None, timeout: float,  # noqa: ASYNC109 - per request, not for this call
    seed: int | None, idempotency_keys: bool, register_parallel: int, console: Console,
    checkout: Checkout | None = None,
) -> Report:
    # The provider's deliveries get connections of their own: behind the booking workers, which
    # take a freed connection at once, they would wait past the holds' deadlines.
    paying = checkout is not None and bool(checkout.webhook_secret)
    async with Api(url, concurrency=max(concurrency, register_parallel, 8), timeout=timeout) as api, \
            Api(url, concurrency=max(8, 4 * (checkout.deliveries if checkout else 1)), timeout=timeout) as provider:
        before = await _event(api, event_id)
        admin_token = await sign_in(api, admin_email, admin_password) if admin_email and admin_password else None
        with _progress(console) as progress:
            if token_file is not None:
                tokens = read_token_file(token_file)
            else:
                task = progress.add_task("registering buyers", total=users, note="")
                tokens = await register_accounts(api, users, parallel=register_parallel,
                                                 on_done=lambda: progress.advance(task))
                progress.remove_task(task)
            quantities = plan.draw(requests, seed) if checkout is None or checkout.items is None \
                else [checkout.items.quantity] * requests
            payer = None
            if paying and checkout is not None and checkout.webhook_secret:
                payer = Payer(provider, checkout.webhook_secret, checkout.late_fraction, checkout.deliveries, seed)
            storm = Storm(api, event_id, tokens, quantities, concurrency, idempotency_keys,
                          items=checkout.items_of(quantities) if checkout else None,
                          on_answer=payer.take if payer else None)
            task = progress.add_task("booking", total=requests, note="")
            watcher = asyncio.create_task(_watch(storm, progress, task))
            loop = asyncio.get_running_loop()
            # Ctrl-C stops sending; what was sent is still checked and summarised.
            loop.add_signal_handler(signal.SIGINT, storm.stop)
            try:
                result: StormResult = await storm.run()
            finally:
                loop.remove_signal_handler(signal.SIGINT)
                watcher.cancel()
            payments = None
            if payer is not None:
                progress.update(task, description="paying", completed=requests)
                payments = await payer.finish()
            progress.update(task, description="checking", completed=requests)
            after, all_bookings, mine, unreadable = None, None, None, None
            try:  # the storm happened: whatever goes wrong now is reported, not raised
                if checkout is not None and admin_token:
                    after, all_bookings = await settle(api, admin_token, event_id, result)
                else:
                    after = await _event(api, event_id)
                    if admin_token:
                        all_bookings = await api.bookings(admin_token, event_id)
                    else:
                        mine = await own_bookings(api, tokens, event_id)
            except (Usage, ApiError) as error:
                unreadable = f"after the storm, {error}"
    holds = before.get("checkout") == "payment"
    expected = frozenset({(409, "customer_limit_reached")}) if before.get("per_customer_limit") else frozenset()
    verdicts = checks.check_all(result, before, after, all_bookings=all_bookings, own_bookings=mine,
                                unreadable=unreadable, with_admin=admin_token is not None,
                                holds=holds and checkout is not None, expected=expected if checkout else frozenset())
    if checkout is not None:
        verdicts += checkout_checks.check_checkout(after, all_bookings, payments, unreadable)
    what = str(plan) if checkout is None else str(checkout.items) if checkout.items else f"type {checkout.ticket_type} x {plan}" \
        if checkout.ticket_type else str(plan)
    return Report(url, event_id, len(tokens), what, result, before, after, verdicts,
                  "admin API" if admin_token else "own counts", payments=payments,
                  late_skipped=payer.late_skipped if payer else 0)


def storm(
    url: Annotated[str, typer.Option(help="Base URL of a running server, e.g. http://127.0.0.1:8000.")],
    event_id: Annotated[int, typer.Option(min=1, help="The event to book.")],
    requests: Annotated[int, typer.Option(min=1, help="Booking requests to send.")] = 1000,
    concurrency: Annotated[int, typer.Option(min=1, max=2000, help="Requests in flight at most.")] = 64,
    quantity: Annotated[int | None, typer.Option(min=1, help="Tickets per request (default 1).")] = None,
    quantities: Annotated[str | None, typer.Option(help="Tickets per request drawn from a range, e.g. 1-3.")] = None,
    users: Annotated[int, typer.Option(min=1, help="Fresh customer accounts to register and book from.")] = 20,
    token_file: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, help="Book with these bearer tokens (one per line) instead of registering accounts.",
    )] = None,
    admin_email: Annotated[str | None, typer.Option(help="Admin account to check the invariants through the admin API.")] = None,
    admin_password: Annotated[str | None, typer.Option(help="The admin's password.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds before one request is given up.")] = 30.0,
    seed: Annotated[int | None, typer.Option(help="Seed for --quantities, to repeat a storm exactly.")] = None,
    idempotency_keys: Annotated[bool, typer.Option(help="Send a unique Idempotency-Key with each booking.")] = False,
    register_parallel: Annotated[int, typer.Option(
        min=1, max=64, help="Accounts registered at once (argon2 is CPU-heavy on the server).",
    )] = DEFAULT_PARALLEL,
    ticket_type: Annotated[int | None, typer.Option(
        min=1, help="Book this ticket type (checkout's items form), quantity from --quantity/--quantities.",
    )] = None,
    items: Annotated[str | None, typer.Option(
        help="Book several ticket types in each request, e.g. 4:1,5:2 (type id:quantity).",
    )] = None,
    pay: Annotated[bool, typer.Option(
        "--pay", help="Pay for each hold through the provider's signed webhook (some after it expired, see --late-fraction).",
    )] = False,
    webhook_secret: Annotated[str | None, typer.Option(
        envvar="TICKETING_PAYMENT_WEBHOOK_SECRET", show_envvar=True, help="The webhook's signing secret (for --pay).",
    )] = None,
    late_fraction: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="With --pay: share of holds paid just after their deadline (when holds are short).",
    )] = 0.2,
    deliveries: Annotated[int, typer.Option(
        min=1, max=20, help="With --pay: each provider event is delivered this many times at once, then once more.",
    )] = 3,
) -> None:
    """Fire concurrent bookings at a running server and check the contract's invariants.

    With --ticket-type, --items or --pay it also checks checkout's invariants 5-8 (checkout.md)
    through the admin API, once no hold it made is within its release window.

    Exit status: 0 when every invariant holds, 1 when one is broken (a 5xx counts),
    2 when the storm could not run.
    """
    err = Console(stderr=True)
    if quantity is not None and quantities is not None:
        err.print("ticketing storm: give --quantity or --quantities, not both")
        raise typer.Exit(2)
    if (admin_email is None) != (admin_password is None):
        err.print("ticketing storm: give both --admin-email and --admin-password, or neither")
        raise typer.Exit(2)
    if items is not None and (ticket_type is not None or quantity is not None or quantities is not None):
        err.print("ticketing storm: --items names types and quantities: give it without --ticket-type, --quantity, --quantities")
        raise typer.Exit(2)
    if pay and not webhook_secret:
        err.print("ticketing storm: --pay needs --webhook-secret or TICKETING_PAYMENT_WEBHOOK_SECRET")
        raise typer.Exit(2)
    try:
        plan = QuantityPlan.parse(quantities) if quantities is not None else QuantityPlan(quantity or 1, quantity or 1)
        items_plan = ItemsPlan.parse(items) if items is not None else None
    except ValueError as error:
        err.print(f"ticketing storm: {error}")
        raise typer.Exit(2) from None
    checkout = None
    if ticket_type is not None or items_plan is not None or pay:
        checkout = Checkout(ticket_type, items_plan, webhook_secret if pay else None, late_fraction, deliveries)
    try:
        report = _run(execute(
            url=url, event_id=event_id, requests=requests, concurrency=concurrency, plan=plan, users=users,
            token_file=token_file, admin_email=admin_email, admin_password=admin_password, timeout=timeout,
            seed=seed, idempotency_keys=idempotency_keys, register_parallel=register_parallel, console=err,
            checkout=checkout,
        ))
    except (Usage, ApiError, ValueError, OSError) as error:
        err.print(f"ticketing storm: {error}")
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        render(report, Console(highlight=False))
    if not report.ok:
        raise typer.Exit(1)


def _run(coroutine: Coroutine[Any, Any, Report]) -> Report:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)
