"""Forgot password, end to end as the user meets it; and the known-device cookie."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import create_user, outbox_text, pass_gate_by_email, sign_in

pytestmark = pytest.mark.browser

PHONE = "+4915112345681"


def test_reset_with_a_whatsapp_code_ends_the_old_sessions(browser, panel_url):
    email = "reset-me@example.com"
    create_user(email, password="the-old-password-1", phone=PHONE)
    old = browser.new_context()
    old_page = old.new_page()
    sign_in(old_page, panel_url, email, "the-old-password-1")
    expect(old_page).to_have_url(re.compile(r"/dashboard"))

    fresh = browser.new_context()
    page = fresh.new_page()
    page.goto(panel_url + "/login")
    # A click while React hydrates the prerendered page can be lost: wait for the page's load.
    expect(page.locator("input[name=next]")).to_have_value(re.compile("^/"), timeout=15_000)
    page.locator("#login-forgot").click()
    expect(page).to_have_url(re.compile(r"/forgot"))
    page.get_by_label(re.compile("^(Email address|E-Mail-Adresse)$")).fill(email)
    page.locator("#forgot-submit").click()
    expect(page.locator("#forgot-sent")).to_be_visible(timeout=15_000)  # a new page load, then its on_load

    mail = outbox_text(page, panel_url, "Set a new Panel password")
    link = re.search(r"https?://\S+/reset\?token=[\w-]+", mail).group(0)
    # The mail promises what this account will be offered (a number, no app), nothing more.
    assert "You will also confirm with a code by WhatsApp." in mail and "authenticator app" not in mail
    page.goto(panel_url + link[link.index("/reset"):])
    expect(page.get_by_role("radio", name="Code by WhatsApp")).to_be_checked()
    expect(page.locator("#reset-not-offered")).to_contain_text("The authenticator app isn't offered")
    page.locator("#reset-send-code").click()
    expect(page.locator("#reset-info")).to_be_visible()
    code = re.search(r"\b(\d{6})\b", outbox_text(page, panel_url, "5681")).group(1)
    page.get_by_label("Code", exact=True).fill(code)
    page.locator("#reset-verify").click()
    page.get_by_label("New password").fill("the-new-password-2")
    page.locator("#reset-submit").click()
    expect(page.locator("#reset-result")).to_contain_text("Every session was signed out")

    # The old browser's open tab is told at once and lands on the login page.
    expect(old_page).to_have_url(re.compile(r"/login"), timeout=10_000)
    sign_in(old_page, panel_url, email, "the-old-password-1")
    expect(old_page.locator("#login-message")).to_contain_text("not correct")
    sign_in(page, panel_url, email, "the-new-password-2")
    expect(page).to_have_url(re.compile(r"/dashboard"))
    old.close()
    fresh.close()


def test_a_verified_browser_becomes_a_known_device(browser, panel_url):
    email = "known-device@example.com"
    create_user(email, phone=None)
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, panel_url, email, "a-long-test-password", next_path="/security")
    pass_gate_by_email(page, panel_url, email)
    expect(page.get_by_role("heading", name="Known browsers")).to_be_visible()
    for _ in range(50):  # the page asks for the cookie right after the verification
        if any(c["name"] == "panel_device" for c in context.cookies()):
            break
        page.wait_for_timeout(100)
    cookie = next(c for c in context.cookies() if c["name"] == "panel_device")
    page.reload()
    expect(page.get_by_text("This browser")).to_be_visible(timeout=10_000)
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert "panel_device" not in page.evaluate("document.cookie")
    context.close()
