"""One language rule, the same before and after sign-in: the account's language when the
user chose one, else the tab's (picked on a page before sign-in, or the browser's
Accept-Language). Times in the browser's time zone; a switch recomputes the page's rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import select

from panel_app.db import transaction
from panel_app.i18n import browser_language, effective_language, t
from panel_app.i18n import formatting as fmt
from panel_app.models import LoginSession, User
from panel_app.state.activity import ActivityState
from panel_app.state.auth import AuthState
from panel_app.state.login import LoginState
from panel_app.state.security import SecurityState
from panel_app.state.standard import DashboardState
from tests.state_harness import login_token

GERMAN_BROWSER = "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7"
RELOAD = "reload-the-page"


@pytest.fixture(autouse=True)
def _page_loads(monkeypatch):
    """No app runs under pytest: a page's on_load events are a marker here."""
    monkeypatch.setattr("panel_app.state.auth.page_load_events", lambda path: [RELOAD, path])


def german_tab(state_cls, token: str | None, path: str = "/", accept_language: str = GERMAN_BROWSER):
    """The ``state_cls`` of a new tab whose browser asks for ``accept_language``."""
    root = rx.State(_reflex_internal_init=True)
    headers = {"user-agent": "pytest", "accept-language": accept_language}
    if token is not None:
        headers["cookie"] = f"panel_session={token}"
    root.router = RouterData.from_router_data({"headers": headers, "ip": "192.0.2.50", "pathname": path,
                                               "asPath": path, "query": {}})
    return root.get_substate(state_cls.get_full_name().split(".")[1:])


def _language_of(user_id: int) -> str:
    with transaction() as db:
        return db.get(User, user_id).language


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "expected"), [
    ("de-DE,de;q=0.9,en;q=0.8", "de"), ("de-AT", "de"), ("DE", "de"), ("fr-FR,fr;q=0.9,de;q=0.5", "de"),
    ("fr-FR, en;q=0.5", "en"), ("", "en"), (None, "en"), (42, "en"), ("x" * 100_000, "en"), (";;,,", "en"),
])
def test_the_browser_language_is_the_first_one_the_catalogs_have(header, expected):
    assert browser_language(header) == expected


def test_the_account_language_wins_only_when_the_user_chose_one():
    assert effective_language("en", "de") == "en"
    assert effective_language("de", "en") == "de"
    assert effective_language("", "de") == "de"
    assert effective_language(None, "fr") == "en"
    assert effective_language("xx", "de") == "de"


def test_a_new_account_has_not_chosen_a_language(make_user):
    assert make_user().language == ""


def test_the_login_page_of_a_german_browser_is_german_and_a_pick_stays():
    state = german_tab(LoginState, None, "/login")
    state.open_login()
    assert state.lang == "de"
    state.choose_language("en")
    state.open_login()  # a later load of the page (a message, a reconnect) keeps the pick
    assert state.lang == "en"


def test_a_german_browser_stays_german_after_sign_in_when_no_language_was_chosen(make_user):
    user = make_user()
    page = german_tab(DashboardState, login_token(user), "/dashboard")
    page.load()
    auth = page.parent_state
    assert isinstance(auth, AuthState) and auth.lang == "de"
    assert _language_of(user.id) == ""


def test_a_chosen_language_wins_over_the_browser(make_user):
    user = make_user(language="en")
    page = german_tab(DashboardState, login_token(user), "/dashboard")
    page.load()
    assert page.parent_state.lang == "en"


def test_an_english_pick_before_sign_in_carries_into_the_signed_in_tab(make_user):
    user = make_user()
    page = german_tab(DashboardState, login_token(user), "/dashboard")
    page.parent_state._picked_language = "en"
    page.load()
    assert page.parent_state.lang == "en"


def test_switching_saves_the_choice_and_reloads_the_page(make_user):
    user = make_user()
    page = german_tab(DashboardState, login_token(user), "/dashboard")
    page.load()
    auth = page.parent_state
    answer = auth.set_language("en")
    assert auth.lang == "en" and _language_of(user.id) == "en"
    assert answer == [RELOAD, "/dashboard"], "the page's on_load runs again: what the server computed follows"


