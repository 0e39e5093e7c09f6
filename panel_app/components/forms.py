"""Every Reflex form of the panel: ``panel_form`` instead of ``rx.form``.

Reflex prerenders each page to static HTML, and until React hydrates a ``<form>`` is
plain HTML: pressing Enter in it would make the browser submit it itself, by GET to the
page's own address, every field (a verification code, a new password, a DNS value) in the
query string, and so in the history, the server's and proxies' logs and the Referer.

So the form says ``method="post"`` and ``action`` names ``/api/form/not-loaded``
(api/forms.py): a submit before hydration is a POST the route answers without reading,
sending the browser back to the page. And its fields sit in a ``<fieldset disabled>``
until hydration: nothing can be typed or submitted before the page works. The fieldset
is ``display: contents`` (assets/panel.css), so the layout is unchanged.

After hydration Reflex's own submit handler runs as before (it calls ``preventDefault``),
so ``method`` and ``action`` are never used.

The fieldset is a React function component of our own (``add_custom_code``, like
components/passkey.py: no inline script, the code is bundled with the page). It asks
``useSyncExternalStore`` with a server snapshot of ``true`` (disabled in the prerendered
HTML and while hydrating) and a client snapshot of ``false``: React re-renders it enabled
right after hydration, and a page reached by client-side navigation renders it enabled.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from panel_app.api.paths import FORM_NOT_LOADED_ROUTE, backend_path

BODY_CLASS = "panel-form-body"

_BODY_TAG = "PanelFormBody"

_BODY_JS = r"""
// Nothing to subscribe to: the answer changes only between the server and the browser.
const panelFormSubscribe = () => () => {};
const panelFormLockedOnServer = () => true;
const panelFormLockedInBrowser = () => false;

function PanelFormBody({children, ...props}) {
  const locked = useSyncExternalStore(panelFormSubscribe, panelFormLockedInBrowser, panelFormLockedOnServer);
  // role "presentation": a technical wrapper, not a group for assistive technology.
  return jsx("fieldset", {...props, className: "panel-form-body", role: "presentation", disabled: locked}, children);
}
"""


class _PanelFormBody(rx.Component):
    """``<fieldset class="panel-form-body">``, disabled until the page is hydrated."""

    tag = _BODY_TAG

    def add_imports(self) -> dict[str, Any]:
        return {"react": ["useSyncExternalStore"], "@emotion/react": "jsx"}

    def add_custom_code(self) -> list[str]:
        return [_BODY_JS]


def panel_form(*children, **props) -> rx.Component:
    """``rx.form(*children, **props)`` that no browser submits by itself before hydration."""
    for name in ("method", "action"):
        if name in props:
            raise ValueError(f"panel_form sets {name!r} itself (a plain HTML form: components/native_form.py)")
    return rx.form(_PanelFormBody.create(*children), method="post", action=backend_path(FORM_NOT_LOADED_ROUTE),
                   **props)
