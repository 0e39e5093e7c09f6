"""The login page's passkey message (LoginState.passkey_failed) and the passkey components'
compiled JS (the browser side runs in tests/browser/test_passkey_component.py)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import reflex as rx

import panel_app.panel_app  # noqa: F401  (registers every state)
from panel_app.components.passkey import (ERROR_CODES, SIMPLEWEBAUTHN, passkey_ceremony, passkey_sign_in,
                                          passkey_support)
from panel_app.i18n import CATALOGS, t
from panel_app.state.login import LoginState, passkey_error_key
from tests.state_harness import tab_state


def _login_tab(lang: str = "en") -> LoginState:
    state = tab_state(LoginState, None, "/login")
    state.lang = lang
    return state


@pytest.mark.parametrize("code", ERROR_CODES)
def test_every_code_of_the_button_has_a_text_in_every_language(code):
    for lang in CATALOGS:
        assert f"passkey.error.{code}" in CATALOGS[lang]
    state = _login_tab("de")
    state.passkey_failed(code)
    assert state.message == t(f"passkey.error.{code}", "de") and state.message_is_error


def test_a_key_answered_by_the_route_is_shown_and_follows_the_language():
    state = _login_tab("en")
    state.passkey_failed("login.error.invalid")
    assert state.message == t("login.error.invalid", "en")
    state.choose_language("de")
    assert state.message == t("login.error.invalid", "de")


@pytest.mark.parametrize("hostile", [None, 1, True, ["failed"], {"code": "failed"}, "", "shell.logout",
                                     "passkey.error.nope", "login.error.", "<img src=x>", "failed " * 20_000,
                                     "passkey.error.failed\x00"])
def test_anything_else_changes_nothing(hostile):
    state = _login_tab()
    state.message, state.message_is_error = "before", False
    state.passkey_failed(hostile)
    assert (state.message, state.message_is_error) == ("before", False)


def test_a_key_that_needs_a_value_reads_as_failed():
    assert passkey_error_key("login.error.throttled") == "passkey.error.failed"  # needs {seconds}


def test_the_components_render_with_the_pinned_library_and_no_script_tag():
    # A page's own state would declare: options: str; on_response(self, response_json: str);
    # on_error(self, code: str); on_support(self, supported: bool). The login state stands in.
    options, on_response, on_error = LoginState.next_path, LoginState.passkey_failed, LoginState.passkey_failed
    components = [
        passkey_ceremony(mode="register", options=options, label="Add", on_response=on_response,
                         on_error=on_error, id="add-passkey"),
        passkey_ceremony(mode="authenticate", options=options, label="Use", on_response=on_response,
                         on_error=on_error, id="use-passkey", disabled=True, width="100%"),
        passkey_support(rx.noop()),
        passkey_sign_in(options_url="/o", verify_url="/v", label="Sign in", on_error=on_error, id="p"),
    ]
    for component in components:
        imports = component._get_all_imports()
        assert SIMPLEWEBAUTHN in imports  # pinned
        assert component.library is None and component.tag.startswith("PanelPasskey")
        code = "\n".join(component._get_all_custom_code())
        assert f"function {component.tag}(" in code and "<script" not in code
        assert "console." not in code  # nothing logged
    with pytest.raises(ValueError):
        passkey_ceremony(mode="login", options=options, label="x", on_response=on_response,
                         on_error=on_error, id="x")
    assert SIMPLEWEBAUTHN.endswith("@14.0.0")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_custom_code_is_valid_javascript(tmp_path):
    """The ceremony button is on no page yet (the build proves the login page's part):
    a syntax check of all the components' code as one ES module."""
    from panel_app.components import passkey

    module = tmp_path / "passkey.mjs"
    module.write_text("\n".join([
        'import {WebAuthnAbortService, browserSupportsWebAuthn, browserSupportsWebAuthnAutofill, '
        'startAuthentication, startRegistration} from "@simplewebauthn/browser";',
        'import {Fragment, useCallback, useEffect, useRef, useState} from "react";',
        'import {jsx} from "@emotion/react";',
        'import {Button as RadixThemesButton} from "@radix-ui/themes";',
        passkey._HELPERS_JS, passkey._CEREMONY_JS, passkey._SUPPORT_JS, passkey._SIGN_IN_JS,
        "export {PanelPasskeyCeremony, PanelPasskeySupport, PanelPasskeySignIn};",
    ]))
    subprocess.run(["node", "--check", str(module)], check=True, capture_output=True)
