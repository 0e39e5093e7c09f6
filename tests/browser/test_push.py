"""No polling: what changes on the server reaches every open tab by push, and an idle
open page neither talks to the server nor keeps the session alive."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import create_user, pass_gate_by_email, sign_in

pytestmark = pytest.mark.browser


def _verified_user_with_two_tabs(context, panel_url):
    email = f"push-{uuid.uuid4().hex[:8]}@example.com"
    create_user(email)
    first = context.new_page()
    sign_in(first, panel_url, email, "a-long-test-password", next_path="/invoices")
    pass_gate_by_email(first, panel_url, email)
    expect(first.get_by_role("heading", name="Invoices & documents")).to_be_visible()
    second = context.new_page()
    second.goto(panel_url + "/invoices")
    expect(second.get_by_role("heading", name="Invoices & documents")).to_be_visible()
    return first, second


def test_sign_out_in_one_tab_reaches_the_other_without_input(context, panel_url):
    first, second = _verified_user_with_two_tabs(context, panel_url)
    first.locator("#logout-button").click()
    expect(first).to_have_url(re.compile(r"/login"))
    expect(second).to_have_url(re.compile(r"/login"), timeout=2_500)
    expect(second.get_by_role("heading", name="Invoices & documents")).to_have_count(0)


def test_lock_now_in_one_tab_shows_the_gate_in_the_other(context, panel_url):
    first, second = _verified_user_with_two_tabs(context, panel_url)
    first.locator("#lock-now").click()
    expect(first.locator("#verification-gate")).to_be_visible()
    expect(second.locator("#verification-gate")).to_be_visible(timeout=2_500)
    expect(second.get_by_role("heading", name="Invoices & documents")).to_have_count(0)
    expect(second.locator("#grant-countdown")).to_have_count(0)


def test_verifying_in_one_tab_opens_the_page_in_the_other(context, panel_url):
    email = f"push-{uuid.uuid4().hex[:8]}@example.com"
    create_user(email)
    first = context.new_page()
    sign_in(first, panel_url, email, "a-long-test-password", next_path="/invoices")
    second = context.new_page()
    second.goto(panel_url + "/payment-methods")
    expect(second.locator("#verification-gate")).to_be_visible()
    pass_gate_by_email(first, panel_url, email)
    expect(second.get_by_role("heading", name="Payment methods")).to_be_visible(timeout=2_500)


def test_an_idle_page_counts_down_in_the_browser_and_sends_almost_nothing(context, panel_url):
    first, _second = _verified_user_with_two_tabs(context, panel_url)
    page = context.new_page()
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))
    page.goto(panel_url + "/invoices")
    expect(page.get_by_role("heading", name="Invoices & documents")).to_be_visible()
    page.wait_for_timeout(1_500)  # the page's own load events
    countdown = page.locator("#grant-countdown")
    start, start_text = len(sent), countdown.inner_text()
    page.wait_for_timeout(60_000)
    events = [frame for frame in sent[start:] if '"event"' in frame]
    assert len(events) <= 2, events
    assert countdown.inner_text() != start_text  # the countdown ran, with the network idle
    minutes, seconds = (int(part) for part in countdown.inner_text().split(":"))
    assert 7 * 60 <= minutes * 60 + seconds <= 9 * 60


def test_an_open_page_does_not_keep_the_session_alive(page, short_idle_url):
    email = f"idle-{uuid.uuid4().hex[:8]}@example.com"
    create_user(email)
    sign_in(page, short_idle_url, email, "a-long-test-password", next_path="/services")
    expect(page.get_by_role("heading", name="Services")).to_be_visible()
    started = time.monotonic()
    page.wait_for_timeout(25_000)  # no input: the page stays open and idle
    if "/login" not in page.url:  # (the server may have shown the login page already)
        page.get_by_role("link", name="Domains").first.click()
    expect(page).to_have_url(re.compile(r"/login"), timeout=5_000)
    assert time.monotonic() - started < 40
