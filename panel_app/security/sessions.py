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

from sqlalchemy import update
from sqlmodel import Session, select

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


def resolve_session(
    db: Session, token: object, *, now: datetime, idle_seconds: int, touch: bool = True
) -> ResolvedSession | None:
    """The live session for ``token``, or None (unknown, revoked, idle, expired).

    Session and user in one query: this runs in front of every event (twice: the tab
    check and the guard), so each round trip to the database counts."""
    if not _plausible_token(token):
        return None
    found = db.exec(select(LoginSession, User).join(User, User.id == LoginSession.user_id)
                    .where(LoginSession.token_hash == _token_hash(token))).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.last_seen_at + timedelta(seconds=idle_seconds) <= now:
        revoke_session(db, row, reason="idle", now=now)
        return None
    if not user.is_active:
        return None
    if touch and (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY_SECONDS:
        row.last_seen_at = now
        db.add(row)
        db.flush()
    return ResolvedSession(row, user)


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
