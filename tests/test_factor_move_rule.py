"""Issue 20, items 1 and 2: one rule for moving a factor (services/factor_rules.py), as tables
over (grant method × change × factors the account has), then through the profile page as a
websocket client reaches it: a grant obtained through channel X never moves X or any other
factor at once while the account has another factor, and a waiting change is cancelled only
by a settled factor it does not replace."""

from __future__ import annotations

from datetime import timedelta

import pytest

from panel_app import tasks
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.models import User
from panel_app.security import totp
from panel_app.services import authenticator_setup, factor_changes, factor_rules
from panel_app.services.audit import Actor
from panel_app.services.factor_rules import Decision
from panel_app.services.validation import ValidationError
from panel_app.state.profile import ProfileState
from tests.state_harness import login_token, tab_state
from tests.test_states_areas import _codes_to, _messages_to, reload_user

AT_ONCE, SCHEDULE, REFUSE = Decision.AT_ONCE, Decision.SCHEDULE, Decision.REFUSE
PHONE = "+4915112345612"

# What an account has: e = email (always), p = mobile number, a = authenticator app;
# a "+" after a factor: set up a day ago (not settled yet: the waiting period is 72 h).
ACCOUNTS = ("e", "ep", "ep+", "ea", "ea+", "epa")


def _account(make_user, shape: str) -> User:
    now = utcnow()
    user = make_user(phone=PHONE if "p" in shape else None)
    with transaction() as db:
        row = db.get(User, user.id)
        if "p+" in shape:
            row.phone_changed_at = now - timedelta(days=1)
            db.add(row)
        if "a" in shape:
            secret, _uri = authenticator_setup.begin_totp_enrollment(db, row, now)
            assert authenticator_setup.confirm_totp_enrollment(db, row, totp.code_at(secret, now), now,
                                                               Actor.for_user(row)).ok
            app = authenticator_setup.authenticator.active_row(db, row.id)
            app.confirmed_at = now - timedelta(days=1 if "a+" in shape else 30)
            db.add(app)
    return reload_user(user.id)


# (account, grant method, factor changed, also proven by a code to its current value, removing) → decision
MOVES = [
    # The review's takeover: the mailbox alone moves the mailbox.
    ("ep", "email", "email", True, False, SCHEDULE),
    ("ea", "email", "email", True, False, SCHEDULE),
    ("epa", "email", "email", True, False, SCHEDULE),
    ("ea+", "email", "email", True, False, SCHEDULE),  # an app still new is still the owner's
    ("ep+", "email", "email", True, False, SCHEDULE),
    # With a grant from another settled factor and the code to the current address: at once.
    ("ep", "whatsapp", "email", True, False, AT_ONCE),
    ("ea", "totp", "email", True, False, AT_ONCE),
    ("ea", "recovery", "email", True, False, AT_ONCE),
    ("epa", "whatsapp", "email", True, False, AT_ONCE),
    # ... but not with a factor still new (added perhaps with the stolen mailbox).
    ("ep+", "whatsapp", "email", True, False, SCHEDULE),
    ("ea+", "totp", "email", True, False, SCHEDULE),
    # Without the current address ("I no longer have access"): always waits.
    ("ep", "whatsapp", "email", False, False, SCHEDULE),
    ("ea", "totp", "email", False, False, SCHEDULE),
    # The only factor there is: nothing else to protect.
    ("e", "email", "email", True, False, AT_ONCE),
    # The phone, the same way round.
    ("ep", "whatsapp", "phone", True, False, SCHEDULE),
    ("epa", "whatsapp", "phone", True, False, SCHEDULE),
    ("ep", "email", "phone", True, False, AT_ONCE),
    ("epa", "totp", "phone", True, False, AT_ONCE),
    ("ep", "email", "phone", False, False, SCHEDULE),
    ("ep", "totp", "phone", True, False, SCHEDULE),  # an app grant without an app proves nothing
    ("e", "email", "phone", False, False, AT_ONCE),  # a first number, nothing else to guard
    # A first number through a channel alone, while an app guards the account: it would settle
    # into a factor the owner never had, so it waits; the settled app vouches for it at once.
    ("ea", "email", "phone", False, False, SCHEDULE),
    ("ea", "totp", "phone", False, False, AT_ONCE),
    ("ea+", "totp", "phone", False, False, SCHEDULE),
    # The app proves itself; no channel moves it; one still new may be thrown out by anyone.
    ("ea", "totp", "totp", False, False, AT_ONCE),
    ("ea", "recovery", "totp", False, True, AT_ONCE),
    ("ea", "email", "totp", False, False, REFUSE),
    ("epa", "whatsapp", "totp", False, True, REFUSE),
    ("ea+", "email", "totp", False, True, AT_ONCE),
    ("ea+", "email", "totp", False, False, REFUSE),
    ("e", "email", "totp", False, False, AT_ONCE),  # a first app
    # Made-up methods prove nothing.
    ("ep", "bogus", "email", True, False, SCHEDULE),
    ("ea", None, "totp", False, False, REFUSE),
]


