"""Server push instead of polling: nothing in an idle page calls the server.

One loop per backend worker looks, once a second, at the open tabs whose login
session or grant ended or changed (``security/tabs.py``: one indexed query,
however many tabs are open). For each it runs the tab's own check on the server,
as if the tab had sent an event: the tab check empties what the tab may no
longer hold and the guard answers as usual (the gate, or the login page), and
the delta is pushed to the browser. With Redis, Reflex's token manager delivers
it to the worker that holds the socket. A tab that is not connected is emptied
in the state store all the same, without a push.

When a socket disconnects, the tab keeps nothing (pages, user); it loads again
through the guard when it reconnects. A socket that takes over a client token is
checked with its own cookie at once, and events that name no real handler (or do
not fit its parameters) are dropped before Reflex logs them.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging

from reflex.istate.manager.token import BaseStateToken
from reflex.utils.token_manager import RedisTokenManager
from reflex_base import constants
from reflex_base.event import Event
from reflex_base.event.context import EventContext

from panel_app import tasks
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.security import tabs
from panel_app.settings import get_settings
from panel_app.state import faults
from panel_app.state.auth import AuthState
from panel_app.state.staff import StaffState, wipe_staff_tab
from panel_app.state.tab_check import TabCheck, handler_fn, log_client_report, wipe_tab

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


def _in_transaction(service, *args, **kwargs):
    """``service(db, ...)`` in a transaction of its own (run off the loop: tasks.off_loop)."""
    with transaction() as db:
        return service(db, *args, **kwargs)


async def check_tab(app, token: str) -> None:
    """Run the shell's check for the tab ``token`` as a server event, or, with no socket
    to push to, only empty what it may no longer hold."""
    if _reaches_browser(app, token):
        await app.event_processor.enqueue(token, Event(name=_event_name(AuthState.tick)))
        return
    async with app.state_manager.modify_state_with_links(BaseStateToken(ident=token, cls=AuthState)) as root:
        await TabCheck.check(root)


async def refresh_tabs_of_session(login_session_id: int, handler) -> None:
    """Push ``handler`` to every open tab of a login session (e.g. a delivery status
    changed while the gate shows)."""
    if _app is None:
        return
    tokens = await tasks.off_loop(functools.partial(_in_transaction, tabs.tokens_of_session, login_session_id))
    for token in tokens:
        if _reaches_browser(_app, token):
            await _app.event_processor.enqueue(token, Event(name=_event_name(handler)))


PUSHES_AT_ONCE = 20


async def sweep_once(app) -> int:
    due = await tasks.off_loop(functools.partial(_in_transaction, tabs.take_due, now=utcnow(),
                                                 idle_seconds=get_settings().session_idle_seconds))
    for start in range(0, len(due), PUSHES_AT_ONCE):  # tabs holding data come first
        results = await asyncio.gather(*(check_tab(app, tab.client_token)
                                         for tab in due[start:start + PUSHES_AT_ONCE]), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):  # one broken tab must not stop the others
                log.error("push to an open tab failed: %r", result)
    return len(due)


async def _forget_on_disconnect(app, token: str, sid: str) -> None:
    """A closed (or sleeping) tab keeps nothing: not its pages, not whose it was. It is
    checked and loads again through the guard when it reconnects."""
    manager = app.event_namespace._token_manager
    async with app.state_manager.modify_state_with_links(BaseStateToken(ident=token, cls=AuthState)) as root:
        record = manager.token_to_socket.get(token)
        if record is not None and record.sid != sid:
            return  # already reconnected: the new socket's pages stay
        auth = await root.get_state(AuthState)
        if auth._bound_session_id is not None:
            await wipe_tab(root, everything=True)
        else:  # pages that show personal data without a login
            for cls in _pages_without_login():
                (await root.get_state(cls)).reset()
        staff_state = await root.get_state(StaffState)
        if staff_state._staff_session_id is not None:  # a staff console tab: its pages go too
            await wipe_staff_tab(root)
        # Under the tab's lock: a socket taking the token over right after must not lose
        # the row its first event registers (the push loop would no longer reach it).
        try:
            await tasks.off_loop(functools.partial(_in_transaction, tabs.forget, token))
        except Exception as exc:
            if faults.failing_part(exc) is None:
                raise
            # The database away: the tab is emptied all the same; its row stays, and the
            # push loop checks the tab again when it is due.
            faults.outages.down(faults.DATABASE, exc)


@functools.cache
def _pages_without_login() -> tuple[type, ...]:
    """An invitation (who invited whom, the name and phone typed), a reset link (the masked
    phone) and the demo outbox (everyone's codes): their tabs are bound to no login session."""
    from panel_app.state.demo import DemoState
    from panel_app.state.invite import InviteState
    from panel_app.state.reset import ResetState

    return InviteState, ResetState, DemoState


async def _check_new_socket(app, sid: str, token: str) -> None:
    """A socket that takes over a client token: the tab's stored request headers (the
    cookie the server's own pushes use) become this socket's, and the tab is checked
    against them, so a stranger holding only the token hears nothing."""
    static = app.event_namespace._static_router_data.get(sid)
    if static is None:
        return
    async with app.state_manager.modify_state_with_links(BaseStateToken(ident=token, cls=AuthState)) as root:
        previous = root.router_data
        merged = root._update_router_vars(dict(static), previous)
        if merged != previous:
            root.router_data = merged
        await TabCheck.check(root)


def _hook_socket(app) -> None:
    namespace = app.event_namespace
    on_connect, on_event, on_disconnect = namespace.on_connect, namespace.on_event, namespace.on_disconnect

    async def checked_connect(sid: str, environ: dict, auth=None):
        if not _plausible_connect(environ):
            raise ConnectionRefusedError("refused")
        await on_connect(sid, environ, auth)
        token = namespace.sid_to_token.get(sid)
        if token:
            try:
                await _check_new_socket(app, sid, token)
            except Exception as exc:
                part = faults.failing_part(exc)
                if part is None:
                    raise
                # Unchecked, the socket would hear the tab's pushes: the browser retries.
                faults.outages.down(part, exc)
                raise ConnectionRefusedError("unavailable") from None

    async def checked_event(sid: str, data=None):
        # Malformed events would otherwise be logged by Reflex at length, before any
        # middleware sees them: drop them quietly.
        if sid in namespace.sid_to_token and _plausible_event(data):
            await on_event(sid, data)

    def checked_disconnect(sid: str):
        token = namespace.sid_to_token.get(sid)
        result = on_disconnect(sid)
        if token:
            task = asyncio.get_running_loop().create_task(_forget_on_disconnect(app, token, sid))
            task.add_done_callback(_log_failure)
        return result

    namespace.on_connect, namespace.on_event, namespace.on_disconnect = (checked_connect, checked_event,
                                                                         checked_disconnect)
    emit_update = namespace.emit_update

    async def to_the_sending_socket(update, token: str) -> None:
        if _sent_by_another_socket(namespace, token):
            return  # the tab's new socket hydrates, through the tab check, with its own cookie
        await emit_update(update, token)

    namespace.emit_update = to_the_sending_socket


def _sent_by_another_socket(namespace, token: str) -> bool:
    """Whether the event in progress came from a socket that no longer holds ``token``.

    Reflex sends an event's answer to whichever socket holds the tab's token when the answer
    is ready. An event still running when its socket closed (its database work on a thread,
    tasks.off_loop, or waiting for the tab's lock) would answer the next socket on the token,
    before ``_check_new_socket`` compared that socket's cookie with the tab: someone holding
    only the token, connecting in that moment, would get what the owner's event revealed.
    So an event's answer goes to the socket that sent it, or nowhere. Events of the server
    (the push loop's, spawned work's: no socket) go to the tab's socket, as before."""
    try:
        origin = (EventContext.get().router_data or {}).get(constants.RouteVar.SESSION_ID)
    except LookupError:  # not in an event (another worker's push arriving here)
        return False
    if not origin:
        return False
    record = namespace._token_manager.token_to_socket.get(token)
    return record is None or record.sid != origin


MAX_EVENT_NAME = 300


def _plausible_event(data: object) -> bool:
    """A dict naming a registered handler, with a payload that fits its parameters: anything
    else would make Reflex log the whole event (the connection's cookie included) or a
    traceback."""
    if not isinstance(data, dict):
        return False
    name, payload, router_data = data.get("name"), data.get("payload", {}), data.get("router_data", {})
    if not (isinstance(name, str) and 3 <= len(name) <= MAX_EVENT_NAME and "." in name and name.isascii()
            and isinstance(payload, dict) and isinstance(router_data, dict)
            and all(isinstance(v, (str, dict)) for v in router_data.values())):
        return False
    accepted = _accepted_arguments(name)
    return accepted is not None and accepted[0] <= set(payload) <= accepted[1]


@functools.lru_cache(maxsize=1024)
def _accepted_arguments(name: str) -> tuple[frozenset, frozenset] | None:
    """(required, allowed) payload keys of the handler ``name``; None for no such handler."""
    fn = handler_fn(name)
    if fn is None:
        return None
    parameters = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
    if any(p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in parameters):
        return None  # no handler of the panel takes these: refuse rather than guess
    return (frozenset(p.name for p in parameters if p.default is p.empty),
            frozenset(p.name for p in parameters))


def _plausible_connect(environ: dict) -> bool:
    query = environ.get("QUERY_STRING", "")
    protocol = environ.get("HTTP_SEC_WEBSOCKET_PROTOCOL", "")
    return "token=" in query and len(query) < 400 and len(protocol) < 100


def _log_failure(task: asyncio.Task) -> None:
    if task.cancelled() or task.exception() is None:
        return
    part = faults.failing_part(task.exception())
    if part is not None:  # its state went with Redis, or is emptied when the tab returns
        faults.outages.down(part, task.exception())
    else:
        log.error("emptying a disconnected tab failed: %r", task.exception())


MAX_BACKOFF_SECONDS = 5.0


async def _push_loop(app) -> None:
    if app.event_namespace is not None:
        _hook_socket(app)
    passes = 0
    pause = SWEEP_EVERY_SECONDS
    while True:
        try:
            await _redis_back(app)
            await sweep_once(app)
            faults.outages.up(faults.DATABASE)
            if passes % CONTACT_CHANGES_EVERY_PASSES == 0:
                await contact_changes_once()
                await asyncio.to_thread(expired_challenges_once)
            pause = SWEEP_EVERY_SECONDS
        except Exception as exc:
            part = faults.failing_part(exc)
            if part is None:
                log.exception("push loop pass failed")
            else:  # away for a moment: one log line per outage, a longer pause while it lasts
                faults.outages.down(part, exc)
                pause = min(pause * 2, MAX_BACKOFF_SECONDS)
        passes += 1
        await asyncio.sleep(pause)


async def _redis_back(app) -> None:
    """Redis restarted (it keeps nothing on disk): Reflex's listener for other workers'
    pushes may have given up, and the records saying which worker holds which tab's socket
    are gone. Restart the one; write the others again for this worker's sockets (only where
    no newer record exists). A marker key per worker tells a Redis that lost its data."""
    manager = app.event_namespace._token_manager if app.event_namespace is not None else None
    if not isinstance(manager, RedisTokenManager):
        return
    faults.settle_redis_listeners(app)
    manager.ensure_lost_and_found_task(app.event_namespace.emit_update)
    if await manager.redis.set(f"panel_worker_{manager.instance_id}", b"1", nx=True, ex=MARKER_SECONDS):
        for token, record in list(manager.token_to_socket.items()):
            if record.instance_id == manager.instance_id:
                await manager._store_socket_record(token, record, nx=True)
        manager._ensure_socket_record_task()
    faults.outages.up(faults.REDIS)


MARKER_SECONDS = 24 * 3600


CONTACT_CHANGES_EVERY_PASSES = 30


def expired_challenges_once() -> int:
    """Delete the passkey challenges that expired (anyone may ask for sign-in options: the
    table holds only the live ones). Returns how many went."""
    from panel_app.services import passkeys

    with transaction() as db:
        return passkeys.clean_up(db, utcnow())


async def contact_changes_once() -> None:
    """Scheduled contact changes: the second announcement before, then the change itself
    (which ends the user's grants, so the tabs are told by the next pass)."""
    from panel_app.i18n import formatting as fmt
    from panel_app.i18n import t
    from panel_app.models import User
    from panel_app.services import factor_changes
    from panel_app.services.notifications import notify_everywhere

    settings = get_settings()
    now = utcnow()
    with transaction() as db:
        reminders = factor_changes.remind_due(db, now=now, delay_seconds=settings.factor_change_delay_seconds)
        applied = factor_changes.apply_due(db, now=now)
        languages = {user_id: db.get(User, user_id).language
                     for user_id in {u for u, _c in reminders} | {a.user_id for a in applied}}

    def texts(user_id, change):
        lang = languages[user_id]
        return {"field": t(f"profile.kind.{change.kind}", lang), "new_value": change.masked,
                "effective": fmt.moment(change.effective_at, lang)}

    for user_id, change in reminders:
        await notify_everywhere(user_id, "contact_change_reminder", **texts(user_id, change),
                                **factor_changes.announcement_params(change))
    for done in applied:
        kind = "password_reset_applied" if done.change.kind == "password" else "contact_change_applied"
        await notify_everywhere(done.user_id, kind, **texts(done.user_id, done.change),
                                also_email=done.old_value if done.change.kind == "email" else None,
                                also_phone=done.old_value if done.change.kind == "phone" else None)
