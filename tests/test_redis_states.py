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
from redis.exceptions import ConnectionError as RedisConnectionError
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


# --- a tab held in the worker that serves it --------------------------------------------------


def _holding(port: int, **settings) -> PanelStateManagerRedis:
    """A worker whose tabs' sockets are all its own: it holds them between events."""
    manager = _manager(port, **settings)
    manager.hold_seconds, manager.socket_here = 30, lambda ident: True
    return manager


async def _locked(port: int) -> bool:
    client = aioredis.Redis(port=port)
    try:
        return bool(await client.exists(PanelStateManagerRedis._lock_key(TOKEN)))
    finally:
        await client.aclose()


async def _set(manager, value: str) -> None:
    async with manager.modify_state(TOKEN) as root:
        _form(root).form_value = value


async def test_a_held_tab_needs_no_redis_between_events_and_is_written_within_a_sweep(redis_port):  # noqa: F811
    manager = _holding(redis_port)
    await _set(manager, "first")  # takes the tab: the lock and the states
    sent = _count_commands(manager)
    for value in ("second", "third"):
        await _set(manager, value)
    assert sent == [], "a held tab's events send nothing to Redis"
    assert await _locked(redis_port), "its lock stays taken"
    assert await _stored_value(redis_port) == "", "nothing written before the sweep"
    await asyncio.sleep(2.2)  # the worker's sweep runs once a second
    assert await _stored_value(redis_port) == "third"
    async with manager.modify_state(TOKEN) as root:
        assert _form(root).form_value == "third"
    await manager.close()
    assert not await _locked(redis_port), "closing lets go"


async def test_a_tab_held_by_one_worker_goes_to_another_that_asks_with_its_changes(redis_port):  # noqa: F811
    """The second worker (say the tab's socket reconnected there) asks for the tab: the first
    lets go of it at once, with the change its sweep has not written yet, long before the
    lock's expiry of a minute."""
    first, second = _holding(redis_port, lock_expiration=60_000), _holding(redis_port, lock_expiration=60_000)
    await _set(first, "written by the first")
    await asyncio.sleep(1.5)
    await _set(first, "not yet written")
    started = asyncio.get_running_loop().time()
    async with asyncio.timeout(10):
        async with second.modify_state(TOKEN) as root:
            assert _form(root).form_value == "not yet written"
            _form(root).form_value += ", then the second"
    assert asyncio.get_running_loop().time() - started < 5
    assert first._holds == {}, "the first worker let go"
    async with asyncio.timeout(10):  # and back: the second lets go in turn
        await _set(first, "the first again")
    for manager in (first, second):
        await manager.close()
    assert await _stored_value(redis_port) == "the first again"


async def test_one_event_at_a_time_per_held_tab_across_two_workers(redis_port):  # noqa: F811
    workers = [_holding(redis_port), _holding(redis_port)]

    async def append(manager):
        async with manager.modify_state(TOKEN) as root:
            form = _form(root)
            seen = form.form_value
            await asyncio.sleep(0.001)
            form.form_value = seen + "x"

    async with asyncio.timeout(60):
        await asyncio.gather(*(append(workers[i % 2]) for i in range(40)))
    for manager in workers:
        await manager.close()
    assert await _stored_value(redis_port) == "x" * 40


async def test_a_held_tab_is_let_go_when_idle_or_when_its_socket_leaves(redis_port):  # noqa: F811
    manager = _holding(redis_port)
    manager.hold_seconds = 1
    await _set(manager, "idle")
    await asyncio.sleep(2.5)
    assert manager._holds == {}
    assert await manager.redis.exists(manager._lock_key(TOKEN)) == 0
    assert await _stored_value(redis_port) == "idle"
    manager.hold_seconds = 30
    await _set(manager, "closed")
    manager.socket_here = lambda ident: False  # the tab's socket disconnected
    await asyncio.sleep(1.5)
    assert manager._holds == {}
    assert await manager.redis.exists(manager._lock_key(TOKEN)) == 0
    assert await _stored_value(redis_port) == "closed"
    await manager.close()


