"""The panel's Redis state manager (panel_app/state/redis_states.py): two round trips per
event, and the guarantees of Reflex's own: one event at a time per tab, across workers too;
nothing written once the lock is lost, and the next holder's lock left alone; nothing written
by an event that failed; states stored where Reflex's manager reads them. A private
``redis-server`` (skipped without)."""

from __future__ import annotations

import asyncio
import shutil

import pytest
import redis.asyncio as aioredis
from reflex.istate.manager.redis import StateManagerRedis
from reflex.istate.manager.token import BaseStateToken
from reflex_base.utils.exceptions import LockExpiredError

import panel_app.panel_app  # noqa: F401  (registers every state)
from panel_app.state.dns_parts import DnsRecordFormState
from panel_app.state.redis_states import PanelStateManagerRedis
from tests.test_redis_parts import redis_port  # noqa: F401  (fixture)

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

TOKEN = BaseStateToken(ident="redis-states-tab-0001", cls=DnsRecordFormState)
PATH = DnsRecordFormState.get_full_name().split(".")[1:]


def _manager(port: int, **settings) -> PanelStateManagerRedis:
    return PanelStateManagerRedis(redis=aioredis.Redis(port=port), **settings)


def _form(root):
    return root.get_substate(PATH)


async def _stored_value(port: int) -> str:
    """What Reflex's own manager reads for the form (the key layout is Reflex's)."""
    reader = StateManagerRedis(redis=aioredis.Redis(port=port))
    try:
        return _form(await reader.get_state(TOKEN)).form_value
    finally:
        await reader.redis.aclose()


def _count_commands(manager) -> list[str]:
    sent = []
    original = manager.redis.execute_command

    async def counting(*args, **options):
        sent.append(str(args[0]).upper())
        return await original(*args, **options)

    manager.redis.execute_command = counting
    return sent


async def test_an_event_costs_two_round_trips_and_is_stored_for_reflex(redis_port):  # noqa: F811
    manager = _manager(redis_port)
    async with manager.modify_state(TOKEN):  # the first: the scripts are loaded into Redis
        pass
    await asyncio.sleep(0.1)  # and Reflex's lock listener subscribes
    sent = _count_commands(manager)
    async with manager.modify_state(TOKEN) as root:
        _form(root).form_value = "192.0.2.7"
    assert sent == ["EVALSHA", "EVALSHA"]
    assert await _stored_value(redis_port) == "192.0.2.7"
    assert await manager.redis.exists(manager._lock_key(TOKEN)) == 0, "the lock is released"
    async with manager.modify_state(TOKEN) as root:  # and read back by the next event
        assert _form(root).form_value == "192.0.2.7"
    await manager.close()


async def test_one_event_at_a_time_per_tab_across_two_workers(redis_port):  # noqa: F811
    """Forty events of one tab at once, split over two managers (two workers): each appends
    one character to what it read; none is lost, so none overlapped another."""
    workers = [_manager(redis_port), _manager(redis_port)]

    async def append(manager):
        async with manager.modify_state(TOKEN) as root:
            form = _form(root)
            seen = form.form_value
            await asyncio.sleep(0.001)  # a handler that awaits: the lock must hold across it
            form.form_value = seen + "x"

    await asyncio.gather(*(append(workers[i % 2]) for i in range(40)))
    assert await _stored_value(redis_port) == "x" * 40
    for manager in workers:
        await manager.close()


async def test_a_lost_lock_writes_nothing_and_frees_nobody_elses(redis_port):  # noqa: F811
    """The event outlives its lock; another event takes the tab. The late event's change is
    not written, it fails loudly, and the other event's lock is still there."""
    manager = _manager(redis_port, lock_expiration=200, lock_warning_threshold=100)
    lock_key = manager._lock_key(TOKEN)
    with pytest.raises(LockExpiredError):
        async with manager.modify_state(TOKEN) as root:
            _form(root).form_value = "late"
            await asyncio.sleep(0.3)
            await manager.redis.set(lock_key, b"another-event", px=5000)
    assert await manager.redis.get(lock_key) == b"another-event"
    await manager.redis.delete(lock_key)
    assert await _stored_value(redis_port) == ""
    await manager.close()


