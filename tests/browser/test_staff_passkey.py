"""Support staff's passkeys in Chromium's own WebAuthn stack (a DevTools virtual authenticator):
a staff member adds a security key under "My sign-in methods", locks the console and opens it
again with the key; with ``PANEL_STAFF_REQUIRE_PASSKEY=1`` the app code opens only the page
to add one, after which the console takes nothing but the passkey.

Fresh staff members (the demo ones are used by other browser tests)."""

from __future__ import annotations

import json
import re

import pyotp
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.i18n import t
from panel_app.models import StaffAuditEvent, StaffSession, StaffUser, WebAuthnCredential
from panel_app.security import staff, totp
from tests.browser.conftest import server_on_a_copy
from tests.browser.helpers import virtual_authenticator

pytestmark = pytest.mark.browser

PASSWORD = "a-long-staff-password-1"


@pytest.fixture(scope="module")
def passkeys_required_url(panel_server):
    """A second server whose console accepts only passkeys and security keys."""
    with server_on_a_copy("panel-staffpk-", PANEL_STAFF_REQUIRE_PASSKEY="1") as server:
        yield server.url


def _fresh_staff(email: str, name: str) -> tuple[int, str]:
    """A staff member with a password and an app (its secret returned), as after set-up."""
    secret = pyotp.random_base32()
    now = utcnow()
    with transaction() as db:
        member, token = staff.create(db, email=email, name=name, admin=False, now=now)
        staff.setup_account(db, token, PASSWORD, now=now)
        member.totp_secret_enc, member.totp_enabled_at = totp.encrypt_secret(secret), now
        db.add(member)
        db.flush()
        return member.id, secret


def _sign_in(page, base_url: str, email: str, secret: str) -> None:
    """Password, then the app code at the gate."""
    page.goto(base_url + "/staff/login")
    page.locator("#staff-email").fill(email)
    page.locator("#staff-password").fill(PASSWORD)
    page.locator("#staff-login-submit").click()
    expect(page).to_have_url(re.compile(r"/staff/tickets"))
    gate = page.locator("#staff-gate")
    expect(gate).to_be_visible()
    # A code typed while the page still hydrates can be wiped before the click: type it again
    # (a code the server refused or never saw is not spent).
    for _attempt in range(3):
        page.locator("#staff-code").fill(pyotp.TOTP(secret).now())
        page.locator("#staff-verify").click()
        try:
            expect(gate).to_have_count(0, timeout=5_000)
            return
        except AssertionError:
            continue


def _add_key(page, name: str) -> None:
    page.locator("#passkey-new-name").fill(name)
    page.locator("#passkey-continue").click()
    create = page.locator("#passkey-create")
    expect(create).to_be_enabled(timeout=10_000)
    create.click()


def _grant_method(staff_id: int) -> str | None:
    with transaction() as db:
        row = db.exec(select(StaffSession).where(StaffSession.staff_id == staff_id)
                      .order_by(StaffSession.id.desc())).first()
        return row.grant_method if row and row.grant_expires_at and row.grant_expires_at > utcnow() else None


