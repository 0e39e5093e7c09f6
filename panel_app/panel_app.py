"""Wires pages, HTTP routes and the tab check / push loop together. No logic lives here."""

import reflex as rx
from starlette.applications import Starlette

from panel_app.api import routes as api_routes
from panel_app.api.hardening import SecurityHeaders, client_address
from panel_app import heap
from panel_app.components.i18n import tab_marker
from panel_app.logs import RequestLog
from panel_app.pages import registry
from panel_app.startup import check_startup
from panel_app.settings import get_settings
from panel_app.state import faults, push, redis_states, tab_store

check_startup()

app = rx.App(
    stylesheets=["/panel.css"],
    head_components=[rx.script(src="/panel.js")],
    # The HTTP routes, then security headers around everything (pages, assets, routes).
    api_transformer=[Starlette(routes=api_routes.all_routes()), SecurityHeaders, RequestLog, client_address],
    # The database or Redis away for a moment: "try again" in the tab's language, one log line.
    backend_exception_handler=faults.backend_exception_handler,
)
# Every page: <html lang> follows the tab's language; the browser's time zone is sent once.
app.extra_app_wraps[(3, "PanelTabMarker")] = lambda stateful: tab_marker() if stateful else None
registry.add_pages(app)
push.install(app)
# The tabs' states. With Redis: a tab's states stay in the worker that serves it between its
# events (written once a second), else two round trips per event instead of four. Without: the
# states of idle tabs are packed into bytes in memory.
redis_states.install(app, get_settings().state_hold_seconds, get_settings().state_held_tabs_max)
tab_store.install(app, get_settings().idle_tab_pack_seconds, get_settings().live_tab_states_max)
# Each worker: what the build made is frozen, the collector tuned for many open tabs.
app.register_lifespan_task(heap.settle)
