"""The HTTP routes that own the cookie, called as a browser (or an attacker) would."""

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from panel_app.api import session as session_routes
from panel_app.settings import get_settings


@pytest.fixture
def client():
    app = Starlette(routes=session_routes.routes)
    # A browser sends Origin on every POST; the routes refuse a request without it.
    with TestClient(app, base_url="http://localhost:3000", headers={"Origin": "http://localhost:3000"}) as test_client:
        yield test_client


def post_login(client, **data):
    return client.post("/api/session/login", data=data, follow_redirects=False)


def test_good_login_sets_an_http_only_strict_cookie(client, make_user):
    make_user()
    response = post_login(client, email="owner@test.example", password="correct horse battery", next="/invoices")
    assert response.status_code == 303 and response.headers["location"].endswith("/invoices")
    cookie = response.headers["set-cookie"]
    assert "panel_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("data", [
    {"email": "owner@test.example", "password": "wrong"},
    {"email": "nobody@test.example", "password": "correct horse battery"},
    {"email": "", "password": ""},
    {},
    {"email": "ä" * 3000, "password": "x" * 4000},
    {"email": "owner@test.example\x00", "password": "correct horse battery"},
])
def test_bad_logins_land_on_the_login_page_without_a_cookie(client, make_user, data):
    make_user()
    response = post_login(client, **data)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?error=invalid")
    assert "set-cookie" not in response.headers


def test_oversized_form_is_refused_without_reading_it(client, make_user):
    make_user()
    response = post_login(client, email="owner@test.example", password="p" * 20_000)
    assert response.headers["location"].startswith("/login?error=invalid")


def test_cross_site_post_is_refused(client, make_user):
    make_user()
    response = client.post("/api/session/login", data={"email": "owner@test.example",
                                                       "password": "correct horse battery"},
                           headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert response.status_code == 403 and "set-cookie" not in response.headers


def test_open_redirect_is_not_possible(client, make_user):
    make_user()
    response = post_login(client, email="owner@test.example", password="correct horse battery",
                          next="//evil.example/x")
    assert response.headers["location"] == "/dashboard"


def test_logout_clears_the_cookie_and_revokes(client, make_user, db):
    from sqlmodel import select

    from panel_app.models import LoginSession

    make_user()
    post_login(client, email="owner@test.example", password="correct horse battery")
    response = client.post("/api/session/logout", follow_redirects=False)
    assert response.headers["location"] == "/login?signed_out=1"
    assert 'panel_session=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    assert db.exec(select(LoginSession)).one().revoked_at is not None


def test_production_refuses_demo_data_and_missing_key(monkeypatch, tmp_path, make_user):
    from panel_app import startup
    from panel_app.seed import seed_demo
    from panel_app.db import transaction

    with transaction() as db:
        seed_demo(db)
    monkeypatch.setenv("PANEL_ENV", "production")
    get_settings.cache_clear()
    try:
        problems = startup.production_problems()
        assert any("demo data" in p for p in problems)
        monkeypatch.setenv("PANEL_SECRET_KEY_FILE", str(tmp_path / "missing.key"))
        get_settings.cache_clear()
        assert any("create-secret-key" in p for p in startup.production_problems())
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_signing_in_again_ends_the_previous_session(client, make_user, db):
    from sqlmodel import select

    from panel_app.models import LoginSession

    make_user()
    post_login(client, email="owner@test.example", password="correct horse battery")
    post_login(client, email="owner@test.example", password="correct horse battery")
    rows = db.exec(select(LoginSession).order_by(LoginSession.id)).all()
    assert [row.revoked_at is not None for row in rows] == [True, False]


def test_demo_mode_refuses_a_public_address(monkeypatch):
    from panel_app import startup

    monkeypatch.setenv("PANEL_PUBLIC_URL", "https://panel.example.com")
    get_settings.cache_clear()
    try:
        assert any("PANEL_ENV=production" in p for p in startup.production_problems())
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert not any("PANEL_ENV=production" in p for p in startup.production_problems())


def test_a_form_sent_before_the_page_loaded_still_goes_to_next(client, make_user):
    make_user()
    response = client.post("/api/session/login", data={"email": "owner@test.example",
                                                       "password": "correct horse battery", "next": ""},
                           headers={"Referer": "http://localhost:3000/login?next=%2Fteam"}, follow_redirects=False)
    assert response.headers["location"] == "/team"
    response = client.post("/api/session/login", data={"email": "owner@test.example",
                                                       "password": "correct horse battery"},
                           headers={"Referer": "https://evil.example/login?next=/team"}, follow_redirects=False)
    assert response.headers["location"] == "/dashboard"
