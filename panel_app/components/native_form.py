"""A plain HTML <form> that the browser itself submits (no Reflex submit handler).

Login and logout post to HTTP routes that set or clear the HttpOnly cookie; a
Reflex form would prevent the browser's submission.
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.el.elements.base import BaseHTML

from panel_app.api.paths import backend_path  # noqa: F401  (re-exported for the pages)


class NativeForm(BaseHTML):
    tag = "form"
    action: rx.Var[str]
    method: rx.Var[str]


native_form = NativeForm.create
