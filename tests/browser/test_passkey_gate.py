"""Passkeys on the Security page and at the verification gate, in Chromium's own WebAuthn
stack (a virtual platform authenticator): add one after an email code, verify with it
without typing anything, remove it; a passkey that does not verify the user opens nothing."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import create_user, pass_gate_by_email, sign_in, virtual_authenticator

pytestmark = pytest.mark.browser


def _new_user() -> str:
    email = f"passkey-{uuid.uuid4().hex[:8]}@example.com"
    create_user(email)
    return email


def _credentials(cdp, authenticator_id: str) -> list[dict]:
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]


def _add_passkey(page, name: str) -> None:
    page.locator("#passkey-add").click()
    name_field = page.locator("#passkey-name")
    expect(name_field).to_be_visible()
    name_field.fill(name)
    page.locator("#passkey-create").click()
    row = page.locator(".passkey-row").filter(has_text=name)
    expect(row).to_be_visible(timeout=15_000)


def _lock_and_choose_the_passkey(page) -> None:
    page.locator("#lock-now").click()
    gate = page.locator("#verification-gate")
    expect(gate).to_be_visible()
    page.get_by_role("radio", name="Passkey").click()
    expect(page.get_by_role("radio", name="Passkey")).to_be_checked()
    expect(page.locator("#verification-code")).to_have_count(0)  # nothing to type
    expect(page.locator("#passkey-verify")).to_be_enabled()


def test_add_a_passkey_verify_with_it_and_remove_it(page, panel_url):
    email = _new_user()
    cdp, authenticator_id = virtual_authenticator(page)
    sign_in(page, panel_url, email, "a-long-test-password", next_path="/security")
    pass_gate_by_email(page, panel_url, email)
    expect(page.locator("#passkeys-none")).to_be_visible()

    _add_passkey(page, "Test laptop")
    row = page.locator(".passkey-row").filter(has_text="Test laptop")
    expect(row.locator(".passkey-kind")).to_have_text("this device only")
    expect(row.locator(".passkey-last-used")).to_have_text("never")
    expect(row.locator(".passkey-new")).to_contain_text("new — counts after")  # added under an email code
    expect(page.get_by_role("status").filter(has_text='The passkey "Test laptop" was added.')).to_be_visible()
    [credential] = _credentials(cdp, authenticator_id)
    assert credential["isResidentCredential"] and credential["rpId"] == "localhost"

    # The grant ends; the gate opens with the passkey alone.
    _lock_and_choose_the_passkey(page)
    page.locator("#passkey-verify").click()
    expect(page.locator("#verification-gate")).to_be_hidden(timeout=15_000)
    expect(page.get_by_role("heading", name="Security")).to_be_visible()
    assert _credentials(cdp, authenticator_id)[0]["signCount"] >= 1
    row = page.locator(".passkey-row").filter(has_text="Test laptop")
    expect(row.locator(".passkey-last-used")).not_to_have_text("never")

    # Still new: removing it is allowed, and every grant ends with it.
    row.locator(".passkey-remove").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Remove").click()
    expect(page.locator("#verification-gate")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("radio", name="Email")).to_be_checked()
    expect(page.get_by_role("radio", name="Passkey")).to_have_count(0)


def test_a_passkey_without_user_verification_opens_nothing(page, panel_url):
    email = _new_user()
    cdp, authenticator_id = virtual_authenticator(page)
    sign_in(page, panel_url, email, "a-long-test-password", next_path="/security")
    pass_gate_by_email(page, panel_url, email)
    _add_passkey(page, "Unverified")

    _lock_and_choose_the_passkey(page)
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator_id, "isUserVerified": False})
    page.locator("#passkey-verify").click()
    expect(page.locator("#gate-error")).to_contain_text(re.compile(r"\w"), timeout=15_000)
    expect(page.locator("#verification-gate")).to_be_visible()
    expect(page.get_by_role("heading", name="Security")).to_have_count(0)
    expect(page.locator("#lock-now")).to_have_count(0)
