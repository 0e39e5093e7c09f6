"""Server push instead of polling: nothing in an idle page calls the server.

One loop per backend worker looks, once a second, at the open tabs whose login
session or grant ended or changed (``security/tabs.py``: one indexed query,
however many tabs are open). For each it runs the tab's own check on the server,
as if the tab had sent an event: the tab check empties what the tab may no
longer hold and the guard answers as usual (the gate, or the login page), and
the delta is pushed to the browser. With Redis, Reflex's token manager delivers
it to the worker that holds the socket. A tab that is not connected is emptied
in the state store all the same, without a push.

When a socket disconnects, the tab's sensitive pages are emptied at once; they
load again (through the guard) when it reconnects.
"""

from __future__ import annotations

import asyncio
import logging

from reflex.istate.manager.token import BaseStateToken
from reflex.utils.token_manager import RedisTokenManager
from reflex_base.event import Event

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.security import tabs
from panel_app.settings import get_settings
from panel_app.state.auth import AuthState
from panel_app.state.tab_check import TabCheck, log_client_report, wipe_tab

log = logging.getLogger("panel.push")
SWEEP_EVERY_SECONDS = 1.0
_app = None


def install(app) -> None:
    """Wire the tab check, the client report log and the push loop into the app."""
    global _app
    _app = app
    app.add_middleware(TabCheck(), index=0)
    app.frontend_exception_handler = log_client_report
    app.register_lifespan_task(_push_loop)


def _event_name(handler) -> str:
    return f"{handler.state_full_name}.{handler.fn.__name__}"


def _reaches_browser(app, token: str) -> bool:
    """Whether a delta for ``token`` has a socket to go to (any worker, with Redis)."""
    manager = app.event_namespace._token_manager
    return isinstance(manager, RedisTokenManager) or token in manager.token_to_socket


async def check_tab(app, token: str, handler=None) -> None:
    """Run ``handler`` (default: the shell's check) for the tab ``token`` as a server
    event, or, with no socket to push to, only empty what it may no longer hold."""
    if _reaches_browser(app, token):
        await app.event_processor.enqueue(token, Event(name=_event_name(handler or AuthState.tick)))
        return
    async with app.state_manager.modify_state_with_links(BaseStateToken(ident=token, cls=AuthState)) as root:
        await TabCheck.check(root)


async def refresh_tabs_of_session(login_session_id: int, handler) -> None:
    """Push ``handler`` to every open tab of a login session (e.g. a delivery status
    changed while the gate shows)."""
    if _app is None:
        return
    with transaction() as db:
        tokens = tabs.tokens_of_session(db, login_session_id)
    for token in tokens:
        if _reaches_browser(_app, token):
            await _app.event_processor.enqueue(token, Event(name=_event_name(handler)))


async def sweep_once(app) -> int:
    with transaction() as db:
        due = tabs.take_due(db, now=utcnow(), idle_seconds=get_settings().session_idle_seconds)
    for tab in due:
        try:
            await check_tab(app, tab.client_token)
        except Exception:  # one broken tab must not stop the others
            log.exception("push to an open tab failed")
    return len(due)


async def _forget_on_disconnect(app, token: str, sid: str) -> None:
    manager = app.event_namespace._token_manager
    async with app.state_manager.modify_state_with_links(BaseStateToken(ident=token, cls=AuthState)) as root:
        record = manager.token_to_socket.get(token)
        if record is not None and record.sid != sid:
            return  # already reconnected: the new socket's pages stay
        auth = await root.get_state(AuthState)
        if auth._holds_sensitive:
            await wipe_tab(root, everything=False)


def _hook_disconnect(app) -> None:
    namespace = app.event_namespace
    original = namespace.on_disconnect

    def on_disconnect(sid: str):
        token = namespace.sid_to_token.get(sid)
        result = original(sid)
        if token:
            task = asyncio.get_running_loop().create_task(_forget_on_disconnect(app, token, sid))
            task.add_done_callback(_log_failure)
        return result

    namespace.on_disconnect = on_disconnect


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("emptying a disconnected tab failed: %r", task.exception())


async def _push_loop(app) -> None:
    if app.event_namespace is not None:
        _hook_disconnect(app)
    while True:
        try:
            await sweep_once(app)
        except Exception:  # the database was away for a moment: try again next pass
            log.exception("push loop pass failed")
        await asyncio.sleep(SWEEP_EVERY_SECONDS)
