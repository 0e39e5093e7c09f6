"""Every state-changing HTTP route refuses a POST that does not say it comes from the panel
(issue 20, item 5): no ``Origin`` and no same-origin ``Sec-Fetch-Site`` is a 403, and so are a
foreign or a ``null`` origin. The WhatsApp webhook is the one POST without a browser behind
it: it is authenticated by Meta's signature instead (tests/test_webhook.py)."""

from __future__ import annotations

import pytest
from sqlmodel import func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from panel_app.api import routes, webhooks
from panel_app.db import transaction
from panel_app.models import LoginSession

BASE = "http://localhost:3000"
FORM = {"email": "owner@test.example", "password": "correct horse battery"}


def _state_changing_routes() -> list[str]:
    found = [route.path for route in routes.all_routes() if "POST" in (route.methods or ())]
    return sorted(path for path in found if path != webhooks.WEBHOOK_PATH)


ROUTES = _state_changing_routes()


def test_the_list_covers_every_form_route():
    """A new POST route lands in this file's table by itself; these are today's."""
    assert {"/api/session/login", "/api/session/logout", "/api/session/forgot", "/api/session/device",
            "/api/staff/login", "/api/staff/logout", "/api/staff/setup"} <= set(ROUTES)


@pytest.fixture
def client():
    with TestClient(Starlette(routes=routes.all_routes()), base_url=BASE) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("headers", [
    {},  # a non-browser client, or a form from a page that strips Origin
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another site's page here
    {"Sec-Fetch-Site": "none"},
    {"Origin": "null"},
    {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    {"Origin": "https://evil.example"},
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"},
    {"Origin": BASE + ".evil.example"},
], ids=["none", "cross-site", "same-site", "fetch-none", "null", "null+same", "evil", "evil+same", "suffix"])
def test_a_post_without_the_panels_origin_is_refused(client, make_user, path, headers):
    make_user(email=FORM["email"], password=FORM["password"])
    response = client.post(path, data=FORM, headers=headers, follow_redirects=False)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    with transaction() as db:  # nothing happened behind the refusal
        assert db.exec(select(func.count()).select_from(LoginSession)).one() == 0


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("headers", [{"Origin": BASE}, {"Origin": BASE + "/"}, {"Sec-Fetch-Site": "same-origin"}],
                         ids=["origin", "origin-slash", "fetch-same-origin"])
def test_the_panels_own_pages_pass(client, make_user, path, headers):
    """Positive control: the same request from the panel's own page is answered."""
    make_user(email=FORM["email"], password=FORM["password"])
    response = client.post(path, data=FORM, headers=headers, follow_redirects=False)
    assert response.status_code != 403
    if path == "/api/session/login":
        assert response.status_code == 303 and "panel_session" in response.headers.get("set-cookie", "")
