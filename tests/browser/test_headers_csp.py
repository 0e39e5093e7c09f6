"""The security headers as the browser meets them: the Content-Security-Policy blocks
nothing the panel needs (every page, the gate, the one-time reveals, the device cookie)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import OWNER, pass_gate_by_email, sign_in

pytestmark = pytest.mark.browser


def test_headers_on_pages_assets_and_routes(panel_url):
    for path in ("/login", "/panel.js", "/api/health", "/api/ready"):
        answer = httpx.get(panel_url + path, follow_redirects=True)
        assert answer.status_code == 200, path
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"], path
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(panel_url + "/api/ready").json()["schema"] == "ok"


def test_the_content_security_policy_blocks_nothing_the_panel_uses(browser, panel_url):
    context = browser.new_context()
    page = context.new_page()
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    sign_in(page, panel_url, *OWNER, next_path="/domains/schmidt-webdesign.example")
    pass_gate_by_email(page, panel_url, OWNER[0])
    page.locator("#auth-code-show").click()  # the one-time reveal runs through rx.call_script
    expect(page.locator("#auth-code")).to_have_text(re.compile(r"\S{6,}"), timeout=10_000)
    page.goto(panel_url + "/security")
    expect(page.locator("main h1").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert any(c["name"] == "panel_device" for c in context.cookies())  # the fetch was allowed
    assert violations == []
    context.close()
