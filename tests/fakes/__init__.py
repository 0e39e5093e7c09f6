"""Local stand-ins for outside services, and helpers to point the settings at them."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import pytest

from panel_app.settings import get_settings

# Everything that picks a transport; cleared unless a test sets it, so tests do not
# depend on the developer's environment.
TRANSPORT_VARIABLES = (
    "PANEL_SMTP_URL",
    "PANEL_WHATSAPP_TOKEN",
    "PANEL_WHATSAPP_PHONE_NUMBER_ID",
    "PANEL_WHATSAPP_API_BASE",
    "PANEL_WHATSAPP_VERIFY_TOKEN",
    "PANEL_WHATSAPP_APP_SECRET",
    "PANEL_WHATSAPP_TEMPLATE",
)


@contextlib.contextmanager
def settings_env(**variables: str | None) -> Iterator[None]:
    """Run with these ``PANEL_*`` variables (``None`` removes one), then restore.

    ``get_settings`` is cached, so the cache is cleared on entry and again after the
    environment has been restored.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in TRANSPORT_VARIABLES:
            patch.delenv(name, raising=False)
        for name, value in variables.items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        get_settings.cache_clear()
        try:
            yield
        finally:
            get_settings.cache_clear()
    get_settings.cache_clear()


def free_port() -> int:
    """A loopback port nothing listens on (closed again before it is returned)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
