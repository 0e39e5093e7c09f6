"""Passwords, login throttling and sessions, with an explicit clock."""

from datetime import timedelta

import pytest

from panel_app.db import transaction
from panel_app.models import AuditEvent, LoginSession
from panel_app.security import sessions
from panel_app.security.passwords import hash_password, verify_password
from panel_app.security.throttle import LOGIN_ACCOUNT_POLICY
from panel_app.services import auth
from sqlmodel import select

PASSWORD = "correct horse battery"


def login(email, password, now, ip="203.0.113.5"):
    with transaction() as db:
        return auth.login(db, email=email, password=password, ip=ip, user_agent="pytest", now=now,
                          absolute_seconds=12 * 3600)


def test_password_hash_is_argon2id_and_verifies():
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert verify_password(PASSWORD, hashed)
    assert not verify_password("wrong", hashed)


@pytest.mark.parametrize("junk", ["", None, 123, ["x"], "x" * 10_000, "\x00", "🙂" * 50])
def test_odd_passwords_never_raise(junk):
    assert verify_password(junk, hash_password(PASSWORD)) is False


def test_unknown_email_and_wrong_password_answer_the_same(make_user, now):
    make_user()
    assert login("owner@test.example", "wrong", now).outcome == login("nobody@test.example", "wrong", now).outcome


@pytest.mark.parametrize("email", ["", None, "a" * 10_000, "ö@ü", "\u202e@x", {"$ne": 1}])
def test_bad_email_input_is_just_invalid(make_user, now, email):
    make_user()
    assert login(email, PASSWORD, now).outcome is auth.LoginOutcome.INVALID


def test_account_throttle_grows_and_success_resets(make_user, now):
    make_user()
    for _ in range(LOGIN_ACCOUNT_POLICY.free_failures - 1):
        assert login("owner@test.example", "wrong", now).outcome is auth.LoginOutcome.INVALID
    login("owner@test.example", "wrong", now)  # 5th failure: locked 1 s
    login("owner@test.example", "wrong", now + timedelta(seconds=1))  # 6th: 2 s
    result = login("owner@test.example", PASSWORD, now + timedelta(seconds=2))
    assert result.outcome is auth.LoginOutcome.THROTTLED and result.retry_after_seconds == 1
    later = now + timedelta(seconds=3)
    assert login("owner@test.example", PASSWORD, later).outcome is auth.LoginOutcome.OK
    assert login("owner@test.example", "wrong", later).outcome is auth.LoginOutcome.INVALID  # counter reset


def test_delays_double_and_are_capped():
    delays = [LOGIN_ACCOUNT_POLICY.delay_after(n) for n in range(1, 20)]
    assert delays[:4] == [0, 0, 0, 0]
    assert delays[4:8] == [1, 2, 4, 8]
    assert max(delays) == 15 * 60


def test_session_token_stored_only_as_hash(make_user, now, db):
    make_user()
    result = login("owner@test.example", PASSWORD, now)
    rows = db.exec(select(LoginSession)).all()
    assert len(rows) == 1 and result.token not in rows[0].token_hash
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "login")).first() is not None


def test_idle_timeout_and_absolute_lifetime(make_user, now):
    make_user()
    token = login("owner@test.example", PASSWORD, now).token
    with transaction() as db:
        assert sessions.resolve_session(db, token, now=now + timedelta(minutes=29), idle_seconds=1800)
    with transaction() as db:  # 29 min after the last event it still lives
        assert sessions.resolve_session(db, token, now=now + timedelta(minutes=58), idle_seconds=1800)
    with transaction() as db:  # 30 min idle: gone for good
        assert sessions.resolve_session(db, token, now=now + timedelta(minutes=89), idle_seconds=1800) is None
        assert sessions.resolve_session(db, token, now=now + timedelta(minutes=90), idle_seconds=10**6) is None
    token = login("owner@test.example", PASSWORD, now).token
    with transaction() as db:
        assert sessions.resolve_session(db, token, now=now + timedelta(hours=12), idle_seconds=10**9) is None


def test_a_read_without_writes_answers_write_needed_and_writes_nothing(make_user, now):
    """The tab check reads outside a transaction (every event) and asks again inside one only
    when the session must be touched or revoked: that read never writes."""
    from panel_app.db import get_read_engine

    make_user()
    token = login("owner@test.example", PASSWORD, now).token

    def peek(at, touch):
        with get_read_engine().connect() as conn:
            return sessions.peek_session(conn, token, now=at, idle_seconds=1800, touch=touch, writes=False)

    def row():
        with transaction() as db:
            return db.exec(select(LoginSession)).one()

    seen = row().last_seen_at
    assert peek(now + timedelta(seconds=5), touch=True).session_id == row().id  # nothing to write
    assert peek(now + timedelta(minutes=5), touch=False) is not sessions.WRITE_NEEDED
    assert peek(now + timedelta(minutes=5), touch=True) is sessions.WRITE_NEEDED  # a touch is due
    assert peek(now + timedelta(minutes=31), touch=False) is sessions.WRITE_NEEDED  # idle: to revoke
    assert row().last_seen_at == seen and row().revoked_at is None


