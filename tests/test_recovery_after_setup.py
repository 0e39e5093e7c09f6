"""Recovery codes renewed right after the authenticator app was set up (issue 19, item 6).

The session that has just confirmed a new app may renew its codes for a few minutes, even
though its grant came from an email code; no other session, nor this one later, nor a plain
email grant may."""

from __future__ import annotations

import json
import re

from sqlmodel import select

from panel_app.db import transaction
from panel_app.models import AuditEvent, LoginSession, RecoveryCode, User
from panel_app.security import sessions, totp
from panel_app.services import authenticator_setup, recovery_codes
from panel_app.services.audit import Actor
from panel_app.services.methods import authenticator
from panel_app.state.security import RECOVERY_CODES_ELEMENT_ID, SecurityState
from tests.state_harness import login_token, tab_state


def _revealed(answer) -> list[str]:
    """The recovery codes a handler's ``reveal_once`` wrote into the page ([] if none)."""
    specs = answer if isinstance(answer, list) else [answer]
    for spec in specs:
        code = getattr(spec.args[0][1], "_var_value", "") if getattr(spec, "args", None) else ""
        match = re.fullmatch(r"window\.panelReveal\((\"[^\"]*\"), (\[.*\]), \d+\)", str(code))
        if match and json.loads(match.group(1)) == RECOVERY_CODES_ELEMENT_ID:
            return json.loads(match.group(2))
    return []


def _stored_codes(user_id: int) -> set[str]:
    with transaction() as db:
        return set(db.exec(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user_id,
                                                                RecoveryCode.used_at.is_(None))).all())


def _regenerations(user_id: int) -> int:
    with transaction() as db:
        return len(db.exec(select(AuditEvent).where(AuditEvent.actor_user_id == user_id,
                                                    AuditEvent.action == "recovery_codes_regenerated")).all())


def _set_up_app_in(page, user: User, now) -> list[str]:
    """The app set up through the Security page of ``page``'s session; the codes it showed."""
    with transaction() as db:
        secret, _uri = authenticator_setup.begin_totp_enrollment(db, db.get(User, user.id), now)
    page.load()
    answer = page.confirm_enrollment({"code": totp.code_at(secret, now)})
    assert not page.error, page.error
    codes = _revealed(answer)
    assert len(codes) == 10  # positive control: the set-up showed its codes
    return codes


async def test_the_session_that_set_up_the_app_may_renew_its_codes_right_away(make_user, clock):
    user = make_user(email="fresh@test.example")
    page = tab_state(SecurityState, login_token(user, grant_method="email"), "/security")
    first = _set_up_app_in(page, user, clock.now)
    before = _stored_codes(user.id)

    clock.advance(seconds=90)
    renewed = _revealed(page.regenerate_codes())

    assert not page.error and len(renewed) == 10 and set(renewed).isdisjoint(first)
    assert _stored_codes(user.id).isdisjoint(before)  # the first codes no longer work
    assert _regenerations(user.id) == 1
    with transaction() as db:  # the grant is still the email's: the new app authorises nothing more
        row = db.exec(select(LoginSession).where(LoginSession.user_id == user.id)).one()
        assert row.grant_method == "email"


async def test_another_session_may_not_renew_them(make_user, clock):
    """A second browser of the same person (or a mailbox thief's) verified by email, a
    minute after the app was set up elsewhere: refused with the reason, codes unchanged."""
    user = make_user(email="fresh2@test.example")
    setup_page = tab_state(SecurityState, login_token(user, grant_method="email"), "/security")
    _set_up_app_in(setup_page, user, clock.now)
    before = _stored_codes(user.id)

    clock.advance(seconds=60)
    other = tab_state(SecurityState, login_token(user, grant_method="email", ip="198.51.100.7"), "/security")
    other.load()
    assert _revealed(other.regenerate_codes()) == []
    assert other.error and _stored_codes(user.id) == before and _regenerations(user.id) == 0


async def test_the_same_session_may_not_renew_them_later(make_user, clock):
    user = make_user(email="fresh3@test.example")
    page = tab_state(SecurityState, login_token(user, grant_method="email"), "/security")
    _set_up_app_in(page, user, clock.now)
    before = _stored_codes(user.id)

    clock.advance(seconds=recovery_codes.RENEW_AFTER_SETUP.total_seconds() + 1)
    with transaction() as db:  # still verified (by email again): only the window is over
        row = db.exec(select(LoginSession).where(LoginSession.user_id == user.id)).one()
        sessions.start_grant(db, row, method="email", now=clock.now, ttl_seconds=600)
    page.load()
    assert _revealed(page.regenerate_codes()) == []
    assert page.error and _stored_codes(user.id) == before and _regenerations(user.id) == 0


async def test_a_plain_email_grant_still_may_not_renew_them(make_user, clock):
    """An app set up long ago (not by this session): the email code renews nothing, as before;
    the app's own grant does."""
    user = make_user(email="settled@test.example")
    with transaction() as db:
        owner = db.get(User, user.id)
        secret, _uri = authenticator_setup.begin_totp_enrollment(db, owner, clock.now)
        assert authenticator_setup.confirm_totp_enrollment(db, owner, totp.code_at(secret, clock.now), clock.now,
                                                           Actor.for_user(owner)).ok
    before = _stored_codes(user.id)

    clock.advance(seconds=30)
    page = tab_state(SecurityState, login_token(user, grant_method="email"), "/security")
    page.load()
    assert _revealed(page.regenerate_codes()) == [] and page.error
    assert _stored_codes(user.id) == before

    by_app = tab_state(SecurityState, login_token(user, grant_method="totp"), "/security")
    by_app.load()
    assert len(_revealed(by_app.regenerate_codes())) == 10  # positive control


async def test_an_app_set_up_again_elsewhere_ends_the_right(make_user, clock):
    """The first session set the app up; a minute later the app is replaced in another session
    (with the app's own grant): the first session's renewal right was for the app it proved."""
    user = make_user(email="replaced@test.example")
    page = tab_state(SecurityState, login_token(user, grant_method="email"), "/security")
    _set_up_app_in(page, user, clock.now)

    clock.advance(seconds=60)
    with transaction() as db:
        owner = db.get(User, user.id)
        secret, _uri = authenticator_setup.begin_totp_enrollment(db, owner, clock.now)
        assert authenticator_setup.confirm_totp_enrollment(db, owner, totp.code_at(secret, clock.now), clock.now,
                                                           Actor.for_user(owner)).ok
        assert authenticator.active_row(db, user.id).confirmed_at == clock.now
        row = db.exec(select(LoginSession).where(LoginSession.user_id == user.id)).one()
        sessions.start_grant(db, row, method="email", now=clock.now, ttl_seconds=600)
    before = _stored_codes(user.id)

    page.load()
    assert _revealed(page.regenerate_codes()) == [] and page.error
    assert _stored_codes(user.id) == before
