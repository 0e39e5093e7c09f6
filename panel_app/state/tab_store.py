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
live. Past ``max_live_trees`` live trees (many tabs connecting at once, as after a restart),
the tabs idle longest (at least ``crowded_idle_seconds``) are packed sooner, down to the bound:
freed trees leave their memory with the process (holes that only objects of the same sizes
fill again), so a burst of tabs must not build a live tree for each.

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
# While too many trees are live, how often idle ones are looked for, at most (seconds).
CROWDED_PASS_SECONDS = 1.0


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
        self._dictionaries: dict[type, bytes] = {}

    def dictionary(self, root_cls: type[BaseState]) -> bytes:
        """The templates of the tree below ``root_cls`` as zlib's preset dictionary: a changed
        state shares most of its pickle (names, classes, defaults) with its fresh one."""
        try:
            return self._dictionaries[root_cls]
        except KeyError:
            pass
        classes, todo = [], [root_cls]
        while todo:
            cls = todo.pop()
            classes.append(cls)
            todo.extend(cls.get_substates())
        dictionary = b"".join(t for cls in reversed(classes) if (t := self.fresh(cls)))[-32768:]
        self._dictionaries[root_cls] = dictionary
        return dictionary

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
    compressor = zlib.compressobj(zdict=_templates.dictionary(type(root)))
    return compressor.compress(pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL)) + compressor.flush()


def unpack_tree(root_cls: type[BaseState], packed: bytes) -> BaseState:
    """A live tree of ``root_cls`` from what :func:`pack_tree` made."""
    root = root_cls(_reflex_internal_init=True)
    by_name = {type(state).get_full_name(): state for state in _walk(root)}
    decompressor = zlib.decompressobj(zdict=_templates.dictionary(root_cls))
    entries = pickle.loads(decompressor.decompress(packed) + decompressor.flush())
    for full_name, data, dirty_vars, dirty_substates, was_touched in entries:
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

    # At most this many live trees (0: no bound): beyond it, the tabs idle longest (at least
    # ``crowded_idle_seconds``) are packed sooner. A worker that many tabs connect to at once
    # (a restart, a deploy: every open tab reconnects) would otherwise build a live tree for
    # each, and the memory of trees packed later stays with the process (freed objects leave
    # holes that only later objects of the same sizes fill).
    max_live_trees: int = 0
    crowded_idle_seconds: float = 5.0

    # Packed trees by cache key (the client token).
    packed: dict[str, bytes] = dataclasses.field(default_factory=dict)

    _pack_task: asyncio.Task | None = dataclasses.field(default=None, init=False)
    _crowded: asyncio.Event | None = dataclasses.field(default=None, init=False)

    def _get_or_create_state(self, token: StateToken) -> Any:
        key = token.cache_key
        if key not in self.states:
            packed = self.packed.pop(key, None) if self.packed else None
            try:
                if packed is not None:
                    self.states[key] = unpack_tree(token.cls.get_root_state(), packed)
            except Exception as exc:  # never seen; the tab starts empty (signed out), not half-made
                log.warning("a tab's packed states could not be unpacked (%s); the tab starts afresh",
                            type(exc).__name__)
            if key not in self.states:
                super()._get_or_create_state(token)
            self._ensure_pack_task()
            if self.max_live_trees and len(self.states) > self.max_live_trees and self._crowded is not None:
                self._crowded.set()
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

    def idle_tokens(self, now: float, idle_seconds: float | None = None) -> tuple[list[BaseStateToken], float | None]:
        """The tokens whose live trees have been idle ``idle_seconds`` (default
        ``pack_after_seconds``) at ``now``, longest idle first, and when the next of the
        other live trees falls due (None: none left)."""
        idle_seconds = self.pack_after_seconds if idle_seconds is None else idle_seconds
        due, next_due = [], None
        for key, (expires_at, token) in self._token_expires_at.items():
            if not isinstance(token, BaseStateToken) or key not in self.states:
                continue
            falls_due = expires_at - self.token_expiration + idle_seconds
            if falls_due <= now:
                due.append((falls_due, token))
            elif next_due is None or falls_due < next_due:
                next_due = falls_due
        due.sort(key=lambda item: item[0])
        return [token for _due, token in due], next_due

    def pack_token(self, token: BaseStateToken, now: float | None = None, idle_seconds: float | None = None) -> bool:
        """Pack the live tree of ``token`` if it is idle ``idle_seconds`` (default
        ``pack_after_seconds``) at ``now`` (None: whatever its last event) and its lock is
        free. Returns whether it was packed."""
        key = token.cache_key
        state = self.states.get(key)
        if state is None or self._is_locked(token):
            return False
        if now is not None:
            idle_seconds = self.pack_after_seconds if idle_seconds is None else idle_seconds
            entry = self._token_expires_at.get(key)
            if entry is None or entry[0] - self.token_expiration + idle_seconds > now:
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
            self._crowded = asyncio.Event()

    def _too_many_live(self) -> bool:
        return bool(self.max_live_trees) and len(self.states) > self.max_live_trees

    async def _pack_idle_tabs(self) -> None:
        try:
            while True:
                now = _now()
                crowded = self._too_many_live()
                idle_seconds = min(self.crowded_idle_seconds, self.pack_after_seconds) if crowded else None
                due, _next = self.idle_tokens(now, idle_seconds)
                slice_ends = time.perf_counter() + PACK_SLICE_SECONDS
                for token in due:
                    if time.perf_counter() > slice_ends:  # the active tabs' events go first
                        await asyncio.sleep(0)
                        slice_ends = time.perf_counter() + PACK_SLICE_SECONDS
                    # Checked again here: the tab may have had an event (or be in one) since.
                    # Idle ``pack_after_seconds``: packed; idle less: only while too many are live.
                    if not self.pack_token(token, now=_now()) and self._too_many_live():
                        self.pack_token(token, now=_now(), idle_seconds=idle_seconds)
                due, next_due = self.idle_tokens(_now())
                if due:  # busy at their turn: looked at again soon
                    next_due = _now() + 1.0
                if next_due is None:
                    return  # no live tree left: the next one starts this again
                wait = min(max(next_due - _now(), 0.05), MAX_SCAN_SECONDS)
                if crowded:  # at most one early pass a second
                    await asyncio.sleep(min(CROWDED_PASS_SECONDS, wait))
                    wait -= CROWDED_PASS_SECONDS
                if wait > 0 and self._crowded is not None:
                    self._crowded.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._crowded.wait(), wait)
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


def install(app, pack_after_seconds: float, max_live_trees: int = 0) -> None:
    """Use this manager for ``app`` when Reflex picked its plain in-memory one (no Redis)."""
    if type(getattr(app, "_state_manager", None)) is StateManagerMemory and pack_after_seconds > 0:
        app._state_manager = PackingStateManager(pack_after_seconds=pack_after_seconds,
                                                 max_live_trees=max_live_trees)