async def test_a_failed_event_on_a_held_tab_lets_it_go_with_the_earlier_changes(redis_port):  # noqa: F811
    manager = _holding(redis_port)
    await _set(manager, "before the failure")
    with pytest.raises(RuntimeError):
        async with manager.modify_state(TOKEN):
            raise RuntimeError("the handler failed")
    assert manager._holds == {}
    assert await manager.redis.exists(manager._lock_key(TOKEN)) == 0
    assert await _stored_value(redis_port) == "before the failure"
    await manager.close()


async def test_a_held_tab_whose_lock_was_lost_writes_nothing_over_the_new_holder(redis_port):  # noqa: F811
    """The lock expired (the worker stalled, Redis restarted) and another event took the tab
    and wrote: the sweep finds the lock is not its own, drops its copy and writes nothing."""
    manager = _holding(redis_port)
    lock_key = manager._lock_key(TOKEN)
    await _set(manager, "stale")
    await manager.redis.set(lock_key, b"another-worker", px=5000)
    await manager.sweep()
    assert manager._holds == {}
    assert await manager.redis.get(lock_key) == b"another-worker"
    assert await _stored_value(redis_port) == ""
    await manager.redis.delete(lock_key)
    async with manager.modify_state(TOKEN) as root:  # the next event reads what Redis holds
        assert _form(root).form_value == ""
    await manager.close()


async def test_a_sweep_that_fails_keeps_the_changes_for_the_next(redis_port):  # noqa: F811
    manager = _holding(redis_port)
    await _set(manager, "kept through an outage")
    original = manager.redis.pipeline

    def failing(*args, **kwargs):
        pipe = original(*args, **kwargs)

        async def execute(*_, **__):
            raise RedisConnectionError("Redis is away")

        pipe.execute = execute
        return pipe

    manager.redis.pipeline = failing
    with pytest.raises(RedisConnectionError):
        await manager.sweep()
    manager.redis.pipeline = original
    assert await _stored_value(redis_port) == ""
    await manager.sweep()
    assert await _stored_value(redis_port) == "kept through an outage"
    await manager.close()


async def test_an_event_on_a_held_tab_whose_lock_is_gone_takes_the_tab_anew(redis_port):  # noqa: F811
    """Redis restarted empty while the sweep was late: the next event finds, extending the
    lock, that it is gone; it does not run on the old copy but takes the tab anew."""
    manager = _holding(redis_port)
    await _set(manager, "before the restart")
    await manager.redis.flushdb()
    next(iter(manager._holds.values())).expires = 0.0  # the sweep fell behind
    async with manager.modify_state(TOKEN) as root:
        assert _form(root).form_value == ""
        _form(root).form_value = "after the restart"
    assert await _locked(redis_port)
    await manager.close()
    assert await _stored_value(redis_port) == "after the restart"


def test_install_holds_only_the_tabs_whose_socket_is_on_this_worker(redis_port):  # noqa: F811
    """The app's manager holds a tab only while Reflex's token manager has the tab's socket
    on this worker (a record of another worker, cached here, does not count)."""
    from types import SimpleNamespace

    from reflex.utils.token_manager import SocketRecord

    from panel_app.state import redis_states

    tokens = SimpleNamespace(instance_id="this-worker", token_to_socket={
        "here": SocketRecord(instance_id="this-worker", sid="a"),
        "elsewhere": SocketRecord(instance_id="other-worker", sid="b")})
    app = SimpleNamespace(_state_manager=StateManagerRedis(redis=aioredis.Redis(port=redis_port)),
                          event_namespace=SimpleNamespace(_token_manager=tokens))
    redis_states.install(app, hold_seconds=30)
    manager = app._state_manager
    assert isinstance(manager, PanelStateManagerRedis) and manager.hold_seconds == 30
    assert manager.socket_here("here")
    assert not manager.socket_here("elsewhere") and not manager.socket_here("closed")


