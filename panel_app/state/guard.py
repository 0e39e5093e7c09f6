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
from http.cookies import CookieError, SimpleCookie

from sqlmodel import Session, select

from panel_app.clock import utcnow
from panel_app.db import transaction
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
    db: Session
    now: datetime
    user: User
    login_session: LoginSession
    actor: Actor
    area: Area
    grant_checked: bool

    @property
    def lang(self) -> str:
        return self.user.language


_current: contextvars.ContextVar[GuardContext | None] = contextvars.ContextVar("panel_guard", default=None)


def current() -> GuardContext:
    ctx = _current.get()
    if ctx is None:  # a helper called outside a guarded handler: a programming error
        raise RuntimeError("no guarded event in progress")
    return ctx


def cookie_from_header(header: object, name: str) -> str | None:
    """The value of cookie ``name`` in a Cookie request header (None for junk)."""
    if not isinstance(header, str) or not header or len(header) > 8192:
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def session_token_from_cookie_header(header: object) -> str | None:
    return cookie_from_header(header, sessions.COOKIE_NAME)


class Refusal(str):
    """Why a guard refused: 'login', 'forbidden' or 'stepup'."""


LOGIN = Refusal("login")
FORBIDDEN = Refusal("forbidden")
STEPUP = Refusal("stepup")


def evaluate(state, db: Session, area: Area, need_grant: bool, now: datetime) -> GuardContext | Refusal:
    """Decide from the database, now, whether this event may run."""
    router = state.router
    token = session_token_from_cookie_header(router.headers.cookie)
    settings = get_settings()
    resolved = sessions.resolve_session(db, token, now=now, idle_seconds=settings.session_idle_seconds,
                                        touch=user_action.get())
    if resolved is None:
        return LOGIN
    user, login_session = resolved.user, resolved.login_session
    actor = Actor.for_user(user, ip=router.session.client_ip or "", user_agent=router.headers.user_agent or "",
                           session_id=login_session.id)
    if not may_enter(user.role, user.areas, area):
        _record_refusal(db, actor, area, type(state).__name__, now)
        return FORBIDDEN
    if need_grant and not sessions.grant_is_valid(login_session, now):
        return STEPUP
    return GuardContext(db=db, now=now, user=user, login_session=login_session, actor=actor, area=area,
                        grant_checked=need_grant)


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


def _guarded(area: Area | None, need_grant: bool):
    """``area=None``: the area the state class declares (``GatedPage.area``)."""
    fixed_area = Area(area) if area is not None else None

    def decorate(fn):
        if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
            raise TypeError(f"{fn.__qualname__}: guarded handlers are synchronous; "
                            "hand slow work to panel_app.tasks.spawn")

        @functools.wraps(fn)
        def wrapper(self, *args, **kwargs):
            now = utcnow()
            area = fixed_area or type(self).area
            if not isinstance(area, Area):  # e.g. a subclass forgot `area: ClassVar[Area] = ...`
                raise TypeError(f"{type(self).__name__} declares no area")
            with transaction() as db:
                verdict = evaluate(self, db, area, need_grant, now)
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
