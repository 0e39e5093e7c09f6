"""Passkeys in the browser: thin Reflex components around ``@simplewebauthn/browser``.

No WebAuthn code of our own (base64url, ceremony, credential encoding): the npm package
does all of it. What is ours is the glue: a button that starts the ceremony inside the
click's own user gesture, hands the result to a Reflex event as one JSON string, and
turns a failure into one of a few error codes the states translate.

Why the JS lives here and how it reaches the browser: the app's Content-Security-Policy
(``api/hardening.py``) allows only scripts from the site itself and the hashes of the
build's own inline scripts, so no inline ``<script>`` may be added. Each component below
has a ``tag`` naming a React function component that ``add_custom_code`` defines, no
``library``, and ``add_imports`` importing the npm package (pinned). Reflex writes the
custom code and the imports into the page module (or into the memo module of
``.web/app_components/`` that renders it), and Vite bundles it with the page: the code
arrives as part of the site's own JS files. The pinned package lands in ``.web/package.json``
and the lockfile ``reflex.lock/`` on the next compile.

Error codes (``on_error``), from the library's ``WebAuthnError.code`` and the browser's
``DOMException.name`` (the library copies the cause's name onto its own error):

===============================================  =====================================
``!browserSupportsWebAuthn()``                    ``unsupported``
code ``ERROR_CEREMONY_ABORTED``, name AbortError  ``cancelled``
code ``ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED``
(InvalidStateError on register)                   ``already_registered``
InvalidStateError on authenticate                 ``no_passkey``
code ``ERROR_INVALID_DOMAIN`` / ``_RP_ID``,
name SecurityError                                ``not_allowed``
code ``ERROR_MALFORMED_PUBKEYCREDPARAMS`` /
``..._NO_SUPPORTED_PUBKEYCREDPARAMS_ALG``,
name NotSupportedError                            ``unsupported``
name TimeoutError                                 ``timeout``
name NotAllowedError: browsers give the same
error for a closed prompt, a timeout, a missing
credential and a refusal (on purpose, for
privacy), so it is told apart by time:
  at or after the options' ``timeout``            ``timeout``
  within 500 ms (no person closes a prompt that
  fast: the browser refused, e.g. no focus, no
  gesture, a permissions policy)                  ``not_allowed``
  otherwise (the person closed the prompt, or
  closed the browser's "no passkey here" sheet)   ``cancelled``
anything else (bad options, network, server)      ``failed``
===============================================  =====================================

``passkey_sign_in`` also passes on the ``error`` key of the verify route's answer
(an i18n key such as ``passkey.error.no_passkey``); ``LoginState.passkey_failed``
accepts only whitelisted keys. Nothing is written to the console.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_base.event import EventHandler, passthrough_event_spec
from reflex_base.utils.imports import ImportVar
from reflex.components.radix.themes.base import RadixThemesComponent

# Pinned: the version is part of the import's library name, so Reflex installs exactly it.
SIMPLEWEBAUTHN = "@simplewebauthn/browser@14.0.0"

ERROR_CODES = ("cancelled", "no_passkey", "timeout", "not_allowed", "unsupported", "failed",
               "already_registered")

_CEREMONY_TAG = "PanelPasskeyCeremony"
_SUPPORT_TAG = "PanelPasskeySupport"
_SIGN_IN_TAG = "PanelPasskeySignIn"

# Shared module-level helpers (one string: Reflex de-duplicates custom code per page).
_HELPERS_JS = r"""
const PANEL_PASSKEY_REFUSED_WITHIN_MS = 500;

// Calls a Reflex event trigger (or nothing) with one argument, never throwing.
function panelPasskeyCall(trigger, value) {
  if (typeof trigger !== "function") return;
  try { trigger(value); } catch (_ignored) { /* the page goes on */ }
}