@pytest.mark.parametrize("shape, grant, factor, old_proven, removing, expected", MOVES)
def test_what_a_grant_may_move_at_once(make_user, shape, grant, factor, old_proven, removing, expected):
    user = _account(make_user, shape)
    with transaction() as db:
        decision = factor_rules.decide(db, db.get(User, user.id), factor=factor, grant_method=grant,
                                       proven=frozenset({factor}) if old_proven else frozenset(),
                                       removing=removing, now=utcnow())
    assert decision is expected


def test_a_factor_removed_lately_still_guards_the_mailbox(make_user):
    """An app still new may be removed by any verification (so an owner can throw out a thief's);
    for the waiting period after, the account counts as still having it: the mailbox that
    removed it cannot then move itself at once."""
    user = _account(make_user, "ea+")
    now = utcnow()
    with transaction() as db:
        row = db.get(User, user.id)
        assert factor_rules.decide(db, row, factor="totp", grant_method="email", removing=True,
                                   now=now) is AT_ONCE
        assert authenticator_setup.remove_totp(db, row, now, Actor.for_user(row))
    for later, expected in ((timedelta(hours=71), SCHEDULE), (timedelta(hours=73), AT_ONCE)):
        with transaction() as db:
            assert factor_rules.decide(db, db.get(User, user.id), factor="email", grant_method="email",
                                       proven=frozenset({"email"}), now=now + later) is expected


# (account, grant method, kind of the waiting change) → may cancel
CANCELS = [
    ("ep", "email", "email", False),  # the mailbox the change replaces
    ("ep", "whatsapp", "email", True),
    ("ep", "whatsapp", "phone", False),  # the number the change replaces
    ("ep", "email", "phone", True),
    ("ep+", "whatsapp", "email", False),  # a number still new (the thief's, perhaps)
    ("ea", "totp", "email", True),
    ("ea", "recovery", "email", True),
    ("ea+", "totp", "email", False),
    ("e", "email", "email", False),  # only support can
    ("e", "email", "password", True),  # a reset without a second factor: any settled one
    ("ep", "bogus", "phone", False),
    ("ep", None, "phone", False),
]


@pytest.mark.parametrize("shape, grant, kind, expected", CANCELS)
def test_who_may_cancel_a_waiting_change(make_user, shape, grant, kind, expected):
    user = _account(make_user, shape)
    now = utcnow()
    with transaction() as db:
        row = db.get(User, user.id)
        value = {"email": "new@test.example", "phone": "+4915199999999", "password": "x-hash"}[kind]
        change = factor_changes.schedule(db, Actor.for_user(row), row, kind, value, now=now, delay_seconds=3600,
                                         requested_by="test", by=factor_changes.BY_PANEL)
    with transaction() as db:
        row = db.get(User, user.id)
        if expected:
            factor_changes.cancel(db, Actor.for_user(row), row, change.id, now=now, by=grant)
        else:
            with pytest.raises(ValidationError):
                factor_changes.cancel(db, Actor.for_user(row), row, change.id, now=now, by=grant)
    with transaction() as db:
        assert (factor_changes.pending(db, user.id) == []) is expected


def test_support_cancels_any_waiting_change(make_user):
    user = _account(make_user, "e")
    now = utcnow()
    with transaction() as db:
        row = db.get(User, user.id)
        change = factor_changes.schedule(db, Actor.for_user(row), row, "email", "new@test.example", now=now,
                                         delay_seconds=3600, requested_by="Support (Maria)", by=factor_changes.BY_PANEL)
        factor_changes.cancel(db, Actor(None, row.account_id, "Support (Maria)"), row, change.id, now=now,
                              by=factor_changes.BY_PANEL)
        assert factor_changes.pending(db, user.id) == []