def test_a_staff_member_adds_a_security_key_locks_and_opens_the_console_with_it(browser, panel_url, axe):
    email = "pk-agent@example.com"
    staff_id, secret = _fresh_staff(email, "Petra Key")
    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    cdp, authenticator_id = virtual_authenticator(page)
    _sign_in(page, panel_url, email, secret)
    expect(page.locator("#staff-gate")).to_have_count(0, timeout=10_000)

    page.get_by_role("link", name=t("staff.nav.security", "en")).click()
    expect(page).to_have_url(re.compile(r"/staff/security"))
    expect(page.locator("#passkey-none")).to_be_visible()
    page.mouse.move(0, 0)  # neither hovered nor focused: the link as it is seen
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.wait_for_load_state("networkidle")
    violations = axe(page)
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]
    _add_key(page, "Virtual key")
    expect(page.locator(".staff-passkey-name")).to_have_text(["Virtual key"], timeout=10_000)
    expect(page.get_by_text(t("staff.passkey.added", "en", name="Virtual key"))).to_be_visible()
    in_authenticator = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert len(in_authenticator) == 1 and in_authenticator[0]["isResidentCredential"]
    with transaction() as db:
        stored = db.exec(select(WebAuthnCredential).where(WebAuthnCredential.staff_id == staff_id)).all()
        assert [(row.name, row.user_id) for row in stored] == [("Virtual key", None)]
    assert _grant_method(staff_id) == "totp"

    # Lock: the gate offers the key first (and the app below, the setting is off).
    page.get_by_role("button", name=t("grant.lock_now", "en")).click()
    expect(page.locator("#staff-gate")).to_be_visible()
    expect(page.locator("#staff-code")).to_be_visible()
    button = page.locator("#staff-passkey")
    expect(button).to_have_text(t("staff.gate.passkey_button", "en"))
    expect(button).to_be_enabled(timeout=10_000)
    page.wait_for_load_state("networkidle")
    violations = axe(page)
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]
    button.click()
    expect(page.locator("#staff-gate")).to_have_count(0, timeout=10_000)
    expect(page.locator(".staff-passkey-name")).to_have_text(["Virtual key"])
    assert _grant_method(staff_id) == "passkey"
    with transaction() as db:
        verified = db.exec(select(StaffAuditEvent).where(StaffAuditEvent.staff_id == staff_id,
                                                         StaffAuditEvent.action == "staff_verified")
                           .order_by(StaffAuditEvent.id.desc())).first()
        assert json.loads(verified.detail) == {"method": "passkey", "passkey": "Virtual key"}
        assert db.exec(select(WebAuthnCredential).where(WebAuthnCredential.staff_id == staff_id)).one().last_used_at

    # Without the key (removed from the authenticator) the browser has nothing to offer: told, not opened.
    page.get_by_role("button", name=t("grant.lock_now", "en")).click()
    cdp.send("WebAuthn.clearCredentials", {"authenticatorId": authenticator_id})
    expect(page.locator("#staff-passkey")).to_be_enabled(timeout=10_000)
    page.locator("#staff-passkey").click()
    expect(page.locator("#staff-gate-error")).to_be_visible(timeout=15_000)
    expect(page.locator("#staff-gate")).to_be_visible()
    assert _grant_method(staff_id) is None
    assert errors == []


def test_with_passkeys_required_the_app_opens_only_the_adding_of_one(browser, passkeys_required_url):
    base = passkeys_required_url
    email = "pk-required@example.com"
    staff_id, secret = _fresh_staff(email, "Rita Required")
    page = browser.new_context().new_page()
    virtual_authenticator(page)
    page.goto(base + "/staff/login")
    page.locator("#staff-email").fill(email)
    page.locator("#staff-password").fill(PASSWORD)
    page.locator("#staff-login-submit").click()
    expect(page.locator("#staff-passkey-required")).to_be_visible(timeout=10_000)
    page.locator("#staff-code").fill(pyotp.TOTP(secret).now())
    page.locator("#staff-verify").click()

    # The app's grant opens nothing but the step that adds a passkey.
    go_add = page.locator("#staff-go-add-passkey")
    expect(go_add).to_be_visible(timeout=10_000)
    expect(page.locator("main table")).to_have_count(0)
    go_add.click()
    expect(page).to_have_url(re.compile(r"/staff/security"))
    _add_key(page, "Required key")

    # Now the gate asks for it, and for nothing else.
    expect(page.locator("#staff-gate-notice")).to_be_visible(timeout=10_000)
    expect(page.locator("#staff-code")).to_have_count(0)
    page.goto(base + "/staff/tickets")
    expect(page.locator("#staff-gate")).to_be_visible()
    expect(page.locator("#staff-code")).to_have_count(0)
    expect(page.locator("#staff-go-add-passkey")).to_have_count(0)
    button = page.locator("#staff-passkey")
    expect(button).to_be_enabled(timeout=10_000)
    button.click()
    expect(page.locator("#staff-gate")).to_have_count(0, timeout=10_000)
    expect(page.locator("main table")).to_be_visible()
    assert _grant_method(staff_id) == "passkey"
    with transaction() as db:
        assert db.get(StaffUser, staff_id) is not None
        added = db.exec(select(StaffAuditEvent).where(StaffAuditEvent.staff_id == staff_id,
                                                      StaffAuditEvent.action == "staff_passkey_added")).one()
        assert json.loads(added.detail)["grant"] == "totp"
