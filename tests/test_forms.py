"""Reflex forms before their page is hydrated (components/forms.py, api/forms.py).

A prerendered ``<form>`` that the browser submits itself must never put its fields in an
address: every Reflex form of the panel posts to ``/api/form/not-loaded`` and keeps its
fields in a fieldset disabled until hydration; the route sends the browser back to the
page without reading what was sent. The browser side: tests/browser/test_forms_before_hydration.py.
"""

from __future__ import annotations

import ast
import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import reflex as rx
from starlette.applications import Starlette
from starlette.testclient import TestClient

from panel_app.api import forms as form_routes
from panel_app.api import routes
from panel_app.api.paths import FORM_NOT_LOADED_ROUTE
from panel_app.components import forms
from panel_app.components.forms import panel_form
from panel_app.logs import RequestLog

ROOT = Path(__file__).resolve().parents[1]
PANEL_APP = ROOT / "panel_app"
BASE = "http://localhost:3000"
SECRETS = {"code": "483920", "new_password": "correct-horse-secret-7781", "value": "v=spf1 secret-include"}


# --- every form goes through panel_form -------------------------------------------------


def _rx_form_uses(source: str) -> list[int]:
    """Lines naming ``rx.form`` (or ``reflex.form``), called or not."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and node.attr == "form" and isinstance(node.value, ast.Name)
                and node.value.id in ("rx", "reflex")):
            found.append(node.lineno)
    return found


def test_no_module_but_the_wrapper_builds_a_reflex_form():
    offenders = {}
    for path in sorted(PANEL_APP.rglob("*.py")):
        if path == PANEL_APP / "components" / "forms.py":
            continue
        lines = _rx_form_uses(path.read_text())
        # Any other way to reach Reflex's form classes counts too.
        if re.search(r"\bFormRoot\b|elements\.forms\b|primitives\.form\b|rx\.el\.form\b", path.read_text()):
            lines.append(0)
        if lines:
            offenders[str(path.relative_to(ROOT))] = lines
    assert offenders == {}


def test_every_former_call_site_uses_panel_form():
    calls = sum(len(re.findall(r"\bpanel_form\(", path.read_text()))
                for path in PANEL_APP.rglob("*.py") if path != PANEL_APP / "components" / "forms.py")
    assert calls >= 34


def _walk(component, seen=None):
    from reflex_base.components.component import BaseComponent, Component

    seen = set() if seen is None else seen
    if id(component) in seen:
        return
    seen.add(id(component))
    yield component
    children = list(component.children)
    if isinstance(component, Component):
        children += list(component._get_components_in_props())
    for child in children:
        if isinstance(child, BaseComponent):
            yield from _walk(child, seen)


def test_every_form_of_every_page_posts_to_the_route_with_a_locked_body():
    from reflex_components_core.el.elements.forms import Form as HTMLForm

    import panel_app.panel_app as panel

    with_forms = set()
    for route, page in panel.app._unevaluated_pages.items():
        component = page.component() if callable(page.component) else page.component
        for form in (c for c in _walk(component) if isinstance(c, HTMLForm)):
            with_forms.add(route)
            assert str(form.method) == '"post"', route
            assert str(form.action) == f'"{FORM_NOT_LOADED_ROUTE}"', route
            assert [type(child) for child in form.children] == [forms._PanelFormBody], route
    # The gate's code form on every gated page, and the pages' own.
    assert {"profile", "security", "team", "email", "support", "reset", "invite",
            "staff/tickets/[ticket]"} <= with_forms


def test_panel_form_keeps_reflexs_submit_and_props():
    from panel_app.state.stepup import StepUpState

    def children():
        return rx.input(name="code", id="code-field"), rx.button("Go", type="submit")

    props = {"on_submit": StepUpState.verify, "reset_on_submit": True, "id": "a-form"}
    form, plain = panel_form(*children(), **props), rx.form(*children(), **props)
    rendered = str(form)
    assert 'method:"post"' in rendered.replace(" ", "") and FORM_NOT_LOADED_ROUTE in rendered
    assert "handleSubmit_" in rendered  # Reflex's handler (preventDefault) is the onSubmit
    # The same submit code as the plain form's: preventDefault, the fields' refs, the event chain.
    assert form._get_all_hooks() == plain._get_all_hooks()
    assert form.handle_submit_unique_name == plain.handle_submit_unique_name
    assert "ev.preventDefault()" in "\n".join(form._get_all_hooks())
    body = form.children[0]
    assert isinstance(body, forms._PanelFormBody) and len(body.children) == 2
    with pytest.raises(ValueError):
        panel_form(rx.input(name="x"), method="get")
    with pytest.raises(ValueError):
        panel_form(rx.input(name="x"), action="/elsewhere")


def test_the_body_is_disabled_on_the_server_and_enabled_in_the_browser():
    body = forms._PanelFormBody.create(rx.input(name="x"))
    assert body.library is None and body.tag == "PanelFormBody"
    code = "\n".join(body._get_all_custom_code())
    assert "function PanelFormBody(" in code and "<script" not in code and "console." not in code
    # useSyncExternalStore(subscribe, client snapshot, server snapshot): locked only on the server.
    assert re.search(r"useSyncExternalStore\(panelFormSubscribe, panelFormLockedInBrowser, "
                     r"panelFormLockedOnServer\)", code)
    assert "panelFormLockedOnServer = () => true" in code and "panelFormLockedInBrowser = () => false" in code
    assert '"fieldset"' in code and 'className: "panel-form-body"' in code and "disabled: locked" in code
    assert 'role: "presentation"' in code  # no extra, nameless group for screen readers
    assert "useSyncExternalStore" in str(body._get_all_imports())


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_custom_code_is_valid_javascript(tmp_path):
    module = tmp_path / "forms.mjs"
    module.write_text("\n".join(['import {useSyncExternalStore} from "react";', 'import {jsx} from "@emotion/react";',
                                 forms._BODY_JS, "export {PanelFormBody};"]))
    subprocess.run(["node", "--check", str(module)], check=True, capture_output=True)


def test_the_fieldset_has_no_layout_of_its_own():
    css = (ROOT / "assets" / "panel.css").read_text()
    rule = re.search(r"\.panel-form-body\s*\{([^}]*)\}", css)
    assert rule, "assets/panel.css styles .panel-form-body"
    declarations = {k.strip(): v.strip() for k, v in
                    (d.split(":", 1) for d in rule.group(1).split(";") if d.strip())}
    assert declarations["display"] == "contents"
    assert declarations["border"] == "0" and declarations["margin"] == "0"
    assert declarations["padding"] == "0" and declarations["min-width"] == "0"


# --- the route --------------------------------------------------------------------------


@pytest.fixture
def client():
    app = RequestLog(Starlette(routes=routes.all_routes()))
    with TestClient(app, base_url=BASE, headers={"Origin": BASE}) as test_client:
        yield test_client


def _submit(client, referer: str | None = BASE + "/profile", data=None, **headers):
    if referer is not None:
        headers["Referer"] = referer
    return client.post(FORM_NOT_LOADED_ROUTE, data=SECRETS if data is None else data, headers=headers,
                       follow_redirects=False)


def test_the_route_is_registered_for_post_only():
    found = [r for r in routes.all_routes() if r.path == FORM_NOT_LOADED_ROUTE]
    assert len(found) == 1 and found[0].methods == {"POST"}


@pytest.mark.parametrize("page", ["/profile", "/domains/example.com", "/reset?token=abc", "/", "/support?x=1&y=2"])
def test_a_submit_before_hydration_goes_back_to_its_page(client, page):
    response = _submit(client, referer=BASE + page)
    assert response.status_code == 303
    assert response.headers["location"] == page
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers


def test_the_fragment_of_the_page_is_dropped(client):
    assert _submit(client, referer=BASE + "/security#passkeys").headers["location"] == "/security"


@pytest.mark.parametrize("referer", [
    None, "", "https://evil.example/profile", "http://localhost:3001/profile", "https://localhost:3000/profile",
    BASE + ".evil.example/profile", "http://evil.example@localhost:3000/profile", "//evil.example/x",
    "/profile", "javascript:alert(1)", "not a url", BASE + "//evil.example/x", BASE + "/\\evil.example",
    BASE + "/api/form/not-loaded", BASE + "/api/session/logout", BASE + "/a\x00b", BASE + "/" + "a" * 3000,
    "http://[::1/profile",
], ids=lambda r: repr(r)[:40])
def test_any_other_referer_lands_on_the_start_page(client, referer):
    response = _submit(client, referer=referer)
    assert response.status_code == 303 and response.headers["location"] == "/"


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"}, {"Origin": "null"}, {"Origin": BASE + ".evil.example"},
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"},
])
def test_a_foreign_origin_is_refused(client, headers):
    response = _submit(client, **headers)
    assert response.status_code == 403 and "location" not in response.headers


def test_without_origin_only_the_browsers_same_origin_word_passes():
    with TestClient(Starlette(routes=form_routes.routes), base_url=BASE) as bare:
        assert _submit(bare).status_code == 403
        assert _submit(bare, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
        response = _submit(bare, **{"Sec-Fetch-Site": "same-origin"})
        assert response.status_code == 303 and response.headers["location"] == "/profile"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_not_allowed(client, method):
    response = client.request(method, FORM_NOT_LOADED_ROUTE + "?code=483920", headers={"Referer": BASE + "/profile"},
                              follow_redirects=False)
    assert response.status_code == 405 and "483920" not in response.text


def test_what_was_sent_is_never_read_echoed_or_logged(client, caplog, monkeypatch):
    async def _never(*_args, **_kwargs):
        raise AssertionError("the route read the body")

    monkeypatch.setattr("starlette.requests.Request.form", _never)
    monkeypatch.setattr("starlette.requests.Request.body", _never)
    monkeypatch.setattr("starlette.requests.Request.json", _never)
    http_log = logging.getLogger("panel.http")
    http_log.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.DEBUG):
            responses = [_submit(client), _submit(client, data={"q": SECRETS["code"]}),
                         _submit(client, Origin="https://evil.example"),
                         _submit(client, referer="https://evil.example/?" + SECRETS["code"])]
    finally:
        http_log.removeHandler(caplog.handler)
    assert any(record.name == "panel.http" for record in caplog.records)  # the log was listening
    for response in responses:
        seen = response.text + " ".join(f"{k}: {v}" for k, v in response.headers.items())
        assert not any(secret in seen for secret in SECRETS.values())
    logged = caplog.text + " ".join(str(record.__dict__) for record in caplog.records)
    assert not any(secret in logged for secret in SECRETS.values())


def test_a_large_body_changes_nothing(client):
    response = _submit(client, data={"value": "x" * 200_000})
    assert response.status_code == 303 and response.headers["location"] == "/profile"


def test_under_make_dev_the_browser_goes_back_to_the_frontend(client, monkeypatch):
    import dataclasses

    from panel_app.settings import get_settings

    dev = dataclasses.replace(get_settings(), frontend_url="http://localhost:3001")
    for module in ("panel_app.api.forms", "panel_app.api.session"):
        monkeypatch.setattr(f"{module}.get_settings", lambda: dev)
    response = _submit(client, referer="http://localhost:3001/team")
    assert response.status_code == 303 and response.headers["location"] == "http://localhost:3001/team"
