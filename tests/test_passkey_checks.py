"""Every check of the passkey core, each with a test that fails without it: registration and
assertion ceremonies (``services/passkeys.py``), the step-up method through
``stepup.verify_stepup`` (guess budget, grant, the cloned-passkey alert), races, hostile input,
the factor rules of adding and removing passkeys (``services/passkey_setup.py``) and the user
handle. Browser-like responses come from ``tests/fakes/soft_authenticator.py``."""

from __future__ import annotations

import json
import struct
from datetime import timedelta

import pytest
from sqlmodel import select
from webauthn.helpers import bytes_to_base64url

from panel_app.models import AuditEvent, LoginSession, Throttle, User, WebAuthnChallenge, WebAuthnCredential
from panel_app.security import sessions, staff, totp
from panel_app.services import authenticator_setup, factor_rules, passkey_setup, passkeys, stepup
from panel_app.services.audit import Actor
from panel_app.services.methods import CodeScope
from panel_app.services.methods import passkey as passkey_method
from panel_app.settings import get_settings
from tests.fakes.soft_authenticator import SoftCredential

TTL = 600
ORIGIN = "http://localhost:3000"  # PANEL_PUBLIC_URL's default in tests
Owner, Binding = passkeys.Owner, passkeys.Binding


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def user(db, make_user):
    return db.get(User, make_user().id)


@pytest.fixture
def other(db, make_user):
    return db.get(User, make_user(email="other@test.example", phone="+4915112345699", name="Other").id)


def new_login(db, user, now) -> LoginSession:
    row, _token = sessions.create_session(db, user, ip="", user_agent="", now=now, absolute_seconds=12 * 3600)
    db.commit()
    return row


@pytest.fixture
def login(db, user, now):
    return new_login(db, user, now)


def actor_for(user, login_session=None):
    return Actor.for_user(user, ip="203.0.113.9", session_id=login_session.id if login_session else None)


def reg_options(db, user, login, now) -> str:
    options = passkeys.registration_options(db, owner=Owner(user_id=user.id), binding=Binding(session_id=login.id),
                                            user_name=user.email, display_name=user.name, now=now)
    db.commit()
    return options


def finish(db, user, login, response, now, name="Laptop") -> passkeys.Registered:
    result = passkeys.finish_registration(db, owner=Owner(user_id=user.id), binding=Binding(session_id=login.id),
                                          response=response, name=name, now=now)
    db.commit()
    return result


def register(db, user, login, now, cred: SoftCredential | None = None, name="Laptop") -> SoftCredential:
    cred = cred or SoftCredential()
    result = finish(db, user, login, cred.register(reg_options(db, user, login, now)), now, name=name)
    assert result.ok, result
    return cred


def step_options(db, user, login, now) -> str:
    options = passkeys.authentication_options(db, purpose=passkeys.PURPOSE_STEPUP,
                                              binding=Binding(session_id=login.id), now=now,
                                              owner=Owner(user_id=user.id))
    db.commit()
    return options


def check(db, user, login, response, now) -> passkeys.Asserted:
    result = passkeys.check_assertion(db, purpose=passkeys.PURPOSE_STEPUP, binding=Binding(session_id=login.id),
                                      response=response, now=now, owner=Owner(user_id=user.id))
    db.commit()
    return result


def method_options(db, user, login, now) -> str:
    options = passkey_method.METHOD.options_for(db, user=user, scope=CodeScope(login.id, "stepup"), now=now)
    db.commit()
    assert options
    return options


def verify(db, user, login, submitted, now) -> stepup.VerifyResult:
    result = stepup.verify_stepup(db, user=user, login_session=login, method="passkey", submitted=submitted,
                                  now=now, actor=actor_for(user, login), ttl_seconds=TTL)
    db.commit()
    return result


def challenge_of(options_json: str) -> str:
    return json.loads(options_json)["challenge"]


def challenge_row(db, options_json: str) -> WebAuthnChallenge:
    db.expire_all()
    return db.exec(select(WebAuthnChallenge).where(WebAuthnChallenge.challenge == challenge_of(options_json))).one()


def stored(db) -> list[WebAuthnCredential]:
    db.expire_all()
    return list(db.exec(select(WebAuthnCredential).order_by(WebAuthnCredential.id)).all())


