"""Reactive translated text: follows the signed-in user's language."""

from __future__ import annotations

import json

import reflex as rx
from reflex.vars.base import VarData

from panel_app.i18n import (DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, PLURAL_COUNTS, PLURAL_EXPRESSIONS,
                            PLURAL_FORMS, fill, t)
from panel_app.state.auth import AuthState


def tr(key: str) -> rx.Var:
    """The text for ``key`` in the user's language: every language's text is in the bundle,
    looked up by ``AuthState.lang`` (any number of languages). The policy's numbers are filled
    in now; other ``{name}`` placeholders are left for ``tr_format``."""
    texts = {lang: t(key, lang) for lang in LANGUAGES}
    if len(set(texts.values())) == 1:
        return rx.Var.create(texts[DEFAULT_LANGUAGE])
    return rx.Var.create(texts)[AuthState.lang].to(str)


def _tr_plural(key: str, count) -> rx.Var:
    """A plural entry's form for ``count`` (a var) in the user's language, chosen in the
    browser by each language's own plural rule (the catalog's C expression, valid JS)."""
    count_var = rx.Var.create(count)
    choosers = []
    for lang in LANGUAGES:
        forms = PLURAL_FORMS[lang].get(key) or PLURAL_FORMS[DEFAULT_LANGUAGE][key]
        forms = [fill(form, {}) for form in forms]
        choosers.append(f"{json.dumps(lang)}: ((n) => {json.dumps(forms)}[Number({PLURAL_EXPRESSIONS[lang]})])")
    by_language = "({" + ", ".join(choosers) + "})"
    js = f"(({by_language}[{AuthState.lang!s}] ?? {by_language}[{json.dumps(DEFAULT_LANGUAGE)}])(Number({count_var!s})))"
    return rx.Var(_js_expr=js, _var_type=str,
                  _var_data=VarData.merge(count_var._get_all_var_data(), AuthState.lang._get_all_var_data())).to(str)


def tr_format(key: str, **values) -> rx.Var:
    """``tr(key)`` with its ``{name}`` placeholders filled from vars or plain values; a plural
    entry takes the form for its count's value."""
    count_name = PLURAL_COUNTS.get(key)
    text = _tr_plural(key, values[count_name]) if count_name in values else tr(key).to(str)
    for name, value in values.items():
        text = text.replace("{" + name + "}", rx.Var.create(value).to(str))
    return text


def page_title(key: str) -> rx.Var:
    """A route's title ("Hilfe · Panel") in the user's language."""
    return tr_format("route.suffix", title=tr(key))


def language_items() -> list[rx.Component]:
    """One choice per language of the catalogs, each named in its own language."""
    return [rx.select.item(name, value=lang) for lang, name in LANGUAGE_NAMES.items()]


# What the browser reports as its time zone, read in the bundled code (no inline script).
_BROWSER_TIME_ZONE = rx.Var(_js_expr="(Intl.DateTimeFormat().resolvedOptions().timeZone || '')", _var_type=str)


def tab_marker() -> rx.Component:
    """On every page (an app wrap, panel_app.py): the tab's language as ``data-lang``, which
    assets/panel.js copies to ``<html lang>``; and, once per page load, the browser's time
    zone sent to the server (AuthState.set_time_zone), so times show in the user's zone."""
    return rx.fragment(rx.el.span(id="panel-lang", data_lang=AuthState.lang, hidden=True,
                                  on_mount=AuthState.set_time_zone(_BROWSER_TIME_ZONE)))
