"""Attacks on the factors by someone holding the password and one channel (issue 9),
through the states and services a websocket client reaches."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sqlmodel import select

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.models import AuditEvent, Throttle, User
from panel_app.security import totp
from panel_app.services import auth, authenticator_setup, stepup
from panel_app.services.audit import Actor
from panel_app.services.methods import authenticator
from panel_app.state.security import SecurityState
from tests.state_harness import login_token, tab_state

PASSWORD = "correct horse battery"


def _enrolled(make_user, *, days_ago: int = 4) -> User:
    """A user with an app set up ``days_ago`` (longer than the 72 h waiting period: settled)."""
    user = make_user()
    now = utcnow()
    with transaction() as db:
        user = db.get(User, user.id)
        secret, _uri = authenticator_setup.begin_totp_enrollment(db, user, now)
        assert authenticator_setup.confirm_totp_enrollment(db, user, totp.code_at(secret, now), now,
                                              Actor.for_user(user, ip="", user_agent="")).ok
        app = authenticator.active_row(db, user.id)
        app.confirmed_at = now - timedelta(days=days_ago)
        db.add(app)
    return user


def _totp_on(user_id: int) -> bool:
    with transaction() as db:
        return authenticator.is_enrolled(db, db.get(User, user_id))


async def test_an_email_code_cannot_remove_the_authenticator_app(make_user):
    user = _enrolled(make_user)
    page = tab_state(SecurityState, login_token(user, grant_method="email"), "/security")
    page.load()
    page.remove_totp()
    assert _totp_on(user.id) and page.error  # refused, with a reason
    page.begin_enrollment()  # nor replace it with the attacker's own
    assert not page.enrolling


async def test_an_app_still_new_may_be_removed_by_any_verification(make_user):
    """An app added with a stolen mailbox: the owner (who has no such app) throws it out
    with the email or WhatsApp code during the waiting period, not after."""
    user = _enrolled(make_user, days_ago=2)
    page = tab_state(SecurityState, login_token(user, grant_method="whatsapp"), "/security")
    page.load()
    page.remove_totp()
    assert not _totp_on(user.id)


@pytest.mark.parametrize("method", ["totp", "recovery"])
async def test_the_app_itself_or_a_recovery_code_may_remove_it(make_user, method):
    user = _enrolled(make_user)
    page = tab_state(SecurityState, login_token(user, grant_method=method), "/security")
    page.load()
    page.remove_totp()
    assert not _totp_on(user.id)


def test_current_password_guesses_are_throttled_and_audited(make_user, race):
    """20 simultaneous wrong guesses from a verified session (as 20 websocket events)."""
    user = make_user()
    token = login_token(user, grant_method="email")
    pages = [tab_state(SecurityState, token, "/security") for _ in range(20)]
    race.times(20, lambda i: pages[i].change_password(
        {"current_password": "wrong guess", "new_password": "a-brand-new-password-9"}))
    errors = [page.password_errors.get("current_password", "") for page in pages]
    compared = sum("not correct" in e for e in errors)
    assert 1 <= compared <= 5 and sum("Too many" in e for e in errors) == 20 - compared
    with transaction() as db:
        actions = [e.action for e in db.exec(select(AuditEvent).where(AuditEvent.actor_user_id == user.id))]
    assert actions.count("password_check_failed") == compared
    assert actions.count("password_check_throttled") == 1  # once a minute, not once per try
    # The same budget as sign-in: these failures count against the account's logins too.
    with transaction() as db:
        row = db.get(Throttle, auth._account_key(user.email))
        assert row.failures >= compared and row.locked_until is not None


def test_a_new_email_address_does_not_reset_the_password_budget(make_user):
    from panel_app.security import sessions
    from panel_app.services import profile

    user = make_user()
    token = login_token(user, grant_method="email")
    for _ in range(5):
        tab_state(SecurityState, token, "/security").change_password(
            {"current_password": "wrong guess", "new_password": "a-brand-new-password-9"})
    with transaction() as db:
        row = db.get(User, user.id)
        profile.set_contact(db, Actor.for_user(row), row, "email", "fresh@test.example", utcnow())
        sessions.start_grant(db, sessions.find_by_token(db, token), method="email", now=utcnow(), ttl_seconds=600)
    with transaction() as db:  # the address's budget is new; the user's is not
        assert db.get(Throttle, auth._account_key("fresh@test.example")) is None
        assert db.get(Throttle, f"password:user:{user.id}").failures == 5


async def test_guesses_at_the_code_to_the_current_number_count_in_the_step_up_budget(make_user):
    from panel_app import tasks
    from panel_app.state.profile import ProfileState

    user = make_user()
    page = tab_state(ProfileState, login_token(user, grant_method="email"), "/profile")
    page.load()
    page.begin_change("phone")
    page.send_change_code({"value": "+4915199999999"})
    await tasks.wait_all()
    for _ in range(stepup.STEPUP_POLICY.free_failures + 1):
        page.confirm_change({"code": "111111", "old_code": "000000"})
    with transaction() as db:
        row = db.get(User, user.id)
        assert row.stepup_failures >= stepup.STEPUP_POLICY.free_failures and row.stepup_locked_until
    assert "Too many failed attempts" in page.code_error
