"""One walk through every sensitive area, as the demo owner, after one verification."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import OWNER, pass_gate_by_email, sign_in
from tests.test_billing import pdf_text

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def owner_page(browser, panel_url):
    """One sign-in and one verification for the whole walk (the grant holds 10 min)."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    sign_in(page, panel_url, *OWNER, next_path="/profile")
    pass_gate_by_email(page, panel_url, OWNER[0])
    yield page
    context.close()


def test_profile_keeps_bad_input_with_the_reason_and_saves_good_input(owner_page, panel_url):
    page = owner_page
    page.goto(panel_url + "/profile")
    postal = page.locator("#profile-postal-code")
    postal.fill("ABC")
    page.locator("#save-profile").click()
    expect(page.get_by_role("alert").filter(has_text=re.compile("postal|Postleitzahl", re.I)).first).to_be_visible()
    expect(postal).to_have_value("ABC")
    postal.fill("10969")
    page.locator("#profile-street").fill("Oranienstraße 5")
    page.locator("#save-profile").click()
    page.reload()
    expect(page.locator("#profile-street")).to_have_value("Oranienstraße 5")


def test_invoice_pdf_downloads_through_the_guarded_handler(owner_page, panel_url):
    """Also issue 19, item 9: the address was edited above (the walk's first step); an invoice
    issued before still names the buyer as it was when it was issued."""
    page = owner_page
    page.goto(panel_url + "/invoices")
    expect(page.get_by_text("2026-000203")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("invoice 2026-000203")).click()
    path = info.value.path()
    with open(path, "rb") as handle:
        text = pdf_text(handle.read())
    assert "Lindenstraße 12" in text and "Oranienstraße 5" not in text


def test_add_a_card_shows_it_masked_and_clears_the_number(owner_page, panel_url):
    page = owner_page
    page.goto(panel_url + "/payment-methods")
    page.locator("#card-number").fill("5555 5555 5555 4444")
    page.locator("#card-exp-month").fill("12")
    page.locator("#card-exp-year").fill("2031")
    page.locator("#card-holder").fill("Jana Schmidt")
    page.locator("#add-card").click()
    expect(page.get_by_text(re.compile(r"•••• 4444")).first).to_be_visible()
    expect(page.locator("#card-number")).to_have_value("")
    assert "5555555555554444" not in page.content()


def test_dns_record_add_and_undo_then_reveal_the_auth_code(owner_page, panel_url):
    page = owner_page
    page.goto(panel_url + "/domains/schmidt-webdesign.example")
    expect(page.get_by_text("203.0.113.10").first).to_be_visible()
    page.locator("#dns-name").fill("shop")
    page.locator("#dns-value").fill("198.51.100.20")
    page.locator("#record-submit").click()
    expect(page.get_by_text("198.51.100.20").first).to_be_visible()
    page.locator("#undo-button").click()
    expect(page.get_by_text("198.51.100.20")).to_have_count(0)
    page.locator("#auth-code-show").click()
    expect(page.locator("#auth-code")).to_have_text(re.compile(r"^\S{8,}$"))  # written by the click's answer
    expect(page.locator("#auth-code-countdown")).to_have_text(re.compile(r"^(00:[0-5]\d|01:00)$"))
    outbox = page.context.new_page()
    outbox.goto(panel_url + "/dev/outbox")
    expect(outbox.locator(".outbox-message").filter(has_text="auth code").first).to_be_visible()


def test_create_a_mailbox_and_open_a_ticket(owner_page, panel_url):
    page = owner_page
    page.goto(panel_url + "/email")
    page.locator("#new-local-part").fill("browser-test")
    page.locator("#new-password").fill("Lantern-Orbit-Cactus-42")
    page.locator("#create-mailbox-submit").click()
    expect(page.get_by_text(re.compile("browser-test@")).first).to_be_visible()
    page.goto(panel_url + "/support")
    page.locator("#ticket-subject").fill("Browser test ticket")
    page.locator("#ticket-body").fill("Please ignore, this is an automated test.")
    page.locator("#create-ticket").click()
    expect(page.get_by_text("Browser test ticket").first).to_be_visible()


def test_a_contact_change_without_the_old_number_is_scheduled_shown_and_cancelled(browser, panel_url):
    """A user who lost the phone: a code to the new number schedules the change; the
    banner says so on every page; one click cancels it."""
    import uuid

    from tests.browser.helpers import create_user, latest_code

    email = f"contact-{uuid.uuid4().hex[:8]}@example.com"
    create_user(email, phone="+4915122223333")
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, panel_url, email, "a-long-test-password", next_path="/profile")
    pass_gate_by_email(page, panel_url, email)
    page.locator("#change-phone").click()
    page.locator("#no-access-to-old").click()
    expect(page.locator("#no-access-hint")).to_contain_text("72 hours")
    page.locator("#new-contact").fill("+49 151 44445555")
    page.locator("#send-contact-code").click()
    expect(page.locator("#contact-code-info")).to_be_visible()
    expect(page.locator("#contact-old-code")).to_have_count(0)
    page.locator("#contact-code").fill(latest_code(page, panel_url, "+4915144445555"))
    page.locator("#confirm-contact").click()
    expect(page.locator("#scheduled-changes")).to_contain_text("+49 ••• ••• 55")
    expect(page.locator("#current-phone")).to_have_text("+4915122223333")  # nothing changed yet
    page.goto(panel_url + "/dashboard")
    expect(page.locator("#pending-change-banner")).to_contain_text("phone number")
    page.goto(panel_url + "/profile")
    page.locator("#scheduled-changes button").first.click()
    expect(page.locator("#scheduled-changes")).to_have_count(0)
    page.goto(panel_url + "/dashboard")
    expect(page.locator("#pending-change-banner")).to_have_count(0)
    context.close()
