"""``ticketing storm``: the Typer command (registered by ``ticketing.cli``)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Coroutine, Sequence
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

from ticketing.storm import checks
from ticketing.storm.accounts import (
    DEFAULT_PARALLEL,
    read_token_file,
    register_accounts,
    sign_in,
)
from ticketing.storm.client import Api, ApiError
from ticketing.storm.plan import QuantityPlan
from ticketing.storm.report import Report, render
from ticketing.storm.runner import Storm, StormResult


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


async def execute(
    *, url: str, event_id: int, requests: int, concurrency: int, plan: QuantityPlan, users: int,
    token_file: Path | None, admin_email: str | None, admin_password: str | None, timeout: float,  # noqa: ASYNC109 - per request, not for this call
    seed: int | None, idempotency_keys: bool, register_parallel: int, console: Console,
) -> Report:
    async with Api(url, concurrency=max(concurrency, register_parallel, 8), timeout=timeout) as api:
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
            storm = Storm(api, event_id, tokens, plan.draw(requests, seed), concurrency, idempotency_keys)
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
            progress.update(task, description="checking", completed=requests)
            after, all_bookings, mine, unreadable = None, None, None, None
            try:  # the storm happened: whatever goes wrong now is reported, not raised
                after = await _event(api, event_id)
                if admin_token:
                    all_bookings = await api.bookings(admin_token, event_id)
                else:
                    mine = await own_bookings(api, tokens, event_id)
            except (Usage, ApiError) as error:
                unreadable = f"after the storm, {error}"
    verdicts = checks.check_all(result, before, after, all_bookings=all_bookings, own_bookings=mine,
                                unreadable=unreadable, with_admin=admin_token is not None)
    return Report(url, event_id, len(tokens), str(plan), result, before, after, verdicts,
                  "admin API" if admin_token else "own counts")


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
) -> None:
    """Fire concurrent bookings at a running server and check the contract's invariants.

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
    try:
        plan = QuantityPlan.parse(quantities) if quantities is not None else QuantityPlan(quantity or 1, quantity or 1)
    except ValueError as error:
        err.print(f"ticketing storm: {error}")
        raise typer.Exit(2) from None
    try:
        report = _run(execute(
            url=url, event_id=event_id, requests=requests, concurrency=concurrency, plan=plan, users=users,
            token_file=token_file, admin_email=admin_email, admin_password=admin_password, timeout=timeout,
            seed=seed, idempotency_keys=idempotency_keys, register_parallel=register_parallel, console=err,
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
