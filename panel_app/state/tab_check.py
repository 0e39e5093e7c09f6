"""The check in front of every event, Reflex's own included.

Reflex keeps each tab's state on the server under its client token and answers
``hydrate_and_load`` (and every other event) for whoever presents that token,
with any cookie or none. So before any handler runs and before any delta leaves
the server, this middleware compares the tab with its cookie in the database:

- the cookie does not resolve to the login session the tab is bound to (signed
  out, expired, revoked, no cookie, someone else's cookie): every state of the
  tab is emptied, so the event sees and sends nothing but an empty shell;
- the session is live but its grant has ended: every sensitive page is emptied.

It also refuses quietly what Reflex would otherwise log at length (``setvar`` of
a var without a setter, malformed frontend error reports, too many of them), and
decides whether the event is an action of the user (only those extend the
session's idle timeout). The per-handler guard stays as the second line.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import OrderedDict
from urllib.parse import quote

import reflex as rx
from reflex.middleware import Middleware
from reflex_base.event import Event
from reflex_base.event.context import EventContext
from reflex.state import BaseState, State, StateUpdate
from reflex_base.constants.state import FIELD_MARKER

from panel_app import logs, tasks
from panel_app.clock import utcnow
from panel_app.db import get_engine, read_outside_transaction
from panel_app.security import sessions, tabs
from panel_app.settings import get_settings
from panel_app.state import faults, guard
from panel_app.state.auth import AuthState
from panel_app.state.staff import check_staff_tab, is_staff_event

log = logging.getLogger("panel.tab_check")

# Events the browser sends on its own: never a sign of a person at the keyboard.
_AUTOMATIC_EVENTS = frozenset({"hydrate", "hydrate_and_load", "update_vars_internal", "set_is_hydrated",
                               "handle_frontend_exception"})
SIGNED_OUT = "signed_out"
GRANT_ENDED = "grant_ended"
CLIENT_REPORT_MAX_CHARS = 300
CLIENT_REPORTS_PER_MINUTE = 5
CLIENT_REPORTS_PER_MINUTE_ALL_TABS = 60
MAX_EVENT_NAME_CHARS = 300


def _all_substates(cls: type[BaseState]) -> list[type[BaseState]]:
    found, todo = [], [cls]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(current.get_substates())
    return found


@functools.cache
def _auth_tree() -> tuple[type[BaseState], ...]:
    return tuple(_all_substates(AuthState))


async def wipe_tab(state: BaseState, *, everything: bool) -> None:
    """Empty the tab's sensitive pages (``everything``: every state under AuthState,
    the user's name included). States not loaded by this event (Redis) are fetched."""
    from panel_app.state.gated import GatedPage

    auth = await state.get_state(AuthState)
    if everything:
        for cls in _auth_tree():
            await auth.get_state(cls)  # loaded, so that reset reaches it
        # The login page keeps the language, and the tab its time zone.
        kept = auth.lang, auth._user_language, auth._picked_language, auth._time_zone
        auth.reset()
        auth.lang, auth._user_language, auth._picked_language, auth._time_zone = kept
        return
    for cls in _auth_tree():
        if issubclass(cls, GatedPage):
            page = await auth.get_state(cls)
            if page.loaded:
                page._wipe()
    auth._holds_sensitive = False
    auth.grant_active = False
    auth.grant_seconds_left = 0


@functools.lru_cache(maxsize=512)
def handler_fn(event_name: str):
    state_path, _, handler_name = event_name.rpartition(".")
    try:
        state_cls = State.get_class_substate(tuple(state_path.split(".")[1:])) if "." in state_path else State
    except (ValueError, KeyError, AttributeError):  # an unknown name: Reflex refuses it itself
        return None
    handler = state_cls.event_handlers.get(handler_name)
    return handler.fn if handler is not None else None


def is_user_action(event) -> bool:
    """Sent by the browser (chained events carry no router data) and not automatic."""
    if not event.router_data:
        return False
    short_name = event.name.rpartition(".")[2]
    if short_name in _AUTOMATIC_EVENTS:
        return False
    fn = handler_fn(event.name)
    return not getattr(fn, guard.AUTOMATIC_MARKER, False)