async def test_no_more_tabs_are_held_than_the_bound(redis_port):  # noqa: F811
    """Beyond ``held_max`` held tabs (their trees live in the worker's memory), a tab's event
    writes and releases at once, as without holding."""
    manager = _holding(redis_port)
    manager.held_max = 1
    other = BaseStateToken(ident="redis-states-tab-0002", cls=DnsRecordFormState)
    await _set(manager, "held")
    async with manager.modify_state(other) as root:
        _form(root).form_value = "not held"
    assert list(manager._holds) == [manager._lock_key(TOKEN)]
    assert await manager.redis.exists(manager._lock_key(other)) == 0
    reader = StateManagerRedis(redis=aioredis.Redis(port=redis_port))
    assert _form(await reader.get_state(other)).form_value == "not held"
    await reader.redis.aclose()
    await manager.close()


def _failing_pipelines(manager, execute) -> None:
    """The manager's pipelines run ``execute`` instead of sending anything."""
    original = manager.redis.pipeline

    def pipeline(*args, **kwargs):
        pipe = original(*args, **kwargs)
        pipe.execute = execute
        return pipe

    manager.redis.pipeline = pipeline
    manager.restore_pipelines = lambda: setattr(manager.redis, "pipeline", original)


async def _redis_away(*_, **__):
    raise RedisConnectionError("Redis is away")


async def test_a_tab_let_go_of_while_redis_is_away_stays_held_with_its_changes(redis_port):  # noqa: F811
    """Another worker asked for the tab, but the release did not reach Redis: the tab stays
    held here (its lock is still this worker's), its events go on, and the next sweep lets
    it go with every change."""
    manager = _holding(redis_port)
    await _set(manager, "before")
    hold = manager._holds[manager._lock_key(TOKEN)]
    hold.wanted = True
    _failing_pipelines(manager, _redis_away)
    with pytest.raises(RedisConnectionError):
        await manager.sweep()
    assert manager._holds == {manager._lock_key(TOKEN): hold} and not hold.gone
    await _set(manager, "during the outage")
    manager.restore_pipelines()
    await manager.sweep()
    assert manager._holds == {}
    assert not await _locked(redis_port)
    assert await _stored_value(redis_port) == "during the outage"
    await manager.close()


async def test_a_sweep_cancelled_mid_write_keeps_the_tabs_and_their_changes(redis_port):  # noqa: F811
    """The worker shuts down while the sweep's round trip is out: the tabs it was letting go
    of stay held with their changes, and closing writes them."""
    manager = _holding(redis_port)
    await _set(manager, "written at close")
    manager._holds[manager._lock_key(TOKEN)].wanted = True
    _failing_pipelines(manager, lambda *_, **__: asyncio.sleep(3600))
    sweep = asyncio.create_task(manager.sweep())
    await asyncio.sleep(0.2)
    sweep.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sweep
    assert list(manager._holds) == [manager._lock_key(TOKEN)]
    manager.restore_pipelines()
    await manager.close()
    assert not await _locked(redis_port)
    assert await _stored_value(redis_port) == "written at close"


async def test_a_hung_event_does_not_keep_its_tab_locked_forever(redis_port):  # noqa: F811
    """The sweep extends a busy tab's lock for one lock's time at most: an event that hangs
    longer loses the lock (another worker gets the tab) and, when it ends, writes nothing and
    raises LockExpiredError as with Reflex's manager."""
    hung, other = _holding(redis_port, lock_expiration=2000), _manager(redis_port, lock_expiration=2000)
    await _set(hung, "before")

    async def hang():
        async with hung.modify_state(TOKEN) as root:
            _form(root).form_value = "from the hung event"
            await asyncio.sleep(7)

    task = asyncio.create_task(hang())
    await asyncio.sleep(0.2)
    async with asyncio.timeout(6.5):
        await _set(other, "from another worker")
    with pytest.raises(LockExpiredError):
        await task
    for manager in (hung, other):
        await manager.close()
    assert await _stored_value(redis_port) == "from another worker"