# --- through the profile page ---------------------------------------------------------------


async def _change(user: User, grant: str, kind: str, new_value: str, *, with_old: bool = True) -> ProfileState:
    state = tab_state(ProfileState, login_token(user, grant_method=grant, ip="127.0.0.1"), "/profile",
                      ip="127.0.0.1")
    state.load()
    state.begin_change(kind)
    state.send_change_code({"value": new_value})
    await tasks.wait_all()
    current = user.email if kind == "email" else user.phone
    new_code = _codes_to(new_value)[0]
    old_codes = _codes_to(current) if with_old else []
    state.confirm_change({"code": new_code, "old_code": old_codes[0] if old_codes else ""})
    await tasks.wait_all()
    return state


async def test_an_email_grant_only_schedules_a_new_email_address(make_user):
    """The review's takeover, through the page: no code to the old address is even asked for
    (the grant came from that mailbox); the change waits, announced on WhatsApp with how to
    cancel it, and the email grant cannot cancel it."""
    user = _account(make_user, "ep")
    state = tab_state(ProfileState, login_token(user, grant_method="email", ip="127.0.0.1"), "/profile",
                      ip="127.0.0.1")
    state.load()
    state.begin_change("email")
    assert state.change_waits  # said before anything is typed
    state.send_change_code({"value": "thief@evil.example"})
    await tasks.wait_all()
    assert not state.change_confirm_old and _codes_to(user.email) == []
    state.confirm_change({"code": _codes_to("thief@evil.example")[0]})
    await tasks.wait_all()
    assert reload_user(user.id).email == user.email and reload_user(user.id).factor_change_pending
    [on_phone] = [text for text in _messages_to(PHONE) if "will be changed" in text]
    assert "other than email" in on_phone and "/profile?cancel_change=" in on_phone
    [row] = state.scheduled
    assert not row.may_cancel and "WhatsApp" in row.advice
    state.cancel_scheduled(row.id)
    assert reload_user(user.id).factor_change_pending and "cannot cancel" in state.error


async def test_a_whatsapp_grant_and_the_old_address_change_it_at_once(make_user):
    user = _account(make_user, "ep")
    state = await _change(user, "whatsapp", "email", "new@test.example")
    assert reload_user(user.id).email == "new@test.example" and not state.change_waits


async def test_a_whatsapp_grant_only_schedules_a_new_number(make_user):
    user = _account(make_user, "ep")
    await _change(user, "whatsapp", "phone", "+4915199999999")
    assert reload_user(user.id).phone == PHONE and reload_user(user.id).factor_change_pending


async def test_an_email_grant_and_the_old_number_change_it_at_once(make_user):
    user = _account(make_user, "ep")
    await _change(user, "email", "phone", "+4915199999999")
    assert reload_user(user.id).phone == "+4915199999999"


async def test_the_decision_is_taken_again_when_the_code_is_confirmed(make_user):
    """The codes went out under a WhatsApp grant; by the confirmation the session's grant came
    from the mailbox (another tab verified again by email): the change waits."""
    user = _account(make_user, "ep")
    token = login_token(user, grant_method="whatsapp", ip="127.0.0.1")
    state = tab_state(ProfileState, token, "/profile", ip="127.0.0.1")
    state.load()
    state.begin_change("email")
    state.send_change_code({"value": "new@test.example"})
    await tasks.wait_all()
    assert state.change_confirm_old
    from panel_app.security import sessions

    with transaction() as db:
        sessions.start_grant(db, sessions.find_by_token(db, token), method="email", now=utcnow(), ttl_seconds=600)
    state.confirm_change({"code": _codes_to("new@test.example")[0], "old_code": _codes_to(user.email)[0]})
    await tasks.wait_all()
    assert reload_user(user.id).email == user.email and reload_user(user.id).factor_change_pending


async def test_the_only_factor_still_changes_at_once(make_user):
    user = _account(make_user, "e")
    await _change(user, "email", "email", "new@test.example")
    assert reload_user(user.id).email == "new@test.example"
