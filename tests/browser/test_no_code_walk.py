"""Issue 19: "I didn't get the code" walked in Chromium: each channel shows its own last
code and one status; a failed WhatsApp send is "failed" only; "still no code" opens a
support ticket naming the channel."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from panel_app.db import transaction
from panel_app.delivery import set_demo_fault
from panel_app.models import Ticket, TicketMessage, User
from tests.browser.helpers import create_user, sign_in

pytestmark = pytest.mark.browser


def test_each_channel_its_own_status_and_a_ticket_naming_the_failed_one(page, panel_url):
    email = f"nocode-{uuid.uuid4().hex[:8]}@example.com"
    create_user(email, phone="+4915112345678")
    sign_in(page, panel_url, email, "a-long-test-password", next_path="/security")
    expect(page.get_by_role("radio", name="Email")).to_be_checked()  # the gate is live
    masked_email = f"{email[0]}•••@example.com"

    # Before any send: no "sent to" in the help, only "nothing was sent yet".
    page.locator("#no-code-toggle").click()
    expect(page.locator("#no-code-sent")).to_be_visible()
    expect(page.locator("#masked-destination")).to_have_count(0)

    # An email code: "on its way", its status, "Sent to" the address, the mailbox's advice.
    send = page.locator("#send-code")
    expect(send).to_be_enabled(timeout=65_000)
    send.click()
    expect(page.locator("#code-sent-note")).to_contain_text(masked_email)
    expect(page.locator("#delivery-status")).to_have_text("Sent")
    expect(page.locator("#sent-to-label")).to_have_text("Sent to")
    expect(page.locator("#masked-destination")).to_have_text(masked_email)
    expect(page.locator("#no-code-advice")).to_contain_text("spam")

    # WhatsApp, whose next send fails: nothing of the email code shows there, then "failed" only.
    with transaction() as db:
        set_demo_fault(db, "whatsapp", "131026")
    page.get_by_role("radio", name="WhatsApp").click()
    expect(page.locator("#no-code-sent")).to_be_visible()
    expect(page.locator("#delivery-status")).to_have_count(0)
    expect(page.locator("#code-sent-note")).to_have_count(0)
    expect(page.locator("#no-code-advice")).to_contain_text("WhatsApp is installed")
    expect(page.locator("#no-code-advice")).not_to_contain_text("spam")
    expect(send).to_be_enabled(timeout=65_000)
    send.click()
    expect(page.locator("#delivery-status")).to_have_text("Failed")
    expect(page.locator("#delivery-problem")).to_be_visible()
    expect(page.locator("#code-sent-note")).to_have_count(0)
    expect(page.locator("#verification-gate")).not_to_contain_text("on its way")
    expect(page.locator("#sent-to-label")).to_have_text("Could not be delivered to")
    expect(page.locator("#masked-destination")).to_have_text("+49 ••• ••• 78")

    # Back to email: its status as it was, without WhatsApp's failure.
    page.get_by_role("radio", name="Email").click()
    expect(page.locator("#delivery-status")).to_have_text("Sent")
    expect(page.locator("#delivery-problem")).to_have_count(0)
    expect(page.locator("#masked-destination")).to_have_text(masked_email)

    # Still no code by WhatsApp: the ticket names it, and what support will ask is said first.
    page.get_by_role("radio", name="WhatsApp").click()
    expect(page.locator("#delivery-status")).to_have_text("Failed")
    expect(page.locator("#support-expect")).to_contain_text("customer number")
    page.locator("#contact-update-ticket").click()
    expect(page.locator("#ticket-message")).to_contain_text(re.compile(r"ticket #\d+ \(WhatsApp\)"))
    with transaction() as db:
        body = db.exec(select(TicketMessage.body).join(Ticket, Ticket.id == TicketMessage.ticket_id)
                       .join(User, User.id == Ticket.user_id).where(User.email == email)).one()
    assert "by WhatsApp (delivery status: Failed)" in body