async def test_a_failed_event_writes_nothing_and_releases_the_tab(redis_port):  # noqa: F811
    manager = _manager(redis_port)
    with pytest.raises(RuntimeError):
        async with manager.modify_state(TOKEN) as root:
            _form(root).form_value = "half done"
            raise RuntimeError("the handler failed")
    assert await manager.redis.exists(manager._lock_key(TOKEN)) == 0
    assert await _stored_value(redis_port) == ""
    async with manager.modify_state(TOKEN) as root:  # the tab is free at once
        _form(root).form_value = "next"
    assert await _stored_value(redis_port) == "next"
    await manager.close()


async def _released_messages(manager, during) -> int:
    """How many release messages the workers' channel carried while ``during`` ran."""
    listener = aioredis.Redis(port=manager.redis.get_connection_kwargs()["port"])
    async with listener.pubsub() as pubsub:
        await pubsub.subscribe(manager._released_channel)
        await during()
        count = 0
        while (message := await pubsub.get_message(timeout=0.2)) is not None:
            count += message["type"] == "message"
    await listener.aclose()
    return count


async def test_a_tab_held_elsewhere_waits_for_its_release_and_nobody_else_hears_of_it(redis_port):  # noqa: F811
    """Another worker holds the tab's lock (for far less than the lock's expiry of a minute):
    the event waits, is woken by the holder's release and reads what that worker wrote. Events
    nobody waits for publish nothing: no worker pays for them."""
    holder, waiter = _manager(redis_port, lock_expiration=60_000), _manager(redis_port, lock_expiration=60_000)
    entered = asyncio.Event()

    async def hold():
        async with holder.modify_state(TOKEN) as root:
            entered.set()
            await asyncio.sleep(0.2)
            _form(root).form_value = "first"

    async def wait_then_append():
        await entered.wait()
        async with waiter.modify_state(TOKEN) as root:
            _form(root).form_value += " second"

    async def contended():
        await asyncio.wait_for(asyncio.gather(hold(), wait_then_append()), timeout=30)

    async def uncontended():
        for _ in range(10):
            async with holder.modify_state(TOKEN):
                pass

    assert await _released_messages(holder, contended) == 1
    assert await _stored_value(redis_port) == "first second"
    assert await _released_messages(holder, uncontended) == 0
    assert await holder.redis.exists(b"redis-states-tab-0001_lock_waiting") == 0, "the waiter left the set"
    for manager in (holder, waiter):
        await manager.close()


async def test_a_lock_left_by_a_dead_worker_is_taken_when_it_expires(redis_port):  # noqa: F811
    """A worker died holding the tab (no release will come): the next event takes the tab
    once the lock expires, and its change is written."""
    manager = _manager(redis_port)
    await manager.redis.set(manager._lock_key(TOKEN), b"dead-worker", px=300)

    async def event():
        async with manager.modify_state(TOKEN) as root:
            _form(root).form_value = "after the dead one"

    await asyncio.wait_for(event(), timeout=30)
    assert await _stored_value(redis_port) == "after the dead one"
    await manager.close()


async def test_a_waiter_that_gives_up_leaves_the_waiting_set(redis_port):  # noqa: F811
    """An event waiting for its tab is cancelled (its client went away, the worker stops): its
    id leaves the tab's waiting set, so later releases of that tab do not go on publishing to
    every worker for nobody (attack: many abandoned waits on one tab)."""
    holder, other = _manager(redis_port), _manager(redis_port)
    lock_key = holder._lock_key(TOKEN)
    async with holder.modify_state(TOKEN):
        waits = [asyncio.ensure_future(other.modify_state(TOKEN).__aenter__()) for _ in range(5)]
        await asyncio.sleep(0.3)
        assert await holder.redis.scard(lock_key + b"_waiting") >= 1
        for wait in waits:
            wait.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
        await asyncio.sleep(0.1)
        assert await holder.redis.scard(lock_key + b"_waiting") == 0
    for manager in (holder, other):
        await manager.close()
