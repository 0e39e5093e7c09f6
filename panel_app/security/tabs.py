"""Open tabs of a login session: which browser tabs must be wiped, and when.

Reflex keeps each tab's state on the server under the tab's client token for
about an hour after the tab is gone. A row here ties a tab to the login session
it was bound to, says whether it holds sensitive page data or shows a grant, and
when it must next be looked at (``due_at``). Whatever ends a grant or a session
marks its tabs due at once; the push loop (``state/push.py``) wipes them and
tells the browser, connected or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import Connection, delete, update
from sqlmodel import Session, select

from panel_app.models import LoginSession, OpenTab

CLIENT_TOKEN_MAX_LENGTH = 64
# Open tabs tracked per login session; a script opening thousands of sockets must not
# slow the pushes for everyone else (the oldest rows beyond this go; those tabs are
# still checked in front of their next event).
MAX_TABS_PER_SESSION = 50


def plausible_client_token(token: object) -> bool:
    return isinstance(token, str) and 8 <= len(token) <= CLIENT_TOKEN_MAX_LENGTH and token.isascii()


def session_deadline(row: LoginSession, idle_seconds: int) -> datetime:
    """When the session ends if nobody acts: idle timeout or absolute lifetime."""
    return min(row.expires_at, row.last_seen_at + timedelta(seconds=idle_seconds))


def _due_at(row: LoginSession, grant_until: datetime | None, idle_seconds: int) -> datetime:
    deadline = session_deadline(row, idle_seconds)
    return min(deadline, grant_until) if grant_until is not None else deadline


def register(db: Session, *, client_token: str, login_session: LoginSession, holds_sensitive: bool,
             grant_until: datetime | None, idle_seconds: int, now: datetime) -> None:
    """Record what the tab holds now (called when that changes, not on every event)."""
    if not plausible_client_token(client_token):
        return
    # Read the session again, locked (PostgreSQL): a sign-out or grant end committed since
    # the guard read it either waits for this row to exist or is seen here, so its
    # "mark the tabs due" cannot miss this tab.
    fresh = db.exec(select(LoginSession).where(LoginSession.id == login_session.id)
                    .with_for_update().execution_options(populate_existing=True)).one()
    changed = fresh.revoked_at is not None or fresh.grant_expires_at != (grant_until or fresh.grant_expires_at)
    due = now if changed else _due_at(fresh, grant_until, idle_seconds)
    row = db.exec(select(OpenTab).where(OpenTab.client_token == client_token)).first()
    known = row is not None and row.login_session_id == login_session.id
    if row is None:
        row = OpenTab(client_token=client_token, login_session_id=fresh.id, created_at=now, due_at=due)
    row.login_session_id = login_session.id
    row.holds_sensitive = holds_sensitive
    row.shows_grant_until = grant_until
    row.due_at = due
    db.add(row)
    db.flush()
    if known:  # the session's tabs are as many as before: nothing beyond the cap to drop
        return
    beyond_cap = select(OpenTab.id).where(OpenTab.login_session_id == login_session.id) \
        .order_by(OpenTab.id.desc()).offset(MAX_TABS_PER_SESSION)
    db.execute(delete(OpenTab).where(OpenTab.id.in_(beyond_cap)).execution_options(synchronize_session=False))


def forget(db: Session | Connection, client_token: str) -> None:
    db.execute(delete(OpenTab).where(OpenTab.client_token == client_token))


def mark_sessions_due(db: Session, *, now: datetime, session_ids: list[int] | None = None,
                      user_id: int | None = None) -> None:
    """Something changed for these sessions (grant started or ended, session revoked):
    their tabs are looked at by the next pass of the push loop."""
    query = update(OpenTab).values(due_at=now)
    if session_ids is not None:
        if not session_ids:
            return
        query = query.where(OpenTab.login_session_id.in_(session_ids))
    elif user_id is not None:
        query = query.where(OpenTab.login_session_id.in_(
            select(LoginSession.id).where(LoginSession.user_id == user_id)))
    else:
        raise ValueError("mark_sessions_due needs session_ids or user_id")
    db.execute(query)


class TabChange(str, Enum):
    SESSION_ENDED = "session_ended"   # wipe everything, show the login page
    GRANT_CHANGED = "grant_changed"   # wipe sensitive pages if the grant ended; show the new countdown


@dataclass(frozen=True)
class DueTab:
    client_token: str
    change: TabChange
    grant_until: datetime | None


def take_due(db: Session, *, now: datetime, idle_seconds: int, limit: int = 500) -> list[DueTab]:
    """Claim the tabs due now and say what each must be told.

    Each row is claimed with a conditional update on its ``due_at``, so with several
    workers polling the same table every tab is handled by exactly one of them.
    """
    from panel_app.security.sessions import grant_is_valid, revoke_session

    rows = db.exec(select(OpenTab).where(OpenTab.due_at <= now)
                   .order_by(OpenTab.holds_sensitive.desc(), OpenTab.due_at).limit(limit)).all()
    found: list[DueTab] = []
    for row in rows:
        login_session = db.get(LoginSession, row.login_session_id)
        live = (login_session is not None and login_session.revoked_at is None
                and session_deadline(login_session, idle_seconds) > now)
        if not live:
            claimed = db.execute(delete(OpenTab).where(OpenTab.id == row.id, OpenTab.due_at == row.due_at))
            if claimed.rowcount == 1:
                if login_session is not None and login_session.revoked_at is None:
                    revoke_session(db, login_session, reason="idle" if login_session.expires_at > now
                                   else "expired", now=now)
                found.append(DueTab(row.client_token, TabChange.SESSION_ENDED, None))
            continue
        grant_until = login_session.grant_expires_at if grant_is_valid(login_session, now) else None
        changed = grant_until != row.shows_grant_until or (row.holds_sensitive and grant_until is None)
        claimed = db.execute(
            update(OpenTab)
            .where(OpenTab.id == row.id, OpenTab.due_at == row.due_at)
            .values(due_at=_due_at(login_session, grant_until, idle_seconds), shows_grant_until=grant_until,
                    holds_sensitive=row.holds_sensitive and grant_until is not None)
        )
        if claimed.rowcount == 1 and changed:
            found.append(DueTab(row.client_token, TabChange.GRANT_CHANGED, grant_until))
    db.flush()
    return found


def tokens_of_session(db: Session, login_session_id: int) -> list[str]:
    return list(db.exec(select(OpenTab.client_token).where(OpenTab.login_session_id == login_session_id)).all())
