"""Step-up verification as a user meets it, in Chromium."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import create_user, latest_code, pass_gate_by_email, sign_in

pytestmark = pytest.mark.browser


def new_user(phone="+4915112345678") -> str:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    create_user(email, phone=phone)
    return email


def test_email_code_end_to_end(page, panel_url):
    email = new_user()
    sign_in(page, panel_url, email, "a-long-test-password", next_path="/security")
    expect(page).to_have_url(re.compile("/security"))
    gate = page.locator("#verification-gate")
    expect(gate).to_be_visible()
    expect(page.get_by_role("heading", name="Security")).to_have_count(0)
    field = page.get_by_label("Verification code")
    assert field.get_attribute("autocomplete") == "one-time-code"
    assert field.get_attribute("inputmode") == "numeric"
    expect(page.get_by_role("radio", name="Email")).to_be_checked()
    expect(page.get_by_role("radio", name="WhatsApp")).to_be_visible()

    # A wrong code is refused with a clear message.
    page.locator("#send-code").click()
    expect(page.locator("#resend-countdown")).to_be_visible()
    code = latest_code(page, panel_url, email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    field.fill(wrong)
    page.locator("#verify-button").click()
    expect(page.locator("#gate-error")).to_contain_text("not correct")

    field.fill(code)
    page.locator("#verify-button").click()
    expect(gate).to_be_hidden()
    expect(page.get_by_role("heading", name="Security")).to_be_visible()
    expect(page.locator("#grant-countdown")).to_have_text(re.compile(r"^(09:[0-5]\d|10:00)$"))


def test_masked_destination_and_help_without_a_code(page, panel_url):
    email = new_user()
    sign_in(page, panel_url, email, "a-long-test-password", next_path="/security")
    expect(page.get_by_role("radio", name="Email")).to_be_checked()  # the gate is live
    page.locator("#no-code-toggle").click()
    # Nothing sent yet: the help says so, and "sent to" waits for a send on that channel.
    expect(page.locator("#no-code-sent")).to_be_visible()
    expect(page.locator("#masked-destination")).to_have_count(0)
    expect(page.locator("#verification-gate")).to_contain_text(f"{email[0]}•••@example.com")
    page.get_by_role("radio", name="WhatsApp").click()
    expect(page.locator("#no-code-sent")).to_be_visible()
    expect(page.locator("#verification-gate")).to_contain_text("+49 ••• ••• 78")
    page.locator("#contact-update-ticket").click()
    expect(page.locator("#no-code-help")).to_contain_text("ticket #")


def test_authenticator_enrollment_then_stepup_with_the_app(page, panel_url):
    email = new_user()
    sign_in(page, panel_url, email, "a-long-test-password", next_path="/security")
    pass_gate_by_email(page, panel_url, email)
    page.locator("#totp-setup").click()
    # The key is written into the page by the click's answer (never kept in the state).
    expect(page.locator("#totp-secret")).to_have_text(re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{4})+$"))
    expect(page.locator("#totp-qr")).to_have_attribute("src", re.compile(r"^data:image/"))
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Verification code").fill(totp.now())
    page.locator("#enroll-confirm").click()
    expect(page.locator("#recovery-codes")).to_have_text(re.compile(r"^(\S+\s+){9}\S+\s*$"))

    # End the grant (demo control), come back: the app is now offered first.
    outbox = page.context.new_page()
    outbox.goto(panel_url + "/dev/outbox")
    outbox.locator("#demo-end-grant").click()
    expect(outbox.get_by_role("status")).to_contain_text("ended")
    outbox.close()
    expect(page.locator("#verification-gate")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("radio", name="Authenticator app")).to_be_checked()
    # The enrollment spent the current time step; the next one is within tolerance.
    next_step = totp.at(datetime.now(UTC) + timedelta(seconds=30))
    page.get_by_label("Verification code").fill(next_step)
    page.locator("#verify-button").click()
    expect(page.locator("#verification-gate")).to_be_hidden()
    expect(page.get_by_text("Active", exact=True)).to_be_visible()


def test_second_tab_shares_the_grant_and_expiry_wipes_every_tab(page, panel_url, context):
    email = new_user()
    settings_tab = context.new_page()
    settings_tab.goto(panel_url + "/login")
    sign_in(page, panel_url, email, "a-long-test-password", next_path="/security")
    settings_tab.goto(panel_url + "/dev/outbox")
    settings_tab.get_by_label("Verification lasts:").click()
    settings_tab.get_by_role("option", name="10 s").click()
    try:
        pass_gate_by_email(page, panel_url, email)
        expect(page.get_by_text("Headless Chrome on Linux").first).to_be_visible()
        second = context.new_page()
        second.goto(panel_url + "/security")
        expect(second.get_by_role("heading", name="Security")).to_be_visible()
        expect(second.locator("#verification-gate")).to_have_count(0)
        # At zero both tabs return to the gate and the sensitive rows leave the DOM.
        for tab in (page, second):
            expect(tab.locator("#verification-gate")).to_be_visible(timeout=20_000)
            assert "Headless Chrome on Linux" not in tab.content()
    finally:
        settings_tab.get_by_label("Verification lasts:").click()
        settings_tab.get_by_role("option", name="600 s").click()
        expect(settings_tab.get_by_role("status")).to_contain_text("600")
