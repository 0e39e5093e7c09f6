"""Keyboard and orientation (issue 19, items 10 and 11) in a real browser: where the focus
goes at the gate, the current page and the padlocks in the navigation, the phone menu's
protected group, the card form's errors all at once beside their fields, and the staff
console's authenticator set-up without an empty image."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import OWNER, create_user, latest_code, pass_gate_by_email, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "a-long-test-password"


def _padlocks(page, state: str):
    return page.locator(f'nav .nav-padlock[data-lock="{state}"]')


def test_focus_follows_the_gate_and_the_navigation_shows_page_and_padlocks(page, panel_url):
    email = "keys-focus@example.com"
    create_user(email)
    sign_in(page, panel_url, email, PASSWORD, next_path="/invoices")
    gate = page.locator("#verification-gate")
    expect(gate).to_be_visible()
    expect(page.get_by_role("radio", name="Email")).to_be_checked()  # hydrated: the gate's prepare ran

    # The page shown is marked in the navigation, in words for a screen reader and visibly.
    current = page.locator('nav a[aria-current="page"]')
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("href", "/invoices")
    assert current.evaluate("el => getComputedStyle(el).boxShadow") != "none"
    assert page.locator('nav a[href="/dashboard"]').get_attribute("aria-current") is None
    # The protected areas are a named group, in the sidebar as in the phone menu.
    protected = page.get_by_role("navigation").get_by_role("group", name="Protected areas")
    expect(protected.get_by_role("link", name=re.compile("^Invoices"))).to_be_visible()
    # Not verified: every protected area's padlock is closed.
    expect(_padlocks(page, "closed").first).to_be_visible()
    closed = _padlocks(page, "closed").count()
    assert closed >= 3 and _padlocks(page, "open").count() == 0

    # "Send code": the focus goes to the code field.
    page.locator("#send-code").click()
    expect(page.locator("#code-sent-note")).to_be_visible()
    expect(page.locator("#verification-code")).to_be_focused()
    assert page.evaluate("document.activeElement.id") == "verification-code"

    # "Verify": the gate gives way to the page, and the focus to its main heading.
    page.keyboard.type(latest_code(page, panel_url, email))
    page.keyboard.press("Enter")
    expect(gate).to_be_hidden(timeout=10_000)
    heading = page.locator("#main h1")
    expect(heading).to_be_focused(timeout=5_000)
    assert page.evaluate("document.activeElement.tagName + ' ' + !!document.activeElement.closest('#main')") \
        == "H1 true"

    # Verified: the padlocks are open; "Lock now" closes them again.
    expect(_padlocks(page, "open")).to_have_count(closed)
    expect(_padlocks(page, "closed")).to_have_count(0)
    page.locator("#lock-now").click()
    expect(gate).to_be_visible(timeout=10_000)
    expect(_padlocks(page, "closed")).to_have_count(closed)
    expect(_padlocks(page, "open")).to_have_count(0)


def test_the_phone_menu_keeps_the_protected_group(browser, panel_url):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, panel_url, *OWNER)
    expect(page).to_have_url(re.compile(r"/dashboard"))
    expect(page.locator("nav[aria-label]")).to_be_hidden()  # no sidebar at phone width
    trigger = page.locator("#phone-menu")
    expect(trigger).to_be_visible()
    trigger.click()
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    group = menu.get_by_role("group", name=re.compile("^(Protected areas|Geschützte Bereiche)$"))
    expect(group).to_be_visible()
    expect(group.get_by_text(re.compile("^(Protected areas|Geschützte Bereiche)$"))).to_be_visible()
    expect(group.get_by_role("menuitem", name=re.compile("Invoices|Rechnungen"))).to_be_visible()
    expect(group.locator('.nav-padlock[data-lock="closed"]').first).to_be_visible()
    # Standard areas stay outside the group; the page shown is marked.
    assert group.get_by_role("menuitem", name=re.compile("^(Dashboard|Übersicht)")).count() == 0
    expect(menu.locator('[aria-current="page"]')).to_have_count(1)
    expect(menu.locator('[aria-current="page"]')).to_contain_text(re.compile("Dashboard|Übersicht"))
    context.close()


def test_the_card_form_reports_every_error_at_once_beside_its_field(page, panel_url):
    email = "keys-card@example.com"
    create_user(email)
    sign_in(page, panel_url, email, PASSWORD, next_path="/payment-methods")
    pass_gate_by_email(page, panel_url, email)
    expect(page.locator("#card-number")).to_be_visible()
    page.locator("#card-number").fill("4242 4242 4242 4241")
    page.locator("#card-exp-month").fill("13")
    page.locator("#card-exp-year").fill(str(date.today().year - 1))
    # The holder stays empty: the server says so too, with the others (not the browser, one by one).
    page.locator("#add-card").click()
    for control, text in [("card-number", "not valid"), ("card-exp-month", "1 to 12"),
                          ("card-exp-year", "has passed"), ("card-holder", "")]:
        error = page.locator(f"#{control}-error")
        expect(error).to_be_visible()
        if text:
            expect(error).to_contain_text(text)
        field = page.locator(f"#{control}")
        assert f"{control}-error" in (field.get_attribute("aria-describedby") or "")
        expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#payments-error")).to_have_count(0)  # beside the fields, not a banner
    assert page.locator("#card-number").input_value() == "4242 4242 4242 4241"  # kept in the browser only


def _domains_for(email: str, *names_and_mailboxes: tuple[str, str]) -> None:
    """Domains (and a mailbox on each that names one) for the user ``email``."""
    from sqlmodel import select

    from panel_app.db import transaction
    from panel_app.models import Domain, Mailbox, User

    with transaction() as db:
        user = db.exec(select(User).where(User.email == email)).one()
        for name, mailbox in names_and_mailboxes:
            domain = Domain(account_id=user.account_id, name=name, registered_on=date(2024, 1, 1),
                            expires_on=date(2027, 1, 1))
            db.add(domain)
            db.flush()
            if mailbox:
                db.add(Mailbox(domain_id=domain.id, local_part=mailbox, password_hash="x"))


def test_email_opens_on_a_domain_with_mailboxes_and_the_address_names_the_domain(page, panel_url):
    email = "keys-mail@example.com"
    create_user(email)
    empty, with_mail = "a-keys-empty.example", "b-keys-mail.example"
    _domains_for(email, (empty, ""), (with_mail, "info"))
    sign_in(page, panel_url, email, PASSWORD, next_path="/email")
    pass_gate_by_email(page, panel_url, email)
    selector = page.locator("#mail-domain")
    expect(selector).to_have_text(with_mail)  # not the first one, which has no mailbox
    expect(page.get_by_text(f"info@{with_mail}").first).to_be_visible()
    # Chosen in the page: the address says so.
    selector.click()
    page.get_by_role("option", name=empty).click()
    expect(page).to_have_url(re.compile(r"/email\?domain=" + re.escape(empty) + "$"))
    expect(selector).to_have_text(empty)
    # A link naming the other domain wins, although one was chosen in this tab before.
    page.goto(f"{panel_url}/email?domain={with_mail}")
    expect(selector).to_have_text(with_mail)
    expect(page.get_by_text(f"info@{with_mail}").first).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(re.escape(empty) + "$"))
    expect(selector).to_have_text(empty)


def _new_staff_member(email: str) -> str:
    """As a staff admin would: the CLI; returns the token of the one-time set-up link."""
    run = subprocess.run([sys.executable, "-m", "panel_app.cli", "create-staff", "--email", email, "--name", "Kim"],
                         check=True, env=dict(os.environ), capture_output=True, text=True)
    return re.search(r"token=([^\s&]+)", run.stdout).group(1)


def test_the_staff_app_setup_shows_no_image_before_show_qr_code(page, panel_url):
    email = "keys-staff@example.com"
    token = _new_staff_member(email)
    page.goto(f"{panel_url}/staff/setup?token={token}")
    page.locator("#staff-new-password").fill("a-long-staff-password")
    page.locator("#staff-setup-submit").click()
    expect(page).to_have_url(re.compile(r"/staff/login"))
    page.locator("#staff-email").fill(email)
    page.locator("#staff-password").fill("a-long-staff-password")
    page.locator("#staff-login-submit").click()
    show = page.locator("#staff-setup-app")
    expect(show).to_be_visible(timeout=10_000)
    # Before the button: no image at all (no broken-image box with its alt text).
    expect(page.locator("#staff-totp-qr")).to_have_count(0)
    assert page.locator("#staff-gate img, main img").count() == 0
    show.click()
    expect(page.locator("#staff-totp-qr")).to_have_attribute("src", re.compile(r"^data:image/"))
    expect(page.locator("#staff-totp-secret")).not_to_be_empty()
