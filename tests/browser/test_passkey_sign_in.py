"""Signing in with a passkey on /login, end to end: Chromium's own WebAuthn stack (the DevTools
virtual authenticator), the real passkey routes (api/passkey.py) and the server's database.

The passkey is put in place as a registration would leave it: a resident credential for the
panel's RP id in the virtual authenticator (its private key made here) and its public key in
the user's ``WebAuthnCredential`` row (adding one through the Security page is another
branch's test)."""

from __future__ import annotations

import base64
import os
import re
import uuid
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from playwright.sync_api import expect
from sqlmodel import select
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.encode_cbor import encode_cbor

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.i18n import t
from panel_app.models import LoginSession, User, WebAuthnCredential
from panel_app.services import passkeys, password_reset
from tests.browser.helpers import create_user, sign_in, sign_out, virtual_authenticator

pytestmark = pytest.mark.browser

PASSWORD = "a-long-test-password"
# Only the button's ceremony (Chromium's virtual authenticator answers the autofill one at once).
NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _new_user(phone: str | None = "+4915112345678") -> tuple[str, int]:
    email = f"passkey-{uuid.uuid4().hex[:8]}@example.com"
    create_user(email, PASSWORD, phone=phone)
    with transaction() as db:
        return email, db.exec(select(User.id).where(User.email == email)).one()


def _put_passkey(cdp, authenticator_id: str, *, user_id: int | None, store: bool = True,
                 age: timedelta = timedelta(0)) -> bytes:
    """A discoverable credential for rp "localhost" in the virtual authenticator, of
    ``user_id`` (its user handle), and (``store``) registered for that user in the database."""
    key = ec.generate_private_key(ec.SECP256R1())
    credential_id = os.urandom(16)
    handle = passkeys.user_handle(passkeys.Owner(user_id=user_id)) if user_id is not None else os.urandom(16)
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator_id, "credential": {
        "credentialId": _b64(credential_id), "isResidentCredential": True, "rpId": "localhost",
        "privateKey": _b64(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())),
        "userHandle": _b64(handle), "signCount": 0}})
    if store:
        numbers = key.public_key().public_numbers()
        cose = encode_cbor({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})
        with transaction() as db:
            db.add(WebAuthnCredential(user_id=user_id, credential_id=bytes_to_base64url(credential_id),
                                      public_key=cose, sign_count=0, transports="internal", aaguid="",
                                      synced=False, backed_up=False, name="Test laptop", created_at=utcnow() - age))
    return credential_id


def _newest_session(user_id: int) -> LoginSession | None:
    with transaction() as db:
        return db.exec(select(LoginSession).where(LoginSession.user_id == user_id)
                       .order_by(LoginSession.id.desc())).first()


