"""A German user sees no English: every page of the panel, signed in and verified, and the
pages before sign-in in a German browser, checked against the English catalog's texts."""

import re
import time

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from panel_app.db import transaction
from panel_app.i18n import CATALOGS, t
from panel_app.models import User
from tests.browser.helpers import OWNER, pass_gate_by_email, sign_in

pytestmark = pytest.mark.browser

SIGNED_IN_PAGES = ["/dashboard", "/services", "/domains", "/domains/schmidt-webdesign.example", "/support", "/help",
                   "/security", "/profile", "/invoices", "/payment-methods", "/email", "/team", "/activity"]
PUBLIC_PAGES = ["/login", "/forgot", "/reset?token=" + "x" * 40, "/invite?token=" + "x" * 40, "/staff/login"]


def _english_only() -> tuple[set[str], set[str]]:
    """Literal parts (between placeholders) of the English texts that differ from German:
    sentence parts (found anywhere) and short labels (found as whole words, unless German
    uses the same word somewhere)."""
    fragments, labels = set(), set()
    german_texts = "\n".join(t(key, "de") for key in CATALOGS["de"])
    for key in CATALOGS["en"]:
        english, german = t(key, "en"), t(key, "de")
        if english == german:
            continue
        for part in re.split(r"\{[a-z_]+\}", english):
            for line in part.split("\n"):
                line = line.strip(" .,:;()")
                if len(line) >= 12 and line not in german:
                    fragments.add(line)
                elif len(line) >= 4 and line not in german and not _word(line).search(german_texts):
                    labels.add(line)
    return fragments, labels


def _word(text: str) -> re.Pattern:
    return re.compile(r"(?<![\w-])" + re.escape(text) + r"(?![\w-])")


ENGLISH, ENGLISH_LABELS = _english_only()


def _set_owner_language(lang: str) -> str:
    with transaction() as db:
        owner = db.exec(select(User).where(User.email == OWNER[0])).one()
        before, owner.language = owner.language, lang
        db.add(owner)
    return before


def _leaks(page) -> tuple[str, list[str]]:
    text = page.locator("body").inner_text() + "\n" + page.title()
    leaks = sorted(fragment for fragment in ENGLISH if fragment in text)
    leaks += sorted(label for label in ENGLISH_LABELS if _word(label).search(text))
    return text, leaks


def _assert_no_english(page, path: str) -> None:
    """The page once hydrated and loaded: the prerendered page shows the compiled (English)
    defaults until the server's first answer, which a loaded server may send after seconds."""
    expect(page.locator("h1").first).to_be_visible(timeout=15_000)
    page.wait_for_timeout(800)  # the page's own load event fills its rows
    deadline = time.monotonic() + 15
    text, leaks = _leaks(page)
    while leaks and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        text, leaks = _leaks(page)
    assert not leaks, (path, leaks)
    assert "· Panel" in page.title() and not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), (path, page.title())


@pytest.fixture(scope="module")
def german_owner(browser, panel_url):
    before = _set_owner_language("de")
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    try:
        sign_in(page, panel_url, *OWNER, next_path="/profile")
        pass_gate_by_email(page, panel_url, OWNER[0])
        yield page
    finally:
        context.close()
        _set_owner_language(before)


def test_every_page_of_a_german_user_is_german(german_owner, panel_url):
    page = german_owner
    for path in SIGNED_IN_PAGES:
        page.goto(panel_url + path)
        expect(page.locator("#verification-gate")).to_be_hidden()
        _assert_no_english(page, path)


def test_the_pages_before_sign_in_are_german_in_a_german_browser(browser, panel_url):
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    try:
        for path in PUBLIC_PAGES:
            page.goto(panel_url + path)
            _assert_no_english(page, path)
        page.goto(panel_url + "/staff/login?error=invalid")
        expect(page.locator("#staff-login-message")).to_have_text(t("login.error.invalid", "de"))
    finally:
        context.close()


def test_the_support_console_in_a_german_browser_is_german(browser, panel_url):
    import pyotp

    from panel_app.seed import DEMO_STAFF

    email, _name, password, _admin, secret = DEMO_STAFF[1]
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    try:
        page.goto(panel_url + "/staff/login")
        _assert_no_english(page, "/staff/login")
        page.locator("#staff-email").fill(email)
        page.locator("#staff-password").fill(password)
        page.locator("#staff-login-submit").click()
        expect(page).to_have_url(re.compile(r"/staff/tickets"))
        expect(page.locator("#staff-gate")).to_be_visible()
        _assert_no_english(page, "/staff/tickets (gate)")
        # The previous step's code (accepted, ±1 step): the current one stays free for other tests.
        page.locator("#staff-code").fill(pyotp.TOTP(secret).at(time.time() - 30))
        page.locator("#staff-verify").click()
        expect(page.locator("#staff-gate")).to_have_count(0, timeout=10_000)
        for path in ("/staff/tickets", "/staff/admin"):
            page.goto(panel_url + path)
            _assert_no_english(page, path)
        page.goto(panel_url + "/staff/tickets")
        page.locator("table a").first.click()
        expect(page.locator("#staff-ticket-subject")).to_be_visible()
        _assert_no_english(page, "/staff/tickets/<ticket>")
    finally:
        context.close()