@pytest.mark.parametrize("junk", [None, 3, ["de"], {"lang": "de"}, "xx", "de" * 5000])
def test_a_junk_language_changes_nothing(make_user, junk):
    user = make_user()
    page = german_tab(DashboardState, login_token(user), "/dashboard")
    page.load()
    assert page.parent_state.set_language(junk) is None
    assert _language_of(user.id) == ""


# --- time zones -------------------------------------------------------------------------------


WINTER = datetime(2026, 12, 1, 9, 5, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 9, 5, tzinfo=UTC)


def test_times_show_in_the_browser_time_zone_and_say_utc_without_one():
    assert fmt.moment(WINTER, "de", "Europe/Berlin") == "01.12.2026 10:05"
    assert fmt.moment(SUMMER, "de", "Europe/Berlin") == "01.07.2026 11:05"
    assert fmt.moment(WINTER, "en", "America/New_York") == "2026-12-01 04:05"
    assert fmt.moment(datetime(2026, 12, 1, 23, 30, tzinfo=UTC), "en", "Asia/Tokyo") == "2026-12-02 08:30"
    assert fmt.moment(WINTER, "de") == "01.12.2026 09:05 UTC"
    assert fmt.moment(WINTER.replace(tzinfo=None), "en", "Europe/Berlin") == "2026-12-01 10:05"


@pytest.mark.parametrize("junk", [None, 7, "", "Mars/Olympus", "../../etc/passwd", "Europe/Berlin\n",
                                  "x" * 10_000, ["Europe/Berlin"], {"tz": "UTC"}])
def test_a_time_zone_not_in_the_zoneinfo_database_is_ignored(junk):
    assert fmt.valid_time_zone(junk) is None
    assert fmt.moment(WINTER, "en", junk).endswith(" UTC")
    state = german_tab(LoginState, None, "/login")
    assert state.set_time_zone(junk) is None
    assert state._time_zone == ""


def test_the_security_page_shows_session_times_in_the_tab_time_zone(make_user):
    user = make_user()
    token = login_token(user, grant_method="email")
    page = german_tab(SecurityState, token, "/security")
    page.load()
    with transaction() as db:
        started = db.exec(select(LoginSession).where(LoginSession.user_id == user.id)).one()
        started_at = started.created_at
    assert page.sessions[0].started == fmt.moment(started_at, "de")  # UTC until the browser told its zone
    answer = page.set_time_zone("Europe/Berlin")
    assert answer == [RELOAD, "/security"], "the page loads again"
    page.load()
    assert page.sessions[0].started == fmt.moment(started_at, "de", "Europe/Berlin")
    assert not page.sessions[0].started.endswith("UTC")


def test_switching_the_language_relabels_the_rows_the_server_computed(make_user):
    from panel_app.security.permissions import Area
    from panel_app.services.audit import Actor, record

    user = make_user()
    with transaction() as db:
        record(db, Actor.for_user(db.get(User, user.id)), Area.AUTH, "device_remembered", now=WINTER)
    token = login_token(user, grant_method="email")
    page = german_tab(ActivityState, token, "/activity")
    page.set_time_zone("Europe/Berlin")
    page.load()
    row = next(r for r in page.rows if r.time.startswith("01.12.2026"))
    assert (row.action, row.time) == (t("activity.action.device_remembered", "de"), "01.12.2026 10:05")
    page.set_language("en")
    page.load()  # what the answer to set_language makes the browser send
    row = next(r for r in page.rows if r.time.startswith("2026-12-01"))
    assert (row.action, row.time) == (t("activity.action.device_remembered", "en"), "2026-12-01 10:05")
    assert page.parent_state.lang == "en"


def test_an_account_without_a_language_gets_english_mails_that_state_utc(make_user):
    from panel_app.services import notifications

    user = make_user()
    assert fmt.day(WINTER, "") == fmt.day(WINTER, "en") == "2026-12-01"
    assert fmt.moment(WINTER, "") == "2026-12-01 09:05 UTC"
    assert notifications._recipient(user.id) == (user.email, "en")
    subject, body = notifications.render("new_sign_in", "en", browser="Firefox", ip="192.0.2.1")
    assert " UTC" in body
