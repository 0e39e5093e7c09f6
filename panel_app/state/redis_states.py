"""Reflex's Redis state manager with two Redis round trips per event instead of four, and a
lock release that wakes the workers only when one of them waits.

Reflex 0.10.1 (``StateManagerRedis`` without the opportunistic lock) takes the tab's lock
(SET NX), reads the tab's states (MGET), writes the changed ones while the lock is still ours
(EVAL) and releases the lock (GETDEL): four round trips. A waiting event learns of a release
from Redis keyspace notifications on every ``*_lock`` key, so every worker receives and
parses two notifications for every event of every worker, waited for or not.

Here:
- one script takes the lock and, only when it was taken, reads the states; one script writes
  the states and releases the lock, both only while the lock is still this event's;
- an event that finds the tab taken says so in Redis (the tab's waiting set, in the same
  script that tries again) and waits; a release publishes the lock's name on one channel only
  when that set is not empty, and the waiting workers try again. A lock left by a worker that
  died is tried again when it expires (its remaining time is the wait's limit);
- the release deletes the lock only while it is this event's (Reflex's deletes it whoever
  holds it and logs "This is a bug"), so an event that outlived its lock never frees the next
  holder's.

Everything else is Reflex's: which states an event needs, how they are (de)serialized and
linked, the lock's expiry, the "held too long" warning, the key names (Reflex's manager reads
what this one writes). Reflex's opportunistic lock (REFLEX_OPLOCK_ENABLED) keeps Reflex's
manager (``install``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator

from redis.exceptions import ConnectionError as RedisConnectionError
from reflex.istate.manager.redis import StateManagerRedis
from reflex.istate.manager.token import BaseStateToken
from reflex.state import BaseState
from reflex_base.utils.exceptions import LockExpiredError, StateSchemaMismatchError

log = logging.getLogger("panel.redis_states")

# KEYS: the lock, the tab's waiting set, then the tab's state keys. ARGV: the lock id, the
# lock's time to live (ms). Taken: leaves the waiting set, returns the states (a list, nil where
# none is stored). Held by another event: joins the waiting set, returns the lock's time left.
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
return redis.call('PTTL', KEYS[1])
"""

# KEYS: the lock, the waiting set, then the state keys to write. ARGV: the lock id, the
# states' time to live (s), the release channel, then the states in KEYS order. Only while
# the lock is this event's: writes, deletes the lock, tells the waiters if there are any, and
# returns the lock's time left; otherwise changes nothing and returns nil.
_WRITE_AND_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return false
end
for i = 3, #KEYS do
    redis.call('SET', KEYS[i], ARGV[i + 1], 'EX', ARGV[2])
end
local left = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 1 then
    redis.call('PUBLISH', ARGV[3], KEYS[1])
end
return left
"""

RELEASED_CHANNEL = "panel:state-lock-released:{db}"


class PanelStateManagerRedis(StateManagerRedis):
    """See the module's text."""

    def __post_init__(self):
        self._released_channel = RELEASED_CHANNEL.format(db=self.redis.get_connection_kwargs().get("db", 0))
        self._take = self.redis.register_script(_TAKE)
        self._write_and_release = self.redis.register_script(_WRITE_AND_RELEASE)
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
        event = context.get("event")
        lock_key = self._lock_key(token)
        lock_id = (f"{event.name}:{uuid.uuid4().hex}" if event is not None else uuid.uuid4().hex).encode()
        classes = sorted(self._get_required_state_classes(token.cls, subclasses=True),
                         key=lambda state_cls: state_cls.get_full_name())
        stored = await self._take_lock(lock_key, lock_id, [token._state_key(cls) for cls in classes])
        taken = time.monotonic()
        try:
            root = _tree(token, classes, stored)
            yield root
        except BaseException:
            await self._release(lock_key, lock_id, [])
            raise
        left = await self._release(lock_key, lock_id, self._collect_state_writes(token, root))
        if left is None:
            msg = (f"A tab's state lock expired after {time.monotonic() - taken:.1f}s while processing "
                   f"{event.name if event is not None else 'an update'}: nothing was written.")
            raise LockExpiredError(msg)
        held = (self.lock_expiration - left) / 1000
        if held > self.lock_warning_threshold / 1000:
            log.warning("the state lock of a tab was held %.1fs (event %s)", held,
                        event.name if event is not None else "?", extra={"dedupe": True})

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

    async def _take_lock(self, lock_key: bytes, lock_id: bytes, state_keys: list[str]) -> list:
        """Take the tab's lock (waiting for it if another event holds it); the stored states."""
        try:
            return await self._wait_and_take(lock_key, lock_id, state_keys)
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

    async def _wait_and_take(self, lock_key: bytes, lock_id: bytes, state_keys: list[str]) -> list:
        keys = [lock_key, _waiting_key(lock_key), *state_keys]
        args = [lock_id, self.lock_expiration]
        if not self._n_lock_waiters(lock_key):  # none of this worker queues for this tab
            answer = await self._take(keys=keys, args=args)
            if isinstance(answer, list):
                return answer
        with contextlib.suppress(TimeoutError):  # then the lock's expiry is the only wake-up
            await self._ensure_lock_task_subscribed()
        async with self._lock_waiter(lock_key) as released:
            while True:
                released.clear()
                answer = await self._take(keys=keys, args=args)
                if isinstance(answer, list):
                    return answer
                left_ms = answer if answer > 0 else self.lock_expiration
                with contextlib.suppress(TimeoutError):  # the holder's lock expired: try again
                    await asyncio.wait_for(released.wait(), timeout=left_ms / 1000 + 0.01)

    async def _release(self, lock_key: bytes, lock_id: bytes, writes: list[tuple[str, bytes]]) -> int | None:
        """Write ``writes`` and release the lock if it is still ``lock_id``'s: the lock's time
        left, or None (nothing written, nothing released)."""
        try:
            return await self._write_and_release(
                keys=[lock_key, _waiting_key(lock_key), *(key for key, _ in writes)],
                args=[lock_id, self.token_expiration, self._released_channel, *(state for _, state in writes)])
        finally:
            self._notify_next_waiter(lock_key)  # this worker's next waiter tries at once

    # --- the release channel (instead of keyspace notifications) --------------------------------

    async def _subscribe_lock_updates(self):
        async with self.redis.pubsub() as pubsub:
            await pubsub.subscribe(self._released_channel)
            try:
                async for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        self._lock_updates_subscribed.set()
                    elif message["type"] == "message" and message["data"] in self._lock_waiters:
                        self._notify_next_waiter(message["data"])
            finally:
                self._lock_updates_subscribed.clear()


def _waiting_key(lock_key: bytes) -> bytes:
    return lock_key + b"_waiting"


def _tree(token: BaseStateToken, classes: list[type[BaseState]], stored: list[bytes | None]) -> BaseState:
    """The tab's states from their stored bytes, linked as Reflex's ``get_state`` links them
    (a state not stored, or of an older schema, starts empty); returns the root."""
    flat: dict[str, BaseState] = {}
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


def install(app) -> None:
    """With Redis (and without Reflex's opportunistic lock), the app's state manager is this
    one, with the client and settings Reflex gave its own."""
    manager = app._state_manager
    if type(manager) is StateManagerRedis and not manager._oplock_enabled:
        app._state_manager = PanelStateManagerRedis.replacing(manager)
