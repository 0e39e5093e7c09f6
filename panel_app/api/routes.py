"""All plain HTTP routes mounted beside the Reflex app."""

from __future__ import annotations

from panel_app.api import forms, hardening, passkey, session, staff, webhooks


def all_routes() -> list:
    return [*session.routes, *forms.routes, *passkey.routes, *staff.routes, *webhooks.routes, *hardening.routes()]
