"""Reflex's Redis state manager, with a tab's states kept in the worker that serves the tab
between its events, and otherwise two Redis round trips per event instead of four.

Reflex 0.10.1 (``StateManagerRedis`` without the opportunistic lock) takes the tab's lock
(SET NX), reads the tab's states (MGET), writes the changed ones while the lock is still ours
(EVAL) and releases the lock (GETDEL): four round trips. A waiting event learns of a release
from Redis keyspace notifications on every ``*_lock`` key, so every worker receives and
parses two notifications for every event of every worker, waited for or not.

Here:
- one script takes the lock and, only when it was taken, reads the states; one script writes
  the states and releases the lock, both only while the lock is still this worker's;
- **holding**: a tab whose socket is on this worker keeps its lock and its states here
  after an event (``hold_seconds``, ``PANEL_STATE_HOLD_SECONDS``): its next events need no
  Redis at all. Once a second one task per worker writes, in one pipelined round trip, the
  states the held tabs' events changed and extends their locks (both only while the lock is
  still ours), and lets go (writes and releases) of the tabs that had no event for
  ``hold_seconds``, whose socket left this worker, or that another worker asks for. A held
  tab's events wait for each other on a lock in this worker. An event that failed lets its
  tab go at once. What a worker that dies loses is its held tabs' last second of changes
  (the tab loads what was written; the lock expires);
- an event that finds the tab taken in Redis says so (the tab's waiting set, and a message
  on the "wanted" channel that makes a worker holding the tab let it go), and waits; a
  release publishes the lock's name on the "released" channel only when that set is not
  empty, and the waiting workers try again. A lock left by a worker that died is tried again
  when it expires;
- the release deletes the lock only while it is ours (Reflex's deletes it whoever holds it
  and logs "This is a bug"), so an event that outlived its lock never frees the next
  holder's;
- a lock's time counts from when the request that took or extended it was *sent*, never from
  its answer (which a slow Redis or a busy loop may deliver late, while Redis counts down): a
  worker never believes a tab is its own longer than Redis does. A take answered after that
  time runs nothing (LockExpiredError), and a tab with less than half its lock left after an
  event is let go at once rather than held on the hope that the sweep extends it in time.

Everything else is Reflex's: which states an event needs, how they are (de)serialized and
linked, the lock's expiry, the key names (Reflex's manager reads what this one writes).
Reflex's opportunistic lock (REFLEX_OPLOCK_ENABLED) keeps Reflex's manager (``install``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable

from redis.exceptions import ConnectionError as RedisConnectionError
from reflex.istate.manager.redis import StateManagerRedis
from reflex.istate.manager.token import BaseStateToken
from reflex.state import BaseState
from reflex_base.utils.exceptions import LockExpiredError, StateSchemaMismatchError

from panel_app.state import faults

log = logging.getLogger("panel.redis_states")

# KEYS: the lock, the tab's waiting set, then the tab's state keys. ARGV: the lock id, the
# lock's time to live (ms), the "wanted" channel. Taken: leaves the waiting set, returns the
# states (a list, nil where none is stored). Held by another: joins the waiting set, asks the
# holder to let go, returns the lock's time left.
_TAKE = """
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
    redis.call('SREM', KEYS[2], ARGV[1])
    if #KEYS == 2 then
        return {}
    end
    return redis.call('MGET', unpack(KEYS, 3))
end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[3], KEYS[1])
return redis.call('PTTL', KEYS[1])
"""

# KEYS: the lock, the waiting set, then the state keys to write. ARGV: the lock id, the
# states' time to live (s), the release channel, the lock's new time to live (ms; 0: release
# it), then the states in KEYS order. Only while the lock is this worker's: writes, then
# extends the lock, or deletes it and tells the waiters if there are any; returns the lock's
# time left (before a release). Otherwise changes nothing and returns nil.
_WRITE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return false
end
for i = 3, #KEYS do
    redis.call('SET', KEYS[i], ARGV[i + 2], 'EX', ARGV[2])
end
if ARGV[4] ~= '0' then
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
    return tonumber(ARGV[4])
end
local left = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 1 then
    redis.call('PUBLISH', ARGV[3], KEYS[1])
end
return left
"""

