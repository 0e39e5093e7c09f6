"""Issue 20 under attack (outside review, in process): someone with the owner's password and
mailbox (or, instead, their WhatsApp number) and no browser tries to move a factor at once, to
outrank the owner with a factor they add, and to undo the owner's way back.

Every test asserts the SECURE behaviour: a failing test is a hole. The grant itself is not
what is attacked here, so sessions get theirs with ``login_token(grant_method=...)``; the
codes of a contact change are read from the demo outbox, as the attacker reads the mailbox.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from panel_app import tasks
from panel_app.db import transaction
from panel_app.models import FactorChange, User
from panel_app.services import factor_changes
from panel_app.services.audit import Actor
from panel_app.services.methods import authenticator
from panel_app.services.validation import ValidationError
from panel_app.settings import get_settings
from panel_app.state.profile import ProfileState
from panel_app.state.security import SecurityState
from tests.state_harness import db_fingerprint, login_token, tab_state
from tests.test_factor_move_rule import _account
from tests.test_states_areas import _codes_to, reload_user

THIEF_MAIL = "thief@evil.example"
THIEF_MAIL_2 = "thief2@evil.example"
THIEF_PHONE = "+4915177777777"
OWNER_NEW_MAIL = "owner-new@test.example"
OWNER_NEW_PHONE = "+4915188888888"


def _tab(state_cls, user: User, grant: str, path: str):
    state = tab_state(state_cls, login_token(user, grant_method=grant, ip="127.0.0.1"), path, ip="127.0.0.1")
    state.load()
    return state


def _pending(user_id: int) -> list[FactorChange]:
    with transaction() as db:
        return list(db.exec(select(FactorChange).where(FactorChange.user_id == user_id,
                                                       FactorChange.cancelled_at.is_(None),
                                                       FactorChange.applied_at.is_(None))).all())


async def _contact_change(user: User, grant: str, kind: str, new_value: str, *, with_old: bool = True,
                          without_old: bool = False) -> ProfileState:
    """Through the profile page: begin, send, confirm with the codes from the outbox."""
    state = _tab(ProfileState, user, grant, "/profile")
    current = user.email if kind == "email" else user.phone
    state.begin_change(kind)
    if without_old:
        state.set_without_old(True)
    before_new, before_old = len(_codes_to(new_value)), len(_codes_to(current)) if current else 0
    state.send_change_code({"value": new_value})
    await tasks.wait_all()
    new_codes = _codes_to(new_value)[before_new:]
    assert new_codes, f"set-up: no code went out ({state.change_value_error or state.code_error})"
    old_codes = (_codes_to(current)[before_old:] if current else []) if with_old else []
    state.confirm_change({"code": new_codes[-1] if new_codes else "",
                          "old_code": old_codes[-1] if old_codes else ""})
    await tasks.wait_all()
    return state


# --- 1. a new app thrown out by the mailbox, then the mailbox alone moves itself ----------------


async def test_mailbox_cannot_remove_the_owners_new_app_and_then_move_the_address_at_once(make_user):
    """Account: email + an authenticator app the owner set up a day ago (not settled yet).
    The rule says an email grant only *schedules* a new address here ("an app still new is
    still the owner's"). But the same email grant may remove an app that has not settled
    (meant for throwing out a thief's app); once it is gone the account has "no other factor"
    and the mailbox moves itself at once: the owner is locked out with no waiting period."""
    user = _account(make_user, "ea+")
    assert user.phone is None
    security = _tab(SecurityState, user, "email", "/security")
    security.remove_totp()
    await tasks.wait_all()
    state = await _contact_change(reload_user(user.id), "email", "email", THIEF_MAIL)
    assert reload_user(user.id).email == user.email, (
        "the owner's new app was removed with the mailbox, then the address moved at once: "
        f"change_waits={state.change_waits}")


# --- 2. a number added with the mailbox settles and outranks the owner's app ---------------------


async def test_number_added_with_the_mailbox_cannot_be_kept_until_it_settles(make_user, clock):
    """Account: email + a settled app, no number. The mailbox adds the thief's WhatsApp number:
    it would settle into a factor that outranks nothing the owner has, so it waits (announced),
    and the owner's app cancels it; the thief's email grant cannot cancel the owner's cancel, nor
    schedule the number again over it without a factor the change does not replace."""
    user = _account(make_user, "ea")
    assert user.phone is None
    await _contact_change(user, "email", "phone", THIEF_PHONE, with_old=False)
    assert reload_user(user.id).phone is None  # not added at once
    [added] = _pending(user.id)
    clock.advance(hours=1)
    owner = _tab(ProfileState, reload_user(user.id), "totp", "/profile")
    owner.cancel_scheduled(str(added.id))
    assert _pending(user.id) == []
    clock.advance(seconds=get_settings().factor_change_delay_seconds)
    with transaction() as db:
        assert factor_changes.apply_due(db, now=clock.now) == []
    assert reload_user(user.id).phone is None


async def test_mailbox_cannot_cancel_the_owners_removal_of_a_number_the_mailbox_added(make_user, clock):
    """The narrow step of the chain above: the owner's (app-verified) replacement of a number
    that the mailbox added a moment ago must not be cancellable by that mailbox (or it must
    take effect at once: the number has not settled)."""
    user = _account(make_user, "ea")
    await _contact_change(user, "email", "phone", THIEF_PHONE)
    clock.advance(minutes=5)
    await _contact_change(reload_user(user.id), "totp", "phone", OWNER_NEW_PHONE, with_old=False,
                          without_old=True)
    if reload_user(user.id).phone == OWNER_NEW_PHONE:
        return  # thrown out at once: fine
    [change] = _pending(user.id)
    thief = _tab(ProfileState, reload_user(user.id), "email", "/profile")
    thief.cancel_scheduled(str(change.id))
    assert _pending(user.id), "the mailbox cancelled the owner's removal of the thief's own number"


# --- 3. cancelling the owner's waiting change by scheduling another one -------------------------


async def test_mailbox_cannot_cancel_the_owners_new_address_by_scheduling_its_own(make_user, clock):
    """The owner lost the mailbox and, verified by WhatsApp, scheduled a new address (without
    the old one). The thief's email grant may not cancel it, and so may not replace it with a
    change of its own either (replacing is cancelling): refused before any code goes out."""
    user = _account(make_user, "ep")
    await _contact_change(user, "whatsapp", "email", OWNER_NEW_MAIL, with_old=False, without_old=True)
    [owner_change] = _pending(user.id)
    thief = _tab(ProfileState, reload_user(user.id), "email", "/profile")
    thief.cancel_scheduled(str(owner_change.id))
    assert [c.id for c in _pending(user.id)] == [owner_change.id]  # refused, as the rule says
    clock.advance(seconds=61)  # the send cooldown of the email channel
    before = len(_codes_to(THIEF_MAIL_2))
    thief.begin_change("email")
    assert thief.change_step == "" and thief.error
    thief.send_change_code({"value": THIEF_MAIL_2})
    await tasks.wait_all()
    assert len(_codes_to(THIEF_MAIL_2)) == before
    with transaction() as db:
        assert db.get(FactorChange, owner_change.id).cancelled_at is None
        thief_row = db.get(User, user.id)
        with pytest.raises(ValidationError):  # nor through the service, whatever the page does
            factor_changes.schedule(db, Actor.for_user(thief_row), thief_row, "email", THIEF_MAIL_2,
                                    now=clock.now, delay_seconds=3600, requested_by="x", by="email")


async def test_mailbox_cannot_cancel_a_support_scheduled_address_by_scheduling_its_own(make_user):
    """The same through support's path: an agent scheduled the owner's new address."""
    user = _account(make_user, "ep")
    with transaction() as db:
        row = db.get(User, user.id)
        support_change = factor_changes.schedule(db, Actor(None, row.account_id, "Support (Maria)"), row, "email",
                                                 OWNER_NEW_MAIL, now=clock_now(), delay_seconds=72 * 3600,
                                                 requested_by="Support (Maria)", by=factor_changes.BY_PANEL)
    thief = _tab(ProfileState, reload_user(user.id), "email", "/profile")
    thief.begin_change("email")
    assert thief.change_step == "" and thief.error
    with transaction() as db:
        assert db.get(FactorChange, support_change.id).cancelled_at is None


def clock_now():
    from panel_app.clock import utcnow

    return utcnow()


# --- 5. the preview, the per-tab variables, two tabs --------------------------------------------


async def test_a_second_tab_cannot_swap_the_value_a_first_tab_confirms(make_user):
    """Two tabs of the thief's session (email grant): tab A sent a code for a new address, tab
    B one for a new number. A's confirmation with every code the thief reads, and B's with A's
    code, must not move either at once."""
    user = _account(make_user, "ep")
    token = login_token(user, grant_method="email", ip="127.0.0.1")
    a = tab_state(ProfileState, token, "/profile", ip="127.0.0.1")
    b = tab_state(ProfileState, token, "/profile", ip="127.0.0.1")
    a.load()
    b.load()
    a.begin_change("email")
    a.send_change_code({"value": THIEF_MAIL})
    await tasks.wait_all()
    b.begin_change("phone")
    b.set_without_old(True)
    b.send_change_code({"value": THIEF_PHONE})
    await tasks.wait_all()
    # A confirms with codes from every place the thief can read; B with A's code.
    a.confirm_change({"code": _codes_to(THIEF_MAIL)[-1], "old_code": (_codes_to(user.email) or [""])[-1]})
    b.confirm_change({"code": _codes_to(THIEF_MAIL)[-1]})
    await tasks.wait_all()
    final = reload_user(user.id)
    assert final.email == user.email and final.phone == user.phone


async def test_without_old_cannot_be_switched_off_after_the_codes_went_out(make_user):
    user = _account(make_user, "ep")
    state = _tab(ProfileState, user, "whatsapp", "/profile")
    state.begin_change("email")
    state.set_without_old(True)
    state.send_change_code({"value": THIEF_MAIL})
    await tasks.wait_all()
    state.set_without_old(False)
    assert state.change_without_old
    state.confirm_change({"code": _codes_to(THIEF_MAIL)[-1], "old_code": ""})
    assert reload_user(user.id).email == user.email


async def test_a_gate_code_is_not_a_code_to_the_old_address(make_user):
    """Purposes do not mix: a step-up code to the current address is no ``confirm_old_email``."""
    from panel_app.security import codes

    user = _account(make_user, "ep")
    token = login_token(user, grant_method="whatsapp", ip="127.0.0.1")
    state = tab_state(ProfileState, token, "/profile", ip="127.0.0.1")
    state.load()
    state.begin_change("email")
    state.send_change_code({"value": THIEF_MAIL})
    await tasks.wait_all()
    from panel_app.security import sessions
    from panel_app.clock import utcnow

    with transaction() as db:
        session = sessions.find_by_token(db, token)
        gate = codes.issue_code(db, user=db.get(User, user.id), session_id=session.id, purpose="stepup",
                                channel="email", destination=user.email, now=utcnow() + timedelta(seconds=61))
    assert gate.ok and gate.code
    state.confirm_change({"code": _codes_to(THIEF_MAIL)[-1], "old_code": gate.code})
    assert reload_user(user.id).email == user.email


# --- 6. hostile payloads ---------------------------------------------------------------------

HOSTILE = [None, 0, 1, -1, 2**70, 1.5, True, False, "", "x" * 100_000, [], [1, "a"], {}, {"value": None},
           {"value": ["a"]}, {"value": {"$ne": 1}}, {"code": 123456, "old_code": [1]}, {"value": "x" * 100_000},
           {"kind": "email"}, "email", "phone", "password", "totp", "../../etc", "\x00", "1 OR 1=1", "9" * 400]


@pytest.mark.parametrize("state_cls, handler", [
    (ProfileState, "begin_change"), (ProfileState, "set_without_old"), (ProfileState, "send_change_code"),
    (ProfileState, "confirm_change"), (ProfileState, "cancel_scheduled"), (ProfileState, "save_profile"),
    (SecurityState, "set_preferred"), (SecurityState, "confirm_enrollment"), (SecurityState, "sign_out_session"),
    (SecurityState, "forget_device"), (SecurityState, "change_password"),
])
async def test_hostile_payloads_raise_nothing_and_move_nothing(make_user, state_cls, handler):
    user = _account(make_user, "epa")
    with transaction() as db:
        row = db.get(User, user.id)
        # A waiting change the WhatsApp grant below may not cancel (a new number), and that does
        # not keep it from starting a change of the email address.
        factor_changes.schedule(db, Actor.for_user(row), row, "phone", OWNER_NEW_PHONE, now=clock_now(),
                                delay_seconds=3600, requested_by="owner", by=factor_changes.BY_PANEL)
    state = _tab(state_cls, user, "whatsapp", "/profile" if state_cls is ProfileState else "/security")
    if state_cls is ProfileState:
        state.begin_change("email")
        if handler == "confirm_change":  # with codes out, so the payload reaches the comparison
            state.send_change_code({"value": THIEF_MAIL})
            await tasks.wait_all()
            assert state.change_step == "code"
    volatile = {"auditevent", "loginsession", "verificationcode", "outboxmessage", "opentab", "throttle",
                "stepupbudget", "user"}
    before = db_fingerprint(volatile)
    for payload in HOSTILE:
        getattr(state, handler)(payload)
    await tasks.wait_all()
    after = db_fingerprint(volatile)
    assert {k for k in before if before[k] != after.get(k)} == set()
    final = reload_user(user.id)
    assert (final.email, final.phone) == (user.email, user.phone)
    with transaction() as db:
        assert authenticator.is_enrolled(db, db.get(User, user.id))
    assert len(_pending(user.id)) == 1
