"""Reactive translated text: follows the signed-in user's language."""

from __future__ import annotations

import reflex as rx

from panel_app.i18n import CATALOGS
from panel_app.state.auth import AuthState


def tr(key: str) -> rx.Var:
    """The text for ``key`` in the current language (both are in the bundle)."""
    english = CATALOGS["en"][key]
    german = CATALOGS["de"].get(key, english)
    if english == german:
        return rx.Var.create(english)
    return rx.cond(AuthState.lang == "de", german, english)


def tr_format(key: str, **values) -> rx.Var:
    """``tr(key)`` with its ``{name}`` placeholders filled from vars or plain values."""
    text = tr(key).to(str)
    for name, value in values.items():
        text = text.replace("{" + name + "}", rx.Var.create(value).to(str))
    return text