async def test_an_event_whose_release_does_not_reach_redis_keeps_the_tab_for_the_sweep(redis_port):  # noqa: F811
    """A tab not held (holding off here) whose release failed: its change is not lost with
    the event but kept, the lock still this worker's, and written by the next sweep."""
    from panel_app.state import faults

    manager = _manager(redis_port)
    original = manager._release

    async def away(*_, **__):
        raise RedisConnectionError("Redis is away")

    manager._release = away
    await _set(manager, "kept")
    assert faults.outages.is_down(faults.REDIS)
    assert list(manager._holds) == [manager._lock_key(TOKEN)]
    assert await _locked(redis_port) and await _stored_value(redis_port) == ""
    manager._release = original
    await manager.sweep()
    assert not faults.outages.is_down(faults.REDIS), "Redis answered: it is back"
    assert manager._holds == {} and not await _locked(redis_port)
    assert await _stored_value(redis_port) == "kept"
    await manager.close()


async def test_a_lock_too_short_to_extend_in_time_is_not_held(redis_port):  # noqa: F811
    manager = _holding(redis_port, lock_expiration=1500)
    await _set(manager, "not held")
    assert manager._holds == {} and not await _locked(redis_port)
    assert await _stored_value(redis_port) == "not held"
    await manager.close()


# --- a lock's time counts from when the request that took or extended it was sent ------------
# Redis counts a lock down from when the script ran, at the latest when its answer left; an
# answer read late (a slow Redis, a busy loop) must not make the worker believe it holds the
# tab longer than Redis does, or another worker takes the tab while this one still serves it
# from its copy: lost updates. The worker's clock is ``monotonic`` (Redis's own, and asyncio's,
# run on); where Redis's count runs out before the real one, the test deletes the lock.


class _Monotonic:
    """The manager's monotonic clock: still until the test (or a late answer) moves it."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic(monkeypatch) -> _Monotonic:
    from types import SimpleNamespace

    from panel_app.state import redis_states

    clock = _Monotonic()
    monkeypatch.setattr(redis_states, "time", SimpleNamespace(monotonic=clock))
    return clock


def _held_here(port: int) -> PanelStateManagerRedis:
    """A worker holding its tabs on a 2 s lock; no sweeper: the test sweeps when it chooses."""
    manager = _holding(port, lock_expiration=2000)
    manager._ensure_sweeper = lambda: None
    return manager


def _takes_answered_late(manager, clock: _Monotonic, seconds: float) -> None:
    """The take script's answers are read ``seconds`` after it ran."""
    original = manager._take

    async def late(*args, **kwargs):
        answer = await original(*args, **kwargs)
        clock.now += seconds
        return answer

    manager._take = late
    manager.restore_take = lambda: setattr(manager, "_take", original)


def _pipelines_answered_late(manager, clock: _Monotonic, seconds: float) -> None:
    """The sweep's (and extensions') round trips are read ``seconds`` after Redis ran them."""
    original = manager.redis.pipeline

    def pipeline(*args, **kwargs):
        pipe = original(*args, **kwargs)
        execute = pipe.execute

        async def late(*a, **kw):
            answers = await execute(*a, **kw)
            clock.now += seconds
            return answers

        pipe.execute = late
        return pipe

    manager.redis.pipeline = pipeline
    manager.restore_pipelines = lambda: setattr(manager.redis, "pipeline", original)


async def _append(manager, text: str) -> str:
    """An event that appends ``text`` to what it reads; what it read."""
    async with manager.modify_state(TOKEN) as root:
        seen = _form(root).form_value
        _form(root).form_value = seen + text
    return seen