RELEASED_CHANNEL = "panel:state-lock-released:{db}"
WANTED_CHANNEL = "panel:state-lock-wanted:{db}"
SWEEP_EVERY_SECONDS = 1.0  # held tabs: changes written and locks extended this often
HOLD_MIN_LOCK_MS = 2000  # a shorter lock leaves the sweep too little time to extend it: no holding
RETRY_WAIT_SECONDS = 1.0  # a waiting event asks again at least this often


class _Hold:
    """A tab's lock and states in this worker: for one event, or held between events."""

    __slots__ = ("token", "lock_id", "root", "loaded", "mutex", "users", "expires", "used", "started",
                 "unwritten", "wanted", "gone")

    def __init__(self, token: BaseStateToken):
        self.token = token
        self.lock_id: bytes | None = None  # None: not taken yet
        self.root: BaseState | None = None
        self.loaded: set[type[BaseState]] = set()  # states known to be in the tree
        self.mutex = asyncio.Lock()  # one event (or the sweep) at a time
        self.users = 0  # events waiting or running, and the sweep
        self.expires = 0.0  # monotonic time by which the lock expires in Redis
        self.used = 0.0  # monotonic time the last event ended
        self.started = 0.0  # the current event's start (0: no event running)
        self.unwritten = False  # an event ran since the states were last written
        self.wanted = False  # another worker waits for the tab
        self.gone = False  # let go of (or lost): an event waiting for it takes the tab anew


