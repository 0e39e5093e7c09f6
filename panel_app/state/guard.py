"""The one guard every logged-in handler goes through.

Reflex makes every public method of a state callable by any client, by name,
with any payload, from any page. So each handler is wrapped: at the moment of
the event we resolve the session cookie (taken from the websocket's request
headers, never from the client payload) in the database, check the user's
permission for the area and, for sensitive areas, a live step-up grant. The
handler body then runs inside the same database transaction, with the guard's
findings available from ``current()``.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from http.cookies import CookieError, SimpleCookie

from sqlalchemy.orm.util import identity_key
from reflex_base.event.context import EventContext
from sqlmodel import Session, select

from panel_app import tasks
from panel_app.clock import utcnow
from panel_app.db import OnDemand
from panel_app.i18n import DEFAULT_LANGUAGE, effective_language
from panel_app.i18n import formatting as fmt
from panel_app.models import AuditEvent, LoginSession, User
from panel_app.security import sessions
from panel_app.security.permissions import Area, may_enter
from panel_app.services.audit import Actor, record
from panel_app.settings import get_settings

GUARD_MARKER = "_panel_guard"
AUTOMATIC_MARKER = "_panel_automatic"

# Whether the event being handled is an action of the user (a click, a form, a
# navigation) rather than automatic traffic (reconnect, page load after a
# reconnect, a countdown reaching zero). Only user actions extend the login
# session's idle timeout. The tab check in front of every event sets it; a
# handler called directly (tests) counts as a user action.
user_action: contextvars.ContextVar[bool] = contextvars.ContextVar("panel_user_action", default=True)


@dataclass
class GuardContext:
    """What the guard found. ``view`` is the session and user as read at the start of the
    event; ``user`` and ``login_session`` are the ORM rows, loaded into ``db`` when a
    handler first asks for them (most events never do)."""

    open_db: OnDemand
    now: datetime
    view: sessions.SessionView
    actor: Actor
    area: Area
    grant_checked: bool
    # The tab's language (picked before sign-in, else the browser's) and its time zone
    # (the browser's, validated): what shows when the account has no language of its own.
    tab_lang: str = DEFAULT_LANGUAGE
    tz: str | None = None

    @property
    def db(self) -> Session:
        """The event's transaction (begun on first use, committed after the handler)."""
        return self.open_db()

    @property
    def lang(self) -> str:
        """The language this event answers in (i18n.effective_language)."""
        return effective_language(self.view.user.language, self.tab_lang)

    def moment(self, value: datetime | None) -> str:
        """A date and time in this tab's language and time zone."""
        return fmt.moment(value, self.lang, self.tz)

    @property
    def user(self) -> User:
        return self._row(User, self.view.user_id)

    @property
    def login_session(self) -> LoginSession:
        return self._row(LoginSession, self.view.session_id)

    def session_now(self) -> LoginSession | sessions.RowView:
        """The login session as this event left it: the ORM row if a handler loaded (and
        perhaps changed) it, else the view."""
        if not self.open_db.begun:
            return self.view.session
        loaded = self.db.identity_map.get(identity_key(LoginSession, self.view.session_id))
        return loaded if loaded is not None else self.view.session

    def _row(self, model, key: int):
        row = self.db.get(model, key)
        if row is None:  # deleted since the check at the start of this event
            raise LookupError(f"{model.__name__} {key} is gone")
        return row


_current: contextvars.ContextVar[GuardContext | None] = contextvars.ContextVar("panel_guard", default=None)


@dataclass(frozen=True)
class _Resolution:
    token: str | None
    view: sessions.SessionView | None
    at: datetime
    event_id: str | None  # Reflex's transaction id of the event


# The tab check in front of every event resolves the cookie in the database; the guarded
# handler of the same event adopts that answer instead of asking again (one query per
# event). Kept only for an event whose handler is guarded, taken once, and only by the
# same event (Reflex's transaction id), for the same cookie, younger than ADOPT_WITHIN.
_this_event: contextvars.ContextVar[_Resolution | None] = contextvars.ContextVar("panel_event_session",
                                                                                default=None)
# Short: what the guard then decides on is that old. On a database thread (tasks.off_loop)
# the handler may start only after the work queued before it, and a session signed out in
# the meantime must not let one more reveal through on the older answer: past this, the
# guard asks the database again.
ADOPT_WITHIN = timedelta(milliseconds=500)


def _event_id() -> str | None:
    try:
        return EventContext.get().txid
    except LookupError:  # no Reflex event in progress (a direct call)
        return None


def remember_resolution(token: str | None, view: sessions.SessionView | None, now: datetime) -> None:
    _this_event.set(_Resolution(token, view, now, _event_id()))


def forget_resolution() -> None:
    _this_event.set(None)


def _resolve(open_db: OnDemand, token: str | None, now: datetime) -> sessions.SessionView | None:
    earlier = _this_event.get()
    if earlier is not None:
        _this_event.set(None)  # taken once
        if (earlier.token == token and earlier.event_id == _event_id()
                and timedelta(0) <= now - earlier.at < ADOPT_WITHIN):
            return earlier.view
    return sessions.peek_session(open_db().connection(), token, now=now, idle_seconds=get_settings().session_idle_seconds,
                                 touch=user_action.get())


def current() -> GuardContext:
    ctx = _current.get()
    if ctx is None:  # a helper called outside a guarded handler: a programming error
        raise RuntimeError("no guarded event in progress")
    return ctx


def cookie_from_header(header: object, name: str) -> str | None:
    """The value of cookie ``name`` in a Cookie request header (None for junk)."""
    if not isinstance(header, str) or not header or len(header) > 8192:
        return None
    return _parse_cookie(header, name)


