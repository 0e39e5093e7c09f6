"""axe-core on every page (no serious or critical violation), in both the gate and
the granted state of the sensitive pages, plus the 390 px layout."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import OWNER, pass_gate_by_email, sign_in

pytestmark = pytest.mark.browser

STANDARD = ["/dashboard", "/services", "/domains", "/support", "/help"]
SENSITIVE = ["/profile", "/invoices", "/payment-methods", "/domains/schmidt-webdesign.example", "/email",
             "/security", "/team", "/activity"]


def settle(page):
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)


def audit(page, axe, path):
    violations = axe(page)
    assert violations == [], f"{path}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in violations)


def test_login_page_is_accessible(page, panel_url, axe):
    page.goto(panel_url + "/login")
    settle(page)
    audit(page, axe, "/login")


def test_every_page_is_accessible_for_the_owner(page, panel_url, axe):
    sign_in(page, panel_url, *OWNER)
    expect(page).to_have_url(re.compile("/dashboard"))
    for path in STANDARD:
        page.goto(panel_url + path)
        expect(page.locator("main h1").first).to_be_visible()
        settle(page)
        audit(page, axe, path)
    page.goto(panel_url + "/profile")
    expect(page.locator("#verification-gate")).to_be_visible()
    settle(page)
    audit(page, axe, "the verification gate")
    page.locator("#no-code-toggle").click()
    expect(page.locator("#no-code-help")).to_be_visible()
    audit(page, axe, "the gate's help")
    pass_gate_by_email(page, panel_url, OWNER[0])
    for path in SENSITIVE:
        page.goto(panel_url + path)
        expect(page.locator("main h1").first).to_be_visible()
        expect(page.locator("#verification-gate")).to_have_count(0)
        settle(page)
        audit(page, axe, path)


@pytest.mark.parametrize("path", ["/dashboard", "/domains", "/support"])
def test_usable_at_390px(browser, panel_url, path):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, panel_url, *OWNER)
    page.goto(panel_url + path)
    expect(page.locator("main h1").first).to_be_visible()
    settle(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.get_by_role("button", name="Menu")).to_be_visible()
    context.close()
