"""Email/WhatsApp one-time codes: hashing, expiry, single use (also under a race),
binding to user/session/purpose, tries per code, replacement, cooldown, hourly limit
and malformed input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from panel_app.models import User, VerificationCode
from panel_app.security import codes, sessions


@pytest.fixture
def user(db, make_user):
    return db.get(User, make_user().id)


def _login_session(db, user, now):
    row, _token = sessions.create_session(db, user, ip="", user_agent="", now=now, absolute_seconds=12 * 3600)
    db.commit()
    return row


@pytest.fixture
def session_id(db, user, now):
    return _login_session(db, user, now).id


def issue(db, user, session_id, now, *, purpose="stepup", channel="email", destination="owner@test.example"):
    outcome = codes.issue_code(db, user=user, session_id=session_id, purpose=purpose, channel=channel,
                               destination=destination, now=now)
    db.commit()
    return outcome


def check(db, user, session_id, submitted, now, *, purpose="stepup"):
    outcome = codes.check_code(db, user=user, session_id=session_id, purpose=purpose, submitted=submitted,
                               now=now)
    db.commit()
    return outcome


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_code_is_six_digits_and_stored_only_as_hash(db, user, session_id, now):
    outcome = issue(db, user, session_id, now)
    assert outcome.ok and len(outcome.code) == 6 and outcome.code.isdigit()
    row = db.get(VerificationCode, outcome.code_id)
    assert outcome.code not in row.code_hash and len(row.code_hash) == 64
    assert row.expires_at == now + timedelta(minutes=10)
    assert row.attempts == 0 and row.consumed_at is None


def test_codes_are_not_predictable():
    assert len({codes.new_code() for _ in range(200)}) > 150


def test_correct_code_works_once(db, user, session_id, now):
    code = issue(db, user, session_id, now).code
    first = check(db, user, session_id, code, now + timedelta(seconds=10))
    assert first.ok
    second = check(db, user, session_id, code, now + timedelta(seconds=11))
    assert not second.ok and second.error_key == "stepup.error.no_code"


def test_expiry_by_moving_the_clock(db, user, session_id, now):
    code = issue(db, user, session_id, now).code
    late = check(db, user, session_id, code, now + timedelta(minutes=10))
    assert not late.ok and late.error_key == "stepup.error.code_expired"
    # An expired code was not consumed by that refusal, but it stays unusable.
    assert not check(db, user, session_id, code, now + timedelta(minutes=11)).ok


def test_just_before_expiry_is_fine(db, user, session_id, now):
    code = issue(db, user, session_id, now).code
    assert check(db, user, session_id, code, now + timedelta(seconds=599)).ok


def test_five_wrong_tries_kill_the_code(db, user, session_id, now):
    code = issue(db, user, session_id, now).code
    wrong = other_code(code)
    for expected_left in (4, 3, 2, 1, 0):
        result = check(db, user, session_id, wrong, now)
        assert not result.ok and result.error_key == "stepup.error.code_wrong"
        assert result.tries_left == expected_left
    dead = check(db, user, session_id, code, now)
    assert not dead.ok and dead.error_key == "stepup.error.code_dead"


def test_four_wrong_tries_then_right_is_fine(db, user, session_id, now):
    code = issue(db, user, session_id, now).code
    for _ in range(4):
        assert not check(db, user, session_id, other_code(code), now).ok
    assert check(db, user, session_id, code, now).ok


@pytest.mark.parametrize(
    "submitted",
    ["abcdef", "12345", "1234567", "１２３４５６", "12 34 5a", "", "   ", "1" * 10_000, None, 123456,
     ["123456"], 12.0, b"123456", "123456\n7"],
)
def test_bad_input_is_refused_and_not_counted(db, user, session_id, now, submitted):
    outcome = issue(db, user, session_id, now)
    result = check(db, user, session_id, submitted, now)
    assert not result.ok
    assert result.error_key in ("stepup.error.code_format", "stepup.error.code_empty")
    assert not result.was_guess
    assert db.get(VerificationCode, outcome.code_id).attempts == 0
    # The real code still works afterwards.
    assert check(db, user, session_id, outcome.code, now).ok


@pytest.mark.parametrize(
    ("submitted", "expected"),
    [("", "empty"), (None, "empty"), (" \t ", "empty"), ("١٢٣٤٥٦", "malformed"), (" 123 456 ", None),
     ("123-456", None), ("1-2-3-4-5-6", None)],
)
def test_normalize_digits(submitted, expected):
    value, reason = codes.normalize_digits(submitted)
    assert reason == expected
    if expected is None:
        assert value == "123456"


def test_code_of_another_user_session_or_purpose_is_refused(db, user, make_user, session_id, now):
    code = issue(db, user, session_id, now).code
    other_user = db.get(User, make_user(email="other@test.example").id)
    other_session = _login_session(db, user, now).id
    assert not check(db, other_user, session_id, code, now).ok
    assert not check(db, user, other_session, code, now).ok
    assert not check(db, user, session_id, code, now, purpose="confirm_email").ok
    # None of these spent a try of the real code.
    assert check(db, user, session_id, code, now).ok


def test_hash_binds_user_session_and_purpose(db, user, session_id, now, monkeypatch):
    """Even a row that carries another session's hash does not accept that code."""
    monkeypatch.setattr(codes, "new_code", lambda: "111111")
    original = issue(db, user, session_id, now)
    other_session = _login_session(db, user, now).id
    monkeypatch.setattr(codes, "new_code", lambda: "222222")
    target = issue(db, user, other_session, now + timedelta(seconds=60))
    assert target.ok
    row = db.get(VerificationCode, target.code_id)
    row.code_hash = db.get(VerificationCode, original.code_id).code_hash  # rows mixed up
    db.add(row)
    db.commit()
    result = check(db, user, other_session, "111111", now + timedelta(seconds=61))
    assert not result.ok and result.reason == "wrong"
    # Likewise for another purpose of the same session.
    assert codes._code_hash("111111", user_id=user.id, session_id=session_id, purpose="stepup") != \
        codes._code_hash("111111", user_id=user.id, session_id=session_id, purpose="confirm_email")


