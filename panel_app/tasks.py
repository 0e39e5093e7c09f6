"""Fire-and-forget background work (mail, WhatsApp) from synchronous handlers.

Reflex runs synchronous handlers on the event loop, so a task created here runs
concurrently and never delays the user's next event. Strong references are kept
until each task ends; failures are logged, never raised into a handler.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Coroutine

log = logging.getLogger(__name__)
_running: set[asyncio.Task] = set()


def _done(task: asyncio.Task) -> None:
    _running.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("background task failed: %r", task.exception())


def spawn(coroutine: Coroutine) -> asyncio.Task | None:
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
