"""All plain HTTP routes mounted beside the Reflex app."""

from __future__ import annotations


def all_routes() -> list:
    from panel_app.api import session

    routes = list(session.routes)
    try:
        from panel_app.api import webhooks
    except ImportError:  # pragma: no cover - delivery layer not present
        return routes
    return routes + list(webhooks.routes)
