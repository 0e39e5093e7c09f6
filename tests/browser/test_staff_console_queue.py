"""The support console as an agent meets it (issue 19, item 8): the queue shows its rows
right after the app confirmation at the console's gate (no reload), says so when no ticket
matches the filters, and the evidence checklist gives its verdict in words; a later failed
comparison withdraws an earlier pass."""

from __future__ import annotations

import re
from datetime import date

import pyotp
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.models import Account, Invoice, InvoiceLine, PaymentMethod, User
from panel_app.security import staff, totp
from panel_app.services import staff_support, support
from panel_app.services.audit import Actor
from tests.browser.helpers import create_user

pytestmark = pytest.mark.browser

STAFF_EMAIL = "queue-agent@provider.example"
STAFF_PASSWORD = "a-long-staff-password-q1"
STAFF_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"
CUSTOMER = "queue-customer@example.com"


def _fresh_agent() -> None:
    """An agent of this test alone (the demo agent's codes are spent by other tests)."""
    now = utcnow()
    with transaction() as db:
        if db.exec(select(staff.StaffUser).where(staff.StaffUser.email == STAFF_EMAIL)).first() is not None:
            return
        member, token = staff.create(db, email=STAFF_EMAIL, name="Quentin Queue", admin=False, now=now)
        assert staff.setup_account(db, token, STAFF_PASSWORD, now=now) is not None
        member.totp_secret_enc, member.totp_enabled_at = totp.encrypt_secret(STAFF_SECRET), now
        db.add(member)


def _customer_with_ticket() -> tuple[int, str, str]:
    """A customer with a postal code, an invoice, a card and a contact-update ticket."""
    create_user(CUSTOMER, phone="+4915112345691")
    with transaction() as db:
        user = db.exec(select(User).where(User.email == CUSTOMER)).one()
        account = db.get(Account, user.account_id)
        account.street, account.postal_code, account.city = "Marienplatz 1", "80331", "München"
        db.add(account)
        invoice = Invoice(account_id=account.id, number=f"2026-8{user.id:05d}", issue_date=date(2026, 11, 1),
                          supply_date=date(2026, 10, 31), due_date=date(2026, 11, 15))
        db.add(invoice)
        db.flush()
        db.add(InvoiceLine(invoice_id=invoice.id, description="Hosting", unit_net_cents=1000, vat_rate_percent=19))
        db.add(PaymentMethod(account_id=account.id, kind="card", brand="Visa", last4="1991", token="t"))
        request = support.create_contact_update_ticket(db, Actor.for_user(user), user, channel="whatsapp",
                                                       now=utcnow())
        return request.ticket.id, account.customer_number, invoice.number


def _confirm_at_the_gate(page, base_url: str) -> None:
    page.goto(base_url + "/staff/login")
    page.locator("#staff-email").fill(STAFF_EMAIL)
    page.locator("#staff-password").fill(STAFF_PASSWORD)
    page.locator("#staff-login-submit").click()
    expect(page).to_have_url(re.compile(r"/staff/tickets"))
    expect(page.locator("#staff-gate")).to_be_visible()
    page.locator("#staff-code").fill(pyotp.TOTP(STAFF_SECRET).now())
    page.locator("#staff-verify").click()
    expect(page.locator("#staff-gate")).to_have_count(0, timeout=10_000)


def test_rows_appear_right_after_the_gate_and_the_checklist_speaks_its_verdict(browser, panel_url):
    _fresh_agent()
    ticket_id, customer_number, invoice_number = _customer_with_ticket()
    page = browser.new_context().new_page()
    _confirm_at_the_gate(page, panel_url)

    # No reload, no filter touched: the open tickets are there, this one among them.
    link = page.locator(f'a[href="/staff/tickets/{ticket_id}"]')
    expect(link).to_be_visible(timeout=10_000)
    row = page.locator("tr", has=link)
    expect(row).to_contain_text("Waiting for support")
    expect(page.locator("#staff-queue-empty")).to_have_count(0)

    # Filters that match nothing say so, and offer the way back.
    with transaction() as db:
        assert staff_support.queue(db, kind="technical", status="", age="30d", now=utcnow()) == []
    page.locator("#filter-status").select_option("")
    page.locator("#filter-kind").select_option("technical")
    page.locator("#filter-age").select_option("30d")
    expect(page.locator("#staff-queue-empty")).to_have_text(re.compile("No tickets match these filters"))
    page.locator("#staff-queue-clear").click()
    expect(link).to_be_visible()

    link.click()
    expect(page.locator("#staff-ticket-subject")).to_be_visible()
    expect(page.locator("#staff-ticket-status")).to_have_text("Waiting for support")  # the queue's words
    fields = {"customer_number": customer_number, "invoice_number": invoice_number, "invoice_amount": "11,90",
              "payment_last4": "1991", "postal_code": "99999"}
    for name, value in fields.items():
        page.locator(f"#evidence-{name}").fill(value)
    page.locator("#evidence-submit").click()
    expect(page.locator("#evidence-verdict")).to_have_text(re.compile(r"3 of 4 match: enough to go on"))
    expect(page.locator("#evidence-passed")).to_be_visible()

    # A later comparison that fails withdraws the pass: the change form goes with it.
    page.locator("#evidence-payment_last4").fill("0000")
    page.locator("#evidence-submit").click()
    expect(page.locator("#evidence-verdict")).to_have_text(re.compile(r"2 of 4 match: not enough"))
    expect(page.locator("#evidence-withdrawn")).to_be_visible()
    expect(page.locator("#evidence-passed")).to_have_count(0)
    expect(page.locator("#change-submit")).to_have_count(0)
