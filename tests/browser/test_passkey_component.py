"""The passkey component (components/passkey.py) in Chromium's own WebAuthn stack, on the
login page, under the app's Content-Security-Policy.

The passkey routes of the server are not part of this branch: one test meets them missing
(the person is told the passkey could not be used), the others answer them in the browser
(``page.route``) with options made by py_webauthn and check the signed assertion the
button posts with py_webauthn too, as the real route will."""

from __future__ import annotations

import base64
import json
import os
import re

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from playwright.sync_api import expect
from webauthn import generate_authentication_options, options_to_json, verify_authentication_response
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import UserVerificationRequirement

from panel_app.i18n import t
from tests.browser.helpers import virtual_authenticator

pytestmark = pytest.mark.browser

OPTIONS_ROUTE = "**/api/passkey/login/options"
VERIFY_ROUTE = "**/api/passkey/login/verify"


def _watch(page) -> dict[str, list]:
    """Uncaught page errors, CSP reports in the console, and the JS the page loaded."""
    seen: dict[str, list] = {"errors": [], "csp": [], "scripts": []}
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on("console", lambda message: seen["csp"].append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    page.on("response", lambda response: seen["scripts"].append(response)
            if response.request.resource_type == "script" else None)
    return seen


def _hydrated(page) -> None:
    """The login state's on_load has answered over the websocket: effects have run."""
    expect(page.locator("input[name=next]")).to_have_value(re.compile("^/"), timeout=15_000)


def _add_passkey(cdp, authenticator_id: str, user_handle: bytes) -> bytes:
    """A discoverable credential for rp "localhost" in the virtual authenticator; its
    public key in COSE form (what the server stores)."""
    key = ec.generate_private_key(ec.SECP256R1())

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator_id, "credential": {
        "credentialId": b64(os.urandom(16)), "isResidentCredential": True, "rpId": "localhost",
        "privateKey": b64(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())),
        "userHandle": b64(user_handle), "signCount": 0}})
    numbers = key.public_key().public_numbers()
    return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})


class FakePasskeyRoutes:
    """The two passkey routes, answered in the browser: fresh py_webauthn options per call;
    the verify route records what it got and answers ``verify_answer``."""

    def __init__(self, page, verify_answer: dict):
        self.challenges: list[bytes] = []
        self.options_requests: list[dict] = []
        self.verified: list[dict] = []
        self.verify_answer = verify_answer
        page.route(OPTIONS_ROUTE, self._options)
        page.route(VERIFY_ROUTE, self._verify)

    def _options(self, route) -> None:
        request = route.request
        self.options_requests.append({"method": request.method, "body": request.post_data,
                                      "type": request.headers.get("content-type")})
        options = generate_authentication_options(rp_id="localhost",
                                                  user_verification=UserVerificationRequirement.REQUIRED)
        self.challenges.append(options.challenge)
        route.fulfill(status=200, content_type="application/json", body=options_to_json(options))

    def _verify(self, route) -> None:
        assert route.request.method == "POST"
        assert route.request.headers.get("content-type") == "application/json"
        self.verified.append(json.loads(route.request.post_data))
        route.fulfill(status=200, content_type="application/json", body=json.dumps(self.verify_answer))

    def challenge_of(self, response: dict) -> bytes:
        client_data = json.loads(base64url_to_bytes(response["response"]["clientDataJSON"]))
        challenge = base64url_to_bytes(client_data["challenge"])
        assert challenge in self.challenges  # one the server made
        return challenge


def test_the_login_page_offers_a_passkey_in_chromium_under_the_csp(browser, panel_url):
    context = browser.new_context()
    page = context.new_page()
    virtual_authenticator(page)
    seen = _watch(page)
    answer = page.goto(panel_url + "/login")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-eval' 'sha256-" in policy and "'unsafe-inline'" not in policy.split(";")[1]
    _hydrated(page)
    button = page.locator("#login-passkey")
    expect(button).to_be_visible()
    expect(button).to_have_text(t("login.passkey", "en"))
    expect(button).to_have_attribute("type", "button")
    expect(page.get_by_role("separator")).to_have_text(t("login.or", "en"))
    expect(page.locator("#login-email")).to_have_attribute("autocomplete", "username webauthn")
    # Keyboard reachable: Tab from the password form's button lands on it.
    page.locator("#login-submit").focus()
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    # The library came in the site's own bundled JS, not in the HTML page.
    assert "ERROR_CEREMONY_ABORTED" not in answer.text()
    assert any("ERROR_CEREMONY_ABORTED" in response.text() for response in seen["scripts"]
               if response.url.startswith(panel_url))
    page.wait_for_load_state("networkidle")
    assert seen["errors"] == [] and seen["csp"] == []
    context.close()


def test_without_webauthn_there_is_no_passkey_choice(browser, panel_url):
    context = browser.new_context()
    context.add_init_script("delete window.PublicKeyCredential;")
    page = context.new_page()
    seen = _watch(page)
    page.goto(panel_url + "/login")
    _hydrated(page)
    expect(page.locator("#login-submit")).to_be_visible()
    expect(page.locator("#login-passkey")).to_have_count(0)
    expect(page.get_by_role("separator")).to_have_count(0)
    assert seen["errors"] == [] and seen["csp"] == []
    context.close()