async def test_a_take_answered_late_does_not_count_the_lock_from_the_answer(redis_port, monotonic):  # noqa: F811
    """Worker A's take of a 2 s lock is answered 1.5 s after it ran: 0.5 s are left, not 2.
    Counted from the answer, A held the tab with its change unwritten past the lock's end in
    Redis; B took the tab, read it without A's change and wrote over it, and A's next event ran
    on its stale copy. Counted from the sending, A lets the tab go at once (too little time
    left for a sweep to extend it), with its change."""
    worker_a, worker_b = _held_here(redis_port), _manager(redis_port, lock_expiration=2000)
    lock_key = worker_a._lock_key(TOKEN)
    _takes_answered_late(worker_a, monotonic, 1.5)
    await _append(worker_a, "A")
    worker_a.restore_take()
    monotonic.now += 0.6  # 2.1 s since the take ran: Redis let the lock go
    await worker_a.redis.delete(lock_key)
    assert await _append(worker_b, ", B") == "A", "B sees A's change"
    assert await _append(worker_a, ", A again") == "A, B", "A's next event sees B's"
    for manager in (worker_a, worker_b):
        await manager.close()
    assert await _stored_value(redis_port) == "A, B, A again"


async def test_a_take_answered_after_its_lock_expired_runs_nothing(redis_port, monotonic):  # noqa: F811
    """The answer came after the lock's whole time: the event does not run (LockExpiredError,
    which the panel answers "try again"), the tab is not held, and the lock, if it is still
    this worker's in Redis, is freed for the next event."""
    manager = _held_here(redis_port)
    _takes_answered_late(manager, monotonic, 2.5)
    ran = []
    with pytest.raises(LockExpiredError):
        async with manager.modify_state(TOKEN) as root:
            ran.append(True)
            _form(root).form_value = "under an expired lock"
    manager.restore_take()
    assert ran == [] and manager._holds == {}
    assert not await _locked(redis_port)
    assert await _stored_value(redis_port) == ""
    await manager.close()


async def test_a_held_lock_extended_late_counts_from_the_sending(redis_port, monotonic):  # noqa: F811
    """The sweep extends A's held lock (and writes A's change) in a round trip answered 1.5 s
    late: the 2 s bought count from the sending. Once Redis let the lock go and B took the tab
    and wrote, A's next event must not run on its copy as if the lock were still A's."""
    worker_a, worker_b = _held_here(redis_port), _manager(redis_port, lock_expiration=2000)
    await _append(worker_a, "A")
    monotonic.now += 1.0
    _pipelines_answered_late(worker_a, monotonic, 1.5)
    await worker_a.sweep()  # sent at 1.0 s, read at 2.5 s
    worker_a.restore_pipelines()
    assert await _stored_value(redis_port) == "A" and worker_a._holds, "written, still held"
    monotonic.now += 0.6  # 2.1 s since the extension ran: Redis let the lock go
    await worker_a.redis.delete(worker_a._lock_key(TOKEN))
    assert await _append(worker_b, ", B") == "A"
    assert await _append(worker_a, ", A again") == "A, B", "A's next event sees B's"
    for manager in (worker_a, worker_b):
        await manager.close()
    assert await _stored_value(redis_port) == "A, B, A again"


async def test_an_event_whose_extension_is_answered_too_late_does_not_run(redis_port, monotonic):  # noqa: F811
    """A held tab's event finds the sweep behind and extends the lock itself; the answer comes
    after the time that extension bought. The event does not run on the copy (the lock may be
    another worker's): LockExpiredError. The tab stays held, and the next event, whose
    extension is answered in time, finds the lock still A's and runs on the copy."""
    manager = _held_here(redis_port)
    await _append(manager, "A")
    monotonic.now += 1.2  # past half the lock's time: an event extends it first
    _pipelines_answered_late(manager, monotonic, 2.1)
    ran = []
    with pytest.raises(LockExpiredError):
        async with manager.modify_state(TOKEN):
            ran.append(True)
    manager.restore_pipelines()
    assert ran == [] and manager._holds
    assert await _append(manager, ", A again") == "A"
    await manager.close()
    assert await _stored_value(redis_port) == "A, A again"
