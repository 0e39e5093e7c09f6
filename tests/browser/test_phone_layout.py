"""Issue 19: the panel on a phone (390x844) and DNS editing in place (1280x800).

On a phone every table with row actions shows each row as a card: its actions are on
screen without a sideways scroll, and a date or an IP address stays on one line. On a
desktop, "Edit" on a record far down a long zone brings the form to the user, focus in
it, and "saved" appears where the user is looking."""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import OWNER, pass_gate_by_email, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# The demo owner's third domain: the other browser tests work on the first one.
ZONE = "kunde-baeckerei.example"

_MEASURE = """(selector) => {
  const root = document.documentElement;
  const actions = [...document.querySelectorAll(selector)].map((el) => {
    const box = el.getBoundingClientRect();
    return {text: el.textContent, left: box.left, right: box.right, width: box.width, height: box.height};
  });
  return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, actions};
}"""

# How many lines the text of an element takes (its text's line boxes, by their top).
_LINES = """(el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = [...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top));
  const box = el.getBoundingClientRect();
  return {lines: new Set(tops).size, right: box.right, text: el.textContent};
}"""


def _assert_actions_on_screen(page: Page, selector: str, at_least: int) -> None:
    buttons = page.locator(selector)
    expect(buttons.first).to_be_visible()
    for index in range(buttons.count()):
        button = buttons.nth(index)
        button.scroll_into_view_if_needed()  # up or down: a phone page is long
        expect(button).to_be_in_viewport(ratio=1)  # shown whole, clipped by nothing
    measured = page.evaluate(_MEASURE, selector)
    assert measured["scrollWidth"] <= measured["clientWidth"], measured
    assert len(measured["actions"]) >= at_least, measured
    for action in measured["actions"]:
        assert action["width"] > 0 and action["height"] > 0, action
        assert 0 <= action["left"] and action["right"] <= PHONE["width"], action


def _assert_one_line(page: Page, selector: str) -> None:
    cells = page.locator(selector)
    expect(cells.first).to_be_visible()
    for index in range(cells.count()):
        measured = cells.nth(index).evaluate(_LINES)
        assert measured["lines"] == 1 and measured["right"] <= PHONE["width"], measured


@pytest.fixture(scope="module")
def phone(browser, panel_url):
    """The demo owner on a phone, verified once; a second sign-in elsewhere gives the
    sessions table a row with "Sign out"."""
    elsewhere = browser.new_context()
    sign_in(elsewhere.new_page(), panel_url, *OWNER)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, panel_url, *OWNER, next_path="/security")
    pass_gate_by_email(page, panel_url, OWNER[0])
    yield page
    context.close()
    elsewhere.close()


def test_dns_records_on_a_phone(phone, panel_url):
    page = phone
    page.goto(panel_url + f"/domains/{ZONE}")
    expect(page.locator(".record-row").first).to_be_visible()
    rows = page.locator(".record-row").count()
    _assert_actions_on_screen(page, ".card-table .record-row button", at_least=2 * rows)
    edit = page.locator(".record-row").first.get_by_role("button", name="Edit")
    edit.scroll_into_view_if_needed()
    expect(edit).to_be_in_viewport(ratio=1)
    _assert_one_line(page, ".record-row td.nowrap")


def test_sessions_and_known_browsers_on_a_phone(phone, panel_url):
    page = phone
    page.goto(panel_url + "/security")
    sign_out = page.get_by_role("button", name="Sign out", exact=True)
    expect(sign_out.first).to_be_visible()
    expect(page.get_by_role("button", name="Remove", exact=True).first).to_be_visible()
    _assert_actions_on_screen(page, ".card-table tbody button", at_least=2)
    _assert_one_line(page, ".card-table td.nowrap")


def test_team_and_invitations_on_a_phone(phone, panel_url):
    page = phone
    page.goto(panel_url + "/team")
    email = f"phone-{uuid.uuid4().hex[:8]}@example.com"
    page.locator("#invite-email").fill(email)
    page.locator("#invite-area-domains").click()
    page.locator("#invite-submit").click()
    expect(page.get_by_text(f"Invitation sent to {email}")).to_be_visible()
    for name in ("Change areas", "Sign out everywhere", "Remove", "Send new link", "Withdraw"):
        buttons = page.locator(".card-table tbody button").filter(has_text=re.compile(name))
        assert buttons.count() >= 1, name
    _assert_actions_on_screen(page, ".card-table tbody button", at_least=5)
    _assert_one_line(page, ".card-table td.nowrap")


def test_activity_log_on_a_phone(phone, panel_url):
    page = phone
    page.goto(panel_url + "/activity")
    expect(page.locator(".card-table tbody tr").first).to_be_visible()
    measured = page.evaluate(_MEASURE, ".card-table tbody th")
    assert measured["scrollWidth"] <= measured["clientWidth"], measured
    _assert_one_line(page, ".card-table tbody th .nowrap")  # the time
    _assert_one_line(page, ".card-table tbody td .nowrap")  # the IP address


def test_editing_a_record_far_down_happens_where_the_user_is(browser, panel_url):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, panel_url, *OWNER, next_path=f"/domains/{ZONE}")
    pass_gate_by_email(page, panel_url, OWNER[0])
    expect(page.locator(".record-row").first).to_be_visible()
    # A zone long enough to scroll: fifteen more records, added as a user would.
    tag = uuid.uuid4().hex[:6]
    for number in range(15):
        page.locator("#dns-name").fill(f"p{tag}-{number}")
        page.locator("#dns-value").fill(f"192.0.2.{number + 1}")
        page.locator("#record-submit").click()
        expect(page.get_by_text(f"p{tag}-{number}", exact=True)).to_be_visible()
    expect(page.locator("#record-form-status")).to_contain_text("added")

    # Scroll to a record far down (more than a screen of records below it) and edit it.
    row = page.locator(".record-row").filter(has_text=f"p{tag}-0")
    row.evaluate("(el) => el.scrollIntoView({block: 'start'})")
    page.evaluate("() => window.scrollBy(0, -80)")
    assert page.evaluate("() => window.scrollY") > 0
    expect(page.locator("#record-form")).not_to_be_in_viewport()
    row.get_by_role("button", name="Edit").click()
    expect(page.locator("#record-form-title")).to_have_text("Edit record")
    expect(page.locator("#dns-value")).to_have_value("192.0.2.1")
    expect(page.locator("#record-form")).to_be_in_viewport()
    expect(page.locator("#dns-type")).to_be_focused()

    page.locator("#dns-value").fill("192.0.2.201")
    page.locator("#record-submit").click()
    status = page.locator("#record-form-status")
    expect(status).to_contain_text("saved")
    expect(status).to_be_in_viewport()
    expect(row).to_contain_text("192.0.2.201")

    # A refused change says why, in the form, in view.
    row.get_by_role("button", name="Edit").click()
    expect(page.locator("#dns-type")).to_be_focused()
    page.locator("#dns-value").fill("not an address")
    page.locator("#record-submit").click()
    error = page.locator("#record-form .field-error").first
    expect(error).to_be_visible()
    expect(error).to_be_in_viewport()
    context.close()