def one_line(text: object, limit: int = CLIENT_REPORT_MAX_CHARS) -> str:
    """A client-supplied text made safe for one log line: no line breaks or control
    characters (escaped), cut to ``limit`` characters."""
    raw = text if isinstance(text, str) else repr(type(text))
    escaped = raw[: limit * 2].encode("unicode_escape", errors="backslashreplace").decode("ascii")
    return escaped[:limit] + ("…" if len(escaped) > limit else "")


def log_client_report(exception: Exception) -> None:
    """The app's frontend exception handler: reports come from browsers, not from the
    server, and say so."""
    log.warning("browser reported an error (client-supplied text): %s", one_line(str(exception)))


class _ReportBudget:
    """Frontend error reports per tab per minute (bounded memory), and for all tabs together:
    the client token is the client's choice, so a script reconnecting with a new one each
    time would otherwise get a fresh budget per socket."""

    def __init__(self, size: int = 10_000, all_tabs_per_minute: int = CLIENT_REPORTS_PER_MINUTE_ALL_TABS):
        self._seen: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._size = size
        self._all_tabs_per_minute = all_tabs_per_minute
        self._window: tuple[float, int] = (0.0, 0)

    def allow(self, token: str) -> bool:
        now = time.monotonic()
        start, count = self._seen.pop(token, (now, 0))
        if now - start > 60:
            start, count = now, 0
        self._seen[token] = (start, count + 1)
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)
        if count >= CLIENT_REPORTS_PER_MINUTE:
            return False
        window_start, in_window = self._window
        if now - window_start > 60:
            window_start, in_window = now, 0
        self._window = (window_start, in_window + 1)
        if in_window == self._all_tabs_per_minute:
            log.warning("more than %d browser error reports this minute: the rest are not logged",
                        self._all_tabs_per_minute)
        return in_window < self._all_tabs_per_minute


def _log_when_done(state: BaseState, name: str) -> None:
    """One event-log line when the event's task ends (Reflex 0.10 runs every event in its
    own task and never calls a middleware's ``postprocess``)."""
    if not logs.log.isEnabledFor(logging.INFO):
        return
    task = asyncio.current_task()
    if task is None:
        return
    started = time.perf_counter()

    def done(_task) -> None:
        from panel_app.state.staff import StaffState

        substates = getattr(state, "substates", {})
        auth, staff_state = substates.get(AuthState.get_name()), substates.get(StaffState.get_name())
        logs.event_done(name, started, user_id=getattr(auth, "_user_id", None),
                        staff_id=getattr(staff_state, "_staff_id", None))

    task.add_done_callback(done)


class TabCheck(Middleware):
    def __init__(self):
        self._reports = _ReportBudget()

    async def preprocess(self, app, state: BaseState, event) -> StateUpdate | None:
        guard.forget_resolution()
        short_name = event.name.rpartition(".")[2]
        if short_name == "handle_frontend_exception" and not self._report_ok(state, event):
            return StateUpdate()
        if short_name == "setvar" and not _setvar_ok(event):
            return StateUpdate()
        if short_name in _CLIENT_STORAGE_EVENTS and not _client_storage_ok(event):
            return StateUpdate()
        _log_when_done(state, event.name)
        user_action = is_user_action(event)
        if short_name in _AUTOMATIC_EVENTS or is_staff_event(event.name):
            # The staff console's tabs: what a staff page holds goes with its session or grant
            # (a customer event never carries a staff page's data in its delta).
            await check_staff_tab(state, touch=user_action and is_staff_event(event.name))
        fn = handler_fn(event.name)
        guarded = getattr(fn, guard.GUARD_MARKER, None) is not None
        guard.dispatching(fn if guarded else None)
        if await self.check(state, touch=user_action, for_event=guarded) == SIGNED_OUT:
            # Whatever the event (Reflex's own ones answer no redirect): the tab that was
            # signed in goes to the login page.
            await _send_to_login(state)
        # The session was touched here if it had to be; handlers of this event need not.
        guard.user_action.set(False)
        return None

    def _report_ok(self, state: BaseState, event) -> bool:
        payload = event.payload if isinstance(event.payload, dict) else {}
        if not isinstance(payload.get("info"), str) or not isinstance(payload.get("component_stack", ""), str):
            return False
        return self._reports.allow(state.router.session.client_token or "")

    @staticmethod
    async def check(state: BaseState, *, touch: bool = False, for_event: bool = False) -> str | None:
        """Empty what the tab may no longer hold; returns ``SIGNED_OUT`` (everything went,
        the tab was signed in), ``GRANT_ENDED`` (its sensitive pages went) or None.
        ``for_event``: the guarded handler of the event about to run adopts this answer."""
        auth = await state.get_state(AuthState)
        faults.tab_languages.remember(state.router.session.client_token or "", auth.lang)
        bound = auth._bound_session_id
        token = guard.session_token_from_cookie_header(state.router.headers.cookie)
        if bound is None and not touch:
            return None  # nothing bound, nothing held: the guard binds on the first real event
        now = utcnow()
        view, outcome = await tasks.off_loop(functools.partial(
            _resolve_tab, token, bound, state.router.session.client_token or "", now, touch))
        if (outcome is None and bound is not None and auth._holds_sensitive
                and not sessions.grant_is_valid(view.session, now)):
            outcome = GRANT_ENDED
        if faults.outages.any:
            faults.outages.up(faults.DATABASE)
        if for_event:  # committed: the guard of this event adopts the answer
            guard.remember_resolution(token, view, now)
        if outcome is None:
            return None
        await wipe_tab(state, everything=outcome == SIGNED_OUT)
        return outcome


