"""Shared steps for browser tests."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

OWNER = ("owner@example.com", "panel-demo-owner")
TECH = ("tech@example.com", "panel-demo-tech")


def sign_in(page: Page, base_url: str, email: str, password: str, next_path: str = "") -> None:
    if email == OWNER[0]:
        _an_hour_passes_for_the_codes_of(email)
    page.goto(base_url + "/login" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label(re.compile("Email address|E-Mail-Adresse")).fill(email)
    page.get_by_label(re.compile("^(Password|Passwort)$")).fill(password)
    page.get_by_role("button", name=re.compile("^(Sign in|Anmelden)$")).click()


def _an_hour_passes_for_the_codes_of(email: str) -> None:
    """The demo owner is shared by many browser tests of one run, and a user gets 5 codes an
    hour per channel from unknown browsers: before each sign-in as the owner, the owner's
    earlier codes move an hour back, as if every test ran in an hour of its own (their
    expiry is kept: a code still valid stays valid)."""
    from datetime import timedelta

    from sqlmodel import select

    from panel_app.db import transaction
    from panel_app.models import User, VerificationCode
    from panel_app.security.codes import SEND_WINDOW_SECONDS

    with transaction() as db:
        user_id = db.exec(select(User.id).where(User.email == email)).one()
        for row in db.exec(select(VerificationCode).where(VerificationCode.user_id == user_id)).all():
            row.created_at -= timedelta(seconds=SEND_WINDOW_SECONDS)
            db.add(row)


def sign_out(page: Page) -> None:
    page.locator("#logout-button").click()
    expect(page).to_have_url(re.compile(r"/login"))


def create_user(email: str, password: str = "a-long-test-password", phone: str | None = "+4915112345678") -> None:
    """As support staff would: the admin CLI, against the server's database."""
    import os
    import subprocess
    import sys

    args = [sys.executable, "-m", "panel_app.cli", "create-user", "--email", email, "--password", password,
            "--name", "Test Person"]
    if phone:
        args += ["--phone", phone]
    subprocess.run(args, check=True, env=dict(os.environ), capture_output=True)


def outbox_text(page: Page, base_url: str, *has_text: str, timeout: float = 10_000,
                whole_message: bool = False) -> str:
    """The newest demo-outbox message holding every one of ``has_text``, read in a new tab
    as a demo user would: its text (or, with ``whole_message``, recipient and all)."""
    outbox = page.context.new_page()
    outbox.goto(base_url + "/dev/outbox")
    message = outbox.locator(".outbox-message")
    for text in has_text:
        message = message.filter(has_text=text)
    message = message.first
    expect(message).to_be_visible(timeout=timeout)
    text = (message if whole_message else message.locator(".outbox-text")).inner_text()
    outbox.close()
    return text


def latest_code(page: Page, base_url: str, recipient: str) -> str:
    """Read the newest code sent to ``recipient`` from the demo outbox, as a demo user would."""
    text = outbox_text(page, base_url, recipient)
    match = re.search(r"\b(\d{6})\b", text)
    assert match, text
    return match.group(1)


def pass_gate_by_email(page: Page, base_url: str, email: str) -> None:
    gate = page.locator("#verification-gate")
    expect(gate).to_be_visible()
    expect(page.get_by_role("radio", name=re.compile("^(Email|E-Mail)$"))).to_be_checked()  # the gate is live
    send = page.locator("#send-code")
    # Another test may have sent this user a code within the minute: the button waits it out.
    expect(send).to_be_enabled(timeout=65_000)
    send.click()
    expect(page.locator("#code-sent-note")).to_be_visible()
    code = latest_code(page, base_url, email)
    page.get_by_label(re.compile("^(Verification code|Bestätigungscode)$")).fill(code)
    page.locator("#verify-button").click()
    expect(gate).to_be_hidden(timeout=10_000)


def virtual_authenticator(page: Page, **options) -> tuple:
    """Chromium's own WebAuthn stack with a virtual platform authenticator (resident keys,
    user verification, presence given automatically) for ``page``: returns the CDP session
    and the authenticator's id (for ``WebAuthn.addCredential``, ``WebAuthn.getCredentials``,
    ``WebAuthn.setUserVerified``, ...). ``options`` override the authenticator's options."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    answer = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True, **options}})
    return cdp, answer["authenticatorId"]
