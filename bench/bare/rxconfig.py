"""The floor for `make bench`: a bare Reflex 0.10 app with one trivial handler, built and
served exactly like the panel (`reflex run --env prod`, one port)."""

import os

import reflex as rx

os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")

config = rx.Config(
    app_name="bare",
    telemetry_enabled=False,
    state_manager_mode="memory",
    show_built_with_reflex=False,
    disable_plugins=[rx.plugins.sitemap.SitemapPlugin],
    plugins=[rx.plugins.RadixThemesPlugin()],
)
