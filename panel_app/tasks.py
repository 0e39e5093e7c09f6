"""Where work runs: fire-and-forget background work (mail, WhatsApp) from synchronous
handlers, and an event's database work on a thread instead of the event loop.

Reflex runs synchronous handlers on the event loop, so a task created here runs
concurrently and never delays the user's next event. Strong references are kept
until each task ends; failures are logged, never raised into a handler.

On a database server (PostgreSQL), each query of an event is a round trip the event
loop would otherwise wait for, while no other tab's event runs: ``off_loop`` runs such
work on one of ``PANEL_DATABASE_THREADS`` threads, and the loop serves other tabs
meanwhile. SQLite answers in-process (nothing to wait for): there it runs inline.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)
_running: set[asyncio.Task] = set()
# Inside off-loop work: the background work it asked for, started once that work has ended,
# as on the loop, where a task starts only after the synchronous handler returned (its
# transaction committed: a mail must not report a row before it can be read).
_deferred: contextvars.ContextVar[list[Coroutine] | None] = contextvars.ContextVar("panel_deferred_tasks",
                                                                                  default=None)
T = TypeVar("T")


def _done(task: asyncio.Task) -> None:
    _running.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("background task failed: %r", task.exception())


def spawn(coroutine: Coroutine) -> asyncio.Task | None:
    deferred = _deferred.get()
    if deferred is not None:
        deferred.append(coroutine)
        return None
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no loop (CLI, plain tests): run to completion here
        asyncio.run(coroutine)
        return None
    # A fresh context: the work must not carry the triggering event's context (Reflex's
    # event context would make its pushes look like they came from the triggering tab).
    task = loop.create_task(coroutine, context=contextvars.Context())
    _running.add(task)
    task.add_done_callback(_done)
    return task


async def wait_all() -> None:
    """Tests: wait for everything spawned so far."""
    while _running:
        await asyncio.gather(*list(_running), return_exceptions=True)


@functools.lru_cache(maxsize=4)
def _threads(count: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(count, thread_name_prefix="panel-db")


def off_loop_threads() -> int:
    from panel_app.settings import get_settings

    return get_settings().database_threads


async def off_loop(work: Callable[[], T]) -> T:
    """``work()`` on a database thread, with this context (copied: what it sets stays there),
    or inline when there are none (SQLite, ``PANEL_DATABASE_THREADS=0``). Background work it
    spawns starts when it is done. Cancelled meanwhile, this waits for the work to end before
    it gives up: it may be changing a tab's state, which is no one else's until then."""
    count = off_loop_threads()
    if not count:
        return work()
    pending: list[Coroutine] = []
    context = contextvars.copy_context()
    context.run(_deferred.set, pending)
    future = asyncio.get_running_loop().run_in_executor(_threads(count), context.run, work)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        while not future.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({future})
        raise
    finally:
        for coroutine in pending:
            spawn(coroutine)
