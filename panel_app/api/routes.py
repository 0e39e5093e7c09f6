"""All plain HTTP routes mounted beside the Reflex app."""

from __future__ import annotations

from panel_app.api import session, webhooks


def all_routes() -> list:
    return [*session.routes, *webhooks.routes]
