"""Idle tabs packed into bytes without Redis (state/tab_store.py): what a packed tab holds,
and that every way into a tab (an event, a push, a wipe, expiry) meets the same tree as if it
had stayed live."""

from __future__ import annotations

import asyncio
import pickle
import time
import zlib

from reflex.istate.data import RouterData
from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import BaseStateToken

import panel_app.pages.registry  # noqa: F401  (every page state exists, as in the app)
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.security import sessions
from panel_app.state import push, tab_store
from panel_app.state.auth import AuthState
from panel_app.state.security import SecurityState
from panel_app.state.tab_check import TabCheck
from panel_app.state.tab_store import PackingStateManager, pack_tree, unpack_tree
from tests.state_harness import login_token

TAB = "tab-store-0001"
IP = "192.0.2.77"  # the login session's, shown on the security page: the sensitive data here
TAB_IP = "198.51.100.9"  # the tab's own connection


def _token(ident: str = TAB) -> BaseStateToken:
    return BaseStateToken(ident=ident, cls=AuthState)


def _router(cookie: str | None, path: str = "/security", ident: str = TAB) -> RouterData:
    headers = {"user-agent": "pytest"} | ({"cookie": f"panel_session={cookie}"} if cookie else {})
    return RouterData.from_router_data({"headers": headers, "ip": TAB_IP, "pathname": path, "asPath": path,
                                        "query": {}, "token": ident})


def _walk(state):
    yield state
    for substate in state.substates.values():
        yield from _walk(substate)


def _contents(root) -> dict:
    """Every field of every state of the tree, underscore vars included."""
    return {type(s).get_full_name(): dict(s.__getstate__()) for s in _walk(root)}


def _bytes_hold(packed: bytes, text: str) -> bool:
    decompressor = zlib.decompressobj(zdict=tab_store._templates.dictionary(AuthState.get_root_state()))
    entries = pickle.loads(decompressor.decompress(packed) + decompressor.flush())
    return any(text.encode() in (data or b"") for _n, data, *_ in entries)


async def _signed_in_tab(manager, cookie: str, ident: str = TAB):
    """A tab signed in with a grant, on the security page (its sessions, with their IPs)."""
    async with manager.modify_state_with_links(_token(ident)) as root:
        root.router = _router(cookie, ident=ident)
        await TabCheck.check(root, touch=True)
        page = await root.get_state(SecurityState)
        page.load()
        assert page.loaded and IP in repr(page.sessions), "positive control: the page shows the sessions"
        assert (await root.get_state(AuthState))._bound_session_id is not None
        root._clean()
        return root


def _signed_in_cookie(make_user) -> str:
    return login_token(make_user(), grant_method="email", ip=IP)


async def test_a_signed_in_tab_tree_packs_and_unpacks_to_the_same_tree(make_user):
    manager = PackingStateManager()
    root = await _signed_in_tab(manager, _signed_in_cookie(make_user))
    before = _contents(root)
    packed = pack_tree(root)
    again = unpack_tree(type(root), packed)
    assert _contents(again) == before
    assert [type(s) for s in _walk(again)] == [type(s) for s in _walk(root)]
    for state in _walk(again):  # linked as the live tree is
        assert all(sub.parent_state is state for sub in state.substates.values())
    assert len(packed) < 4 * 1024, len(packed)


async def test_a_packed_tab_keeps_every_change_made_before_and_after(make_user):
    manager = PackingStateManager()
    await _signed_in_tab(manager, _signed_in_cookie(make_user))
    async with manager.modify_state(_token()) as root:
        auth = await root.get_state(AuthState)
        auth.lang, auth._time_zone = "de", "Europe/Berlin"
    assert manager.pack_token(_token())
    assert TAB not in manager.states and TAB in manager.packed
    async with manager.modify_state(_token()) as root:
        auth = await root.get_state(AuthState)
        assert (auth.lang, auth._time_zone) == ("de", "Europe/Berlin")
        assert auth._bound_session_id is not None
        auth._time_zone = "Europe/Paris"
        (await root.get_state(SecurityState)).sessions = []
    assert TAB not in manager.packed  # unpacked: the live tree is the tab's only copy
    assert manager.pack_token(_token())
    root = await manager.get_state(_token())
    assert (await root.get_state(AuthState))._time_zone == "Europe/Paris"
    assert (await root.get_state(SecurityState)).sessions == []


