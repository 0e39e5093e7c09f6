"""The login page's state: messages from the login route, language before sign-in."""

from __future__ import annotations

import reflex as rx

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.i18n import LANGUAGES, t
from panel_app.security import sessions
from panel_app.security.sessions import safe_next_path
from panel_app.settings import get_settings
from panel_app.state import guard
from panel_app.state.auth import AuthState


def _browser_language(accept_language: str) -> str:
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


class LoginState(AuthState):
    message: str = ""
    message_is_error: bool = False
    next_path: str = ""  # empty until loaded: the login route then reads it from the Referer

    @rx.event
    def open_login(self):
        """on_load of /login: show why we are here; go on if already signed in."""
        params = self.router.url.query_parameters
        next_path = safe_next_path(params.get("next") or "/dashboard")
        token = guard.session_token_from_cookie_header(self.router.headers.cookie)
        with transaction() as db:
            live = sessions.resolve_session(db, token, now=utcnow(),
                                            idle_seconds=get_settings().session_idle_seconds, touch=False)
        if live is not None:
            return rx.redirect(next_path, replace=True)
        # Signed out (or a restored tab): the tab check in front of this event has already
        # emptied every page of a previous session, and kept only its language.
        if not self._user_language:
            self.lang = _browser_language(self.router.headers.accept_language)
        self.next_path = next_path
        error = params.get("error")
        if error == "throttled":
            wait = params.get("wait", "")
            seconds = int(wait) if wait.isascii() and wait.isdigit() and len(wait) < 6 else 60
            self.message, self.message_is_error = t("login.error.throttled", self.lang, seconds=seconds), True
        elif error == "invalid":
            self.message, self.message_is_error = t("login.error.invalid", self.lang), True
        elif params.get("signed_out"):
            self.message, self.message_is_error = t("login.signed_out", self.lang), False
        elif params.get("next"):
            self.message, self.message_is_error = t("login.expired", self.lang), False
        else:
            self.message = ""
        return None

    @rx.event
    def choose_language(self, lang: str):
        """Before sign-in the language is a display preference of this tab only."""
        if isinstance(lang, str) and lang in LANGUAGES and not self.signed_in:
            self.lang = lang
            if self.message:
                return LoginState.open_login
