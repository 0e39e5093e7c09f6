"""A Reflex form before its page is hydrated (components/forms.py, api/forms.py), in Chromium.

The page's JavaScript is held back (every ``.js`` request aborted), so the browser shows the
prerendered HTML only, as on a slow connection. Its form must not take input, and a submit
forced anyway must be a POST to ``/api/form/not-loaded`` that sends the browser back to the
page: no field value in any address. With the JavaScript, the same form works through Reflex.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import create_user, latest_code, sign_in

pytestmark = pytest.mark.browser

# The address a form posts to before hydration (panel_app/api/paths.py), as the browser sees it.
FORM_NOT_LOADED_ROUTE = "/api/form/not-loaded"
TYPED = "913524"  # what the user typed before the page worked


def _page(base_url: str, path: str) -> re.Pattern:
    """The page's address, with no query (the static server may add a trailing slash)."""
    return re.compile(re.escape(base_url + path) + "/?$")


def _recorded(page) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    page.on("request", lambda request: seen.append((request.method, request.url)))
    page.on("framenavigated", lambda frame: seen.append(("NAVIGATED", frame.url)))
    return seen


def test_a_form_before_hydration_takes_nothing_and_leaks_nothing(page, panel_url):
    email = f"forms-{uuid.uuid4().hex[:8]}@example.com"
    create_user(email)
    sign_in(page, panel_url, email, "a-long-test-password", next_path="/security")
    expect(page.locator("#verification-gate")).to_be_visible()

    # The same page in a second tab whose JavaScript never arrives: the prerendered HTML only.
    early = page.context.new_page()
    early.route("**/*.js", lambda route: route.abort())
    seen = _recorded(early)
    early.goto(panel_url + "/security")
    field, button = early.locator("#verification-code"), early.locator("#verify-button")
    expect(field).to_be_attached()
    expect(field).to_be_disabled()
    expect(button).to_be_disabled()
    form = early.locator("form:has(#verification-code)")
    assert form.get_attribute("method") == "post"
    assert form.get_attribute("action") == FORM_NOT_LOADED_ROUTE
    body = form.locator("fieldset.panel-form-body")
    assert body.evaluate("el => getComputedStyle(el).display") == "contents"  # no layout of its own
    assert body.get_attribute("role") == "presentation"

    # Nothing can be typed: the field takes no focus and no keys.
    field.focus()
    early.keyboard.type(TYPED)
    early.keyboard.press("Enter")
    assert field.input_value() == ""
    assert not any(method == "POST" or TYPED in url for method, url in seen)

    # A submit forced by script (the fields are disabled, so none is sent): back to the page.
    with early.expect_response(lambda r: r.url.endswith(FORM_NOT_LOADED_ROUTE)) as answer:
        form.evaluate("f => f.requestSubmit()")
    assert answer.value.status == 303 and answer.value.request.method == "POST"
    expect(early).to_have_url(_page(panel_url, "/security"))

    # Even with the fieldset forced open and a value typed, Enter posts it to the route, whose
    # answer leads back to the page: the value is in no address.
    expect(field).to_be_disabled()
    body.evaluate("el => { el.disabled = false; }")
    field.fill(TYPED)
    with early.expect_response(lambda r: r.url.endswith(FORM_NOT_LOADED_ROUTE)) as answer:
        field.press("Enter")
    posted = answer.value.request
    assert posted.method == "POST" and TYPED in (posted.post_data or "")  # in the body, not the URL
    assert answer.value.status == 303
    expect(early).to_have_url(_page(panel_url, "/security"))
    expect(early.locator("#verification-code")).to_be_disabled()  # the page again, still not loaded

    urls = [url for _method, url in seen]
    assert urls and not any(TYPED in url for url in urls), urls
    assert not any("?" in url for method, url in seen if method == "NAVIGATED"), seen  # no page GET with fields
    assert [m for m, u in seen if u.endswith(FORM_NOT_LOADED_ROUTE)] == ["POST", "POST"]
    early.close()

    # With its JavaScript the same form submits through Reflex as before: no page load, no
    # route, the code checked by the server.
    seen = _recorded(page)
    page.goto(panel_url + "/security")
    field = page.locator("#verification-code")
    expect(page.get_by_role("radio", name="Email")).to_be_checked()  # hydrated: the gate is live
    expect(field).to_be_enabled()
    send = page.locator("#send-code")
    expect(send).to_be_enabled(timeout=65_000)
    send.click()
    expect(page.locator("#code-sent-note")).to_be_visible()
    code = latest_code(page, panel_url, email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    navigations_before = sum(1 for method, _url in seen if method == "NAVIGATED")
    field.fill(wrong)
    field.press("Enter")
    expect(page.locator("#gate-error")).to_contain_text("not correct")
    expect(field).to_have_value("")  # reset_on_submit, as before
    field.fill(code)
    field.press("Enter")
    expect(page.locator("#verification-gate")).to_be_hidden(timeout=10_000)
    expect(page.get_by_role("heading", name="Security")).to_be_visible()
    expect(page).to_have_url(_page(panel_url, "/security"))
    assert sum(1 for method, _url in seen if method == "NAVIGATED") == navigations_before  # no page load
    assert not any(u.endswith(FORM_NOT_LOADED_ROUTE) for _m, u in seen)
    assert not any(wrong in url or code in url for _m, url in seen)


def test_a_page_without_its_script_shows_its_forms_locked(page, panel_url):
    """The support page's "new ticket" form, prerendered for everyone: locked before hydration
    (no sign-in needed to see the static HTML)."""
    page.route("**/*.js", lambda route: route.abort())
    page.goto(panel_url + "/support")
    forms = page.locator("form[action='%s']" % FORM_NOT_LOADED_ROUTE)
    expect(forms.first).to_be_attached()
    assert page.locator("form:not([action])").count() == 0  # no form the browser would GET
    for index in range(forms.count()):
        form = forms.nth(index)
        assert form.get_attribute("method") == "post"
        controls = form.locator("input, textarea, select, button")
        for control in range(controls.count()):
            expect(controls.nth(control)).to_be_disabled()
    expect(page).to_have_url(_page(panel_url, "/support"))