def _resolve_tab(token: str | None, bound: int | None, client_token: str, now, touch: bool):
    """The cookie's session as the database has it now, and ``SIGNED_OUT`` when it is not
    the one the tab is bound to (its open-tab row then goes). On a database server: one
    read outside a transaction (no BEGIN and COMMIT round trips; SQLite has none to save),
    and a transaction only when something is to be written."""
    idle = get_settings().session_idle_seconds

    def signed_out(view) -> bool:
        return bound is not None and (view is None or view.session_id != bound)

    view = read_outside_transaction(lambda conn: sessions.peek_session(
        conn, token, now=now, touch=touch, idle_seconds=idle, writes=False))
    if view is sessions.WRITE_NEEDED or signed_out(view):
        with get_engine().begin() as conn:  # read again: what is written follows what is read
            view = sessions.peek_session(conn, token, now=now, touch=touch, idle_seconds=idle)
            if signed_out(view):
                tabs.forget(conn, client_token)
                return view, SIGNED_OUT
    return view, None


async def _send_to_login(state: BaseState) -> None:
    path = state.router.url.path if state.router.url else ""
    target = f"/login?next={quote(path)}" if path and not path.startswith("/login") else "/login"
    with contextlib.suppress(LookupError):  # no event in progress: nobody to tell
        await EventContext.get().emit_event(*Event.from_event_type(rx.redirect(target, replace=True)))


# Reflex's own events that take browser storage values (and, for hydrate_and_load, the
# hashes of the compiled initial state): junk in them raises inside Reflex, a traceback
# in the log per event, without a login.
_CLIENT_STORAGE_EVENTS = frozenset({"hydrate_and_load", "update_vars_internal"})
MAX_HASHES = 1000


def _is_client_storage_var(full_name: object) -> bool:
    if not isinstance(full_name, str) or len(full_name) > MAX_EVENT_NAME_CHARS:
        return False
    state_path, _, var_name = full_name.rpartition(".")
    try:
        state_cls = State.get_class_substate(state_path)
    except (ValueError, KeyError, AttributeError):
        return False
    return state_cls._is_client_storage(var_name.removesuffix(FIELD_MARKER))


def _client_storage_ok(event) -> bool:
    """``vars``: a dict naming only real client-storage vars; ``hashes``: a list of strings."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    client_vars, hashes = payload.get("vars"), payload.get("hashes")
    if client_vars is not None and not (isinstance(client_vars, dict)
                                        and all(_is_client_storage_var(name) for name in client_vars)):
        return False
    return hashes is None or (isinstance(hashes, list) and len(hashes) <= MAX_HASHES
                              and all(isinstance(h, str) and len(h) <= 200 for h in hashes))


def _setvar_ok(event) -> bool:
    """Reflex's setvar calls ``set_<name>``; refuse any other name before it raises."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    var_name = payload.get("var_name")
    if not isinstance(var_name, str) or not var_name.isidentifier():
        return False
    fn = handler_fn(event.name.rpartition(".")[0] + ".set_" + var_name)
    return fn is not None
