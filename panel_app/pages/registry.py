"""Every route of the panel, with its title and on_load check."""

from __future__ import annotations

import reflex as rx

from panel_app.pages.help import help_page
from panel_app.pages.login import login_page
from panel_app.state.auth import AuthState
from panel_app.state.login import LoginState


def add_pages(app: rx.App) -> None:
    app.add_page(login_page, route="/login", title="Sign in · Panel", on_load=LoginState.open_login)
    app.add_page(lambda: rx.fragment(), route="/", title="Panel", on_load=rx.redirect("/dashboard", replace=True))
    app.add_page(help_page, route="/help", title="Help · Panel", on_load=AuthState.check_login)
