import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import OWNER, sign_in, sign_out

pytestmark = pytest.mark.browser


def test_owner_signs_in_sees_dashboard_and_cookie_is_http_only(page, panel_url):
    sign_in(page, panel_url, *OWNER)
    expect(page).to_have_url(re.compile(r"/dashboard"))
    expect(page.get_by_role("heading", name=re.compile("Dashboard|Übersicht"))).to_be_visible()
    expect(page.get_by_text("schmidt-webdesign.example").first).to_be_visible()
    assert "panel_session" not in page.evaluate("document.cookie")
    cookie = next(c for c in page.context.cookies() if c["name"] == "panel_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"


def test_wrong_password_and_unknown_email_get_the_same_answer(page, panel_url):
    sign_in(page, panel_url, "owner@example.com", "wrong password!")
    first = page.locator("#login-message")
    expect(first).to_contain_text("not correct")
    sign_in(page, panel_url, "nobody@example.com", "wrong password!")
    expect(page.locator("#login-message")).to_have_text(first.inner_text())


def test_after_sign_out_the_panel_refuses_in_every_tab(page, panel_url, context):
    sign_in(page, panel_url, *OWNER)
    expect(page).to_have_url(re.compile(r"/dashboard"))
    other = context.new_page()
    other.goto(panel_url + "/services")
    expect(other.get_by_role("heading", name=re.compile("Services|Dienste"))).to_be_visible()
    sign_out(page)
    # The other tab is told by the server (push) and shows the login page.
    expect(other).to_have_url(re.compile(r"/login"), timeout=10_000)
    page.goto(panel_url + "/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fdashboard|/login\?next=/dashboard"))


def test_tampered_cookie_lands_on_login(page, panel_url, context):
    context.add_cookies([{"name": "panel_session", "value": "A" * 43, "url": panel_url}])
    page.goto(panel_url + "/dashboard")
    expect(page).to_have_url(re.compile(r"/login"))
