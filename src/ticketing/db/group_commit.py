"""Application-level group commit: writes that queue up while one transaction runs are done
together, as ONE transaction with one COMMIT (one WAL flush) for all of them.

Each work keeps its own all-or-nothing outcome: if any work of a batch raises, the whole
transaction is rolled back (nothing of the batch is kept) and every work of it is run again
alone, on the ordinary one-write-one-transaction path, with the ordinary retries. A work's
result is handed back only after its COMMIT succeeded, so a 201 is as durable as before, and
a read after ``submit`` returns sees it. If the COMMIT itself fails, nobody can tell whether
it was kept: the error goes to every caller of the batch and nothing is run again. One batch
runs at a time per process; the batch is taken from the queue in arrival order.

The queue knows nothing of databases: it is given ``run_alone`` (one work, one transaction,
with retries) and ``run_batch`` (all works in one transaction) and only decides who runs with
whom, in which order, and who gets which answer.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from ticketing.domain.errors import ServiceUnavailable

T = TypeVar("T")
Work = Callable[[Any], Awaitable[Any]]
# Orders the row locks a work takes, e.g. (event_id,) for a booking: see _lock_order.
LockKey = tuple[int, ...]
RunAlone = Callable[[Work], Awaitable[Any]]
RunBatch = Callable[[list[Work]], Awaitable[list[Any]]]

# The most writes one group-commit batch takes. On PostgreSQL every booking of a batch leaves a
# version of its counter row that cannot be pruned before the batch commits. While the counter
# lived in the wide events row, batches past about 8 overflowed the row's page, updates stopped
# being HOT and the table bloated (batches of 32 went 1,042 -> 753 bookings/s over four 8 s runs;
# 8 held 1,060-1,240): the cap was 8. The counters now live in the narrow event_sales row
# (fillfactor 50), where batches of 32 stay HOT (`python -m bench.wide_row`: 99.3 % HOT), and
# through the service (bench, PostgreSQL, workers 2, c256, same run) 32 gave 931 / 881 bookings/s
# against 814 / 769 with 8, and 931/s held over a 30 s run. See bench/README.md.
MAX_BATCH = {"postgresql": 32, "sqlite": 32}

class BatchRolledBack(Exception):
    """Raised by ``run_batch``: the batch failed before COMMIT and nothing of it was kept, so
    each work may safely run again alone, where its own error (sold out, duplicate key, ...) or
    a retry of a lost race decides its answer."""


@dataclass(eq=False)
class _Pending:
    work: Work
    lock_key: LockKey | None
    future: asyncio.Future[Any] = field(repr=False)


_RUN_ALONE = object()


def _lock_order(batch: Sequence[_Pending]) -> list[_Pending]:
    """The batch in the order its works run inside its one transaction.

    On PostgreSQL each booking's statement locks its event's sales row (the trigger moves
    ``event_sales.tickets_sold``) until the batch commits. Two processes' batches that lock the same rows
    in opposite orders wait for each other: ``deadlock detected`` after deadlock_timeout (1 s)
    and the whole batch runs again. When every batch takes its locks in ascending key order no
    cycle can form. Works without a key lock nothing contended and go first; equal keys keep
    their arrival order (the sort is stable). (The deadlock tests replace this function with
    ``list``, arrival order, as their control.)
    """
    return sorted(batch, key=lambda pending: (pending.lock_key is not None, pending.lock_key or ()))


class GroupCommit:
    def __init__(self, run_alone: RunAlone, run_batch: RunBatch, max_batch: int) -> None:
        """``run_alone(work)`` runs one work as its own transaction. ``run_batch(works)`` runs
        them all in one transaction and returns their results in the same order; it raises
        BatchRolledBack when nothing of the batch was kept and each may run again alone, and
        any other exception goes to every caller of the batch as it is (ServiceUnavailable
        also answers the works queued meanwhile)."""
        self._run_alone = run_alone
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._queue: collections.deque[_Pending] = collections.deque()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, work: Callable[[Any], Awaitable[T]], lock_key: LockKey | None = None) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append(_Pending(work, lock_key, future))
        if self._task is None or self._task.done():
            # A task of its own, started outside any transaction, in an empty context (the log
            # lines of a batch belong to no single request), with its own connections.
            self._task = loop.create_task(self._drain(), context=contextvars.Context())
        # The queue holds works of every result type, so their futures hold Any; each caller
        # gets back what its own work returned.
        result = await future
        if result is _RUN_ALONE:
            return cast(T, await self._run_alone(work))
        return cast(T, result)

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch: list[_Pending] = []
                while self._queue and len(batch) < self._max_batch:
                    pending = self._queue.popleft()
                    if not pending.future.done():  # the caller went away before its turn
                        batch.append(pending)
                if batch:
                    await self._run(_lock_order(batch))
        finally:
            # Cancelled (shutdown): whoever still waits runs alone rather than hanging.
            while self._queue:
                _settle(self._queue.popleft().future, _RUN_ALONE)

    async def _run(self, batch: list[_Pending]) -> None:
        try:
            if len(batch) == 1:
                results = [await self._run_alone(batch[0].work)]
            else:
                results = await self._run_batch([pending.work for pending in batch])
        except BatchRolledBack:
            for pending in batch:
                _settle(pending.future, _RUN_ALONE)
        except Exception as error:
            for pending in batch:
                _settle(pending.future, error=error)
            if isinstance(error, ServiceUnavailable):
                # The database is gone or stuck: the writes queued meanwhile would each wait
                # for their own timeout; answer them now (503, Retry-After).
                while self._queue:
                    _settle(self._queue.popleft().future, error=ServiceUnavailable())
        else:
            for pending, result in zip(batch, results, strict=True):
                _settle(pending.future, result)


def _settle(future: asyncio.Future[Any], result: Any = None, *, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
