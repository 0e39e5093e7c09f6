"""Where the browser reaches the plain HTTP routes."""

from __future__ import annotations

DEVICE_ROUTE = "/api/session/device"
# Where a Reflex form posts when submitted before its page is hydrated (api/forms.py).
FORM_NOT_LOADED_ROUTE = "/api/form/not-loaded"


def backend_path(path: str) -> str:
    """Relative in production (one port). Under ``make dev`` the pages come from the
    Vite server, so posts go to the backend's own URL (cookies ignore the port)."""
    from reflex.config import get_config

    from panel_app.settings import get_settings

    if get_settings().frontend_url:
        return get_config().api_url.rstrip("/") + path
    return path