def test_a_passkey_signs_in_without_a_password_and_the_grant_has_started(browser, panel_url):
    email, user_id = _new_user()
    context = browser.new_context()
    context.add_init_script(NO_AUTOFILL)
    page = context.new_page()
    cdp, authenticator_id = virtual_authenticator(page)
    credential_id = _put_passkey(cdp, authenticator_id, user_id=user_id)

    sign_in(page, panel_url, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard"))
    sign_out(page)

    expect(page.locator("input[name=next]")).to_have_value(re.compile("^/"), timeout=15_000)  # hydrated
    page.locator("#login-passkey").click()
    expect(page).to_have_url(re.compile(r"/dashboard/?$"), timeout=15_000)
    row = _newest_session(user_id)
    assert row.revoked_at is None and row.grant_method == "passkey"

    # Two factors in one: a sensitive page opens without the verification gate.
    page.goto(panel_url + "/security")
    expect(page.get_by_role("heading", name="Security")).to_be_visible(timeout=15_000)
    expect(page.locator("#verification-gate")).to_have_count(0)

    [stored] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert base64.b64decode(stored["credentialId"]) == credential_id
    with transaction() as db:
        used = db.exec(select(WebAuthnCredential).where(WebAuthnCredential.user_id == user_id)).one()
        assert used.last_used_at is not None and used.sign_count == stored["signCount"] >= 1
    context.close()


def test_the_browsers_autofill_signs_in_and_follows_next(browser, panel_url):
    """The passkey offered in the email field's autofill (Chromium's virtual authenticator
    picks it at once) signs in through the real routes and lands on ``next``."""
    _email, user_id = _new_user()
    context = browser.new_context()
    page = context.new_page()
    cdp, authenticator_id = virtual_authenticator(page)
    _put_passkey(cdp, authenticator_id, user_id=user_id)
    page.goto(panel_url + "/login?next=/security")
    expect(page).to_have_url(re.compile(r"/security/?$"), timeout=15_000)
    expect(page.get_by_role("heading", name="Security")).to_be_visible(timeout=15_000)
    expect(page.locator("#verification-gate")).to_have_count(0)
    context.close()


@pytest.mark.parametrize("lang", ["en", "de"])
def test_an_unknown_passkey_is_refused_with_a_translated_message(browser, panel_url, lang):
    context = browser.new_context(locale="de-DE" if lang == "de" else "en-US")
    context.add_init_script(NO_AUTOFILL)
    page = context.new_page()
    cdp, authenticator_id = virtual_authenticator(page)
    _put_passkey(cdp, authenticator_id, user_id=None, store=False)  # never registered with the panel
    page.goto(panel_url + "/login")
    expect(page.locator("input[name=next]")).to_have_value(re.compile("^/"), timeout=15_000)
    page.locator("#login-passkey").click()
    expect(page.locator("#login-message")).to_have_text(t("passkey.error.sign_in_unknown", lang), timeout=15_000)
    expect(page).to_have_url(re.compile(r"/login"))
    assert not any(cookie["name"] == "panel_session" for cookie in context.cookies())
    context.close()


def test_a_removed_passkey_no_longer_signs_in(browser, panel_url):
    _email, user_id = _new_user()
    context = browser.new_context()
    context.add_init_script(NO_AUTOFILL)
    page = context.new_page()
    cdp, authenticator_id = virtual_authenticator(page)
    _put_passkey(cdp, authenticator_id, user_id=user_id)
    with transaction() as db:
        for row in db.exec(select(WebAuthnCredential).where(WebAuthnCredential.user_id == user_id)).all():
            passkeys.delete_credential(db, row)
    page.goto(panel_url + "/login")
    expect(page.locator("input[name=next]")).to_have_value(re.compile("^/"), timeout=15_000)
    page.locator("#login-passkey").click()
    expect(page.locator("#login-message")).to_have_text(t("passkey.error.sign_in_unknown", "en"), timeout=15_000)
    assert _newest_session(user_id) is None
    context.close()


def test_a_settled_passkey_proves_a_password_reset(browser, panel_url):
    email, user_id = _new_user(phone=None)
    context = browser.new_context()
    page = context.new_page()
    cdp, authenticator_id = virtual_authenticator(page)
    _put_passkey(cdp, authenticator_id, user_id=user_id, age=timedelta(days=30))
    with transaction() as db:
        _user_id, token = password_reset.request_link(db, email=email, ip="203.0.113.77", now=utcnow())
    page.goto(panel_url + "/reset?token=" + token)
    expect(page.get_by_role("radio", name=t("reset.method.passkey", "en"))).to_be_checked(timeout=15_000)
    expect(page.locator("#reset-code")).to_have_count(0)  # no code field for a passkey
    button = page.locator("#reset-passkey")
    expect(button).to_be_enabled()  # the options are ready before the click
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator_id, "isUserVerified": False})
    button.click()
    expect(page.locator("#reset-error")).to_be_visible(timeout=15_000)  # no user verification: refused
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator_id, "isUserVerified": True})
    expect(button).to_be_enabled()  # new options after the failed try
    button.click()
    page.get_by_label("New password").fill("the-new-passkey-password-3")
    page.locator("#reset-submit").click()
    expect(page.locator("#reset-result")).to_contain_text("Every session was signed out")
    context.close()