def test_the_check_reads_the_session_as_sqlalchemy_does(make_user, now):
    """The tab check's query runs on the driver's cursor (db.first_row): every column comes
    back as SQLAlchemy's own execution gives it (aware datetimes, booleans, text), on the
    test database (SQLite, or PostgreSQL with PANEL_TEST_DATABASE_URL)."""
    from panel_app.db import first_row, get_engine

    make_user()
    token = login("owner@test.example", PASSWORD, now).token
    with transaction() as db:
        sessions.start_grant(db, sessions.find_by_token(db, token), method="totp", now=now, ttl_seconds=600)
    params = {"token_hash": sessions._token_hash(token)}
    with get_engine().connect() as conn:
        expected = tuple(conn.execute(sessions._PEEK, params).first())
        assert first_row(conn, sessions._PEEK, params) == expected
        assert first_row(conn, sessions._PEEK, {"token_hash": "0" * 64}) is None
    grant_ends = expected[[c.key for c in sessions._PEEK.selected_columns].index("s_grant_expires_at")]
    assert grant_ends == now + timedelta(seconds=600) and grant_ends.tzinfo is not None


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it():
    """What the fault handling (state/faults.py) and the pool's replacement of a dropped
    connection rely on: the driver's error comes out as SQLAlchemy's."""
    from sqlalchemy import column, table
    from sqlalchemy.exc import DBAPIError

    from panel_app.db import first_row, get_engine

    missing = select(column("id")).select_from(table("no_such_table"))
    with get_engine().connect() as conn, pytest.raises(DBAPIError):
        first_row(conn, missing, {})


def test_logout_revokes_and_grant_ends(make_user, now):
    make_user()
    token = login("owner@test.example", PASSWORD, now).token
    with transaction() as db:
        row = sessions.find_by_token(db, token)
        sessions.start_grant(db, row, method="email", now=now, ttl_seconds=600)
    with transaction() as db:
        assert auth.logout(db, token, now=now)
    with transaction() as db:
        row = sessions.find_by_token(db, token)
        assert row.revoked_at is not None and row.grant_expires_at is None
        assert sessions.resolve_session(db, token, now=now, idle_seconds=1800) is None


@pytest.mark.parametrize("token", [None, "", "x", "A" * 43, "A" * 5000, "é" * 43, 42])
def test_tampered_tokens_resolve_to_nothing(token, now):
    with transaction() as db:
        assert sessions.resolve_session(db, token, now=now, idle_seconds=1800) is None


def test_grant_validity_window(make_user, now):
    make_user()
    token = login("owner@test.example", PASSWORD, now).token
    with transaction() as db:
        row = sessions.find_by_token(db, token)
        sessions.start_grant(db, row, method="totp", now=now, ttl_seconds=600)
        assert sessions.grant_is_valid(row, now + timedelta(seconds=599))
        assert not sessions.grant_is_valid(row, now + timedelta(seconds=600))


@pytest.mark.parametrize("path,expected", [("/invoices", "/invoices"), ("//evil.example", "/dashboard"),
                                           ("https://evil.example", "/dashboard"), ("/\\evil", "/dashboard"),
                                           ("/api/session/logout", "/dashboard"), (None, "/dashboard")])
def test_next_path_is_local_only(path, expected):
    assert sessions.safe_next_path(path) == expected


def test_parallel_guesses_cannot_slip_past_the_lock(make_user, now, race):
    """With 4 failures counted, 8 simultaneous guesses: the 5th failure sets the lock
    in the same statement that counts it, so exactly one guess is compared."""
    make_user()
    for _ in range(4):
        login("owner@test.example", "wrong", now)
    outcomes = [getattr(result, "outcome", result) for result in race.times(
        8, lambda index: login("owner@test.example", "wrong", now, ip=f"198.51.100.{index}"))]
    assert outcomes.count(auth.LoginOutcome.INVALID) == 1
    assert outcomes.count(auth.LoginOutcome.THROTTLED) == 7


def test_a_good_login_gives_the_ip_attempt_back(make_user, now):
    from panel_app.models import Throttle

    make_user()
    for _ in range(3):
        assert login("owner@test.example", PASSWORD, now).outcome is auth.LoginOutcome.OK
    with transaction() as db:
        row = db.get(Throttle, "login:ip:203.0.113.5")
        assert row is None or row.failures == 0


@pytest.mark.parametrize("cookie", [
    "a" * 20 + "\x00", "' OR '1'='1' -- aaaaaaaaaaaa", "%s%s%s%(token_hash)saaaaaaaaaa",
    "ä" * 30, "x" * 1_000_000, "\\x00\\' ; DROP TABLE login_session; --",
])
def test_a_hostile_cookie_reads_no_session_and_never_raises(make_user, now, cookie):
    """The tab check's read (db.first_row on the driver's cursor): whatever the cookie holds,
    only its hash reaches the driver, as a parameter."""
    from panel_app.db import get_read_engine

    with get_read_engine().connect() as conn:
        assert sessions.peek_session(conn, cookie, now=now, idle_seconds=1800, writes=False) is None
