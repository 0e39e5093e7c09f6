"""An outsider's review of the passkeys (issue 17): attacks that worked, each a regression test.

Attackers: the password and the mailbox (a planted passkey), a credential id learnt from
options the owner's browser was shown (reset or gate), and no key at all. Browser-like
answers come from ``tests/fakes/soft_authenticator.py``."""

from __future__ import annotations

import json
import secrets

import pytest
from sqlalchemy import update
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient
from webauthn.helpers import bytes_to_base64url

from panel_app.api import passkey as passkey_routes
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.models import PasswordReset, User, WebAuthnCredential
from panel_app.security import sessions
from panel_app.services import passkey_setup, passkeys, password_reset
from panel_app.services.audit import Actor
from panel_app.settings import get_settings
from tests.fakes.soft_authenticator import SoftCredential

ORIGIN = get_settings().public_url
EMAIL = "owner@test.example"
SETTLE = get_settings().factor_change_delay_seconds


@pytest.fixture(autouse=True)
def _no_notices(monkeypatch):
    """The routes' notices are not sent (their coroutines are closed unrun)."""
    monkeypatch.setattr(passkey_routes, "spawn", lambda coroutine: coroutine.close())


@pytest.fixture
def web():
    with TestClient(Starlette(routes=passkey_routes.routes), base_url=ORIGIN, headers={"Origin": ORIGIN}) as client:
        yield client


def _login_session(user_id: int, grant_method: str | None):
    with transaction() as db:
        user = db.get(User, user_id)
        row, _token = sessions.create_session(db, user, ip="198.51.100.7", user_agent="attacker", now=utcnow(),
                                              absolute_seconds=12 * 3600)
        if grant_method:
            sessions.start_grant(db, row, method=grant_method, now=utcnow(), ttl_seconds=600)
        return row.id


def plant_passkey(user_id: int, grant_method: str = "email") -> SoftCredential:
    """Whoever holds the password and the mailbox verifies by email and adds a passkey of
    their own on the Security page (allowed: the account had none; it waits to settle)."""
    session_id = _login_session(user_id, grant_method)
    credential = SoftCredential()
    with transaction() as db:
        user, login_session = db.get(User, user_id), db.get(sessions.LoginSession, session_id)
        actor = Actor.for_user(user, ip="198.51.100.7", session_id=session_id)
        options = passkey_setup.begin_add(db, user, login_session, utcnow(), actor)
        assert options, "the first passkey may be added with an email grant"
        outcome = passkey_setup.finish_add(db, user, login_session, response=credential.register(options, origin=ORIGIN),
                                           name="Attacker", now=utcnow(), actor=actor)
        assert outcome.ok, outcome
    return credential


def sign_in(client: TestClient, credential: SoftCredential):
    made = client.post(passkey_routes.OPTIONS_PATH, json={})
    assert made.status_code == 200, made.text
    answer = json.loads(credential.assert_(made.text, origin=ORIGIN))
    return client.post(passkey_routes.VERIFY_PATH, json={"response": answer, "next": "/dashboard"})


def reset_password_after_proving_a_factor(user_id: int) -> None:
    """The owner, locked out, resets the password with the link and a settled second factor
    (the factor's own check is tested elsewhere: here it is recorded as proven)."""
    with transaction() as db:
        _user_id, token = password_reset.request_link(db, email=EMAIL, ip="203.0.113.20", now=utcnow())
    with transaction() as db:
        opened = password_reset.open_link(db, token, utcnow())
        db.execute(update(PasswordReset).where(PasswordReset.id == opened.reset.id)
                   .values(factor_verified_at=utcnow(), factor_method="whatsapp"))
    with transaction() as db:
        opened = password_reset.open_link(db, token, utcnow())
        user = opened.user
        password_reset.complete(db, opened, new_password="a-brand-new-password-9", now=utcnow(),
                                actor=Actor(user.id, user.account_id, user.email, "203.0.113.20", "owner"))


# --- 1. a planted passkey outlives the password reset that should throw the attacker out ----


def test_a_passkey_planted_with_the_mailbox_does_not_survive_the_owners_password_reset(web, make_user, clock):
    """PoC: password + mailbox -> email grant -> add a passkey (first one: allowed) -> the owner
    resets the password (every session ends, no browser stays known) -> the attacker signs in
    with the planted passkey, no password needed, and holds a grant. A passkey still new must
    go with the reset, as the sessions do: it proves nothing yet and needs no password."""
    user = make_user()
    clock.advance(days=30)  # the owner's phone has long settled
    planted = plant_passkey(user.id)
    clock.advance(hours=1)
    reset_password_after_proving_a_factor(user.id)
    clock.advance(minutes=1)
    answer = sign_in(web, planted)
    assert answer.status_code != 200, "the planted passkey signed in after the owner's password reset"
    with transaction() as db:
        assert db.exec(select(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id)).all() == []
        assert db.get(User, user.id).preferred_channel != "passkey"