// A failed ceremony as one of the panel's codes: the table in panel_app/components/passkey.py.
function panelPasskeyErrorCode(mode, error, elapsedMs, timeoutMs) {
  if (!browserSupportsWebAuthn()) return "unsupported";
  const code = error && typeof error.code === "string" ? error.code : "";
  const name = error && typeof error.name === "string" ? error.name : "";
  switch (code) {
    case "ERROR_CEREMONY_ABORTED": return "cancelled";
    case "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED": return "already_registered";
    case "ERROR_INVALID_DOMAIN":
    case "ERROR_INVALID_RP_ID": return "not_allowed";
    case "ERROR_MALFORMED_PUBKEYCREDPARAMS":
    case "ERROR_AUTHENTICATOR_NO_SUPPORTED_PUBKEYCREDPARAMS_ALG": return "unsupported";
    default: break;
  }
  switch (name) {
    case "AbortError": return "cancelled";
    case "TimeoutError": return "timeout";
    case "SecurityError": return "not_allowed";
    case "NotSupportedError": return "unsupported";
    case "InvalidStateError": return mode === "register" ? "already_registered" : "no_passkey";
    case "NotAllowedError":
      if (typeof timeoutMs === "number" && timeoutMs > 0 && elapsedMs >= timeoutMs) return "timeout";
      return elapsedMs < PANEL_PASSKEY_REFUSED_WITHIN_MS ? "not_allowed" : "cancelled";
    default: return "failed";
  }
}

// The library aborts a running ceremony when another starts: that one ends quietly.
function panelPasskeyWasAborted(error) {
  return Boolean(error) && (error.code === "ERROR_CEREMONY_ABORTED" || error.name === "AbortError");
}

function panelPasskeyPost(url, body) {
  return fetch(url, {method: "POST", credentials: "same-origin",
                     headers: {"Content-Type": "application/json"}, body: body});
}

// Fresh authentication options from the server: {options} or {error: <i18n key>}.
async function panelPasskeyFetchOptions(optionsUrl) {
  let answer;
  try {
    const response = await panelPasskeyPost(optionsUrl, "{}");
    answer = await response.json();
    if (answer && typeof answer.error === "string" && answer.error !== "") return {error: answer.error};
    if (!response.ok || !answer || typeof answer.challenge !== "string") return {error: "failed"};
  } catch (_ignored) {
    return {error: "failed"};
  }
  return {options: answer};
}

// Only a path of this site: "//host" and "/\host" would leave it.
function panelPasskeyIsLocalPath(path) {
  return typeof path === "string" && path.startsWith("/") && !path.startsWith("//") && !path.startsWith("/\\");
}

