"""The login page's state: messages from the login route, language before sign-in."""

from __future__ import annotations

import reflex as rx

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.i18n import CATALOGS, DEFAULT_LANGUAGE, LANGUAGES, PLURAL_COUNTS, placeholders, policy_values, t
from panel_app.security import sessions
from panel_app.security.sessions import safe_next_path
from panel_app.settings import get_settings
from panel_app.state import guard
from panel_app.state.auth import AuthState


# The codes the passkey button reports (components/passkey.py), and the prefixes of the keys
# the passkey routes may answer with: nothing else becomes a message on the page.
PASSKEY_ERROR_CODES = frozenset({"cancelled", "no_passkey", "timeout", "not_allowed", "unsupported", "failed",
                                 "already_registered"})
PASSKEY_ERROR_PREFIXES = ("passkey.error.", "login.error.")


def passkey_error_key(code: object) -> str | None:
    """The catalog key to show for what the passkey button reported, or None to refuse it."""
    if not isinstance(code, str) or len(code) > 100:
        return None
    if code in PASSKEY_ERROR_CODES:
        return "passkey.error." + code
    if code.startswith(PASSKEY_ERROR_PREFIXES) and code in CATALOGS[DEFAULT_LANGUAGE]:
        # A key whose text needs a value (a plural's count, a name) cannot be filled from here.
        needs_values = code in PLURAL_COUNTS or placeholders(CATALOGS[DEFAULT_LANGUAGE][code]) - set(policy_values())
        return "passkey.error.failed" if needs_values else code
    return None


class LoginState(AuthState):
    message: str = ""
    message_is_error: bool = False
    next_path: str = ""  # empty until loaded: the login route then reads it from the Referer
    _passkey_error: str = ""  # the catalog key of the passkey message shown, to follow the language

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
            self.lang = self._tab_language()
        self.next_path = next_path
        self._passkey_error = ""
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
            self.lang = self._picked_language = lang
            if self._passkey_error:
                self.message = t(self._passkey_error, self.lang)
            elif self.message:
                return LoginState.open_login
        return None

    @rx.event
    def passkey_failed(self, code: str):
        """The passkey button's failure (components/passkey.py): a code of its own or the
        key the passkey route answered. Shown only if it is one of the known keys."""
        key = passkey_error_key(code)
        if key is not None:
            self._passkey_error = key
            self.message, self.message_is_error = t(key, self.lang), True
