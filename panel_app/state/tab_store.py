"""Where a tab's states live without Redis: in memory, packed into bytes while the tab is idle.

Reflex 0.10.1's in-memory state manager keeps every tab's whole state tree (37 state
instances, about 30 KiB of Python objects) live for as long as the token is kept (an hour
after the tab is gone). This manager is that one, plus one thing: a tab that has had no
event for ``pack_after_seconds`` has its tree packed into compact bytes (what Redis would
hold for it: a pickle per state, here only of the states that differ from a fresh one, the
lot zlib-compressed), and unpacked into live objects again, transparently, by the next
``get_state`` / ``modify_state`` for its token (an event, a server push, the session-end
wipe of a disconnected tab, a socket taking the token over). Recently active tabs stay live
objects: nothing is added on the path of an event but one dict lookup when a tree is not
live.

Rules this keeps:
- a tree is packed only while its tab's lock is free, with no ``await`` between the check
  and the swap, so no event, push or wipe is ever in the middle of the tree being packed;
- the bytes hold the same data as Redis would (underscore vars included): they are never
  logged, and a failure to pack logs the state class and the kind of error only;
- a token's expiry drops its packed bytes as it drops a live tree;
- unpacking gives the tree that was packed (dirty marks included), so a wipe, a hydrate or
  a delta sees exactly what it would have seen on the live tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import pickle
import time
import zlib
from typing import Any

from reflex.istate.manager import _release_state_tree
from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import BaseStateToken, StateToken
from reflex.state import BaseState

log = logging.getLogger("panel.tab_store")

# The pass that packs idle tabs gives the event loop back after this long (seconds): a pass
# over thousands of idle tabs must not hold up the events of the active ones.
PACK_SLICE_SECONDS = 0.005
# How often idle tabs are looked for, at most (seconds).
MAX_SCAN_SECONDS = 10.0


def _now() -> float:
    """The clock of the tokens' last events (StateManagerMemory's: ``time.time``)."""
    return time.time()


def _walk(state: BaseState):
    yield state
    for substate in state.substates.values():
        yield from _walk(substate)


class _Templates:
    """The pickle of a fresh instance of each state class (a state equal to its fresh
    instance is not stored: unpacking creates it fresh)."""

    def __init__(self) -> None:
        self._by_class: dict[type, bytes | None] = {}

    def fresh(self, cls: type[BaseState]) -> bytes | None:
        try:
            return self._by_class[cls]
        except KeyError:
            pass
        try:
            template = pickle.dumps(cls(init_substates=False, _reflex_internal_init=True))
        except Exception:  # a state whose fresh instance cannot be pickled: always stored
            template = None
        self._by_class[cls] = template
        return template


_templates = _Templates()


def pack_tree(root: BaseState) -> bytes:
    """The tree below ``root`` as bytes: for each state that differs from a fresh one (or
    carries dirty marks), its full name, pickle, dirty vars and substates, and touched flag."""
    entries = []
    for state in _walk(root):
        cls = type(state)
        data = pickle.dumps(state)  # BaseState.__getstate__: this state's own fields only
        if data == _templates.fresh(cls):
            data = None
        if data is None and not state.dirty_vars and not state.dirty_substates:
            continue
        entries.append((cls.get_full_name(), data, tuple(state.dirty_vars), tuple(state.dirty_substates),
                        state._was_touched))
    return zlib.compress(pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL))


def unpack_tree(root_cls: type[BaseState], packed: bytes) -> BaseState:
    """A live tree of ``root_cls`` from what :func:`pack_tree` made."""
    root = root_cls(_reflex_internal_init=True)
    by_name = {type(state).get_full_name(): state for state in _walk(root)}
    for full_name, data, dirty_vars, dirty_substates, was_touched in pickle.loads(zlib.decompress(packed)):
        fresh = by_name[full_name]
        if data is None:
            state = fresh
        else:
            state = pickle.loads(data)
            state.substates = fresh.substates
            for substate in state.substates.values():
                substate.parent_state = state
            parent = fresh.parent_state
            state.parent_state = parent
            if parent is None:
                root = state
            else:
                parent.substates[full_name.rpartition(".")[2]] = state
            by_name[full_name] = state
        state.dirty_vars.update(dirty_vars)
        state.dirty_substates.update(dirty_substates)
        state._was_touched = was_touched
    return root


@dataclasses.dataclass
class PackingStateManager(StateManagerMemory):
    """Reflex's in-memory state manager, with idle tabs' trees packed into bytes."""

    # Seconds without an event after which a tab's tree is packed (0: never).
    pack_after_seconds: float = 30.0

    # Packed trees by cache key (the client token).
    packed: dict[str, bytes] = dataclasses.field(default_factory=dict)

    _pack_task: asyncio.Task | None = dataclasses.field(default=None, init=False)

    def _get_or_create_state(self, token: StateToken) -> Any:
        key = token.cache_key
        if key not in self.states:
            packed = self.packed.pop(key, None) if self.packed else None
            if packed is not None:
                self.states[key] = unpack_tree(token.cls.get_root_state(), packed)
            else:
                state = super()._get_or_create_state(token)
                self._ensure_pack_task()
                return state
            self._ensure_pack_task()
        return self.states[key]

    async def set_state(self, token, state, **context) -> None:
        token = self._coerce_token(token)
        self.packed.pop(token.cache_key, None)  # the state given is the tab's now
        await super().set_state(token, state, **context)
        self._ensure_pack_task()

    def _purge_token(self, token: StateToken) -> None:
        self.packed.pop(token.cache_key, None)
        super()._purge_token(token)

    def _is_locked(self, token: StateToken) -> bool:
        lock = self._states_locks.get(token.lock_key)
        return lock is not None and lock.locked()

    def idle_tokens(self, now: float) -> tuple[list[BaseStateToken], float | None]:
        """The tokens whose live trees have been idle ``pack_after_seconds`` at ``now``, and
        when the next of the other live trees falls due (None: none left)."""
        due, next_due = [], None
        for key, (expires_at, token) in self._token_expires_at.items():
            if not isinstance(token, BaseStateToken) or key not in self.states:
                continue
            falls_due = expires_at - self.token_expiration + self.pack_after_seconds
            if falls_due <= now:
                due.append(token)
            elif next_due is None or falls_due < next_due:
                next_due = falls_due
        return due, next_due

    def pack_token(self, token: BaseStateToken, now: float | None = None) -> bool:
        """Pack the live tree of ``token`` if it is idle at ``now`` (None: whatever its last
        event) and its lock is free. Returns whether it was packed."""
        key = token.cache_key
        state = self.states.get(key)
        if state is None or self._is_locked(token):
            return False
        if now is not None:
            entry = self._token_expires_at.get(key)
            if entry is None or entry[0] - self.token_expiration + self.pack_after_seconds > now:
                return False
        try:
            data = pack_tree(state)
        except Exception as exc:  # kept live; the data never goes to the log
            log.warning("a tab's states could not be packed (%s under %s); kept in memory",
                        type(exc).__name__, type(state).__name__)
            return False
        self.packed[key] = data
        del self.states[key]
        _release_state_tree(state)
        return True

    def _ensure_pack_task(self) -> None:
        if self.pack_after_seconds <= 0 or (self._pack_task is not None and not self._pack_task.done()):
            return
        with contextlib.suppress(RuntimeError):  # no running loop (a test's direct call)
            self._pack_task = asyncio.get_running_loop().create_task(self._pack_idle_tabs(),
                                                                      name="PackingStateManager|Pack")

    async def _pack_idle_tabs(self) -> None:
        try:
            while True:
                now = _now()
                due, next_due = self.idle_tokens(now)
                slice_ends = time.perf_counter() + PACK_SLICE_SECONDS
                left_live = 0
                for token in due:
                    if time.perf_counter() > slice_ends:  # the active tabs' events go first
                        await asyncio.sleep(0)
                        slice_ends = time.perf_counter() + PACK_SLICE_SECONDS
                    # Checked again here: the tab may have had an event (or be in one) since.
                    if not self.pack_token(token, now=_now()):
                        left_live += 1
                if left_live:  # busy at their turn: looked at again soon
                    next_due = min(next_due or now + 1.0, now + 1.0)
                if next_due is None:
                    return  # no live tree left: the next one starts this again
                await asyncio.sleep(min(max(next_due - _now(), 0.05), MAX_SCAN_SECONDS))
        finally:
            if self._pack_task is asyncio.current_task():
                self._pack_task = None

    async def close(self) -> None:
        if self._pack_task is not None:
            self._pack_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pack_task
            self._pack_task = None
        await super().close()


def install(app, pack_after_seconds: float) -> None:
    """Use this manager for ``app`` when Reflex picked its plain in-memory one (no Redis)."""
    if type(getattr(app, "_state_manager", None)) is StateManagerMemory and pack_after_seconds > 0:
        app._state_manager = PackingStateManager(pack_after_seconds=pack_after_seconds)