def test_new_code_replaces_the_old_one(db, user, session_id, now):
    first = issue(db, user, session_id, now).code
    later = now + timedelta(seconds=61)
    second = issue(db, user, session_id, later, channel="whatsapp", destination="+4915112345612").code
    if first != second:
        result = check(db, user, session_id, first, later)
        assert not result.ok and result.reason == "wrong"
    assert check(db, user, session_id, second, later).ok
    live = db.exec(select(VerificationCode).where(VerificationCode.replaced_at.is_(None))).all()
    assert len(live) == 1


def test_resend_cooldown(db, user, session_id, now):
    assert issue(db, user, session_id, now).ok
    early = issue(db, user, session_id, now + timedelta(seconds=20))
    assert not early.ok and early.error_key == "stepup.error.resend_cooldown"
    assert early.retry_after_seconds == 40 and early.code is None
    # A refused send changes nothing: the first code is still the live one.
    assert len(db.exec(select(VerificationCode)).all()) == 1
    # The cooldown is per channel and cannot be skipped by logging in again.
    assert not issue(db, user, _login_session(db, user, now).id, now + timedelta(seconds=30)).ok
    assert issue(db, user, session_id, now + timedelta(seconds=30), channel="whatsapp",
                 destination="+4915112345612").ok
    assert issue(db, user, session_id, now + timedelta(seconds=60)).ok


def test_hourly_limit_per_user_and_channel(db, user, session_id, now):
    for minute in range(5):
        assert issue(db, user, session_id, now + timedelta(minutes=minute)).ok
    blocked = issue(db, user, session_id, now + timedelta(minutes=5))
    assert not blocked.ok and blocked.error_key == "stepup.error.send_limit"
    assert blocked.retry_after_seconds == 3600 - 5 * 60
    # Other sessions do not get around it; the other channel has its own budget.
    assert not issue(db, user, _login_session(db, user, now).id, now + timedelta(minutes=6)).ok
    assert issue(db, user, session_id, now + timedelta(minutes=6), channel="whatsapp",
                 destination="+4915112345612").ok
    just_before = issue(db, user, session_id, now + timedelta(seconds=3599))
    assert not just_before.ok and just_before.retry_after_seconds == 1
    assert issue(db, user, session_id, now + timedelta(hours=1)).ok
    # Sends at 1, 2, 3, 4 min and 60 min are in the window: the next fits at 61 min.
    again = issue(db, user, session_id, now + timedelta(minutes=60, seconds=59))
    assert not again.ok and again.retry_after_seconds == 1


def test_unknown_channel_or_empty_destination(db, user, session_id, now):
    for channel, destination in (("sms", "+4915112345612"), ("email", ""), ("email", None)):
        outcome = issue(db, user, session_id, now, channel=channel, destination=destination)
        assert not outcome.ok and outcome.error_key == "stepup.error.method_unavailable"


def test_two_simultaneous_checks_exactly_one_wins(db, user, session_id, now, race):
    code = issue(db, user, session_id, now).code
    results = race.in_sessions(2, lambda session, mine: codes.check_code(
        session, user=mine, session_id=session_id, purpose="stepup", submitted=code, now=now),
        load=lambda session, _: session.get(User, user.id))
    assert len(results) == 2
    winners = [r for r in results if isinstance(r, codes.CheckOutcome) and r.ok]
    assert len(winners) == 1
    loser = next(r for r in results if r is not winners[0])
    assert isinstance(loser, codes.CheckOutcome) and not loser.ok
    db.expire_all()
    assert db.get(VerificationCode, winners[0].code_row_id).consumed_at is not None


def test_parallel_wrong_guesses_cannot_exceed_five(db, user, session_id, now, race):
    code = issue(db, user, session_id, now).code
    wrong = other_code(code)
    results = race.in_sessions(8, lambda session, mine: codes.check_code(
        session, user=mine, session_id=session_id, purpose="stepup", submitted=wrong, now=now),
        load=lambda session, _: session.get(User, user.id))
    compared = [r for r in results if isinstance(r, codes.CheckOutcome) and r.reason == "wrong"]
    assert len(compared) == 5
    db.expire_all()
    row = db.exec(select(VerificationCode)).one()
    assert row.attempts == 5
    assert check(db, user, session_id, code, now).error_key == "stepup.error.code_dead"