// Sends the assertion; follows the server's redirect or returns an error key.
async function panelPasskeyVerify(verifyUrl, result) {
  const next = new URLSearchParams(window.location.search).get("next") || "";
  let answer = null;
  try {
    const response = await panelPasskeyPost(verifyUrl, JSON.stringify({response: result, next: next}));
    answer = await response.json();
  } catch (_ignored) {
    return "failed";
  }
  if (answer && panelPasskeyIsLocalPath(answer.redirect)) {
    window.location.assign(answer.redirect);
    return null;
  }
  if (answer && typeof answer.error === "string" && answer.error !== "") return answer.error;
  return "failed";
}
"""

_CEREMONY_JS = r"""
function PanelPasskeyCeremony({mode, options, label, onResponse, onError, disabled, ...buttonProps}) {
  const [busy, setBusy] = useState(false);
  const ready = typeof options === "string" && options !== "";
  const start = () => {
    if (busy || !ready || disabled) return;
    let optionsJSON;
    try {
      optionsJSON = JSON.parse(options);
    } catch (_ignored) {
      panelPasskeyCall(onError, "failed");
      return;
    }
    if (!browserSupportsWebAuthn()) {
      panelPasskeyCall(onError, "unsupported");
      return;
    }
    setBusy(true);
    const startedAt = Date.now();
    // Called synchronously from the click: the library reaches navigator.credentials
    // before its first await, so the call keeps the click's user activation.
    const ceremony = mode === "register" ? startRegistration({optionsJSON}) : startAuthentication({optionsJSON});
    ceremony.then(
      (result) => { setBusy(false); panelPasskeyCall(onResponse, JSON.stringify(result)); },
      (error) => {
        setBusy(false);
        panelPasskeyCall(onError, panelPasskeyErrorCode(mode, error, Date.now() - startedAt, optionsJSON.timeout));
      },
    );
  };
  // While busy the button stays focusable (aria-disabled): a disabled button would drop
  // the keyboard focus.
  return jsx(RadixThemesButton, {type: "button", ...buttonProps, disabled: Boolean(disabled) || !ready,
                                  "aria-disabled": busy ? "true" : undefined, "aria-busy": busy ? "true" : undefined,
                                  onClick: start}, label);
}
"""

_SUPPORT_JS = r"""
function PanelPasskeySupport({onSupport}) {
  const reported = useRef(false);
  useEffect(() => {
    if (reported.current) return;
    reported.current = true;
    panelPasskeyCall(onSupport, browserSupportsWebAuthn());
  }, []);
  return null;
}
"""

_SIGN_IN_JS = r"""
function PanelPasskeySignIn({optionsUrl, verifyUrl, label, separator, onError, ...buttonProps}) {
  const [supported, setSupported] = useState(false);
  const [busy, setBusy] = useState(false);
  const busyRef = useRef(false);
  const mounted = useRef(false);
  const conditionalRunning = useRef(false);
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;

  // Conditional UI: the browser offers the passkeys of this site in the email field's
  // autofill. It waits in the background until the person picks one (or another ceremony
  // aborts it); errors before a pick stay quiet, as nobody asked for anything yet.
  const startAutofill = useCallback(async () => {
    if (conditionalRunning.current || busyRef.current || !mounted.current) return;
    let available = false;
    try { available = await browserSupportsWebAuthnAutofill(); } catch (_ignored) { available = false; }
    if (!available || !mounted.current || busyRef.current) return;
    conditionalRunning.current = true;
    try {
      const fetched = await panelPasskeyFetchOptions(optionsUrl);
      if (!fetched.options || !mounted.current || busyRef.current) return;
      const startedAt = Date.now();
      let result;
      try {
        result = await startAuthentication({optionsJSON: fetched.options, useBrowserAutofill: true});
      } catch (error) {
        if (panelPasskeyWasAborted(error) || !mounted.current) return;
        panelPasskeyCall(onErrorRef.current,
                         panelPasskeyErrorCode("authenticate", error, Date.now() - startedAt, fetched.options.timeout));
        return;
      }
      const failure = await panelPasskeyVerify(verifyUrl, result);
      if (failure !== null) panelPasskeyCall(onErrorRef.current, failure);
    } finally {
      conditionalRunning.current = false;
    }
  }, [optionsUrl, verifyUrl]);

  useEffect(() => {
    mounted.current = true;
    const canUse = browserSupportsWebAuthn();
    setSupported(canUse);
    if (canUse) startAutofill();
    return () => {
      mounted.current = false;
      if (conditionalRunning.current) WebAuthnAbortService.cancelCeremony();
    };
  }, [startAutofill]);

  const signIn = async () => {
    if (busyRef.current) return;
    busyRef.current = true;
    setBusy(true);
    let failure = null;
    try {
      const fetched = await panelPasskeyFetchOptions(optionsUrl);
      if (!fetched.options) {
        failure = fetched.error;
      } else {
        const startedAt = Date.now();
        let result = null;
        try {
          // Aborts a waiting autofill ceremony (the library allows one at a time).
          result = await startAuthentication({optionsJSON: fetched.options});
        } catch (error) {
          failure = panelPasskeyErrorCode("authenticate", error, Date.now() - startedAt, fetched.options.timeout);
        }
        if (result !== null) failure = await panelPasskeyVerify(verifyUrl, result);
      }
    } catch (_ignored) {
      failure = "failed";
    }
    if (failure === null) return;  // on the way to the next page
    busyRef.current = false;
    if (!mounted.current) return;
    setBusy(false);
    panelPasskeyCall(onErrorRef.current, failure);
    startAutofill();
  };

  if (!supported) return null;
  const button = jsx(RadixThemesButton, {type: "button", ...buttonProps,
                                          "aria-disabled": busy ? "true" : undefined,
                                          "aria-busy": busy ? "true" : undefined,
                                          onClick: () => { signIn(); }}, label);
  if (separator === undefined || separator === null || separator === "") return button;
  return jsx(Fragment, {},
             jsx("div", {className: "passkey-separator", role: "separator", "aria-orientation": "horizontal"},
                 jsx("span", {}, separator)),
             button);
}
"""


def _library_imports(*names: str) -> dict[str, Any]:
    return {
        SIMPLEWEBAUTHN: list(names),
        "react": ["Fragment", "useCallback", "useEffect", "useRef", "useState"],
        "@emotion/react": "jsx",
        # The library name exactly as Reflex's own Radix components import it (with its
        # version): two spellings of one package fail the compile where both meet (a memo).
        RadixThemesComponent.library: [ImportVar(tag="Button", alias="RadixThemesButton")],
    }


class _PasskeyCeremony(rx.Component):
    """A button running one WebAuthn ceremony with server-made options (a state var)."""

    tag = _CEREMONY_TAG

    mode: rx.Var[str]
    options: rx.Var[str]
    label: rx.Var[str]
    disabled: rx.Var[bool]
    size: rx.Var[str]
    variant: rx.Var[str]
    color_scheme: rx.Var[str]
    high_contrast: rx.Var[bool]

    on_response: EventHandler[passthrough_event_spec(str)]
    on_error: EventHandler[passthrough_event_spec(str)]

    _rename_props = {"colorScheme": "color"}

    def add_imports(self) -> dict[str, Any]:
        return _library_imports("browserSupportsWebAuthn", "startAuthentication", "startRegistration")

    def add_custom_code(self) -> list[str]:
        return [_HELPERS_JS, _CEREMONY_JS]


class _PasskeySupport(rx.Component):
    """Nothing visible: reports once, on mount, whether the browser has WebAuthn."""

    tag = _SUPPORT_TAG

    on_support: EventHandler[passthrough_event_spec(bool)]

    def add_imports(self) -> dict[str, Any]:
        return _library_imports("browserSupportsWebAuthn")

    def add_custom_code(self) -> list[str]:
        return [_HELPERS_JS, _SUPPORT_JS]


class _PasskeySignIn(rx.Component):
    """The login page's passkey button (plus the browser's passkey autofill)."""

    tag = _SIGN_IN_TAG

    options_url: rx.Var[str]
    verify_url: rx.Var[str]
    label: rx.Var[str]
    separator: rx.Var[str]
    size: rx.Var[str]
    variant: rx.Var[str]
    color_scheme: rx.Var[str]

    on_error: EventHandler[passthrough_event_spec(str)]

    _rename_props = {"colorScheme": "color"}

    def add_imports(self) -> dict[str, Any]:
        return _library_imports("browserSupportsWebAuthn", "browserSupportsWebAuthnAutofill",
                                "startAuthentication", "WebAuthnAbortService")

    def add_custom_code(self) -> list[str]:
        return [_HELPERS_JS, _SIGN_IN_JS]


def passkey_ceremony(*, mode: str, options: rx.Var[str], label: rx.Var[str] | str, on_response, on_error,
                     id: str, disabled: rx.Var[bool] | bool = False, **button_props) -> rx.Component:
    """One button that registers (``mode="register"``) or uses (``"authenticate"``) a passkey.

    ``options``: a state var with the JSON of the server-made options (py_webauthn's
    ``options_to_json``); while it is ``""`` the button is disabled. On success
    ``on_response(response_json: str)``; on failure ``on_error(code: str)``, ``code`` one
    of ``ERROR_CODES``. ``button_props``: those of ``rx.button`` (size, variant,
    color_scheme, high_contrast, width, class_name, aria_*, ...)."""
    if mode not in ("register", "authenticate"):
        raise ValueError(f"passkey_ceremony: mode must be 'register' or 'authenticate', not {mode!r}")
    return _PasskeyCeremony.create(mode=mode, options=options, label=label, on_response=on_response,
                                   on_error=on_error, id=id, disabled=disabled, **button_props)


def passkey_support(on_support) -> rx.Component:
    """Renders nothing; on mount calls ``on_support(supported: bool)``."""
    return _PasskeySupport.create(on_support=on_support)


def passkey_sign_in(*, options_url: str, verify_url: str, label: rx.Var[str] | str, on_error, id: str,
                    separator: rx.Var[str] | str | None = None, **button_props) -> rx.Component:
    """The login page's "Sign in with a passkey" button: asks ``options_url`` for options,
    runs the ceremony, posts ``{"response", "next"}`` to ``verify_url`` (which sets the
    session cookie) and follows its ``{"redirect": "/..."}``; its ``{"error": key}`` or a
    ceremony's code goes to ``on_error(key: str)``. Also offers the passkeys in the email
    field's autofill (``autocomplete="username webauthn"``). Renders nothing without
    WebAuthn, the ``separator`` text ("or") included."""
    props: dict[str, Any] = {"size": "3", **button_props}
    if separator is not None:
        props["separator"] = separator
    return _PasskeySignIn.create(options_url=options_url, verify_url=verify_url, label=label, on_error=on_error,
                                 id=id, **props)