@functools.lru_cache(maxsize=1024)  # a tab sends the same header with every event
def _parse_cookie(header: str, name: str) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def session_token_from_cookie_header(header: object) -> str | None:
    return cookie_from_header(header, sessions.COOKIE_NAME)


class Refusal(StrEnum):
    """Why a guard refused (equal to its string: ``Refusal.LOGIN == "login"``)."""

    LOGIN = "login"
    FORBIDDEN = "forbidden"
    STEPUP = "stepup"


LOGIN, FORBIDDEN, STEPUP = Refusal.LOGIN, Refusal.FORBIDDEN, Refusal.STEPUP


def evaluate(state, open_db: OnDemand, area: Area, need_grant: bool,
             now: datetime) -> GuardContext | Refusal:
    """Decide from the database, now, whether this event may run (the session as the tab
    check read it at the start of this event, or read now)."""
    router = state.router
    view = _resolve(open_db, session_token_from_cookie_header(router.headers.cookie), now)
    if view is None:
        return LOGIN
    actor = Actor.for_user(view.user, ip=router.session.client_ip or "", user_agent=router.headers.user_agent or "",
                           session_id=view.session_id)
    if not may_enter(view.user.role, view.user.areas, area):
        _record_refusal(open_db(), actor, area, type(state).__name__, now)
        return FORBIDDEN
    if need_grant and not sessions.grant_is_valid(view.session, now):
        return STEPUP
    tab_lang, tz = tab_display(state)
    return GuardContext(open_db=open_db, now=now, view=view, actor=actor, area=area, grant_checked=need_grant,
                        tab_lang=tab_lang, tz=tz)


def tab_display(state) -> tuple[str, str | None]:
    """The tab's own language and time zone, as AuthState keeps them (state/auth.py)."""
    tab_language = getattr(state, "_tab_language", None)
    if callable(tab_language):
        return tab_language(), fmt.valid_time_zone(getattr(state, "_time_zone", None))
    return DEFAULT_LANGUAGE, None


def _record_refusal(db: Session, actor: Actor, area: Area, target: str, now: datetime) -> None:
    """Log a refused attempt once a minute per user, area and page: a script calling a
    forbidden handler in a loop must not flood the activity log."""
    recent = db.exec(
        select(AuditEvent.id).where(
            AuditEvent.actor_user_id == actor.user_id, AuditEvent.action == "permission_denied",
            AuditEvent.area == area.value, AuditEvent.target == target,
            AuditEvent.created_at > now - timedelta(seconds=60),
        )
    ).first()
    if recent is None:
        record(db, actor, area, "permission_denied", now=now, target=target)


# The guarded handler Reflex is about to call for this event (set by the tab check in front
# of it): only that call runs off the loop, once. A guarded handler called by other code
# (another handler, a test) answers as a plain function does.
_dispatched: contextvars.ContextVar[object | None] = contextvars.ContextVar("panel_dispatched", default=None)


def dispatching(fn) -> None:
    _dispatched.set(fn)


async def _outcome_off_loop(run):
    """What the handler returns, as Reflex takes it from an async generator: the delta and
    the events once it is done (the same single update as from a plain handler)."""
    outcome = await tasks.off_loop(run)
    forget_resolution()  # the guard took it in the thread's copy of this context
    yield outcome


def _guarded(area: Area | None, need_grant: bool):
    """``area=None``: the area the state class declares (``GatedPage.area``)."""
    fixed_area = Area(area) if area is not None else None

    def decorate(fn):
        if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
            raise TypeError(f"{fn.__qualname__}: guarded handlers are synchronous; "
                            "hand slow work to panel_app.tasks.spawn")

        def run(self, args, kwargs):
            now = utcnow()
            area = fixed_area or type(self).area
            if not isinstance(area, Area):  # e.g. a subclass forgot `area: ClassVar[Area] = ...`
                raise TypeError(f"{type(self).__name__} declares no area")
            with OnDemand() as open_db:
                verdict = evaluate(self, open_db, area, need_grant, now)
                if isinstance(verdict, Refusal):
                    outcome = self._refuse(verdict)
                else:
                    token = _current.set(verdict)
                    try:
                        self._accept(verdict)
                        outcome = fn(self, *args, **kwargs)
                        self._sync_tab(verdict)
                    finally:
                        _current.reset(token)
            return outcome

        @functools.wraps(fn)
        def wrapper(self, *args, **kwargs):
            if _dispatched.get() is wrapper and tasks.off_loop_threads():
                # Reflex called this for the event (it iterates what comes back): the check,
                # the handler and its transaction run on a database thread (tasks.off_loop).
                _dispatched.set(None)
                return _outcome_off_loop(functools.partial(run, self, args, kwargs))
            return run(self, args, kwargs)

        setattr(wrapper, GUARD_MARKER, (fixed_area, need_grant))
        return wrapper

    return decorate


def requires_login(area: Area):
    """Logged in and allowed into ``area``, no grant: standard sections, and the
    non-sensitive face of an area (the domain list)."""
    return _guarded(area, need_grant=False)


def requires_stepup(area: Area | None = None):
    """Logged in, allowed into ``area`` (default: the state's) and holding a live grant."""
    return _guarded(area, need_grant=True)


def automatic(fn):
    """Mark a handler the browser calls on its own (page load, a countdown at zero):
    it never extends the login session's idle timeout. Put it under the guard."""
    setattr(fn, AUTOMATIC_MARKER, True)
    return fn


def login_only(fn):
    """For the verification gate itself: logged in, no area permission, no grant."""
    return _guarded(Area.AUTH, need_grant=False)(fn)
