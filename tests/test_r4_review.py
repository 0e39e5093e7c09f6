"""An outside attack review of round 4's changes (technicians on /profile and /support, the
grant's end and the browser's drafts, the language and time zone, the code help and the
reset page): each weakness found has its test here, next to the checks that held.

The browser's draft keeper (assets/panel.js) is run in Node against a small fake page: only
its own logic is under test, with the page's real markup checked separately."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

PANEL_JS = Path(__file__).resolve().parents[1] / "assets" / "panel.js"

# A fake page for panel.js: the listeners it adds, sessionStorage, and form fields whose
# ``closest`` follows the attributes given (element, then its form, then the draft keeper).
_FAKE_PAGE = r"""
const listeners = {};
const stored = new Map();
globalThis.window = globalThis;
window.sessionStorage = {
  getItem: (k) => (stored.has(k) ? stored.get(k) : null),
  setItem: (k, v) => stored.set(k, String(v)),
  removeItem: (k) => stored.delete(k),
  key: (i) => [...stored.keys()][i] ?? null,
  get length() { return stored.size; },
};
window.setInterval = () => 0;
window.setTimeout = () => 0;
globalThis.MutationObserver = class { observe() {} };
globalThis.location = { pathname: "/payments", search: "" };
globalThis.document = {
  documentElement: {},
  addEventListener: (type, fn) => { (listeners[type] = listeners[type] || []).push(fn); },
  querySelectorAll: () => [], querySelector: () => null, getElementById: () => null,
};
function matches(attrs, selector) {
  const m = /^\[([a-z-]+)(?:='([^']*)')?\]$/.exec(selector);
  return !!m && Object.prototype.hasOwnProperty.call(attrs, m[1]) && (m[2] === undefined || attrs[m[1]] === m[2]);
}
const keeper = { attrs: { "data-keep-drafts": "" } };
function makeForm(attrs) {
  const form = { id: attrs.id || "", elements: [], getAttribute: (k) => (k in attrs ? attrs[k] : null) };
  form.closest = (sel) => (matches(attrs, sel) ? form : matches(keeper.attrs, sel) ? keeper : null);
  return form;
}
function makeInput(form, attrs) {
  const el = { tagName: "INPUT", name: attrs.name, value: attrs.value, form,
               getAttribute: (k) => (k in attrs ? attrs[k] : null) };
  el.closest = (sel) => (matches(attrs, sel) ? el : form.closest(sel));
  form.elements.push(el);
  return el;
}
const cases = JSON.parse(process.argv[2]);
require(process.argv[1]);
const out = {};
for (const c of cases) {
  stored.clear();
  const form = makeForm(c.form);
  const el = makeInput(form, c.input);
  for (const fn of listeners.input || []) fn({ target: el });
  out[c.label] = [...stored.values()].join("\n");
}
console.log(JSON.stringify(out));
"""


def _drafts_kept(cases: list[dict]) -> dict[str, str]:
    """What panel.js writes to sessionStorage when each case's field is typed into."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("Node is not installed")
    done = subprocess.run([node, "-e", _FAKE_PAGE, str(PANEL_JS), json.dumps(cases)], capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(done.stdout)


CARD_NUMBER = "4111111111111111"
IBAN = "DE89370400440532013000"


def test_a_card_number_or_iban_typed_on_a_sensitive_page_is_never_kept_in_the_browser():
    """Finding: the draft keeper kept every plain field of a gated page's forms in
    sessionStorage, the card number (name "number", autocomplete cc-number) and the IBAN
    among them: the full number outlived the event the server drops it after, in clear,
    for any script of the origin. Payment details are never drafts."""
    kept = _drafts_kept([
        {"label": "plain", "form": {"id": "dns-form"}, "input": {"name": "value", "value": "v=spf1 -all"}},
        {"label": "card_number", "form": {}, "input": {"name": "number", "autocomplete": "cc-number",
                                                       "value": CARD_NUMBER}},
        {"label": "card_by_autocomplete", "form": {"id": "f"}, "input": {"name": "pan", "autocomplete": "cc-number",
                                                                         "value": CARD_NUMBER}},
        {"label": "iban_in_marked_form", "form": {"data-no-draft": ""},
         "input": {"name": "iban", "autocomplete": "off", "value": IBAN}},
        {"label": "marked_field", "form": {"id": "f"}, "input": {"name": "holder", "data-no-draft": "",
                                                                 "value": "Olga Owner"}},
        {"label": "code", "form": {"id": "f"}, "input": {"name": "old_code", "value": "123456"}},
    ])
    assert "v=spf1 -all" in kept["plain"]  # the keeper works at all in this fake page
    assert kept["card_number"] == kept["card_by_autocomplete"] == ""
    assert kept["iban_in_marked_form"] == kept["marked_field"] == ""
    assert kept["code"] == ""


def test_the_payment_forms_are_marked_as_never_drafts():
    from reflex.compiler.compiler import _compile_page

    from panel_app.pages.payments import payment_methods_page

    page = _compile_page(payment_methods_page(), "/payments")
    for form_id in ("card-form", "sepa-form"):
        assert f'"data-no-draft":"",id:"{form_id}"' in page, form_id


# --- checks that held (kept as tests so that they keep holding) --------------------------


def test_the_time_zone_event_is_not_an_action_of_the_user():
    """The browser's time zone arrives on every page load: it must never extend the login
    session's idle timeout (a tab left open would otherwise keep its session alive)."""
    from reflex_base.event import Event

    from panel_app.state.auth import AuthState
    from panel_app.state.tab_check import is_user_action

    def event(handler: str, payload: dict) -> Event:
        return Event(name=f"{AuthState.get_full_name()}.{handler}", router_data={"pathname": "/dashboard"},
                     payload=payload)

    assert is_user_action(event("set_time_zone", {"zone": "Europe/Berlin"})) is False
    assert is_user_action(event("set_language", {"lang": "de"})) is True  # the check tells them apart


@pytest.mark.parametrize("token", ["", "x" * 5000, "not-a-token", {"t": 1}])
def test_a_reset_link_that_does_not_open_says_nothing_about_the_accounts_methods(make_user, token):
    """The reset page lists the methods not offered (and why) only once a live link opened it."""
    from panel_app.state.reset import ResetState
    from tests.state_harness import tab_state

    make_user(phone=None)
    page = tab_state(ResetState, None, "/reset", query={"token": token} if isinstance(token, str) else {})
    page.open_reset()
    assert page.step == "invalid"
    assert page.not_offered == [] and page.methods == [] and page.masked_phone == ""
