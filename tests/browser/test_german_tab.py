"""German done right in the browser: a German browser (de-DE, Europe/Berlin) sees German
before and after sign-in with <html lang="de">, times in Berlin time; switching to English
relabels the page's statuses, money and dates at once and <html lang> follows."""

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from panel_app.db import transaction
from panel_app.i18n import t
from panel_app.i18n import formatting as fmt
from panel_app.models import LoginSession, User
from tests.browser.helpers import OWNER, create_user, pass_gate_by_email, sign_in

pytestmark = pytest.mark.browser

BERLIN = "Europe/Berlin"


def _german_context(browser):
    return browser.new_context(locale="de-DE", timezone_id=BERLIN)


def _user(email: str) -> User:
    with transaction() as db:
        return db.exec(select(User).where(User.email == email)).one()


def _set_language(email: str, lang: str) -> str:
    with transaction() as db:
        user = db.exec(select(User).where(User.email == email)).one()
        before, user.language = user.language, lang
        db.add(user)
    return before


def test_a_german_browser_is_german_before_and_after_sign_in_with_berlin_times(browser, panel_url):
    email = f"berlin-{uuid.uuid4().hex[:8]}@example.com"
    create_user(email)
    assert _user(email).language == "", "a new account has not chosen a language"
    context = _german_context(browser)
    page = context.new_page()
    try:
        page.goto(panel_url + "/login")
        expect(page.locator("h1").first).to_have_text(t("login.title", "de"), timeout=15_000)
        expect(page.locator("html")).to_have_attribute("lang", "de")
        sign_in(page, panel_url, email, "a-long-test-password", next_path="/security")
        expect(page).to_have_url(re.compile(r"/security"))
        expect(page.get_by_role("link", name=t("nav.services", "de")).first).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "de")
        pass_gate_by_email(page, panel_url, email)
        with transaction() as db:
            user_id = _user(email).id
            started = db.exec(select(LoginSession).where(LoginSession.user_id == user_id)
                              .order_by(LoginSession.id.desc())).first().created_at
        berlin = fmt.moment(started, "de", BERLIN)
        assert berlin != fmt.moment(started, "de").removesuffix(" UTC"), "Berlin is not UTC"
        sessions = page.locator("table").filter(has_text=t("security.started", "de")).first
        expect(sessions).to_contain_text(berlin, timeout=15_000)
        expect(sessions).not_to_contain_text("UTC")
        assert _user(email).language == "", "the browser's language shows; nothing was chosen"
    finally:
        context.close()


def test_switching_to_english_relabels_statuses_money_and_dates_at_once(browser, panel_url):
    before = _set_language(OWNER[0], "")
    context = _german_context(browser)
    page = context.new_page()
    try:
        sign_in(page, panel_url, *OWNER, next_path="/invoices")
        expect(page).to_have_url(re.compile(r"/invoices"))
        pass_gate_by_email(page, panel_url, OWNER[0])
        first_row = page.locator("table tbody tr").first
        expect(first_row).to_be_visible(timeout=15_000)
        expect(page.locator("html")).to_have_attribute("lang", "de")
        german_statuses = "|".join(re.escape(t(f"billing.status.{s}", "de")) for s in ("paid", "open", "overdue"))
        english_statuses = "|".join(re.escape(t(f"billing.status.{s}", "en")) for s in ("paid", "open", "overdue"))
        expect(first_row).to_contain_text(re.compile(r"\d{2}\.\d{2}\.\d{4}"))   # 01.12.2026
        expect(first_row).to_contain_text(re.compile(r"\d,\d{2} €"))           # 1.234,56 €
        expect(first_row).to_contain_text(re.compile(german_statuses))

        page.get_by_role("combobox", name=t("shell.language", "de")).click()
        page.get_by_role("option", name="English").click()

        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(first_row).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))    # 2026-12-01
        expect(first_row).to_contain_text(re.compile(r"€\d"))                  # €1,234.56
        expect(first_row).to_contain_text(re.compile(english_statuses))
        expect(first_row).not_to_contain_text(re.compile(r"\d{2}\.\d{2}\.\d{4}"))
        expect(page.get_by_role("link", name=t("nav.services", "en")).first).to_be_visible()
        assert _user(OWNER[0]).language == "en", "the choice is saved with the account"
        # The same account in a German browser now shows English: the choice wins.
        page.goto(panel_url + "/dashboard")
        expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        context.close()
        _set_language(OWNER[0], before)