class PanelStateManagerRedis(StateManagerRedis):
    """See the module's text."""

    def __post_init__(self):
        db = self.redis.get_connection_kwargs().get("db", 0)
        self._released_channel = RELEASED_CHANNEL.format(db=db)
        self._wanted_channel = WANTED_CHANNEL.format(db=db)
        self._take = self.redis.register_script(_TAKE)
        self._write = self.redis.register_script(_WRITE)
        self._holds: dict[bytes, _Hold] = {}
        self._required: dict[type[BaseState], list[type[BaseState]]] = {}
        self._sweeper: asyncio.Task | None = None
        self._sweep_now = asyncio.Event()
        self._closing = False
        # Holding (see the module's text): off unless ``install`` says where sockets are.
        self.hold_seconds = 0.0
        self.held_max = 1000  # at most this many tabs held at once (their trees live in memory)
        self.socket_here: Callable[[str], bool] = lambda ident: False
        super().__post_init__()
        if self._oplock_enabled:  # its leases listen for keyspace notifications this one does not use
            msg = "REFLEX_OPLOCK_ENABLED: use Reflex's StateManagerRedis"
            raise ValueError(msg)

    @classmethod
    def replacing(cls, manager: StateManagerRedis) -> PanelStateManagerRedis:
        """This manager with the client and the settings Reflex gave ``manager``."""
        return cls(redis=manager.redis, token_expiration=manager.token_expiration,
                   lock_expiration=manager.lock_expiration,
                   lock_warning_threshold=manager.lock_warning_threshold)

    # --- one event at a time per tab ------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _try_modify_state(self, token, **context) -> AsyncIterator[BaseState | None]:
        if not isinstance(token, BaseStateToken):
            async with super()._try_modify_state(token, **context) as state:
                yield state
            return
        lock_key = self._lock_key(token)
        while True:
            hold = self._holds.get(lock_key)
            if hold is None:
                hold = self._holds[lock_key] = _Hold(token)
            hold.users += 1
            try:
                async with hold.mutex:
                    if hold.gone:
                        continue  # let go of while this event waited: take the tab anew
                    event = context.get("event")
                    await self._ready(hold, token, event)
                    if hold.gone:
                        continue  # its lock was lost (found extending it): take the tab anew
                    hold.started = time.monotonic()
                    try:
                        yield hold.root
                    except BaseException:
                        await self._end(hold, failed=True, event=event)
                        raise
                    await self._end(hold, failed=False, event=event)
                    return
            finally:
                hold.users -= 1

    async def _ready(self, hold: _Hold, token: BaseStateToken, event) -> None:
        """The tab's lock taken (or still ours) and the states ``token``'s event needs loaded."""
        classes = self._required.get(token.cls)
        if classes is None:
            classes = self._required[token.cls] = sorted(
                self._get_required_state_classes(token.cls, subclasses=True),
                key=lambda state_cls: state_cls.get_full_name())
        if hold.lock_id is None:  # not taken: take the lock and the states
            lock_id = (f"{event.name}:{uuid.uuid4().hex}" if event is not None else uuid.uuid4().hex).encode()
            lock_key = self._lock_key(hold.token)
            try:
                stored, sent = await self._take_lock(lock_key, lock_id, [token._state_key(cls) for cls in classes])
                _redis_answered()
                hold.expires = self._expiry(sent)
                hold.lock_id = lock_id
                hold.root = _link(token, {}, classes, stored)
            except BaseException:
                self._forget(hold)
                raise
            hold.loaded.update(classes)
            return
        if time.monotonic() > hold.expires - self.lock_expiration / 2000:  # the sweep fell behind
            await self._keep([hold], [[]])
            if hold.gone:
                return
            if time.monotonic() > hold.expires:
                # The extension was answered after the time it bought (counted from its
                # sending): the lock may be another worker's by now. The event does not run
                # on this copy; the tab stays here for the sweep, whose write says if it is ours.
                msg = "A held tab's state lock was extended too late to run an event on it."
                raise LockExpiredError(msg)
        if not hold.loaded.issuperset(classes):  # a part of the tab this worker has not read yet
            flat = self._get_populated_states(hold.root)
            hold.loaded.update(type(state) for state in flat.values())
            if missing := [cls for cls in classes if cls not in hold.loaded]:
                stored = await self.redis.mget([token._state_key(cls) for cls in missing])
                _link(token, flat, missing, stored)
                hold.loaded.update(missing)

    async def _end(self, hold: _Hold, *, failed: bool, event) -> None:
        """After an event: keep holding the tab, or let it go (write and release)."""
        now = time.monotonic()
        held, hold.started = now - hold.started, 0.0
        if held > self.lock_warning_threshold / 1000:
            log.warning("an event held its tab's state lock %.1fs (event %s)", held,
                        event.name if event is not None else "?", extra={"dedupe": True})
        # Past its expiry (an event that ran longer than the lock: the sweep stopped extending
        # it), the lock may be another worker's: let go, and the release says whether it is.
        expired = now > hold.expires
        # With less than half its time left (the take was answered late, the sweep is late),
        # the lock may expire before a sweep extends it, and with it this event's change: let
        # go now, and the release says whether the lock was still ours.
        short = now > hold.expires - self.lock_expiration / 2000
        if not (failed or expired or short or hold.wanted or self._closing or self.hold_seconds <= 0
                or self.lock_expiration < HOLD_MIN_LOCK_MS or len(self._holds) > self.held_max
                or not self.socket_here(hold.token.ident)):
            self._keep_holding(hold, now)
            return
        # A failed event writes nothing, unless the tree holds earlier events' unwritten changes.
        writes = _touched(hold) if not failed or hold.unwritten else []
        try:
            answer = await self._release(self._lock_key(hold.token), hold.lock_id, writes)
        except Exception as exc:
            if failed or expired or self._closing or faults.failing_part(exc) is None:
                self._forget(hold)
                raise
            # Redis did not answer: the lock is still ours until it expires. The tab stays
            # here with its changes; the sweep writes them (or lets them go) when Redis answers.
            _untouch(writes)
            self._keep_holding(hold, now)
            faults.outages.down(faults.failing_part(exc), exc)
            return
        self._forget(hold)
        if answer is None and not failed:
            msg = (f"A tab's state lock expired after {held:.1f}s while processing "
                   f"{event.name if event is not None else 'an update'}: nothing was written.")
            raise LockExpiredError(msg)

    def _keep_holding(self, hold: _Hold, now: float) -> None:
        hold.used, hold.unwritten = now, True
        self._ensure_sweeper()

    def _forget(self, hold: _Hold) -> None:
        hold.gone = True
        if self._holds.get(self._lock_key(hold.token)) is hold:
            del self._holds[self._lock_key(hold.token)]

    # --- held tabs: written and extended once a second, let go when idle or wanted ----------------

    def _ensure_sweeper(self) -> None:
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="panel-held-tabs")
            self._ensure_lock_task()  # hears when another worker wants a held tab

    async def _sweep_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sweep_now.wait(), timeout=SWEEP_EVERY_SECONDS)
            self._sweep_now.clear()
            try:
                await self.sweep()
            except Exception as exc:  # Redis away: the held tabs are tried again next time
                if faults.failing_part(exc) is None:
                    log.warning("writing held tabs failed: %r", exc)
                else:  # one log line per outage (panel_app/state/faults.py)
                    faults.outages.down(faults.failing_part(exc), exc)

    async def sweep(self, *, let_go_all: bool = False) -> None:
        """Write what held tabs changed and extend their locks; let go of those idle for
        ``hold_seconds``, wanted elsewhere or whose socket left (every one with ``let_go_all``).
        A tab with an event running is only extended."""
        now = time.monotonic()
        release: list[_Hold] = []
        keep: list[_Hold] = []
        extend: list[_Hold] = []
        for hold in list(self._holds.values()):
            if hold.lock_id is None or hold.gone:
                continue
            if hold.users:
                if hold.started and now - hold.started > self.lock_expiration / 1000:
                    continue  # an event that outlived its lock's time (hung): the lock expires
                if now > hold.expires - self.lock_expiration / 2000 - SWEEP_EVERY_SECONDS:
                    extend.append(hold)
            elif (let_go_all or hold.wanted or now - hold.used > self.hold_seconds or now > hold.expires
                  or not self.socket_here(hold.token.ident)):
                release.append(hold)
            elif hold.unwritten or now > hold.expires - self.lock_expiration / 2000 - SWEEP_EVERY_SECONDS:
                keep.append(hold)
        if not (release or keep or extend):
            return
        for hold in release + keep:  # no event may start on them until they are written
            hold.users += 1
            await hold.mutex.acquire()  # free, nobody waits: does not suspend
        try:
            release_writes = [_touched(hold) for hold in release]
            keep_writes = [_touched(hold) for hold in keep]
            for hold in keep:
                hold.unwritten = False
            # A tab let go of is forgotten once Redis has answered (``_keep``): until then
            # its events wait here, and if Redis does not answer it stays held.
            await self._keep(keep + extend, keep_writes + [[] for _ in extend], release, release_writes)
        finally:
            for hold in release + keep:
                hold.mutex.release()
                hold.users -= 1

    async def _keep(self, holds: list[_Hold], writes: list[list], release: list[_Hold] = (),
                    release_writes: list[list] = ()) -> None:
        """One round trip: write ``writes`` and extend the locks of ``holds``, write and
        release ``release`` (then forgotten). A hold whose lock is no longer ours is let go
        of; on a Redis error, or cancelled, the changes stay unwritten and every tab held
        (the next sweep tries again)."""
        # Before anything is sent: an extension's time counts from here, not from its answer,
        # which may come late (a slow Redis, a busy loop) when Redis already counts it down.
        sent = time.monotonic()
        jobs = [*zip(holds, writes, [self.lock_expiration] * len(holds), strict=True),
                *zip(release, release_writes, [0] * len(release), strict=True)]
        async with self.redis.pipeline(transaction=False) as pipe:
            for hold, states, keep_ms in jobs:
                await self._write(keys=self._write_keys(self._lock_key(hold.token), states),
                                  args=self._write_args(hold.lock_id, keep_ms, states), client=pipe)
            try:
                answers = await pipe.execute(raise_on_error=False)
                _redis_answered()
            except BaseException:
                for hold, states, _ in jobs:
                    _untouch(states)
                    hold.unwritten = hold.unwritten or bool(states)
                raise
        for (hold, states, keep_ms), answer in zip(jobs, answers, strict=True):
            if isinstance(answer, Exception):  # this script failed: tried again next time
                _untouch(states)
                hold.unwritten = hold.unwritten or bool(states)
            elif isinstance(answer, int) and keep_ms:
                hold.expires = self._expiry(sent)
            else:  # let go of, or the lock expired or went to someone else
                if answer is None:
                    log.warning("a held tab's state lock was lost; its unwritten changes are dropped")
                self._forget(hold)
                self._notify_next_waiter(self._lock_key(hold.token))

    async def close(self):
        """Let go of every held tab (written and released), then Reflex's close."""
        self._closing = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sweeper
            self._sweeper = None
        with contextlib.suppress(Exception):
            await self.sweep(let_go_all=True)
        await super().close()

    # --- the Redis lock -------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _lock(self, token, event_name: str | None = None) -> AsyncIterator[bytes]:
        """The lock alone (Reflex's path for tokens that are not a tab's state tree)."""
        lock_key = self._lock_key(token)
        lock_id = (f"{event_name}:{uuid.uuid4().hex}" if event_name else uuid.uuid4().hex).encode()
        await self._take_lock(lock_key, lock_id, [])
        try:
            yield lock_id
        finally:
            await self._release(lock_key, lock_id, [])

    def _expiry(self, sent: float) -> float:
        """The monotonic time by which a lock taken or extended by a request sent at ``sent``
        expires in Redis (a little before: Redis may count from slightly earlier)."""
        return sent + self.lock_expiration / 1000 - 0.05

    async def _take_lock(self, lock_key: bytes, lock_id: bytes, state_keys: list[str]) -> tuple[list, float]:
        """Take the tab's lock (waiting for it if another worker holds it): the stored states,
        and the monotonic time the successful take was sent, from which the lock's time counts.
        Raises LockExpiredError if that time was over when the answer came."""
        try:
            stored, sent = await self._wait_and_take(lock_key, lock_id, state_keys)
            if time.monotonic() > self._expiry(sent):
                # Redis counted the lock down while its answer was late: it may be another
                # worker's already. Nothing runs under it (the cleanup below frees it if ours).
                msg = "A tab's state lock expired before the answer that took it was read."
                raise LockExpiredError(msg)
            return stored, sent
        except BaseException as exc:
            # Cancelled (or failed) while waiting, or while the take script ran: leave the
            # waiting set (else every release of the tab goes on publishing for nobody) and
            # free the lock if the script took it for us after all (else the tab waits its
            # full expiry). Shielded: the cleanup must run even though this task is cancelled.
            # Not when Redis is unreachable: the event answers "try again" without more tries.
            if not isinstance(exc, RedisConnectionError):
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._give_up(lock_key, lock_id))
            raise

    async def _give_up(self, lock_key: bytes, lock_id: bytes) -> None:
        await self.redis.srem(_waiting_key(lock_key), lock_id)
        await self._release(lock_key, lock_id, [])

    async def _wait_and_take(self, lock_key: bytes, lock_id: bytes, state_keys: list[str]) -> tuple[list, float]:
        """The stored states, and when the take that got the lock was sent (see _take_lock)."""
        keys = [lock_key, _waiting_key(lock_key), *state_keys]
        args = [lock_id, self.lock_expiration, self._wanted_channel]
        if not self._n_lock_waiters(lock_key):  # none of this worker queues for this tab
            sent = time.monotonic()
            answer = await self._take(keys=keys, args=args)
            if isinstance(answer, list):
                return answer, sent
        with contextlib.suppress(TimeoutError):  # then the lock's expiry is the only wake-up
            await self._ensure_lock_task_subscribed()
        async with self._lock_waiter(lock_key) as released:
            while True:
                released.clear()
                sent = time.monotonic()
                answer = await self._take(keys=keys, args=args)
                if isinstance(answer, list):
                    return answer, sent
                left_ms = answer if answer > 0 else self.lock_expiration
                with contextlib.suppress(TimeoutError):  # expired, or ask the holder again
                    await asyncio.wait_for(released.wait(), timeout=min(left_ms / 1000 + 0.01, RETRY_WAIT_SECONDS))

    async def _release(self, lock_key: bytes, lock_id: bytes, writes: list) -> int | None:
        """Write ``writes`` and release the lock if it is still ``lock_id``'s: the lock's time
        left, or None (nothing written, nothing released)."""
        try:
            return await self._write(keys=self._write_keys(lock_key, writes), args=self._write_args(lock_id, 0, writes))
        finally:
            self._notify_next_waiter(lock_key)  # this worker's next waiter tries at once

    @staticmethod
    def _write_keys(lock_key: bytes, writes: list) -> list:
        return [lock_key, _waiting_key(lock_key), *(key for _, key, _ in writes)]

    def _write_args(self, lock_id: bytes, keep_ms: int, writes: list) -> list:
        return [lock_id, self.token_expiration, self._released_channel, keep_ms, *(data for _, _, data in writes)]

    # --- the channels (instead of keyspace notifications) ---------------------------------------

    async def _subscribe_lock_updates(self):
        async with self.redis.pubsub() as pubsub:
            await pubsub.subscribe(self._released_channel, self._wanted_channel)
            try:
                async for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        if message["channel"] == self._wanted_channel.encode():
                            self._lock_updates_subscribed.set()
                    elif message["type"] != "message":
                        continue
                    elif message["channel"] == self._wanted_channel.encode():
                        hold = self._holds.get(message["data"])
                        if hold is not None and hold.lock_id is not None:  # let go of it soon
                            hold.wanted = True
                            self._sweep_now.set()
                    elif message["data"] in self._lock_waiters:
                        self._notify_next_waiter(message["data"])
            finally:
                self._lock_updates_subscribed.clear()