def test_with_the_routes_missing_the_person_is_told_in_their_language(browser, panel_url):
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    virtual_authenticator(page)
    seen = _watch(page)
    page.goto(panel_url + "/login")
    _hydrated(page)
    page.locator("#login-passkey").click()
    message = page.locator("#login-message")
    expect(message).to_have_text(t("passkey.error.failed", "de"))
    expect(page).to_have_url(re.compile(r"/login"))
    # The message follows a change of language.
    page.get_by_role("combobox", name=re.compile("Sprache|Language")).click()
    page.get_by_role("option", name="English").click()
    expect(message).to_have_text(t("passkey.error.failed", "en"))
    assert seen["errors"] == [] and seen["csp"] == []
    context.close()


NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"


def _check_assertion(routes: FakePasskeyRoutes, panel_url: str, public_key: bytes, user_handle: bytes) -> dict:
    """The one body posted to the verify route; its assertion verified as the server will."""
    assert len(routes.verified) == 1
    body = routes.verified[0]
    assert all(request == {"method": "POST", "body": "{}", "type": "application/json"}
               for request in routes.options_requests)
    verification = verify_authentication_response(
        credential=body["response"], expected_challenge=routes.challenge_of(body["response"]),
        expected_rp_id="localhost", expected_origin=panel_url, credential_public_key=public_key,
        credential_current_sign_count=0, require_user_verification=True)
    assert verification.user_verified
    assert body["response"]["response"]["userHandle"] == bytes_to_base64url(user_handle)
    return body


def test_the_button_signs_in_through_chromiums_authenticator(browser, panel_url):
    context = browser.new_context()
    context.add_init_script(NO_AUTOFILL)  # only the button's ceremony here
    page = context.new_page()
    cdp, authenticator_id = virtual_authenticator(page)
    user_handle = os.urandom(16)
    public_key = _add_passkey(cdp, authenticator_id, user_handle)
    routes = FakePasskeyRoutes(page, {"redirect": "/forgot"})
    seen = _watch(page)
    page.goto(panel_url + "/login?next=/domains")
    _hydrated(page)
    assert routes.verified == [] and routes.options_requests == []  # nothing before the person acts
    page.locator("#login-passkey").click()
    expect(page).to_have_url(re.compile(r"/forgot/?$"), timeout=15_000)
    assert _check_assertion(routes, panel_url, public_key, user_handle)["next"] == "/domains"
    assert len(routes.options_requests) == 1
    assert seen["errors"] == [] and seen["csp"] == []
    context.close()


def test_the_browsers_autofill_signs_in_with_a_passkey(browser, panel_url):
    """Conditional UI: the page asks on load; Chromium's virtual authenticator answers at once
    (as a person picking the passkey in the email field's autofill would)."""
    context = browser.new_context()
    page = context.new_page()
    cdp, authenticator_id = virtual_authenticator(page)
    user_handle = os.urandom(16)
    public_key = _add_passkey(cdp, authenticator_id, user_handle)
    routes = FakePasskeyRoutes(page, {"redirect": "/forgot"})
    seen = _watch(page)
    page.goto(panel_url + "/login?next=/invoices")
    expect(page).to_have_url(re.compile(r"/forgot/?$"), timeout=15_000)
    assert _check_assertion(routes, panel_url, public_key, user_handle)["next"] == "/invoices"
    assert seen["errors"] == [] and seen["csp"] == []
    context.close()


def _answered(page, routes: FakePasskeyRoutes, answer: dict) -> None:
    """Click the button with the verify route answering ``answer``; wait until it did."""
    routes.verify_answer = answer
    count = len(routes.verified)
    page.locator("#login-passkey").click()
    for _ in range(200):
        if len(routes.verified) > count:
            break
        page.wait_for_timeout(50)
    assert len(routes.verified) == count + 1, answer


def test_the_routes_answers_are_shown_and_a_foreign_redirect_is_not_followed(browser, panel_url):
    context = browser.new_context()
    context.add_init_script(NO_AUTOFILL)
    page = context.new_page()
    cdp, authenticator_id = virtual_authenticator(page)
    _add_passkey(cdp, authenticator_id, os.urandom(16))
    routes = FakePasskeyRoutes(page, {})
    seen = _watch(page)
    page.goto(panel_url + "/login")
    _hydrated(page)
    page.evaluate("() => { window.__stillHere = true; }")
    message = page.locator("#login-message")
    _answered(page, routes, {"error": "passkey.error.no_passkey"})
    expect(message).to_have_text(t("passkey.error.no_passkey", "en"))
    # A key outside the whitelist is refused by the state: the message stays.
    _answered(page, routes, {"error": "shell.logout"})
    expect(page.locator("#login-passkey")).not_to_have_attribute("aria-busy", "true")
    page.wait_for_timeout(300)
    expect(message).to_have_text(t("passkey.error.no_passkey", "en"))

    for hostile in ("//evil.example/dashboard", "/\\evil.example", "https://evil.example/", "javascript:alert(1)"):
        _answered(page, routes, {"error": "passkey.error.timeout"})
        expect(message).to_have_text(t("passkey.error.timeout", "en"))
        _answered(page, routes, {"redirect": hostile})
        expect(message).to_have_text(t("passkey.error.failed", "en"))
        assert page.evaluate("() => window.__stillHere === true"), hostile
    expect(page).to_have_url(re.compile(r"/login/?$"))
    assert seen["errors"] == [] and seen["csp"] == []
    context.close()
