"""Review of the method plugins (issue 12), as someone holding the password and one
channel: hostile method names, the guess budget every method shares, the replay guard
on the ``Authenticator`` row, across the gate and the password reset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from panel_app import tasks
from panel_app.db import transaction
from panel_app.models import LoginSession, OutboxMessage, Throttle, User, VerificationCode
from panel_app.security import devices, recovery, sessions, totp
from panel_app.services import authenticator_setup, password_reset, stepup
from panel_app.services.audit import Actor
from panel_app.state.reset import ResetState
from panel_app.state.stepup import StepUpState
from tests.state_harness import db_fingerprint, login_token, tab_state

TTL = 600
# Names a client may send instead of a method: unregistered, look-alikes, junk.
HOSTILE_NAMES = [
    "passkey", "sms", "", " totp", "totp ", "TOTP", "totp\u200b", "\uff54\uff4f\uff54\uff50", "t\u0301otp",
    "email\x00", "recovery" * 2, "x" * 100_000, None, 7, True, ["totp"], {"name": "totp"}, 1.5,
]
# Rows a refused attempt must leave exactly as they were (the audit log may say nothing).
_VOLATILE = {"auditevent", "opentab"}


def _actor(user: User) -> Actor:
    return Actor(user.id, user.account_id, user.email, "203.0.113.9", "pytest")


def _login(db, user: User, now, device_id: int | None = None) -> LoginSession:
    row, _ = sessions.create_session(db, user, ip="203.0.113.9", user_agent="pytest", now=now,
                                     absolute_seconds=48 * 3600)
    row.device_id = device_id
    db.add(row)
    db.flush()
    return row


def _settled_app(user: User, now) -> tuple[str, list[str]]:
    set_up = now - timedelta(days=30)
    with transaction() as db:
        fresh = db.get(User, user.id)
        secret, _ = authenticator_setup.begin_totp_enrollment(db, fresh, set_up)
        result = authenticator_setup.confirm_totp_enrollment(db, fresh, totp.code_at(secret, set_up), set_up,
                                                             _actor(fresh))
        return secret, result.recovery_codes


def _verify(user_id: int, login_id: int, method, submitted, now) -> stepup.VerifyResult:
    with transaction() as db:
        user = db.get(User, user_id)
        return stepup.verify_stepup(db, user=user, login_session=db.get(LoginSession, login_id), method=method,
                                    submitted=submitted, now=now, actor=_actor(user), ttl_seconds=TTL)


def _wrong_digits(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- method names a client makes up ----------------------------------------------------------


@pytest.mark.parametrize("app", [False, True])
def test_a_made_up_method_name_gets_nothing_anywhere(make_user, now, app):
    """No grant, no code sent, no try counted, no exception: for the gate's verify and send,
    for a reset's factor and its WhatsApp code."""
    user = make_user()
    if app:
        _settled_app(user, now)
    with transaction() as db:
        login_id = _login(db, db.get(User, user.id), now).id
    with transaction() as db:
        _uid, token = password_reset.request_link(db, email=user.email, ip="203.0.113.9", now=now)
    before = db_fingerprint(_VOLATILE)
    for name in HOSTILE_NAMES:
        result = _verify(user.id, login_id, name, "123456", now)
        assert (result.ok, result.error_key) == (False, stepup.ERROR_METHOD_UNAVAILABLE), name
        with transaction() as db:
            fresh = db.get(User, user.id)
            sent = stepup.request_stepup_code(db, user=fresh, login_session=db.get(LoginSession, login_id),
                                              channel=name, now=now, actor=_actor(fresh))
            assert not sent.ok and sent.code is None and sent.error_key == stepup.ERROR_METHOD_UNAVAILABLE
            opened = password_reset.open_link(db, token, now)
            factor = password_reset.verify_factor(db, opened, method=name, submitted="123456", now=now,
                                                  actor=_actor(fresh), device_id=None)
            assert (factor.ok, factor.error_key) == (False, stepup.ERROR_METHOD_UNAVAILABLE), name
    assert db_fingerprint(_VOLATILE) == before
    with transaction() as db:
        assert db.get(LoginSession, login_id).grant_expires_at is None


def test_recovery_or_app_without_the_factor_is_no_method(make_user, now):
    """"recovery" with every code used, after the app went, and "totp" with only a set-up
    begun: refused before anything is compared or counted."""
    user = make_user(phone=None)
    secret, codes = _settled_app(user, now)
    with transaction() as db:
        login_id = _login(db, db.get(User, user.id), now).id
    for code in codes:  # the owner used them all
        with transaction() as db:
            assert recovery.consume(db, user.id, recovery.normalize_recovery_code(code)[0], now)
    before = db_fingerprint(_VOLATILE)
    assert _verify(user.id, login_id, "recovery", codes[0], now).error_key == stepup.ERROR_METHOD_UNAVAILABLE
    with transaction() as db:
        authenticator_setup.remove_totp(db, db.get(User, user.id), now, _actor(user))
        authenticator_setup.begin_totp_enrollment(db, db.get(User, user.id), now)  # pending, never confirmed
    before = db_fingerprint(_VOLATILE)
    for method in ("totp", "recovery"):
        assert _verify(user.id, login_id, method, totp.code_at(secret, now), now).error_key == \
            stepup.ERROR_METHOD_UNAVAILABLE
    assert db_fingerprint(_VOLATILE) == before
    with transaction() as db:
        assert stepup.available_methods(db, db.get(User, user.id)) == ["email"]
        assert stepup.fallback_methods(db, db.get(User, user.id)) == []