def test_a_settled_passkey_of_the_owner_stays_after_a_reset(web, make_user, clock):
    """The other side of the rule: the owner's own settled passkey is not thrown out."""
    user = make_user()
    owners = plant_passkey(user.id)
    clock.advance(seconds=SETTLE + 60)
    reset_password_after_proving_a_factor(user.id)
    assert sign_in(web, owners).status_code == 200


# --- 2. a credential id alone spends the owner's guess budget --------------------------------


def _forged(credential_id: bytes) -> dict:
    """An answer naming someone's credential, for no challenge this panel made, unsigned."""
    client_data = json.dumps({"type": "webauthn.get", "challenge": bytes_to_base64url(secrets.token_bytes(32)),
                              "origin": ORIGIN}).encode()
    return {"id": bytes_to_base64url(credential_id), "rawId": bytes_to_base64url(credential_id), "type": "public-key",
            "response": {"clientDataJSON": bytes_to_base64url(client_data),
                         "authenticatorData": bytes_to_base64url(b"\0" * 37),
                         "signature": bytes_to_base64url(b"\0" * 64)}}


def _attacker(cookie: str | None = None) -> TestClient:
    client = TestClient(Starlette(routes=passkey_routes.routes), base_url=ORIGIN, headers={"Origin": ORIGIN})
    if cookie:
        client.cookies.set(passkey_routes.PRELOGIN_COOKIE, cookie, path=passkey_routes.PRELOGIN_COOKIE_PATH)
    return client


def _owner_still_signs_in(user_id: int, owners: SoftCredential) -> None:
    with transaction() as db:
        assert db.get(User, user_id).stepup_failures == 0, "guesses of the owner spent"
    with _attacker() as owner:
        assert sign_in(owner, owners).status_code == 200


def test_answers_to_no_challenge_of_this_browser_do_not_spend_the_owners_guesses(make_user, clock):
    """PoC: answers naming the owner's passkey (its user handle too), for challenges the panel
    never made, with a made-up pre-login cookie -> POST /api/passkey/login/verify x8 -> the
    owner's step-up budget of unknown devices was locked (gate, reset, passkey sign-in). The
    gate spends no try without a live challenge (``nothing_to_compare``); sign-in must not either."""
    user = make_user()
    clock.advance(days=30)
    owners = plant_passkey(user.id)
    with _attacker(secrets.token_urlsafe(32)) as attacker:
        for _ in range(8):
            made_up = json.dumps({"challenge": bytes_to_base64url(secrets.token_bytes(32)), "rpId": "localhost"})
            answer = attacker.post(passkey_routes.VERIFY_PATH,
                                   json={"response": json.loads(owners.assert_(made_up, origin=ORIGIN))})
            assert answer.status_code == 400 and answer.json() == {"error": passkeys.ERROR_EXPIRED}
            clock.advance(1)
    _owner_still_signs_in(user.id, owners)


def test_a_credential_id_without_its_user_handle_spends_no_guess(make_user, clock):
    """PoC: the credential id alone (listed in every gate's and reset's options:
    allowCredentials) and a live challenge of the attacker's own browser -> unsigned answers
    x8 -> the owner's budget was locked. The answer must also carry the owner's user handle
    (which only the authenticator holds) before it counts as a guess at that owner."""
    user = make_user()
    clock.advance(days=30)
    owners = plant_passkey(user.id)
    with _attacker() as attacker:
        for _ in range(8):
            made = attacker.post(passkey_routes.OPTIONS_PATH, json={})
            assert made.status_code == 200
            forged = _forged(owners.credential_id)
            client_data = {"type": "webauthn.get", "challenge": json.loads(made.text)["challenge"], "origin": ORIGIN}
            forged["response"]["clientDataJSON"] = bytes_to_base64url(json.dumps(client_data).encode())
            answer = attacker.post(passkey_routes.VERIFY_PATH, json={"response": forged})
            assert answer.status_code == 400 and answer.json() == {"error": "passkey.error.sign_in_unknown"}
            clock.advance(1)
    _owner_still_signs_in(user.id, owners)


def test_a_reset_answer_to_no_live_challenge_spends_no_guess(make_user, clock):
    """The reset's passkey check, like the gate's: nothing to compare, no try spent."""
    user = make_user(phone=None)
    owners = plant_passkey(user.id)
    clock.advance(seconds=SETTLE + 60)
    with transaction() as db:
        _user_id, token = password_reset.request_link(db, email=EMAIL, ip="203.0.113.20", now=utcnow())
    for _ in range(6):
        with transaction() as db:
            opened = password_reset.open_link(db, token, utcnow())
            result = password_reset.verify_factor(
                db, opened, method="passkey", submitted=json.dumps(_forged(owners.credential_id)), now=utcnow(),
                actor=Actor(user.id, user.account_id, user.email, "203.0.113.20", "x"), device_id=None)
            assert not result.ok
        clock.advance(1)
    with transaction() as db:
        assert db.get(User, user.id).stepup_failures == 0