async def test_dirty_marks_survive_packing(make_user):
    """A tab changed outside an event (a wipe of a disconnected tab) sends those changes
    with its next delta: packing must not forget which vars changed."""
    manager = PackingStateManager()
    await _signed_in_tab(manager, _signed_in_cookie(make_user))
    async with manager.modify_state(_token()) as root:
        (await root.get_state(SecurityState)).sessions = []
    assert manager.pack_token(_token())
    root = await manager.get_state(_token())
    page = await root.get_state(SecurityState)
    assert "sessions" in page.dirty_vars
    assert page.get_name() in page.parent_state.dirty_substates


async def test_a_locked_tab_is_never_packed(make_user):
    manager = PackingStateManager()
    await _signed_in_tab(manager, _signed_in_cookie(make_user))
    much_later = time.time() + 3600
    async with manager.modify_state(_token()) as root:
        assert manager.idle_tokens(much_later)[0] == [_token()]
        assert not manager.pack_token(_token(), now=much_later)
        assert not manager.pack_token(_token())
        assert TAB in manager.states and TAB not in manager.packed
        (await root.get_state(AuthState))._time_zone = "Asia/Tokyo"
    assert manager.pack_token(_token(), now=much_later)
    root = await manager.get_state(_token())
    assert (await root.get_state(AuthState))._time_zone == "Asia/Tokyo"


async def test_a_recently_active_tab_stays_live(make_user):
    manager = PackingStateManager(pack_after_seconds=30)
    await _signed_in_tab(manager, _signed_in_cookie(make_user))
    assert manager.idle_tokens(time.time())[0] == []
    assert not manager.pack_token(_token(), now=time.time())
    assert manager.pack_token(_token(), now=time.time() + 31)


async def test_the_pack_task_packs_idle_tabs_and_stops(make_user, monkeypatch):
    manager = PackingStateManager(pack_after_seconds=30)
    await _signed_in_tab(manager, _signed_in_cookie(make_user))
    task = manager._pack_task
    assert task is not None and not task.done()
    monkeypatch.setattr(tab_store, "_now", lambda: time.time() + 31)
    task.cancel()  # waiting for the tab to fall due: start again at the moved clock
    await asyncio.gather(task, return_exceptions=True)
    manager._ensure_pack_task()
    await asyncio.wait_for(manager._pack_task, 5)
    assert TAB in manager.packed and TAB not in manager.states
    await manager.close()


async def test_a_session_end_reaches_a_packed_disconnected_tab(make_user):
    """The push loop's wipe of a tab with no socket (push.check_tab) empties a packed tab
    as a live one, and packing it again brings nothing back."""
    cookie = _signed_in_cookie(make_user)
    manager = PackingStateManager()
    await _signed_in_tab(manager, cookie)
    assert manager.pack_token(_token())
    assert _bytes_hold(manager.packed[TAB], IP), "positive control: the bytes hold the page"
    with transaction() as db:
        sessions.revoke_session(db, sessions.find_by_token(db, cookie), reason="logout", now=utcnow())

    class _App:
        state_manager = manager
        event_namespace = type("N", (), {"_token_manager": type("T", (), {"token_to_socket": {}})()})()

    await push.check_tab(_App(), TAB)
    assert manager.pack_token(_token())
    assert not _bytes_hold(manager.packed[TAB], IP)
    root = await manager.get_state(_token())
    page, auth = await root.get_state(SecurityState), await root.get_state(AuthState)
    assert page.sessions == [] and not page.loaded
    assert auth._bound_session_id is None and auth.user_name == ""


async def test_a_grant_end_reaches_a_packed_tab(make_user):
    cookie = _signed_in_cookie(make_user)
    manager = PackingStateManager()
    await _signed_in_tab(manager, cookie)
    assert manager.pack_token(_token())
    with transaction() as db:
        sessions.end_grant(db, sessions.find_by_token(db, cookie), now=utcnow())
    async with manager.modify_state_with_links(_token()) as root:
        assert await TabCheck.check(root) == "grant_ended"
    assert manager.pack_token(_token())
    assert not _bytes_hold(manager.packed[TAB], IP)
    root = await manager.get_state(_token())
    assert (await root.get_state(SecurityState)).sessions == []
    assert (await root.get_state(AuthState))._bound_session_id is not None  # still signed in


async def test_the_token_alone_sees_no_more_of_a_packed_tab_than_of_a_live_one(make_user):
    """A socket presenting only the client token (no cookie): the tab check empties the
    tab before anything is sent, packed or not."""
    cookie = _signed_in_cookie(make_user)
    seen = []
    for pack in (False, True):
        manager = PackingStateManager()
        await _signed_in_tab(manager, cookie)
        if pack:
            assert manager.pack_token(_token())
        async with manager.modify_state_with_links(_token()) as root:
            root.router = _router(None)
            assert await TabCheck.check(root) == "signed_out"
            seen.append(root.dict())
    assert seen[0] == seen[1]
    assert IP not in repr(seen[1])


