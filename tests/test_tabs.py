"""Open tabs of a login session (security/tabs.py): what the push loop is told, when."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from panel_app.db import transaction
from panel_app.models import OpenTab
from panel_app.security import sessions, tabs
from panel_app.security.tabs import TabChange
from tests.state_harness import login_token

IDLE = 1800


def _register(token: str, now, *, client: str = "tab-000001", holds: bool = True) -> None:
    with transaction() as db:
        row = sessions.find_by_token(db, token)
        tabs.register(db, client_token=client, login_session=row, holds_sensitive=holds,
                      grant_until=row.grant_expires_at, idle_seconds=IDLE, now=now)


def _take(now) -> list:
    with transaction() as db:
        return tabs.take_due(db, now=now, idle_seconds=IDLE)


def test_nothing_is_due_while_session_and_grant_hold(make_user, now):
    token = login_token(make_user(), now, grant_method="email")
    _register(token, now)
    assert _take(now + timedelta(seconds=30)) == []


def test_sign_out_makes_every_tab_due_at_once_and_the_rows_go(make_user, now):
    token = login_token(make_user(), now, grant_method="email")
    _register(token, now, client="tab-000001")
    _register(token, now, client="tab-000002", holds=False)
    with transaction() as db:
        sessions.revoke_session(db, sessions.find_by_token(db, token), reason="logout", now=now)
    due = _take(now)
    assert sorted((d.client_token, d.change) for d in due) == [("tab-000001", TabChange.SESSION_ENDED),
                                                              ("tab-000002", TabChange.SESSION_ENDED)]
    with transaction() as db:
        assert db.exec(select(OpenTab)).all() == []


def test_a_grant_running_out_is_due_at_its_end(make_user, now):
    token = login_token(make_user(), now, grant_method="email")  # 600 s
    _register(token, now)
    assert _take(now + timedelta(seconds=599)) == []
    [due] = _take(now + timedelta(seconds=600))
    assert due.change is TabChange.GRANT_CHANGED and due.grant_until is None
    with transaction() as db:
        row = db.exec(select(OpenTab)).one()
        assert not row.holds_sensitive and row.shows_grant_until is None
    assert _take(now + timedelta(seconds=601)) == []  # told once


def test_idle_sessions_are_ended_by_the_loop(make_user, now):
    token = login_token(make_user(), now)
    _register(token, now, holds=False)
    [due] = _take(now + timedelta(seconds=IDLE))
    assert due.change is TabChange.SESSION_ENDED
    with transaction() as db:
        assert sessions.find_by_token(db, token).revoked_reason == "idle"


def test_a_due_tab_is_claimed_once(make_user, now):
    token = login_token(make_user(), now, grant_method="email")
    _register(token, now)
    with transaction() as db:
        sessions.end_grant(db, sessions.find_by_token(db, token), now=now)
    with transaction() as first, transaction() as second:
        seen_first = tabs.take_due(first, now=now, idle_seconds=IDLE)
        first.commit()
        seen_second = tabs.take_due(second, now=now, idle_seconds=IDLE)
    assert len(seen_first) == 1 and seen_second == []


def test_a_tab_registered_after_the_sign_out_is_due_at_once(make_user, now):
    token = login_token(make_user(), now, grant_method="email")
    with transaction() as db:
        row = sessions.find_by_token(db, token)
        sessions.revoke_session(db, row, reason="logout", now=now)
    _register(token, now)  # the guard had read the session before the sign-out committed
    assert [d.change for d in _take(now)] == [TabChange.SESSION_ENDED]


def test_tracked_tabs_per_session_are_capped(make_user, now):
    token = login_token(make_user(), now)
    for index in range(tabs.MAX_TABS_PER_SESSION + 10):
        _register(token, now, client=f"tab-{index:06d}", holds=False)
    with transaction() as db:
        kept = db.exec(select(OpenTab.client_token)).all()
    assert len(kept) == tabs.MAX_TABS_PER_SESSION and "tab-000059" in kept and "tab-000000" not in kept
