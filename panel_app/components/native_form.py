"""A plain HTML <form> that the browser itself submits (no Reflex submit handler).

Login and logout post to HTTP routes that set or clear the HttpOnly cookie; a
Reflex form would prevent the browser's submission.
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.el.elements.base import BaseHTML


class NativeForm(BaseHTML):
    tag = "form"
    action: rx.Var[str]
    method: rx.Var[str]


native_form = NativeForm.create


def backend_path(path: str) -> str:
    """Relative in production (one port). Under ``make dev`` the pages come from the
    Vite server, so posts go to the backend's own URL (cookies ignore the port)."""
    from reflex.config import get_config

    from panel_app.settings import get_settings

    if get_settings().frontend_url:
        return get_config().api_url.rstrip("/") + path
    return path
