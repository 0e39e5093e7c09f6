"""The support console end to end (issue 10): a customer without access asks from the
gate, an agent confirms the evidence and schedules the new number, the customer is told
on the old channels and, after the (shortened) waiting period, verifies by WhatsApp on the
new number. Plus the console's accessibility and its wall against customer cookies."""

from __future__ import annotations

import re
from datetime import date

import pyotp
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from panel_app.db import transaction
from panel_app.models import Account, Invoice, InvoiceLine, PaymentMethod, Ticket, User
from panel_app.seed import DEMO_STAFF
from tests.browser.conftest import server_on_a_copy
from tests.browser.helpers import OWNER, create_user, outbox_text, sign_in

pytestmark = pytest.mark.browser

AGENT_EMAIL, _AGENT_NAME, AGENT_PASSWORD, _admin, AGENT_SECRET = DEMO_STAFF[0]
ADMIN_EMAIL, _ADMIN_NAME, ADMIN_PASSWORD, _admin2, ADMIN_SECRET = DEMO_STAFF[1]
OLD_PHONE, NEW_PHONE = "+4915112345690", "+4917698765490"


@pytest.fixture(scope="module")
def short_delay_url(panel_server):
    """A second server whose scheduled contact changes take effect after 20 s."""
    with server_on_a_copy("panel-delay-", PANEL_FACTOR_CHANGE_DELAY_SECONDS="20") as server:
        yield server.url


def _staff_sign_in(page, base_url: str, email: str, password: str, secret: str) -> None:
    page.goto(base_url + "/staff/login")
    page.locator("#staff-email").fill(email)
    page.locator("#staff-password").fill(password)
    page.locator("#staff-login-submit").click()
    expect(page).to_have_url(re.compile(r"/staff/tickets"))
    expect(page.locator("#staff-gate")).to_be_visible()
    # The gate is prerendered: a click while React hydrates it submits the bare HTML form. Wait
    # for what only the loaded page shows (the staff member's name in the header).
    name = next(staff[1] for staff in DEMO_STAFF if staff[0] == email)
    expect(page.locator("header")).to_contain_text(name, timeout=15_000)
    code = pyotp.TOTP(secret).now()
    page.locator("#staff-code").fill(code)
    page.locator("#staff-verify").click()
    expect(page.locator("#staff-gate")).to_have_count(0, timeout=10_000)


def _outbox(page, base_url: str, *has_text: str) -> str:
    return outbox_text(page, base_url, *has_text, timeout=15_000, whole_message=True)


def _customer_with_history(email: str) -> str:
    """A customer with a postal code, an invoice and a card: what the checklist asks about."""
    create_user(email, phone=OLD_PHONE)
    with transaction() as db:
        user = db.exec(select(User).where(User.email == email)).one()
        account = db.get(Account, user.account_id)
        account.postal_code = "80331"
        db.add(account)
        invoice = Invoice(account_id=account.id, number=f"2026-9{user.id:05d}", issue_date=date(2026, 11, 1),
                          supply_date=date(2026, 10, 31), due_date=date(2026, 11, 15))
        db.add(invoice)
        db.flush()
        db.add(InvoiceLine(invoice_id=invoice.id, description="Hosting", unit_net_cents=1000, vat_rate_percent=19))
        db.add(PaymentMethod(account_id=account.id, kind="card", brand="Visa", last4="1881", token="t"))
        return account.customer_number, invoice.number


