"""Where messages are rendered: in a child process at the lowest CPU priority (nice 19), so that
the kernel gives the serving process, and so the bookings, the CPU first.

A message costs about 10 ms of CPU to render (two QR codes, the templates, the MIME tree),
against about 1 ms for a booking. Rendered on the serving event loop, mail sent during a sale
would take its CPU from the sale. In a child at nice 19 it takes only what the bookings leave:
with the machine idle a message is rendered at once; during a sale that saturates the machine,
mail waits and the backlog goes out after it (bench/mail.py measures both). The child is made
on first use and made again if it dies.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ticketing.mail.content import BookingMessage
from ticketing.mail.render import Sender, render_message
from ticketing.mail.smtp import Outgoing

LOWEST_PRIORITY = 19


def _prepare_child() -> None:
    os.nice(LOWEST_PRIORITY)
    # A child whose parent is gone (SIGKILLed, or gone before it could stop the pool) ends too,
    # rather than live on alone: a thread looks every second.
    parent = os.getppid()

    def end_with_parent() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=end_with_parent, name="end-with-parent", daemon=True).start()


def render_outgoing(message: BookingMessage, sender: Sender) -> Outgoing:
    """The message's email, flattened for the wire (runs in the child)."""
    return Outgoing.of(render_message(message, sender))


class Renderer:
    def __init__(self, sender: Sender, *, in_child: bool) -> None:
        self.sender = sender
        self.in_child = in_child
        self._pool: ProcessPoolExecutor | None = None

    async def render(self, message: BookingMessage) -> Outgoing:
        if not self.in_child:
            return render_outgoing(message, self.sender)
        if self._pool is None:
            # spawn, not fork: the serving process has an event loop, threads and connections.
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_prepare_child)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, render_outgoing, message, self.sender)
        except BrokenProcessPool:
            self._pool = None  # killed (out of memory, by hand): a new child for the next message
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
