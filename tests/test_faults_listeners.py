"""faults.settle_redis_listeners: Reflex's Redis listeners that gave up during an outage have
their exception read (no "Task exception was never retrieved" traceback per listener and
worker) and the lock listener runs again; live listeners are left alone."""

from __future__ import annotations

import asyncio
import gc
import logging

import redis.exceptions
from reflex.istate.manager.redis import StateManagerRedis
from reflex.utils.token_manager import RedisTokenManager

from panel_app.state import faults


class _Namespace:
    def __init__(self, tokens):
        self._token_manager = tokens


class _App:
    def __init__(self, tokens, states):
        self.event_namespace = _Namespace(tokens)
        self._state_manager = states


async def _gave_up():
    raise redis.exceptions.ConnectionError("Error 111 connecting")


async def _forever():
    await asyncio.Event().wait()


def test_listeners_that_gave_up_are_read_and_the_lock_listener_runs_again(caplog):
    restarted = []

    async def scenario():
        tokens = object.__new__(RedisTokenManager)
        states = object.__new__(StateManagerRedis)
        tokens._lost_and_found_task = asyncio.create_task(_gave_up())
        tokens._socket_record_task = asyncio.create_task(_forever())
        states._lock_task = asyncio.create_task(_gave_up())
        states._ensure_lock_task = lambda: restarted.append("lock")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        gave_up = faults.settle_redis_listeners(_App(tokens, states))
        alive = tokens._socket_record_task
        tokens._lost_and_found_task = states._lock_task = None  # replaced, as Reflex's ensure_task does
        alive.cancel()
        return gave_up

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        gave_up = asyncio.run(scenario())
        gc.collect()
    assert gave_up == ["_lost_and_found_task", "_lock_task"]
    assert restarted == ["lock"]
    assert "never retrieved" not in caplog.text