def test_support_schedules_a_new_number_and_the_customer_verifies_on_it(browser, short_delay_url):
    base = short_delay_url
    email = "lost-phone@example.com"
    customer_number, invoice_number = _customer_with_history(email)

    customer = browser.new_context().new_page()
    sign_in(customer, base, email, "a-long-test-password", next_path="/profile")
    expect(customer.locator("#verification-gate")).to_be_visible()
    expect(customer.get_by_role("radio", name="Email")).to_be_checked()  # the gate is live
    customer.locator("#no-code-toggle").click()
    expect(customer.locator("#no-code-help")).to_be_visible()
    customer.locator("#contact-update-ticket").click()
    expect(customer.get_by_text(re.compile(r"#\d+")).first).to_be_visible()

    agent = browser.new_context().new_page()
    _staff_sign_in(agent, base, AGENT_EMAIL, AGENT_PASSWORD, AGENT_SECRET)
    agent.locator("#filter-kind").select_option("contact_update")
    with transaction() as db:  # staff never see the customer number: find the ticket by its link
        ticket_id = db.exec(select(Ticket.id).join(User, User.id == Ticket.user_id)
                            .where(User.email == email, Ticket.kind == "contact_update")).one()
    link = agent.locator(f'a[href="/staff/tickets/{ticket_id}"]')
    expect(link).to_be_visible()
    assert customer_number not in agent.locator("main").inner_text()
    link.click()
    expect(agent.locator("#staff-ticket-subject")).to_be_visible()
    agent.locator("#evidence-customer_number").fill(customer_number)
    agent.locator("#evidence-invoice_number").fill(invoice_number)
    agent.locator("#evidence-invoice_amount").fill("11,90")
    agent.locator("#evidence-payment_last4").fill("1881")
    agent.locator("#evidence-postal_code").fill("12345")  # wrong: 3 of 4 is enough
    agent.locator("#evidence-submit").click()
    expect(agent.locator("#evidence-passed")).to_be_visible()
    agent.locator("#change-kind").select_option("phone")
    agent.locator("#change-value").fill(NEW_PHONE)
    agent.locator("#change-submit").click()
    expect(agent.get_by_text(re.compile("The change is scheduled"))).to_be_visible()

    # Announced on the old channels: the mailbox and the old number by WhatsApp.
    assert "phone number" in _outbox(agent, base, email, "will be changed")
    assert "phone number" in _outbox(agent, base, "5690", "will be changed")  # by WhatsApp

    # After the waiting period the new number is the account's: WhatsApp codes go there.
    with transaction() as db:
        user = db.exec(select(User).where(User.email == email)).one()
    for _ in range(90):
        with transaction() as db:
            if db.get(User, user.id).phone == NEW_PHONE:
                break
        customer.wait_for_timeout(1000)
    customer.goto(base + "/profile")
    expect(customer.locator("#verification-gate")).to_be_visible()
    customer.get_by_role("radio", name="WhatsApp").click()
    expect(customer.get_by_role("radio", name="WhatsApp")).to_be_checked()
    expect(customer.locator("#send-code")).to_be_enabled(timeout=65_000)
    customer.locator("#send-code").click()
    text = _outbox(customer, base, "5490", "code")
    code = re.search(r"\b(\d{6})\b", text).group(1)
    customer.get_by_label(re.compile("^(Verification code|Bestätigungscode)$")).fill(code)
    customer.locator("#verify-button").click()
    expect(customer.locator("#verification-gate")).to_be_hidden(timeout=10_000)


def test_the_console_is_accessible_and_refuses_customers(browser, panel_url, axe):
    page = browser.new_context().new_page()
    page.goto(panel_url + "/staff/login")
    page.wait_for_load_state("networkidle")
    assert axe(page) == []
    _staff_sign_in(page, panel_url, ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_SECRET)
    for path in ("/staff/tickets", "/staff/admin"):
        page.goto(panel_url + path)
        expect(page.locator("main h1").first).to_be_visible()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        violations = axe(page)
        assert violations == [], (path, [(v["id"], v["impact"]) for v in violations])
    ticket_link = page.locator("table a").first
    page.goto(panel_url + "/staff/tickets")
    ticket_link.click()
    expect(page.locator("#staff-ticket-subject")).to_be_visible()
    page.wait_for_timeout(300)
    assert axe(page) == []

    # A signed-in, verified customer opening the console gets the staff sign-in, nothing else.
    customer = browser.new_context().new_page()
    sign_in(customer, panel_url, *OWNER)
    expect(customer).to_have_url(re.compile("/dashboard"))
    customer.goto(panel_url + "/staff/tickets")
    expect(customer).to_have_url(re.compile("/staff/login"))
