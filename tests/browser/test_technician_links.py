"""A technical administrator meets no dead end (issue 19, item 4).

A fresh technician (domains area only, no support area) signs in, meets the gate on /profile,
asks support for help there ("already with support, ticket #N"), verifies, schedules a change of
their own email address (banner, notice mail with its cancel link), then collects every internal
link (a[href]) shown by the navigation, the banners, the dashboard, /profile, /security, /support
and the gate, plus the notice's cancel link, opens each and finds no "no access" page. Their
/support shows their own ticket, not the owner's; their /profile their own person, no contract data.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.models import AuditEvent, User
from panel_app.security.passwords import hash_password
from tests.browser.helpers import latest_code, outbox_text, pass_gate_by_email, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "Lantern-Orbit-Cactus-42"
DENIED = "do not have access"
OWNERS_TICKET = "SSL certificate for shop subdomain"  # a demo ticket of the owner's


def _make_technician(email: str) -> int:
    """As an accepted invitation leaves it: an administrator of the demo account, long settled."""
    with transaction() as db:
        owner = db.exec(select(User).where(User.email == "owner@example.com")).one()
        tech = User(account_id=owner.account_id, email=email, name="Tina Tech", role="admin", areas="domains",
                    phone="+49176" + str(uuid.uuid4().int)[:8], password_hash=hash_password(PASSWORD),
                    created_at=utcnow() - timedelta(days=30))
        db.add(tech)
        db.flush()
        return tech.id


def _internal_links(page: Page, base_url: str, scope: str = "body") -> set[str]:
    hrefs = page.locator(scope).first.evaluate(
        "root => Array.from(root.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))")
    found = set()
    for href in hrefs:
        if href.startswith(base_url):
            href = href[len(base_url):] or "/"
        href = href.split("#", 1)[0]  # the skip link: this very page
        if href.startswith("/") and not href.startswith("//"):
            found.add(href.rstrip("/") or "/")
    return found


def _open_without_denial(page: Page, base_url: str, path: str) -> None:
    response = page.goto(base_url + path)
    assert response is not None and response.status < 400, (path, response and response.status)
    if not path.startswith("/dev/"):
        expect(page.locator("#logout-button")).to_be_visible()  # the shell of a signed-in page
    expect(page).not_to_have_url(re.compile(r"denied=1|/login"))
    expect(page.locator("#shell-notice")).to_have_count(0)


def test_a_technician_finds_no_dead_end(browser, panel_url):
    email = f"tech-{uuid.uuid4().hex[:8]}@example.com"
    tech_id = _make_technician(email)
    context = browser.new_context()
    page = context.new_page()
    links: set[str] = set()

    # The gate on /profile (not "no access"), and the way out without a code.
    sign_in(page, panel_url, email, PASSWORD, next_path="/profile")
    expect(page).to_have_url(re.compile(r"/profile/?$"))
    gate = page.locator("#verification-gate")
    expect(gate).to_be_visible()
    expect(page.get_by_role("radio", name="Email")).to_be_checked()  # hydrated
    page.locator("#no-code-toggle").click()
    page.locator("#contact-update-ticket").click()
    expect(page.locator("#ticket-message")).to_contain_text("ticket #")
    page.locator("#contact-update-ticket").click()
    expect(page.locator("#ticket-message")).to_contain_text("already with support")
    number = re.search(r"#(\d+)", page.locator("#ticket-message").inner_text()).group(1)
    gate_links = _internal_links(page, panel_url, "#verification-gate")
    assert {"/profile", "/support"} <= gate_links, gate_links
    links |= gate_links

    # Their own person: their address, no contract data; a change of their own address waits.
    pass_gate_by_email(page, panel_url, email)
    expect(page.locator("#current-email")).to_have_text(email)
    expect(page.locator("#account-data-owner")).to_be_visible()
    expect(page.locator("#profile-street")).to_have_count(0)
    page.locator("#change-email").click()
    expect(page.locator("#waits-hint")).to_be_visible()
    new_email = "new-" + email
    page.locator("#new-contact").fill(new_email)
    page.locator("#send-contact-code").click()
    expect(page.locator("#contact-code-info")).to_be_visible()
    page.locator("#contact-code").fill(latest_code(page, panel_url, new_email))
    page.locator("#confirm-contact").click()
    expect(page.locator("#scheduled-changes")).to_be_visible()
    notice = outbox_text(page, panel_url, email, "cancel_change", whole_message=True)
    cancel_link = re.search(r"https?://\S+/profile\?cancel_change=\d+", notice).group(0)
    links.add(urlsplit(cancel_link).path + "?" + urlsplit(cancel_link).query)

    # Every page they are shown, and every link on it (the nav and the banner included).
    for path, ready in [
        ("/dashboard", "#pending-change-banner"),
        ("/profile", "#current-email"),
        ("/security", "#passkeys-card"),
        ("/support", "#letter-link"),
    ]:
        page.goto(panel_url + path)
        expect(page.locator(ready)).to_be_visible()
        expect(page.locator("#pending-change-banner")).to_be_visible()
        links |= _internal_links(page, panel_url)
    nav = page.get_by_role("navigation", name="Main navigation")
    for label in ("Dashboard", "Support", "Personal data", "Security", "Activity log"):
        expect(nav.get_by_role("link", name=re.compile(f"^{label}"))).to_have_count(1)
    expect(nav.get_by_role("link", name=re.compile("Invoices|Payment|Team"))).to_have_count(0)

    # Their own ticket, not the owner's.
    expect(page.get_by_role("button", name=re.compile(f"View ticket #{number}:"))).to_be_visible()
    expect(page.locator("#support-own-only")).to_be_visible()
    expect(page.get_by_text(OWNERS_TICKET)).to_have_count(0)
    page.get_by_role("button", name=re.compile(f"View ticket #{number}:")).click()
    expect(page.get_by_role("heading", name=re.compile(f"#{number}"))).to_be_visible()

    assert {"/dashboard", "/profile", "/security", "/support", "/support/letter", "/help", "/activity",
            "/domains"} <= links, links
    for path in sorted(links):
        _open_without_denial(page, panel_url, path)

    # The server agrees: not one refusal for this technician.
    with transaction() as db:
        refused = db.exec(select(AuditEvent).where(AuditEvent.actor_user_id == tech_id,
                                                   AuditEvent.action == "permission_denied")).all()
    assert [(event.area, event.target) for event in refused] == []
    context.close()