def actions(db) -> list[str]:
    db.expire_all()
    return [e.action for e in db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


def failures_of(db, user) -> int:
    db.expire_all()
    return db.get(User, user.id).stepup_failures


def window_failures(db, user) -> int:
    db.expire_all()
    row = db.get(Throttle, f"stepup:unknown-window:{user.id}")
    return row.failures if row is not None else 0


def bend(response_json: str, change) -> str:
    """The response with ``change(dict)`` applied."""
    value = json.loads(response_json)
    change(value)
    return json.dumps(value)


def b64(data: bytes | str) -> str:
    return bytes_to_base64url(data.encode() if isinstance(data, str) else data)


def make_staff(db, now, email="agent@test.example"):
    member, _token = staff.create(db, email=email, name="Maria Keller", admin=False, now=now)
    db.commit()
    return member


# --- registration ----------------------------------------------------------------------------


@pytest.mark.parametrize("synced", [False, True])
def test_registration_stores_name_synced_flag_and_counter(db, user, login, now, synced):
    cred = SoftCredential(synced=synced, sign_count=7)
    result = finish(db, user, login, cred.register(reg_options(db, user, login, now)), now, name="My phone")
    assert result.ok
    [row] = stored(db)
    assert (row.user_id, row.staff_id, row.name) == (user.id, None, "My phone")
    assert row.credential_id == b64(cred.credential_id)
    assert row.synced is synced and row.backed_up is synced  # BE and BS flags
    assert row.sign_count == 7
    assert row.transports == "internal"
    assert row.created_at == now and row.last_used_at is None


@pytest.mark.parametrize("bent", [
    pytest.param({"origin": "https://evil.example"}, id="another-origin"),
    pytest.param({"origin": "http://localhost:3001"}, id="another-port"),
    pytest.param({"rp_id": "evil.example"}, id="another-rp-id"),
    pytest.param({"kind": "webauthn.get"}, id="client-data-of-an-assertion"),
])
def test_registration_for_another_origin_or_rp_is_refused(db, user, login, now, bent):
    options = reg_options(db, user, login, now)
    result = finish(db, user, login, SoftCredential().register(options, **bent), now)
    assert not result.ok
    assert (result.reason, result.error_key) == (passkeys.REASON_INVALID, passkeys.ERROR_INVALID)
    assert stored(db) == []
    assert challenge_row(db, options).used_at == now  # claimed before it was compared


def test_registration_without_user_verification_is_refused(db, user, login, now):
    result = finish(db, user, login, SoftCredential().register(reg_options(db, user, login, now),
                                                                user_verified=False), now)
    assert not result.ok
    assert (result.reason, result.error_key) == (passkeys.REASON_NO_USER_VERIFICATION, passkeys.ERROR_INVALID)
    assert stored(db) == []


def test_registration_answering_an_unknown_challenge_is_refused(db, user, login, now):
    options = reg_options(db, user, login, now)
    result = finish(db, user, login, SoftCredential().register(options, challenge=b64(b"x" * 32)), now)
    assert (result.ok, result.reason, result.error_key) == (False, passkeys.REASON_NO_CHALLENGE, passkeys.ERROR_EXPIRED)
    assert stored(db) == []
    assert challenge_row(db, options).used_at is None


def test_a_registration_replayed_finds_its_challenge_spent(db, user, login, now):
    response = SoftCredential().register(reg_options(db, user, login, now))
    assert finish(db, user, login, response, now).ok
    again = finish(db, user, login, response, now)
    assert (again.ok, again.reason) == (False, passkeys.REASON_NO_CHALLENGE)
    assert len(stored(db)) == 1


def test_a_registration_challenge_is_spent_even_by_a_refused_answer(db, user, login, now):
    options = reg_options(db, user, login, now)
    cred = SoftCredential()
    assert not finish(db, user, login, cred.register(options, user_verified=False), now).ok
    result = finish(db, user, login, cred.register(options), now)  # a good answer to the same challenge
    assert (result.ok, result.reason) == (False, passkeys.REASON_NO_CHALLENGE)


@pytest.mark.parametrize("seconds, ok", [(119, True), (121, False)])
def test_a_registration_challenge_lives_two_minutes(db, user, login, now, seconds, ok):
    options = reg_options(db, user, login, now)
    result = finish(db, user, login, SoftCredential().register(options), now + timedelta(seconds=seconds))
    assert result.ok is ok
    if not ok:
        assert (result.reason, result.error_key) == (passkeys.REASON_NO_CHALLENGE, passkeys.ERROR_EXPIRED)
        assert stored(db) == []


def test_a_registration_challenge_of_another_session_is_refused(db, user, login, now):
    second = new_login(db, user, now)
    options = reg_options(db, user, login, now)
    result = finish(db, user, second, SoftCredential().register(options), now)
    assert (result.ok, result.reason) == (False, passkeys.REASON_NO_CHALLENGE)
    assert stored(db) == []
    assert challenge_row(db, options).used_at is None


def test_a_registration_challenge_of_another_user_is_refused(db, user, other, login, now):
    other_login = new_login(db, other, now)
    # Their options in their session, answered in mine.
    response = SoftCredential().register(reg_options(db, other, other_login, now))
    assert (finish(db, user, login, response, now).reason) == passkeys.REASON_NO_CHALLENGE
    # The same session even (only the user the challenge was made for tells them apart).
    options = passkeys.registration_options(db, owner=Owner(user_id=other.id), binding=Binding(session_id=login.id),
                                            user_name=other.email, display_name=other.name, now=now)
    db.commit()
    result = finish(db, user, login, SoftCredential().register(options), now)
    assert (result.ok, result.reason) == (False, passkeys.REASON_NO_CHALLENGE)
    assert stored(db) == []


def test_a_staff_registration_challenge_does_not_register_a_customer_passkey(db, user, login, now):
    member = make_staff(db, now)
    options = passkeys.registration_options(db, owner=Owner(staff_id=member.id), binding=Binding(session_id=login.id),
                                            user_name=member.email, display_name=member.name, now=now)
    db.commit()
    result = finish(db, user, login, SoftCredential().register(options), now)
    assert (result.ok, result.reason) == (False, passkeys.REASON_NO_CHALLENGE)
    assert stored(db) == []


def test_an_assertion_challenge_does_not_register_and_a_registration_challenge_does_not_assert(db, user, login,
                                                                                              now):
    cred = register(db, user, login, now)
    # A step-up challenge answered with a new credential.
    step = step_options(db, user, login, now)
    response = SoftCredential().register(reg_options(db, user, login, now), challenge=challenge_of(step))
    result = finish(db, user, login, response, now)
    assert (result.ok, result.reason) == (False, passkeys.REASON_NO_CHALLENGE)
    assert len(stored(db)) == 1
    assert challenge_row(db, step).used_at is None
    # A registration challenge answered with an assertion.
    register_challenge = challenge_of(reg_options(db, user, login, now))
    result = check(db, user, login, cred.assert_(step, challenge=register_challenge), now)
    assert (result.ok, result.reason) == (False, passkeys.REASON_NO_CHALLENGE)
    # A login (sign-in) challenge of the same browser is not a step-up one either.
    sign_in = passkeys.authentication_options(db, purpose=passkeys.PURPOSE_LOGIN,
                                              binding=Binding(session_id=login.id), now=now)
    db.commit()
    result = check(db, user, login, cred.assert_(sign_in), now)
    assert (result.ok, result.reason) == (False, passkeys.REASON_NO_CHALLENGE)
    with pytest.raises(ValueError):
        passkeys.check_assertion(db, purpose=passkeys.PURPOSE_REGISTER, binding=Binding(session_id=login.id),
                                 response=cred.assert_(step), now=now, owner=Owner(user_id=user.id))


def test_the_same_credential_is_not_registered_twice(db, user, other, login, now):
    cred = register(db, user, login, now)
    again = finish(db, user, login, cred.register(reg_options(db, user, login, now)), now)
    assert (again.ok, again.error_key) == (False, passkeys.ERROR_DUPLICATE)
    # Nor by another user (the id is the authenticator's, unique in the panel).
    other_login = new_login(db, other, now)
    theirs = finish(db, other, other_login, cred.register(reg_options(db, other, other_login, now)), now)
    assert (theirs.ok, theirs.error_key) == (False, passkeys.ERROR_DUPLICATE)
    assert [row.user_id for row in stored(db)] == [user.id]


def test_registration_options_exclude_the_owners_credentials(db, user, login, now):
    cred = register(db, user, login, now)
    options = json.loads(reg_options(db, user, login, now))
    assert [item["id"] for item in options["excludeCredentials"]] == [b64(cred.credential_id)]
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["authenticatorSelection"]["residentKey"] == "required"


def test_at_most_max_credentials(db, user, login, now):
    for index in range(passkeys.MAX_CREDENTIALS):
        register(db, user, login, now, name=f"Key {index}")
    result = finish(db, user, login, SoftCredential().register(reg_options(db, user, login, now)), now)
    assert (result.ok, result.error_key) == (False, passkeys.ERROR_TOO_MANY)
    assert len(stored(db)) == passkeys.MAX_CREDENTIALS


# --- assertions (step-up) ---------------------------------------------------------------------


def test_assertion_updates_counter_and_last_use(db, user, login, now, clock):
    cred = register(db, user, login, now)
    later = now + timedelta(minutes=5)
    result = check(db, user, login, cred.assert_(step_options(db, user, login, later), count=3), later)
    assert result.ok and result.user_id == user.id and result.staff_id is None
    [row] = stored(db)
    assert (row.sign_count, row.last_used_at) == (3, later)


@pytest.mark.parametrize("bent, reason", [
    pytest.param({"origin": "https://evil.example"}, passkeys.REASON_INVALID, id="another-origin"),
    pytest.param({"rp_id": "evil.example"}, passkeys.REASON_INVALID, id="another-rp-id"),
    pytest.param({"kind": "webauthn.create"}, passkeys.REASON_INVALID, id="client-data-of-a-registration"),
    pytest.param({"user_verified": False}, passkeys.REASON_NO_USER_VERIFICATION, id="no-user-verification"),
])
def test_bent_assertions_are_refused(db, user, login, now, bent, reason):
    cred = register(db, user, login, now)
    options = step_options(db, user, login, now)
    result = check(db, user, login, cred.assert_(options, **bent), now)
    assert (result.ok, result.reason, result.error_key, result.cloned) == (False, reason, passkeys.ERROR_INVALID,
                                                                           False)
    assert challenge_row(db, options).used_at == now
    [row] = stored(db)
    assert (row.sign_count, row.last_used_at) == (0, None)


def test_a_replayed_assertion_is_refused(db, user, login, now):
    cred = register(db, user, login, now)
    response = cred.assert_(step_options(db, user, login, now))
    assert check(db, user, login, response, now).ok
    again = check(db, user, login, response, now)
    assert (again.ok, again.reason, again.error_key) == (False, passkeys.REASON_NO_CHALLENGE, passkeys.ERROR_EXPIRED)


def test_a_spent_challenge_refuses_a_fresh_signature(db, user, login, now):
    cred = register(db, user, login, now)
    options = step_options(db, user, login, now)
    assert check(db, user, login, cred.assert_(options), now).ok
    # A second, newly signed answer (higher counter) to the same challenge.
    result = check(db, user, login, cred.assert_(options), now)
    assert (result.ok, result.reason) == (False, passkeys.REASON_NO_CHALLENGE)


@pytest.mark.parametrize("seconds, ok", [(119, True), (121, False)])
def test_an_assertion_challenge_lives_two_minutes(db, user, login, now, seconds, ok):
    cred = register(db, user, login, now)
    response = cred.assert_(step_options(db, user, login, now))
    result = check(db, user, login, response, now + timedelta(seconds=seconds))
    assert result.ok is ok
    if not ok:
        assert (result.reason, result.error_key) == (passkeys.REASON_NO_CHALLENGE, passkeys.ERROR_EXPIRED)


def test_an_assertion_challenge_of_another_session_is_refused(db, user, login, now):
    cred = register(db, user, login, now)
    second = new_login(db, user, now)
    result = check(db, user, second, cred.assert_(step_options(db, user, login, now)), now)
    assert (result.ok, result.reason) == (False, passkeys.REASON_NO_CHALLENGE)


@pytest.mark.parametrize("first, then, ok", [
    (5, 3, False),  # went back
    (5, 5, False),  # stood still (non-zero)
    (5, 0, False),  # dropped to zero
    (5, 6, True),
    (0, 0, True),  # an authenticator that does not count (synced passkeys)
])
def test_a_counter_that_does_not_go_up_is_a_clone(db, user, login, now, first, then, ok):
    cred = register(db, user, login, now)
    assert check(db, user, login, cred.assert_(step_options(db, user, login, now), count=first), now).ok
    result = check(db, user, login, cred.assert_(step_options(db, user, login, now), count=then), now)
    assert result.ok is ok
    [row] = stored(db)
    if ok:
        assert row.sign_count == then
    else:
        assert (result.reason, result.error_key, result.cloned) == (passkeys.REASON_COUNTER, passkeys.ERROR_COUNTER,
                                                                    True)
        assert row.sign_count == first


def test_only_a_verified_answer_may_say_cloned(db, user, login, now):
    """A forged answer with a low counter is a bad signature, not an alarm."""
    cred = register(db, user, login, now)
    assert check(db, user, login, cred.assert_(step_options(db, user, login, now), count=5), now).ok
    forger = SoftCredential(credential_id=cred.credential_id, user_handle=cred.user_handle)
    result = check(db, user, login, forger.assert_(step_options(db, user, login, now), count=1), now)
    assert (result.ok, result.cloned, result.reason) == (False, False, passkeys.REASON_INVALID)


def test_a_signature_made_with_another_key_is_refused(db, user, login, now):
    cred = register(db, user, login, now)
    forger = SoftCredential(credential_id=cred.credential_id, user_handle=cred.user_handle)
    result = check(db, user, login, forger.assert_(step_options(db, user, login, now)), now)
    assert (result.ok, result.reason, result.error_key) == (False, passkeys.REASON_INVALID, passkeys.ERROR_INVALID)
    assert stored(db)[0].last_used_at is None


def test_another_users_passkey_does_not_answer_my_challenge(db, user, other, login, now):
    register(db, user, login, now)
    theirs = register(db, other, new_login(db, other, now), now)
    result = check(db, user, login, theirs.assert_(step_options(db, user, login, now)), now)
    assert (result.ok, result.reason, result.error_key) == (False, passkeys.REASON_UNKNOWN_CREDENTIAL,
                                                            passkeys.ERROR_UNKNOWN)


def test_a_removed_passkey_is_refused(db, user, login, now):
    cred = register(db, user, login, now)
    register(db, user, login, now, name="Spare")  # the user still has one
    assert passkeys.delete_credential(db, stored(db)[0])
    db.commit()
    result = check(db, user, login, cred.assert_(step_options(db, user, login, now)), now)
    assert (result.ok, result.reason) == (False, passkeys.REASON_UNKNOWN_CREDENTIAL)


def test_a_staff_passkey_does_not_answer_a_customers_challenge(db, user, login, now):
    register(db, user, login, now)
    member = make_staff(db, now)
    staff_binding = Binding(staff_session_id=4242)
    staff_cred = SoftCredential()
    options = passkeys.registration_options(db, owner=Owner(staff_id=member.id), binding=staff_binding,
                                            user_name=member.email, display_name=member.name, now=now)
    made = passkeys.finish_registration(db, owner=Owner(staff_id=member.id), binding=staff_binding,
                                        response=staff_cred.register(options), name="Agent key", now=now)
    db.commit()
    assert made.ok and made.credential.staff_id == member.id
    # The customer's step-up challenge.
    result = check(db, user, login, staff_cred.assert_(step_options(db, user, login, now)), now)
    assert (result.ok, result.reason) == (False, passkeys.REASON_UNKNOWN_CREDENTIAL)
    # A customer's sign-in (discoverable, no owner): the staff key is no customer's, even
    # with its own (valid) user handle.
    binding = Binding(binding_key="pre-login-cookie")
    options = passkeys.authentication_options(db, purpose=passkeys.PURPOSE_LOGIN, binding=binding, now=now)
    result = passkeys.check_assertion(db, purpose=passkeys.PURPOSE_LOGIN, binding=binding,
                                      response=staff_cred.assert_(options), now=now)
    assert (result.ok, result.reason) == (False, passkeys.REASON_UNKNOWN_CREDENTIAL)
    # And the staff sign-in takes it (the check above is the only thing that refused it).
    options = passkeys.authentication_options(db, purpose=passkeys.PURPOSE_LOGIN, binding=binding, now=now)
    result = passkeys.check_assertion(db, purpose=passkeys.PURPOSE_LOGIN, binding=binding,
                                      response=staff_cred.assert_(options), now=now, staff=True)
    assert result.ok and result.staff_id == member.id and result.user_id is None


def test_a_customers_passkey_does_not_sign_in_staff(db, user, login, now):
    cred = register(db, user, login, now)
    binding = Binding(binding_key="pre-login-cookie")
    options = passkeys.authentication_options(db, purpose=passkeys.PURPOSE_LOGIN, binding=binding, now=now)
    result = passkeys.check_assertion(db, purpose=passkeys.PURPOSE_LOGIN, binding=binding,
                                      response=cred.assert_(options), now=now, staff=True)
    assert (result.ok, result.reason) == (False, passkeys.REASON_UNKNOWN_CREDENTIAL)


def _sign_in(db, cred, now, binding=Binding(binding_key="pre-login-cookie"), **bent) -> passkeys.Asserted:
    options = passkeys.authentication_options(db, purpose=passkeys.PURPOSE_LOGIN, binding=binding, now=now)
    assert json.loads(options).get("allowCredentials", []) == []  # discoverable: any passkey of the panel
    result = passkeys.check_assertion(db, purpose=passkeys.PURPOSE_LOGIN, binding=binding,
                                      response=cred.assert_(options, **bent), now=now)
    db.commit()
    return result


def test_a_discoverable_sign_in_finds_the_owner(db, user, login, now):
    result = _sign_in(db, register(db, user, login, now), now)
    assert result.ok and result.user_id == user.id


@pytest.mark.parametrize("handle", ["other", "none", "garbage"])
def test_a_sign_in_whose_user_handle_is_not_the_owners_is_refused(db, user, other, login, now, handle):
    cred = register(db, user, login, now)
    if handle == "other":
        result = _sign_in(db, cred, now, user_handle=passkeys.user_handle(Owner(user_id=other.id)))
    elif handle == "none":
        result = _sign_in(db, cred, now, user_handle=b"")  # the fake sends null
    else:
        binding = Binding(binding_key="pre-login-cookie")
        options = passkeys.authentication_options(db, purpose=passkeys.PURPOSE_LOGIN, binding=binding, now=now)
        response = bend(cred.assert_(options), lambda v: v["response"].update(userHandle="!!not base64!!"))
        result = passkeys.check_assertion(db, purpose=passkeys.PURPOSE_LOGIN, binding=binding, response=response,
                                          now=now)
    assert (result.ok, result.reason, result.error_key) == (False, passkeys.REASON_UNKNOWN_CREDENTIAL,
                                                            passkeys.ERROR_UNKNOWN)


def test_a_step_up_answer_with_a_foreign_user_handle_is_refused(db, user, other, login, now):
    cred = register(db, user, login, now)
    response = cred.assert_(step_options(db, user, login, now),
                            user_handle=passkeys.user_handle(Owner(user_id=other.id)))
    assert check(db, user, login, response, now).reason == passkeys.REASON_UNKNOWN_CREDENTIAL


def test_a_sign_in_challenge_of_another_browser_is_refused(db, user, login, now):
    cred = register(db, user, login, now)
    options = passkeys.authentication_options(db, purpose=passkeys.PURPOSE_LOGIN,
                                              binding=Binding(binding_key="cookie-a"), now=now)
    result = passkeys.check_assertion(db, purpose=passkeys.PURPOSE_LOGIN, binding=Binding(binding_key="cookie-b"),
                                      response=cred.assert_(options), now=now)
    assert (result.ok, result.reason) == (False, passkeys.REASON_NO_CHALLENGE)


# --- through the step-up service: grant, budget, alert ----------------------------------------


def test_step_up_with_a_passkey_opens_the_grant(db, user, login, now):
    register(db, user, login, now)
    cred = SoftCredential()
    register(db, user, login, now, cred=cred, name="Phone")
    result = verify(db, user, login, cred.assert_(method_options(db, user, login, now)), now)
    assert result.ok and result.method == "passkey"
    db.expire_all()
    row = db.get(LoginSession, login.id)
    assert sessions.grant_is_valid(row, now) and row.grant_method == "passkey"
    assert "verification_succeeded" in actions(db) and "grant_started" in actions(db)
    assert failures_of(db, user) == 0


def _failing_answers():
    """Each makes a wrong answer for ``(db, user, login, now, cred, options, other)``."""
    def other_users(db, user, login, now, cred, options, other):
        return register(db, other, new_login(db, other, now), now).assert_(options)

    def replayed(db, user, login, now, cred, options, other):
        old = cred.assert_(options)
        assert verify(db, user, login, old, now).ok
        method_options(db, user, login, now)  # a new prompt is open: the old answer is compared
        return old

    return {
        "another-origin": lambda db, user, login, now, cred, options, other: cred.assert_(options,
                                                                                           origin="https://evil.example"),
        "another-rp-id": lambda db, user, login, now, cred, options, other: cred.assert_(options, rp_id="evil.example"),
        "no-user-verification": lambda db, user, login, now, cred, options, other: cred.assert_(options,
                                                                                                 user_verified=False),
        "another-key": lambda db, user, login, now, cred, options, other: SoftCredential(
            credential_id=cred.credential_id, user_handle=cred.user_handle).assert_(options),
        "another-users-passkey": other_users,
        "unknown-challenge": lambda db, user, login, now, cred, options, other: cred.assert_(
            options, challenge=b64(b"y" * 32)),
        "replayed": replayed,
    }


@pytest.mark.parametrize("kind", list(_failing_answers()))
def test_every_failed_passkey_answer_counts_in_the_guess_budget(db, user, other, login, now, kind):
    cred = register(db, user, login, now)
    options = method_options(db, user, login, now)
    response = _failing_answers()[kind](db, user, login, now, cred, options, other)
    result = verify(db, user, login, response, now)
    assert not result.ok and result.error_key
    assert failures_of(db, user) == 1
    assert window_failures(db, user) == 1
    assert actions(db).count("verification_failed") == 1
    db.expire_all()
    assert not sessions.grant_is_valid(db.get(LoginSession, login.id), now) or kind == "replayed"


def test_five_failed_answers_then_the_budget_says_wait(db, user, login, now):
    cred = register(db, user, login, now)
    for _ in range(stepup.STEPUP_POLICY.free_failures):
        result = verify(db, user, login, cred.assert_(method_options(db, user, login, now), user_verified=False), now)
        assert result.error_key == passkeys.ERROR_INVALID
    assert result.alert == "password_suspected" and result.retry_after_seconds > 0
    # Even a good answer waits now (not compared).
    result = verify(db, user, login, cred.assert_(method_options(db, user, login, now)), now)
    assert (result.ok, result.error_key) == (False, stepup.ERROR_LOCKED)
    assert failures_of(db, user) == stepup.STEPUP_POLICY.free_failures


@pytest.mark.parametrize("when", ["never-asked", "expired", "spent", "only-a-registration-challenge"])
def test_no_live_challenge_spends_no_try(db, user, login, now, when):
    cred = register(db, user, login, now)
    at = now
    if when == "only-a-registration-challenge":  # the "add a passkey" form is open, no step-up prompt
        reg_options(db, user, login, now)
        response = cred.assert_(step_options(db, user, new_login(db, user, now), now))
    elif when == "never-asked":
        response = cred.assert_(step_options(db, user, new_login(db, user, now), now))  # another session's
    else:
        response = cred.assert_(method_options(db, user, login, now))
        if when == "expired":
            at = now + timedelta(seconds=passkeys.CHALLENGE_SECONDS + 1)
        else:
            assert verify(db, user, login, response, now).ok
    result = verify(db, user, login, response, at)
    assert (result.ok, result.error_key) == (False, passkeys.ERROR_EXPIRED)
    assert failures_of(db, user) == 0
    assert window_failures(db, user) == 0


def test_a_cloned_passkey_is_refused_alerted_and_audited(db, user, login, now):
    cred = register(db, user, login, now, name="Blue key")
    assert verify(db, user, login, cred.assert_(method_options(db, user, login, now), count=9), now).ok
    second = new_login(db, user, now)
    result = verify(db, user, second, cred.assert_(method_options(db, user, second, now), count=4), now)
    assert (result.ok, result.error_key, result.alert) == (False, passkeys.ERROR_COUNTER, stepup.ALERT_CLONED)
    assert "passkey_cloned" in actions(db)
    db.expire_all()
    cloned = db.exec(select(AuditEvent).where(AuditEvent.action == "passkey_cloned")).one()
    assert json.loads(cloned.detail)["passkey"] == "Blue key"
    assert not sessions.grant_is_valid(db.get(LoginSession, second.id), now)
    assert failures_of(db, user) == 1
    assert stored(db)[0].sign_count == 9


def test_the_passkey_method_is_offered_only_with_a_passkey(db, user, login, now):
    assert passkey_method.METHOD.options_for(db, user=user, scope=CodeScope(login.id, "stepup"), now=now) is None
    result = verify(db, user, login, "{}", now)
    assert (result.ok, result.error_key) == (False, stepup.ERROR_METHOD_UNAVAILABLE)
    register(db, user, login, now)
    assert "passkey" in stepup.available_methods(db, user)
    # A scope a passkey cannot answer (a code purpose of a session) gets no options.
    assert passkey_method.METHOD.options_for(db, user=user, scope=CodeScope(login.id, "email_change"),
                                             now=now) is None


# --- races -----------------------------------------------------------------------------------


def test_two_answers_racing_with_one_challenge_one_wins(db, user, login, now, race):
    cred = register(db, user, login, now)
    options = step_options(db, user, login, now)
    # Two signed answers of an authenticator that does not count (a synced passkey): only the
    # challenge's single use tells them apart.
    answers = [cred.assert_(options, count=0), cred.assert_(options, count=0)]

    def attempt(session, index):
        return passkeys.check_assertion(session, purpose=passkeys.PURPOSE_STEPUP,
                                        binding=Binding(session_id=login.id), response=answers[index], now=now,
                                        owner=Owner(user_id=user.id))

    results = race.in_sessions(2, attempt, load=lambda session, index: index)
    assert sum(isinstance(r, passkeys.Asserted) and r.ok for r in results) == 1, results
    assert all(isinstance(r, passkeys.Asserted) or isinstance(r, Exception) for r in results)


def test_a_cloned_authenticator_racing_in_two_sessions_wins_once(db, user, login, now, race):
    """Two copies of one authenticator, each answering its own challenge with the same counter,
    at the same time: the counter is claimed with one conditional UPDATE, so one is a clone."""
    cred = register(db, user, login, now)
    logins = [login, new_login(db, user, now)]
    answers = [cred.assert_(step_options(db, user, row, now), count=1) for row in logins]

    def attempt(session, index):
        return passkeys.check_assertion(session, purpose=passkeys.PURPOSE_STEPUP,
                                        binding=Binding(session_id=logins[index].id), response=answers[index],
                                        now=now, owner=Owner(user_id=user.id))

    results = race.in_sessions(2, attempt, load=lambda session, index: index)
    assert sorted((r.ok, r.cloned) for r in results) == [(False, True), (True, False)], results
    assert stored(db)[0].sign_count == 1


def test_the_same_answer_racing_twice_through_step_up_one_grant(db, user, login, now, race):
    cred = register(db, user, login, now)
    response = cred.assert_(method_options(db, user, login, now), count=0)

    def attempt(session, loaded):
        mine, their_login = loaded
        return stepup.verify_stepup(session, user=mine, login_session=their_login, method="passkey",
                                    submitted=response, now=now, actor=actor_for(mine), ttl_seconds=TTL)

    results = race.in_sessions(2, attempt, load=lambda session, _: (session.get(User, user.id),
                                                                     session.get(LoginSession, login.id)))
    assert sum(isinstance(r, stepup.VerifyResult) and r.ok for r in results) == 1, results


def test_the_same_registration_racing_twice_stores_one(db, user, login, now, race):
    response = SoftCredential().register(reg_options(db, user, login, now))

    def attempt(session, _):
        return passkeys.finish_registration(session, owner=Owner(user_id=user.id),
                                            binding=Binding(session_id=login.id), response=response, name="Race",
                                            now=now)

    results = race.in_sessions(2, attempt)
    assert sum(isinstance(r, passkeys.Registered) and r.ok for r in results) == 1, results
    assert len(stored(db)) == 1


# --- hostile input ---------------------------------------------------------------------------


def _nested_dict(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


NOT_RESPONSES = [
    pytest.param(None, id="none"),
    pytest.param(5, id="int"),
    pytest.param(True, id="bool"),
    pytest.param(1.5, id="float"),
    pytest.param([], id="list"),
    pytest.param(b'{"id": "x"}', id="bytes"),
    pytest.param("", id="empty"),
    pytest.param("null", id="json-null"),
    pytest.param("[]", id="json-list"),
    pytest.param('"text"', id="json-string"),
    pytest.param("{not json", id="not-json"),
    pytest.param("{}", id="empty-object"),
    pytest.param({}, id="empty-dict"),
    pytest.param({"id": 5, "response": {"clientDataJSON": "e30"}}, id="id-not-a-string"),
    pytest.param({"id": "AAAA", "response": "text"}, id="response-not-an-object"),
    pytest.param({"id": "AAAA", "response": {"clientDataJSON": 5}}, id="client-data-not-a-string"),
    pytest.param({"id": "AAAA", "response": {}}, id="no-client-data"),
    pytest.param({"id": "AAAA", "response": {"clientDataJSON": "e30"}, "x": {1, 2}}, id="dict-with-a-set"),
    pytest.param("x" * 1_000_000, id="1-MB-string"),
    pytest.param('{"id": "' + "A" * 1_000_000 + '"}', id="1-MB-json"),
    pytest.param("[" * 100_000 + "]" * 100_000, id="deeply-nested-json"),
    pytest.param(_nested_dict(100_000), id="deeply-nested-dict"),
    pytest.param({"id": "A" * 1401, "response": {"clientDataJSON": "e30"}}, id="huge-credential-id"),
    pytest.param({"id": "!!!", "response": {"clientDataJSON": b64(b'{"challenge": "AAAA"}')}}, id="id-not-base64url"),
    pytest.param({"id": "AA\x00AA", "response": {"clientDataJSON": b64(b'{"challenge": "AAAA"}')}},
                 id="id-with-nul"),
    pytest.param({"id": "AAAA", "response": {"clientDataJSON": "!!!"}}, id="client-data-not-base64url"),
    pytest.param({"id": "AAAA", "response": {"clientDataJSON": b64("not json")}}, id="client-data-not-json"),
    pytest.param({"id": "AAAA", "response": {"clientDataJSON": b64("[1, 2]")}}, id="client-data-not-an-object"),
    pytest.param({"id": "AAAA", "response": {"clientDataJSON": b64('{"challenge": 5}')}},
                 id="client-data-challenge-not-a-string"),
    pytest.param({"id": "AAAA", "response": {"clientDataJSON": b64('{"type": "webauthn.get"}')}},
                 id="client-data-without-challenge"),
    pytest.param({"id": "AAAA", "response": {"clientDataJSON": b64('{"challenge": "!!"}')}},
                 id="client-data-challenge-not-base64url"),
    pytest.param({"id": "AAAA", "response": {"clientDataJSON": b64('{"challenge": "AAAA!!"}')}},
                 id="client-data-challenge-with-foreign-characters"),
    pytest.param({"id": "AAAA", "response": {"clientDataJSON": b64("[" * 50_00 + "]" * 50_00)}},
                 id="client-data-deeply-nested"),
]


@pytest.mark.parametrize("submitted", NOT_RESPONSES)
def test_parse_response_refuses_what_is_not_a_response(submitted):
    assert passkeys.parse_response(submitted) is None


@pytest.mark.parametrize("submitted", NOT_RESPONSES)
def test_hostile_input_is_refused_before_any_challenge_is_spent(db, user, login, now, submitted):
    cred = register(db, user, login, now)
    step = step_options(db, user, login, now)
    registering = reg_options(db, user, login, now)
    asserted = check(db, user, login, submitted, now)
    assert (asserted.ok, asserted.error_key, asserted.reason) == (False, passkeys.ERROR_MALFORMED,
                                                                  passkeys.REASON_MALFORMED)
    made = finish(db, user, login, submitted, now)
    assert (made.ok, made.error_key, made.reason) == (False, passkeys.ERROR_MALFORMED, passkeys.REASON_MALFORMED)
    result = verify(db, user, login, submitted, now)
    assert (result.ok, result.error_key) == (False, passkeys.ERROR_MALFORMED)
    assert challenge_row(db, step).used_at is None and challenge_row(db, registering).used_at is None
    assert len(stored(db)) == 1
    assert failures_of(db, user) == 0
    assert "verification_failed" not in actions(db)
    assert check(db, user, login, cred.assert_(step), now).ok  # the challenge still answers


@pytest.mark.parametrize("bent", [
    pytest.param(lambda v: v.update(padding="x" * 1_000_000), id="1-MB-padding"),
    pytest.param(lambda v: v.update(padding="x" * passkeys.MAX_RESPONSE_CHARS), id="just-over-the-size-bound"),
    pytest.param(lambda v: v.update(id="A" * 1401), id="huge-id"),
])
def test_an_oversized_answer_to_a_live_challenge_is_refused_before_the_claim(db, user, login, now, bent):
    """Valid in every other way (py_webauthn ignores extra fields): only the bounds refuse it."""
    cred = register(db, user, login, now)
    step = step_options(db, user, login, now)
    response = bend(cred.assert_(step), bent)
    assert check(db, user, login, response, now).error_key == passkeys.ERROR_MALFORMED
    assert verify(db, user, login, response, now).error_key == passkeys.ERROR_MALFORMED
    registering = reg_options(db, user, login, now)
    made = finish(db, user, login, bend(SoftCredential().register(registering), bent), now)
    assert made.error_key == passkeys.ERROR_MALFORMED
    assert challenge_row(db, step).used_at is None and challenge_row(db, registering).used_at is None
    assert len(stored(db)) == 1 and failures_of(db, user) == 0


def _bent_field(field: str, value="!!!"):
    def change(response: dict) -> None:
        if field in ("id", "rawId"):
            response[field] = value
        else:
            response["response"][field] = value
    return change


@pytest.mark.parametrize("field", ["rawId", "authenticatorData", "signature", "userHandle"])
def test_invalid_base64url_in_an_assertion_field_is_refused_after_the_claim(db, user, login, now, field):
    cred = register(db, user, login, now)
    options = step_options(db, user, login, now)
    result = check(db, user, login, bend(cred.assert_(options), _bent_field(field)), now)
    assert not result.ok and result.error_key in (passkeys.ERROR_INVALID, passkeys.ERROR_UNKNOWN)
    assert challenge_row(db, options).used_at == now  # spent: it was claimed before the field was read
    assert stored(db)[0].sign_count == 0


@pytest.mark.parametrize("field", ["rawId", "attestationObject"])
def test_invalid_base64url_in_a_registration_field_is_refused_after_the_claim(db, user, login, now, field):
    options = reg_options(db, user, login, now)
    result = finish(db, user, login, bend(SoftCredential().register(options), _bent_field(field)), now)
    assert (result.ok, result.error_key) == (False, passkeys.ERROR_INVALID)
    assert challenge_row(db, options).used_at == now
    assert stored(db) == []


@pytest.mark.parametrize("value", [5, None, {"a": 1}, ["a"], 1.5])
def test_wrong_types_in_the_verified_fields_are_refused(db, user, login, now, value):
    cred = register(db, user, login, now)
    for field in ("rawId", "authenticatorData", "signature", "userHandle"):
        response = bend(cred.assert_(step_options(db, user, login, now)), _bent_field(field, value))
        result = check(db, user, login, response, now)
        assert result.ok is (field == "userHandle" and value is None), (field, result)  # null: no handle sent
    for field in ("rawId", "attestationObject"):
        response = bend(SoftCredential().register(reg_options(db, user, login, now)), _bent_field(field, value))
        assert not finish(db, user, login, response, now).ok, field
    assert len(stored(db)) == 1


def test_transports_of_any_shape_are_cleaned(db, user, login, now):
    for transports, kept in [("usb", ""), ([1, {"a": 1}, "x" * 50, "usb", "nfc"], "usb,nfc"),
                             (["internal"] * 20, ",".join(["internal"] * 8)), (["us\u200bb", "<b>"], "")]:
        response = bend(SoftCredential().register(reg_options(db, user, login, now)),
                        lambda v, t=transports: v["response"].update(transports=t))
        made = finish(db, user, login, response, now)
        assert made.ok and made.credential.transports == kept


def test_a_huge_attested_credential_id_is_refused(db, user, login, now):
    """The credential id inside the signed authenticator data is what is stored: it must be the
    response's id, and at most 1023 bytes (WebAuthn)."""
    cred = SoftCredential(credential_id=bytes(range(32)))
    options = reg_options(db, user, login, now)
    result = finish(db, user, login, cred.register(options, attested_id=b"\x01" * 4000), now)
    assert (result.ok, result.error_key) == (False, passkeys.ERROR_INVALID)
    result = finish(db, user, login, cred.register(reg_options(db, user, login, now), attested_id=b"\x02" * 32), now)
    assert (result.ok, result.error_key) == (False, passkeys.ERROR_INVALID)
    big = SoftCredential(credential_id=b"\x03" * 1024)  # id and authenticator data agree, too long
    assert not finish(db, user, login, big.register(reg_options(db, user, login, now)), now).ok
    assert stored(db) == []
    longest = SoftCredential(credential_id=b"\x04" * 1023)
    assert finish(db, user, login, longest.register(reg_options(db, user, login, now)), now).ok


def test_a_dict_answer_works_like_its_json(db, user, login, now):
    cred = register(db, user, login, now)
    result = verify(db, user, login, json.loads(cred.assert_(method_options(db, user, login, now))), now)
    assert result.ok, result


# --- factor rules ----------------------------------------------------------------------------

SETTLED_DAYS, NEW_DAYS = 4, 0


def _settle_seconds() -> int:
    return get_settings().factor_change_delay_seconds


def _add_row(db, user, now, days: int, name: str) -> WebAuthnCredential:
    row = WebAuthnCredential(user_id=user.id, credential_id=b64(SoftCredential().credential_id), public_key=b"k",
                             name=name, created_at=now - timedelta(days=days, hours=1 if days else 0))
    db.add(row)
    db.commit()
    return row


def _enroll_totp(db, user, at):
    secret, _uri = authenticator_setup.begin_totp_enrollment(db, user, at)
    assert authenticator_setup.confirm_totp_enrollment(db, user, totp.code_at(secret, at), at, actor_for(user)).ok
    db.commit()


GRANTS = {  # grant method, app age (days) or None, whether the passkey that granted is settled
    "email": ("email", None, None),
    "whatsapp": ("whatsapp", None, None),
    "totp-settled": ("totp", SETTLED_DAYS, None),
    "totp-new": ("totp", NEW_DAYS, None),
    "passkey-settled": ("passkey", None, True),
    "passkey-new": ("passkey", None, False),
}

# (grant, action) -> allowed. "add-first" with a passkey grant cannot happen (a passkey grant
# needs a passkey, and removing one ends every grant). With "passkey-settled" and
# "remove-new", the user has their settled passkey and the new one that is removed (so the
# passkey factor is new at that moment).
RULES = {
    ("email", "add-first"): True, ("whatsapp", "add-first"): True,
    ("totp-settled", "add-first"): True, ("totp-new", "add-first"): True,
    ("email", "add-second"): False, ("whatsapp", "add-second"): False,
    ("totp-settled", "add-second"): True, ("totp-new", "add-second"): False,
    ("passkey-settled", "add-second"): True, ("passkey-new", "add-second"): True,
    ("email", "remove-new"): True, ("whatsapp", "remove-new"): True,
    ("totp-settled", "remove-new"): True, ("totp-new", "remove-new"): True,
    ("passkey-settled", "remove-new"): True, ("passkey-new", "remove-new"): True,
    ("email", "remove-settled"): False, ("whatsapp", "remove-settled"): False,
    ("totp-settled", "remove-settled"): True, ("totp-new", "remove-settled"): False,
    ("passkey-settled", "remove-settled"): True, ("passkey-new", "remove-settled"): False,
}


@pytest.mark.parametrize("grant, action", list(RULES))
def test_factor_rules_for_adding_and_removing_passkeys(db, user, now, clock, grant, action):
    method, app_days, passkey_settled = GRANTS[grant]
    if app_days is not None:
        _enroll_totp(db, user, now - timedelta(days=app_days))
    target = None
    if action == "add-second":
        _add_row(db, user, now, SETTLED_DAYS if passkey_settled in (True, None) else NEW_DAYS, "Existing")
    elif action == "remove-new":
        if passkey_settled:
            _add_row(db, user, now, SETTLED_DAYS, "Mine")
        target = _add_row(db, user, now, NEW_DAYS, "New")
    elif action == "remove-settled":
        target = _add_row(db, user, now, SETTLED_DAYS, "Settled")
        if passkey_settled is False:
            _add_row(db, user, now, NEW_DAYS, "New, granted")
    login = new_login(db, user, now)
    sessions.start_grant(db, login, method=method, now=now, ttl_seconds=TTL)
    db.commit()
    if method == "passkey":
        assert ("passkey" in factor_rules.settled_factors(db, user, now)) is (
            passkey_settled and action != "remove-new")
    allowed = RULES[(grant, action)]
    before = len(stored(db))
    actor = actor_for(user, login)
    if action.startswith("add"):
        assert passkey_setup.may_add(db, user, method, now) is allowed
        options = passkey_setup.begin_add(db, user, login, now, actor)
        db.commit()
        assert (options is not None) is allowed
        if allowed:
            outcome = passkey_setup.finish_add(db, user, login, response=SoftCredential().register(options),
                                               name="Added", now=now, actor=actor)
            db.commit()
            assert outcome.ok and len(stored(db)) == before + 1
        else:
            assert actions(db)[-1] == "passkey_refused"
    else:
        outcome = passkey_setup.remove(db, user, login, str(target.id), now=now, actor=actor)
        db.commit()
        assert outcome.ok is allowed
        assert len(stored(db)) == before - (1 if allowed else 0)
        db.expire_all()
        fresh_user, fresh_login = db.get(User, user.id), db.get(LoginSession, login.id)
        if allowed:
            assert fresh_user.factor_removed_at == now
            assert fresh_login.grant_expires_at is None
            assert actions(db)[-1] == "passkey_removed"
        else:
            assert outcome.error_key == passkey_setup.ERROR_DEVICE_REQUIRED
            assert fresh_user.factor_removed_at is None
            assert sessions.grant_is_valid(fresh_login, now)
            assert actions(db)[-1] == "passkey_refused"


def test_finish_add_asks_the_rules_again(db, user, login, now):
    _add_row(db, user, now, SETTLED_DAYS, "Mine")
    sessions.start_grant(db, login, method="passkey", now=now, ttl_seconds=TTL)
    db.commit()
    options = passkey_setup.begin_add(db, user, login, now, actor_for(user, login))
    db.commit()
    assert options is not None
    sessions.start_grant(db, login, method="email", now=now, ttl_seconds=TTL)  # the grant changed meanwhile
    db.commit()
    outcome = passkey_setup.finish_add(db, user, login, response=SoftCredential().register(options), name="Added",
                                       now=now, actor=actor_for(user, login))
    assert (outcome.ok, outcome.error_key) == (False, passkey_setup.ERROR_DEVICE_REQUIRED)
    assert len(stored(db)) == 1


def test_a_passkey_added_under_an_email_grant_settles_only_after_the_waiting_period(db, user, login, now, clock):
    sessions.start_grant(db, login, method="email", now=now, ttl_seconds=TTL)
    db.commit()
    options = passkey_setup.begin_add(db, user, login, now, actor_for(user, login))
    outcome = passkey_setup.finish_add(db, user, login, response=SoftCredential().register(options), name="Mine",
                                       now=now, actor=actor_for(user, login))
    db.commit()
    assert outcome.ok and "passkey_added" in actions(db)
    email_proven = frozenset({factor_rules.EMAIL})

    def decisions(at):
        return (factor_rules.decide(db, user, factor=factor_rules.EMAIL, grant_method="passkey", proven=email_proven,
                                    now=at),
                "passkey" in factor_rules.settled_factors(db, user, at))

    almost = now + timedelta(seconds=_settle_seconds() - 1)
    settled = now + timedelta(seconds=_settle_seconds())
    assert decisions(now) == (factor_rules.Decision.SCHEDULE, False)
    assert decisions(almost) == (factor_rules.Decision.SCHEDULE, False)
    assert decisions(settled) == (factor_rules.Decision.AT_ONCE, True)
    # A settled passkey vouches for a new channel; a new one does not.
    no_phone = db.get(User, user.id)
    no_phone.phone = None
    db.add(no_phone)
    db.commit()
    assert factor_rules.decide(db, no_phone, factor=factor_rules.PHONE, grant_method="passkey",
                               now=now) == factor_rules.Decision.SCHEDULE
    assert factor_rules.decide(db, no_phone, factor=factor_rules.PHONE, grant_method="passkey",
                               now=settled) == factor_rules.Decision.AT_ONCE
    # Another passkey added later: the newest sets the factor's set-up instant again.
    second_login = new_login(db, user, settled)
    sessions.start_grant(db, second_login, method="passkey", now=settled, ttl_seconds=TTL)
    db.commit()
    options = passkey_setup.begin_add(db, user, second_login, settled, actor_for(user, second_login))
    assert passkey_setup.finish_add(db, user, second_login, response=SoftCredential().register(options),
                                    name="Second", now=settled, actor=actor_for(user, second_login)).ok
    db.commit()
    assert "passkey" not in factor_rules.settled_factors(db, user, settled + timedelta(seconds=1))


def test_removing_a_passkey_ends_every_grant_and_leaves_the_tombstone(db, user, now):
    target = _add_row(db, user, now, NEW_DAYS, "New")
    user.preferred_channel = "passkey"
    db.add(user)
    first, second = new_login(db, user, now), new_login(db, user, now)
    for row in (first, second):
        sessions.start_grant(db, row, method="email", now=now, ttl_seconds=TTL)
    db.commit()
    outcome = passkey_setup.remove(db, user, first, target.id, now=now, actor=actor_for(user, first))
    db.commit()
    assert outcome.ok and outcome.name == "New"
    db.expire_all()
    assert [db.get(LoginSession, row.id).grant_expires_at for row in (first, second)] == [None, None]
    fresh = db.get(User, user.id)
    assert fresh.factor_removed_at == now
    assert fresh.preferred_channel == "email"
    assert stored(db) == []


def test_remove_and_rename_only_the_owners_passkey(db, user, other, login, now):
    theirs = _add_row(db, other, now, NEW_DAYS, "Theirs")
    sessions.start_grant(db, login, method="email", now=now, ttl_seconds=TTL)
    db.commit()
    actor = actor_for(user, login)
    for pk in (theirs.id, str(theirs.id), "x", None, True, [theirs.id], 10**30):
        assert passkey_setup.remove(db, user, login, pk, now=now, actor=actor).error_key == passkey_setup.ERROR_NOT_FOUND
        assert passkey_setup.rename(db, user, pk, "Mine now", now=now, actor=actor).error_key == \
            passkey_setup.ERROR_NOT_FOUND
    db.commit()
    assert [(row.user_id, row.name) for row in stored(db)] == [(other.id, "Theirs")]


# --- user handle -----------------------------------------------------------------------------


def test_the_user_handle_is_stable_distinct_and_opaque(db, user, other, login, now):
    mine = passkeys.user_handle(Owner(user_id=user.id))
    assert mine == passkeys.user_handle(Owner(user_id=user.id))
    assert len(mine) == 32
    assert mine != passkeys.user_handle(Owner(user_id=other.id))
    assert mine != passkeys.user_handle(Owner(staff_id=user.id))  # staff member with the same number
    # The options say it, and say it again next time.
    first = json.loads(reg_options(db, user, login, now))["user"]["id"]
    assert first == json.loads(reg_options(db, user, login, now))["user"]["id"] == b64(mine)
    # No e-mail address or id in clear (a large id, so that its digits cannot appear by chance).
    big = 987_654_321
    handle = passkeys.user_handle(Owner(user_id=big))
    for clear in (str(big).encode(), f"user:{big}".encode(), struct.pack(">I", big), struct.pack("<I", big),
                  struct.pack(">Q", big), struct.pack("<Q", big)):
        assert clear not in handle
    for address in (user.email, other.email):
        assert address.encode() not in mine and address.split("@")[0].encode() not in mine
    assert b"user" not in mine and str(user.id).encode() * 2 not in mine


def test_staff_challenges_are_bound_to_the_staff_session_and_member(db, now):
    first, second = make_staff(db, now), make_staff(db, now, email="second@test.example")
    binding = Binding(staff_session_id=1)

    def staff_register(member, options_for=None, binding_used=binding):
        owner_of_options = options_for or member
        options = passkeys.registration_options(db, owner=Owner(staff_id=owner_of_options.id), binding=binding,
                                                user_name=owner_of_options.email, display_name="", now=now)
        cred = SoftCredential()
        made = passkeys.finish_registration(db, owner=Owner(staff_id=member.id), binding=binding_used,
                                            response=cred.register(options), name="Key", now=now)
        db.commit()
        return cred, made

    cred, made = staff_register(first)
    assert made.ok
    # Another member's registration challenge; another staff session's.
    assert staff_register(first, options_for=second)[1].reason == passkeys.REASON_NO_CHALLENGE
    assert staff_register(first, binding_used=Binding(staff_session_id=2))[1].reason == passkeys.REASON_NO_CHALLENGE

    def staff_step(answer_binding, answer_owner=first):
        options = passkeys.authentication_options(db, purpose=passkeys.PURPOSE_STAFF_STEPUP, binding=binding,
                                                  now=now, owner=Owner(staff_id=first.id))
        result = passkeys.check_assertion(db, purpose=passkeys.PURPOSE_STAFF_STEPUP, binding=answer_binding,
                                          response=cred.assert_(options), now=now,
                                          owner=Owner(staff_id=answer_owner.id))
        db.commit()
        return result

    assert staff_step(Binding(staff_session_id=2)).reason == passkeys.REASON_NO_CHALLENGE
    assert staff_step(binding, answer_owner=second).reason == passkeys.REASON_NO_CHALLENGE
    assert staff_step(binding).ok
    assert [row.staff_id for row in stored(db)] == [first.id]


def test_a_reset_challenge_is_bound_to_its_reset(db, user, login, now):
    cred = register(db, user, login, now)
    method = passkey_method.METHOD
    options = method.options_for(db, user=user, scope=CodeScope(None, "reset:5"), now=now)
    db.commit()
    response = cred.assert_(options)
    for scope in (CodeScope(None, "reset:6"), CodeScope(login.id, "stepup")):
        assert not method.verify(db, user=user, scope=scope, value=response, now=now).ok
    assert method.verify(db, user=user, scope=CodeScope(None, "reset:5"), value=response, now=now).ok