async def test_an_expired_token_drops_its_packed_bytes(make_user):
    manager = PackingStateManager()
    await _signed_in_tab(manager, _signed_in_cookie(make_user))
    await _signed_in_tab(manager, _signed_in_cookie_other(make_user), ident="tab-store-0002")
    assert manager.pack_token(_token()) and manager.pack_token(_token("tab-store-0002"))
    expires_at, token = manager._token_expires_at[TAB]
    manager._token_expires_at[TAB] = (time.time() - 1, token)  # its hour is over
    manager._purge_expired_tokens()
    assert TAB not in manager.packed and TAB not in manager.states and TAB not in manager._token_expires_at
    assert "tab-store-0002" in manager.packed  # the other tab's hour is not
    root = await manager.get_state(_token())  # a fresh, empty tab
    assert (await root.get_state(AuthState))._bound_session_id is None
    assert (await root.get_state(SecurityState)).sessions == []
    await manager.close()


def _signed_in_cookie_other(make_user) -> str:
    user = make_user(email="other@test.example", phone="+4915100000002")
    return login_token(user, grant_method="email", ip=IP)


async def test_set_state_replaces_a_packed_tree(make_user):
    manager = PackingStateManager()
    await _signed_in_tab(manager, _signed_in_cookie(make_user))
    assert manager.pack_token(_token())
    fresh = AuthState.get_root_state()(_reflex_internal_init=True)
    await manager.set_state(_token(), fresh)
    assert TAB not in manager.packed
    assert await manager.get_state(_token()) is fresh


async def test_beyond_the_live_bound_the_longest_idle_tabs_are_packed_sooner(make_user, monkeypatch):
    """Many tabs at once (a restart): past ``max_live_trees`` the tabs idle at least
    ``crowded_idle_seconds`` go, longest idle first, down to the bound; busy ones stay."""
    manager = PackingStateManager(pack_after_seconds=30, max_live_trees=2, crowded_idle_seconds=5)
    cookie = _signed_in_cookie(make_user)
    idents = [f"tab-store-1{n:03d}" for n in range(4)]
    for ident in idents:
        await _signed_in_tab(manager, cookie, ident=ident)
    for age, ident in zip((20, 10, 6, 1), idents):  # seconds since each tab's last event
        expires_at, token = manager._token_expires_at[ident]
        manager._token_expires_at[ident] = (expires_at - age, token)
    task = manager._pack_task
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    async with manager.modify_state(_token(idents[1])):  # in an event: never packed
        manager._ensure_pack_task()
        for _ in range(50):
            await asyncio.sleep(0)
            if idents[0] in manager.packed and idents[2] in manager.packed:
                break
        assert sorted(manager.packed) == [idents[0], idents[2]]
        assert sorted(manager.states) == [idents[1], idents[3]]
    root = await manager.get_state(_token(idents[0]))  # unpacked as any packed tab
    assert (await root.get_state(AuthState))._bound_session_id is not None
    await manager.close()


def test_installed_only_over_the_plain_memory_manager():
    class _App:
        def __init__(self, manager):
            self._state_manager = manager

    plain = _App(StateManagerMemory())
    tab_store.install(plain, 30, 1000)
    assert type(plain._state_manager) is PackingStateManager
    assert (plain._state_manager.pack_after_seconds, plain._state_manager.max_live_trees) == (30, 1000)
    off = _App(StateManagerMemory())
    tab_store.install(off, 0)
    assert type(off._state_manager) is StateManagerMemory
    other = _App(object())
    tab_store.install(other, 30)
    assert type(other._state_manager) is object


def test_the_setting():
    from panel_app.settings import load_settings

    assert load_settings({}).idle_tab_pack_seconds == 30
    assert load_settings({"PANEL_IDLE_TAB_PACK_SECONDS": "0"}).idle_tab_pack_seconds == 0
    assert load_settings({}).live_tab_states_max == 1000


async def test_bytes_that_cannot_be_unpacked_give_an_empty_tab(make_user):
    manager = PackingStateManager()
    await _signed_in_tab(manager, _signed_in_cookie(make_user))
    assert manager.pack_token(_token())
    manager.packed[TAB] = b"not a packed tree"
    root = await manager.get_state(_token())
    assert (await root.get_state(AuthState))._bound_session_id is None
    assert (await root.get_state(SecurityState)).sessions == []
    assert TAB not in manager.packed
