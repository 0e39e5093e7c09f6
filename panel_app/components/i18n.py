"""Reactive translated text: follows the signed-in user's language."""

from __future__ import annotations

import reflex as rx

from panel_app.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from panel_app.state.auth import AuthState


def tr(key: str) -> rx.Var:
    """The text for ``key`` in the user's language: every language's text is in the bundle,
    looked up by ``AuthState.lang`` (any number of languages). The policy's numbers are filled
    in now; other ``{name}`` placeholders are left for ``tr_format``."""
    texts = {lang: t(key, lang) for lang in LANGUAGES}
    if len(set(texts.values())) == 1:
        return rx.Var.create(texts[DEFAULT_LANGUAGE])
    return rx.Var.create(texts)[AuthState.lang].to(str)


def tr_format(key: str, **values) -> rx.Var:
    """``tr(key)`` with its ``{name}`` placeholders filled from vars or plain values."""
    text = tr(key).to(str)
    for name, value in values.items():
        text = text.replace("{" + name + "}", rx.Var.create(value).to(str))
    return text
