"""Login sessions and the step-up grant they carry.

The browser holds a random token in an HttpOnly, SameSite=Strict cookie set by
a plain HTTP route (api/session.py); the database holds only its keyed hash.
Every event resolves the token again; whatever ends a grant or a session also
marks the session's open tabs due, so the push loop wipes and updates them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, update
from sqlmodel import Session, select

from panel_app.db import first_row
from panel_app.models import LoginSession, User
from panel_app.security import tabs
from panel_app.security.crypto import keyed_hash

COOKIE_NAME = "panel_session"
TOKEN_MAX_LENGTH = 100
# Touch last_seen_at at most this often, to spare the database one write per event.
TOUCH_EVERY_SECONDS = 30


def _token_hash(token: str) -> str:
    return keyed_hash(token, "session-token")


def _plausible_token(token: object) -> bool:
    return isinstance(token, str) and 20 <= len(token) <= TOKEN_MAX_LENGTH and token.isascii()


def create_session(
    db: Session, user: User, *, ip: str, user_agent: str, now: datetime, absolute_seconds: int
) -> tuple[LoginSession, str]:
    token = secrets.token_urlsafe(32)
    row = LoginSession(
        user_id=user.id,
        token_hash=_token_hash(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=absolute_seconds),
        ip=ip[:64],
        user_agent=user_agent[:300],
    )
    db.add(row)
    db.flush()
    return row, token


def find_by_token(db: Session, token: object) -> LoginSession | None:
    """The session row for ``token`` whatever its state; None for junk input."""
    if not _plausible_token(token):
        return None
    return db.exec(select(LoginSession).where(LoginSession.token_hash == _token_hash(token))).first()


@dataclass(frozen=True)
class ResolvedSession:
    login_session: LoginSession
    user: User


class RowView:
    """The columns of one row as read-only attributes: what the check in front of every
    event reads, without building ORM objects (changes go through the ORM rows)."""

    __slots__ = ("_values",)

    def __init__(self, values: dict):
        object.__setattr__(self, "_values", values)

    def __getattr__(self, name: str):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"{name}: a read-only view; change the ORM row")


@dataclass(frozen=True)
class SessionView:
    """A live login session and its user, as read from the database in this event."""

    session: RowView
    user: RowView

    @property
    def session_id(self) -> int:
        return self.session.id

    @property
    def user_id(self) -> int:
        return self.user.id


_SESSION_COLUMNS = tuple(LoginSession.__table__.c)
_USER_COLUMNS = tuple(User.__table__.c)
# Built once, plain columns (no ORM objects): composing the statement and loading ORM
# rows cost several times what the query itself does, and this runs for every event.
_PEEK = (select(*(c.label(f"s_{c.key}") for c in _SESSION_COLUMNS), *(c.label(f"u_{c.key}") for c in _USER_COLUMNS))
         .select_from(LoginSession.__table__.join(User.__table__, User.__table__.c.id == LoginSession.__table__.c.user_id))
         .where(LoginSession.__table__.c.token_hash == bindparam("token_hash")))


# What peek_session(..., writes=False) answers when the answer needs a write (the session
# went idle and is revoked now, or its last action is moved): ask again in a transaction.
WRITE_NEEDED = object()


def peek_session(
    conn: Connection, token: object, *, now: datetime, idle_seconds: int, touch: bool = True,
    writes: bool = True,
) -> SessionView | None:
    """The live session for ``token`` as a read-only view, or None (unknown, revoked,
    idle, expired, user disabled). One query on a plain connection (no ORM session: it
    runs for every event); ``touch`` (an action of the user) moves ``last_seen_at`` at
    most every TOUCH_EVERY_SECONDS. ``writes=False`` (a connection outside a transaction)
    writes nothing and answers WRITE_NEEDED where it would have written."""
    if not _plausible_token(token):
        return None
    found = first_row(conn, _PEEK, {"token_hash": _token_hash(token)})
    if found is None:
        return None
    count = len(_SESSION_COLUMNS)
    session = {c.key: value for c, value in zip(_SESSION_COLUMNS, found[:count])}
    user = {c.key: value for c, value in zip(_USER_COLUMNS, found[count:])}
    if session["revoked_at"] is not None or session["expires_at"] <= now:
        return None
    if session["last_seen_at"] + timedelta(seconds=idle_seconds) <= now:
        if not writes:
            return WRITE_NEEDED
        with Session(bind=conn) as db:  # joins the connection's transaction
            revoke_session(db, db.get(LoginSession, session["id"]), reason="idle", now=now)
        return None
    if not user["is_active"]:
        return None
    if touch and (now - session["last_seen_at"]).total_seconds() >= TOUCH_EVERY_SECONDS:
        if not writes:
            return WRITE_NEEDED
        conn.execute(update(LoginSession).where(LoginSession.id == session["id"]).values(last_seen_at=now))
        session["last_seen_at"] = now
    return SessionView(RowView(session), RowView(user))


def resolve_session(
    db: Session, token: object, *, now: datetime, idle_seconds: int, touch: bool = True
) -> ResolvedSession | None:
    """The live session for ``token`` as ORM rows (to change them), or None."""
    view = peek_session(db.connection(), token, now=now, idle_seconds=idle_seconds, touch=touch)
    if view is None:
        return None
    return ResolvedSession(db.get(LoginSession, view.session_id, populate_existing=True),
                           db.get(User, view.user_id, populate_existing=True))


def revoke_session(db: Session, row: LoginSession, *, reason: str, now: datetime) -> None:
    if row.revoked_at is None:
        row.revoked_at = now
        row.revoked_reason = reason[:40]
    row.grant_expires_at = None
    db.add(row)
    db.flush()
    tabs.mark_sessions_due(db, session_ids=[row.id], now=now)


def revoke_user_sessions(
    db: Session, user_id: int, *, reason: str, now: datetime, except_session_id: int | None = None
) -> int:
    rows = db.exec(
        select(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
    ).all()
    count = 0
    for row in rows:
        if row.id != except_session_id:
            revoke_session(db, row, reason=reason, now=now)
            count += 1
    return count


def active_sessions(db: Session, user_id: int, *, now: datetime, idle_seconds: int) -> list[LoginSession]:
    rows = db.exec(
        select(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None),
               LoginSession.expires_at > now,
               LoginSession.last_seen_at > now - timedelta(seconds=idle_seconds))
        .order_by(LoginSession.last_seen_at.desc())
    ).all()
    return list(rows)


# --- redirects after login ------------------------------------------------------


def safe_next_path(path: object) -> str:
    """Only local absolute paths: no scheme, no //host, no backslashes."""
    if (
        not isinstance(path, str)
        or not path.startswith("/")
        or path.startswith("//")
        or "\\" in path
        or len(path) > 200
        or any(ord(c) < 33 for c in path)
        or path.startswith("/api/")
        or path.startswith("/login")
    ):
        return "/dashboard"
    return path


# --- the step-up grant ----------------------------------------------------------


def grant_is_valid(row: LoginSession, now: datetime) -> bool:
    return row.revoked_at is None and row.grant_expires_at is not None and row.grant_expires_at > now


def start_grant(db: Session, row: LoginSession, *, method: str, now: datetime, ttl_seconds: int) -> None:
    row.grant_verified_at = now
    row.grant_expires_at = now + timedelta(seconds=ttl_seconds)
    row.grant_method = method
    db.add(row)
    db.flush()
    tabs.mark_sessions_due(db, session_ids=[row.id], now=now)


def end_grant(db: Session, row: LoginSession, *, now: datetime) -> bool:
    had_grant = row.grant_expires_at is not None
    row.grant_expires_at = None
    db.add(row)
    db.flush()
    tabs.mark_sessions_due(db, session_ids=[row.id], now=now)
    return had_grant


def end_user_grants(db: Session, user_id: int, *, now: datetime) -> None:
    """A password or factor change ends every grant of that user at once."""
    db.execute(
        update(LoginSession).where(LoginSession.user_id == user_id).values(grant_expires_at=None)
    )
    tabs.mark_sessions_due(db, user_id=user_id, now=now)
