"""Reflex configuration, derived from the panel's PANEL_* settings."""

import os

import reflex as rx

from panel_app.settings import get_settings

os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")

_settings = get_settings()
# Only the panel's own pages may open the event socket (Reflex allows any origin by default).
_origins = sorted({_settings.public_url} | ({"http://localhost:3000", "http://127.0.0.1:3000"}
                                             if _settings.is_demo else set()))

config = rx.Config(
    app_name="panel_app",
    # Demo mode publishes every code at /dev/outbox: it only listens on this machine.
    backend_host="127.0.0.1" if _settings.is_demo else "0.0.0.0",
    telemetry_enabled=False,
    redis_url=_settings.redis_url,
    # Without Redis, tab states stay in memory: Reflex's default for prod pickles them to
    # .states/ on disk at shutdown, sensitive pages included.
    **({} if _settings.redis_url else {"state_manager_mode": "memory"}),
    cors_allowed_origins=_origins,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(appearance="inherit", accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.sitemap.SitemapPlugin],
    show_built_with_reflex=False,
)