async def test_the_gate_keeps_its_method_against_made_up_names(make_user, now, clock):
    user = make_user()
    gate = tab_state(StepUpState, login_token(user, clock.now), "/profile")
    gate.prepare()
    chosen = gate.method
    for name in HOSTILE_NAMES:
        gate.choose_method(name)
        assert gate.method == chosen
    gate.send_code()  # the chosen one is email: one code, to the user's own address
    await tasks.wait_all()
    with transaction() as db:
        assert [c.channel for c in db.exec(select(VerificationCode))] == ["email"]


async def test_the_reset_page_keeps_its_method_against_made_up_names(make_user, now, clock):
    user = make_user()
    _settled_app(user, clock.now)
    with transaction() as db:
        _uid, token = password_reset.request_link(db, email=user.email, ip="203.0.113.9", now=clock.now)
    page = tab_state(ResetState, None, "/reset", query={"token": token})
    page.open_reset()
    chosen = page.method
    assert chosen in page.methods and "email" not in page.methods
    for name in [*HOSTILE_NAMES, "email"]:  # email: the mailbox the link went to
        page.choose_method(name)
        assert page.method == chosen
    page.send_code()
    await tasks.wait_all()
    with transaction() as db:
        assert db.exec(select(OutboxMessage)).all() == []


# --- the guess budget --------------------------------------------------------------------------


def test_app_and_recovery_guesses_share_one_cap_across_known_browsers(make_user, now):
    """Through the gate itself: wrong app codes and wrong recovery codes from three browsers
    made known with the mailbox, each browser's schedule reset by an email code whenever it
    reaches its first wait. 25 of them are compared in 24 hours, not one more."""
    user = make_user(phone=None)
    secret, codes = _settled_app(user, now)
    wrong_recovery = "aaaa-bbbb-cccc"
    assert wrong_recovery.replace("-", "") not in [c.replace("-", "") for c in codes]
    logins = []
    for _ in range(3):
        with transaction() as db:
            row = _login(db, db.get(User, user.id), now)
            sessions.start_grant(db, row, method="email", now=now, ttl_seconds=TTL)
            device, _cookie = devices.remember(db, row, user_agent="attacker", ip="203.0.113.66", now=now)
            row.device_id = device.id
            db.add(row)
            logins.append((row.id, device.id))
    compared = 0
    for minute in range(0, 24 * 60, 3):
        at = now + timedelta(minutes=minute)
        for index, (login_id, device_id) in enumerate(logins):
            with transaction() as db:
                fresh = db.get(User, user.id)
                if stepup.failures_so_far(db, fresh, device_id) >= 5:
                    stepup.guess_succeeded(db, fresh, device_id, "email")  # the attacker's email code
            if (minute + index) % 2:
                result = _verify(user.id, login_id, "totp", _wrong_digits(totp.code_at(secret, at)), at)
            else:
                result = _verify(user.id, login_id, "recovery", wrong_recovery, at)
            assert not result.ok
            assert result.error_key != stepup.ERROR_SESSION_INVALID
            compared += result.error_key != stepup.ERROR_LOCKED
    assert compared == stepup.FAILURES_PER_WINDOW
    with transaction() as db:
        row = db.get(Throttle, f"stepup:app-window:{user.id}")
        assert row is not None and row.failures == stepup.FAILURES_PER_WINDOW


def test_one_app_code_opens_one_thing_the_gate_or_a_reset_not_both(make_user, now, race):
    """The same app code sent at the same instant to the gate (a session with the password)
    and to a password reset (a link from the mailbox): the step is claimed once, on the
    Authenticator row."""
    user = make_user(phone=None)
    secret, _codes = _settled_app(user, now)
    later = now + timedelta(minutes=1)
    code = totp.code_at(secret, later)
    with transaction() as db:
        login_id = _login(db, db.get(User, user.id), now).id
        _uid, token = password_reset.request_link(db, email=user.email, ip="203.0.113.9", now=now)

    def attempt(index: int):
        if index == 0:
            return _verify(user.id, login_id, "totp", code, later).ok
        with transaction() as db:
            opened = password_reset.open_link(db, token, later)
            return password_reset.verify_factor(db, opened, method="totp", submitted=code, now=later,
                                                actor=_actor(opened.user), device_id=None).ok

    results = race.times(2, attempt)
    assert sorted(results) == [False, True], results
    with transaction() as db:
        granted = sessions.grant_is_valid(db.get(LoginSession, login_id), later)
        opened = password_reset.open_link(db, token, later)
        assert granted != opened.verified
