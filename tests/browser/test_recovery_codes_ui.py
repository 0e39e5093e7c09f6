"""Recovery codes as a new user meets them (issue 19, item 6): set up the app, renew the codes
right away (no second verification with the app just added), and keep them with Copy,
Download and Print — all done in the browser from the codes on the page."""

import re
import uuid

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import create_user, pass_gate_by_email, sign_in

pytestmark = pytest.mark.browser

TEN_CODES = re.compile(r"^(\S+\s+){9}\S+\s*$")


def _codes(page) -> list[str]:
    return page.locator("#recovery-codes").inner_text().split()


def test_set_up_renew_copy_download_and_print(page, panel_url, context, axe):
    email = f"codes-{uuid.uuid4().hex[:8]}@example.com"
    create_user(email)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=panel_url)
    sign_in(page, panel_url, email, "a-long-test-password", next_path="/security")
    pass_gate_by_email(page, panel_url, email)

    page.locator("#totp-setup").click()
    expect(page.locator("#totp-secret")).to_have_text(re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{4})+$"))
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Verification code").fill(pyotp.TOTP(secret).now())
    page.locator("#enroll-confirm").click()
    codes = page.locator("#recovery-codes")
    expect(codes).to_have_text(TEN_CODES)
    first = _codes(page)

    # Renewed at once, in this session verified by email: no "verify with the app first".
    page.get_by_role("button", name="New recovery codes").click()
    expect(page.get_by_text("New recovery codes were created")).to_be_visible()
    expect(codes).not_to_have_text(" ".join(first))
    expect(codes).to_have_text(TEN_CODES)
    renewed = _codes(page)
    assert len(renewed) == 10 and not set(renewed) & set(first)
    problems = axe(page)
    assert problems == [], [(v["id"], [(n["target"], n["html"][:120]) for n in v["nodes"]]) for v in problems]  # the codes block

    # Copy, from the keyboard: the clipboard holds the ten new codes, and the page says so.
    copy = page.get_by_role("button", name="Copy the recovery codes")
    copy.focus()
    page.keyboard.press("Enter")
    status = page.locator("#recovery-codes-status")
    expect(status).to_have_text(re.compile("^Copied"))
    assert page.evaluate("navigator.clipboard.readText()").split() == renewed

    # Download: a text file with the ten codes (and a line saying what they are).
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile(r"^Download \(\.txt\)")).click()
    download = info.value
    assert download.suggested_filename == "panel-recovery-codes.txt"
    text = open(download.path(), encoding="utf-8").read()
    assert [word for word in text.split() if word in renewed] == renewed
    assert "recovery codes" in text.lower()
    expect(status).to_have_text(re.compile("^Download started"))

    # Print: only the codes (and their heading) are on paper. The print dialog itself is
    # the browser's: stubbed here, the stylesheet checked in print media.
    page.evaluate("() => { window.print = () => { window.__printed = (window.__printed || 0) + 1; }; }")
    page.emulate_media(media="print")
    page.get_by_role("button", name="Print the recovery codes").click()
    assert page.evaluate("window.__printed") == 1
    expect(codes).to_be_visible()
    expect(page.get_by_role("heading", name="Panel recovery codes")).to_be_visible()
    expect(page.get_by_role("heading", name="Security", exact=True)).to_be_hidden()
    expect(page.get_by_role("button", name="Copy the recovery codes")).to_be_hidden()
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    expect(page.get_by_role("heading", name="Security", exact=True)).to_be_visible()
    page.emulate_media(media="screen")
    expect(page.get_by_role("heading", name="Panel recovery codes")).to_be_hidden()  # on paper only