def _redis_answered() -> None:
    """Redis answered: if this worker had found it away, it is back (a held tab's event does
    not tell: it needs no Redis)."""
    if faults.outages.any:
        faults.outages.up(faults.REDIS)


def _waiting_key(lock_key: bytes) -> bytes:
    return lock_key + b"_waiting"


def _untouch(writes: list) -> None:
    """Writes that did not happen: their states are written next time."""
    for state, _, _ in writes:
        state._was_touched = True


def _touched(hold: _Hold) -> list[tuple[BaseState, str, bytes]]:
    """The states of a held tree changed since they were last written, pickled (and marked
    unchanged)."""
    writes = []
    stack = [hold.root]
    while stack:
        state = stack.pop()
        if state._was_touched:
            state._was_touched = False
            if data := state._serialize():
                writes.append((state, hold.token._state_key(type(state)), data))
        stack.extend(state.substates.values())
    return writes


def _link(token: BaseStateToken, flat: dict[str, BaseState], classes: list[type[BaseState]],
          stored: list[bytes | None]) -> BaseState:
    """The states ``classes`` from their stored bytes, linked into the tree ``flat`` (by full
    name) as Reflex's ``get_state`` links them (a state not stored, or of an older schema,
    starts empty); returns the root."""
    for state_cls, data in zip(classes, stored, strict=True):
        state = None
        if data is not None:
            with contextlib.suppress(StateSchemaMismatchError):
                state = BaseState._deserialize(data=data)
        if state is None:
            state = state_cls(init_substates=False, _reflex_internal_init=True)
        full_name = state.get_full_name()
        flat[full_name] = state
        if state.get_parent_state() is not None:
            parent_name, _, name = full_name.rpartition(".")
            parent = flat[parent_name]  # sorted by name: a parent comes before its substates
            parent.substates[name] = state
            state.parent_state = parent
    return flat[token.cls.get_root_state().get_full_name()]


def install(app, hold_seconds: float = 0, held_max: int = 1000) -> None:
    """With Redis (and without Reflex's opportunistic lock), the app's state manager is this
    one, with the client and settings Reflex gave its own; a tab whose socket is on this
    worker is held ``hold_seconds`` after its last event, at most ``held_max`` tabs at once."""
    manager = app._state_manager
    if type(manager) is StateManagerRedis and not manager._oplock_enabled:
        app._state_manager = ours = PanelStateManagerRedis.replacing(manager)
        ours.hold_seconds, ours.held_max = hold_seconds, held_max

        def socket_here(ident: str) -> bool:
            tokens = app.event_namespace._token_manager
            record = tokens.token_to_socket.get(ident)
            return record is not None and record.instance_id == tokens.instance_id

        ours.socket_here = socket_here
