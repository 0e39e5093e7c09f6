"""Wires pages and HTTP routes together. No logic lives here."""

import reflex as rx
from starlette.applications import Starlette

from panel_app.api import routes as api_routes
from panel_app.pages import registry
from panel_app.startup import check_startup

check_startup()

app = rx.App(
    stylesheets=["/panel.css"],
    api_transformer=Starlette(routes=api_routes.all_routes()),
)
registry.add_pages(app)
