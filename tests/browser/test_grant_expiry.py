"""Expiry that loses nothing, in a real browser against a server whose grant lasts two
minutes: the one-minute notice with "verify again" in place, then the grant's end in the
middle of typing; after verifying again the page is the same and what was typed is back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import server_on_a_copy
from tests.browser.helpers import OWNER, create_user, pass_gate_by_email, sign_in

pytestmark = pytest.mark.browser

GRANT_SECONDS = 120  # the notice shows in its last 60 s; a code can be sent again after 60 s


@pytest.fixture(scope="module")
def short_grant_url(panel_server):
    with server_on_a_copy("panel-grant-", PANEL_STEPUP_TTL_SECONDS=str(GRANT_SECONDS)) as server:
        yield server.url


def _grant_ends(page: Page) -> None:
    """Wait out the grant: the gate takes the page's place by itself."""
    expect(page.locator("#main #verification-gate")).to_be_visible(timeout=(GRANT_SECONDS + 30) * 1000)


def test_profile_notice_verify_again_in_place_then_expiry_keeps_the_typed_address(page: Page, short_grant_url):
    email = "expiry-profile@example.com"
    create_user(email)
    sign_in(page, short_grant_url, email, "a-long-test-password", next_path="/profile")
    expect(page).to_have_url(re.compile(r"/profile/?$"))
    expect(page.locator("#gate-unlocks")).to_have_text("Verifying opens: Personal data.")
    expect(page.locator("#gate-return-reason")).to_have_count(0)  # a first entry: nothing came back
    pass_gate_by_email(page, short_grant_url, email)
    street = page.locator("#profile-street")
    expect(street).to_be_visible()
    street.fill("Lindenallee 7")

    # The last minute: said beside the form, in a live region, with a way to verify in place.
    notice = page.locator("#grant-ending")
    expect(notice).to_be_hidden()
    expect(notice).to_be_visible(timeout=(GRANT_SECONDS - 60 + 20) * 1000)
    expect(page.locator("[role=status]:has(#grant-ending)")).to_have_count(1)
    page.locator("#reverify-now").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    pass_gate_by_email(page, short_grant_url, email)
    expect(dialog).to_be_hidden()
    expect(notice).to_be_hidden()
    expect(page.locator("#grant-countdown")).to_have_text(re.compile(r"^0[1-2]:\d\d$"))  # restarted
    expect(street).to_have_value("Lindenallee 7")  # never left the page
    page.locator("#profile-city").fill("Bremen")

    # The grant runs out while the form holds unsaved text: the gate says why, in place.
    _grant_ends(page)
    expect(page).to_have_url(re.compile(r"/profile/?$"))
    expect(page.locator("#gate-return-reason")).to_contain_text("Your verification ended after 2 minutes.")
    expect(street).to_have_count(0)
    assert "Lindenallee 7" not in page.content()  # not in the page while locked
    pass_gate_by_email(page, short_grant_url, email)
    expect(page).to_have_url(re.compile(r"/profile/?$"))
    expect(page.locator("#profile-street")).to_have_value("Lindenallee 7")
    expect(page.locator("#profile-city")).to_have_value("Bremen")

    # Saved: the draft goes (a later expiry brings back the stored values, not the draft).
    page.locator("#profile-postal-code").fill("28195")
    page.locator("#save-profile").click()
    expect(page.get_by_role("status").filter(has_text=re.compile("saved", re.I)).first).to_be_visible()
    drafts = page.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('panel.draft|'))")
    assert drafts == []


def test_a_dns_record_being_edited_reopens_with_what_was_typed(page: Page, short_grant_url):
    path = "/domains/schmidt-webdesign.example"
    sign_in(page, short_grant_url, *OWNER, next_path=path)
    expect(page.locator("#gate-unlocks")).to_have_text("Verifying opens: Domains, schmidt-webdesign.example.")
    pass_gate_by_email(page, short_grant_url, OWNER[0])
    edit = page.locator("[id^=edit-record-]").first
    expect(edit).to_be_visible()
    edit_id = edit.get_attribute("id")
    edit.click()
    expect(page.locator("#record-form-title")).to_have_text("Edit record")
    value = page.locator("#dns-value")
    value.fill("198.51.100.77")
    page.locator("#dns-ttl").fill("900")

    _grant_ends(page)
    expect(page.locator("#gate-return-reason")).to_contain_text("ended after 2 minutes")
    assert "198.51.100.77" not in page.content()
    # The code sent for the first grant must be a minute old before another one goes.
    pass_gate_by_email(page, short_grant_url, OWNER[0])
    expect(page).to_have_url(re.compile(re.escape(path) + "/?$"))
    expect(page.locator("#record-form-title")).to_have_text("Edit record")  # reopened on the same record
    expect(page.locator("#" + edit_id)).to_be_visible()
    expect(value).to_have_value("198.51.100.77")
    expect(page.locator("#dns-ttl")).to_have_value("900")
    # Signing out forgets every draft of the tab.
    page.locator("#logout-button").click()
    expect(page).to_have_url(re.compile(r"/login"))
    assert page.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('panel.draft|'))") == []
