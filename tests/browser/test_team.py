"""A technician's whole life: invited, accepts, signs in, verifies with their own
factor, works in a granted area, is refused elsewhere, is removed with a tab open."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import OWNER, outbox_text, pass_gate_by_email, sign_in

pytestmark = pytest.mark.browser


def invite_link(page, base_url, email) -> str:
    return re.search(r"https?://\S+/invite\?token=[\w\-]+", outbox_text(page, base_url, email)).group(0)


def test_invite_accept_verify_work_be_refused_and_removed(browser, panel_url):
    tech_email = f"tech-{uuid.uuid4().hex[:8]}@example.com"
    owner_ctx = browser.new_context()
    owner = owner_ctx.new_page()
    sign_in(owner, panel_url, *OWNER, next_path="/team")
    pass_gate_by_email(owner, panel_url, OWNER[0])
    owner.locator("#invite-email").fill(tech_email)
    owner.locator("#invite-area-domains").click()
    owner.locator("#invite-submit").click()
    expect(owner.get_by_text(f"Invitation sent to {tech_email}")).to_be_visible()
    link = invite_link(owner, panel_url, tech_email)

    tech_ctx = browser.new_context()
    tech = tech_ctx.new_page()
    tech.goto(link.replace(re.match(r"https?://[^/]+", link).group(0), panel_url))
    expect(tech.locator("#invite-email")).to_have_text(tech_email)
    tech.locator("#invite-name").fill("Tina Technician")
    tech.locator("#invite-password").fill("Lantern-Orbit-Cactus-42")
    tech.locator("#invite-phone").fill("+49 151 23456789")
    tech.locator("#invite-submit").click()
    expect(tech.locator("#invite-done")).to_be_visible()
    # The link works once.
    tech_ctx.new_page().goto(link.replace(re.match(r"https?://[^/]+", link).group(0), panel_url))

    sign_in(tech, panel_url, tech_email, "Lantern-Orbit-Cactus-42", next_path="/domains/schmidt-webdesign.example")
    pass_gate_by_email(tech, panel_url, tech_email)
    expect(tech.get_by_text("203.0.113.10").first).to_be_visible()
    nav = tech.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name=re.compile("Invoices"))).to_have_count(0)

    tech.goto(panel_url + "/invoices")
    expect(tech).to_have_url(re.compile(r"/dashboard\?denied=1"))
    expect(tech.locator("#shell-notice")).to_contain_text("do not have access")

    tech.goto(panel_url + "/domains/schmidt-webdesign.example")
    expect(tech.get_by_text("203.0.113.10").first).to_be_visible()
    owner.goto(panel_url + "/team")
    row = owner.get_by_role("row").filter(has_text=tech_email)
    row.get_by_role("button", name="Remove").click()
    owner.get_by_role("alertdialog").get_by_role("button", name="Remove").click()
    expect(owner.get_by_text(f"{tech_email} was removed")).to_be_visible()
    # The technician's open tab is refused at its next event.
    expect(tech).to_have_url(re.compile("/login"), timeout=10_000)
    assert "203.0.113.10" not in tech.content()
    owner_ctx.close()
    tech_ctx.close()
