"""The logged-in user's shell state: who is signed in, language, grant countdown.

Everything here is display data that is not sensitive. It is refreshed from the
database by the guard on every event; no decision is ever taken from it.
"""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from panel_app.i18n import LANGUAGES, normalize_language, t
from panel_app.security import sessions
from panel_app.security.permissions import Area, allowed_areas
from panel_app.services.audit import record
from panel_app.state import guard


class AuthState(rx.State):
    user_name: str = ""
    user_email: str = ""
    role: str = ""
    lang: str = "en"
    areas: list[str] = []
    signed_in: bool = False
    grant_active: bool = False
    grant_seconds_left: int = 0
    grant_method: str = ""
    notice: str = ""
    _bound_session_id: int | None = None
    _sweep_due: bool = False

    # --- guard hooks ------------------------------------------------------------

    def _accept(self, ctx: guard.GuardContext) -> None:
        if self._bound_session_id != ctx.login_session.id:
            if self._bound_session_id is not None:
                # Another login in this tab (or a reused client token): start clean, also
                # the page states this event did not load (with Redis, only its own are).
                self._wipe_everything()
                self._sweep_due = True
            self._bound_session_id = ctx.login_session.id
        user = ctx.user
        self.user_name = user.name or user.email
        self.user_email = user.email
        self.role = user.role
        self.lang = normalize_language(user.language)
        self.areas = sorted(a.value for a in allowed_areas(user.role, user.areas))
        self.signed_in = True
        self._show_grant(ctx.login_session, ctx.now)

    def _show_grant(self, login_session, now) -> None:
        if self.grant_active and not sessions.grant_is_valid(login_session, now):
            self._sweep_due = True
        if sessions.grant_is_valid(login_session, now):
            self.grant_active = True
            self.grant_seconds_left = max(0, int((login_session.grant_expires_at - now).total_seconds()))
            self.grant_method = login_session.grant_method or ""
        else:
            self.grant_active = False
            self.grant_seconds_left = 0
            self.grant_method = ""

    def _refuse(self, reason: guard.Refusal):
        if reason == guard.LOGIN:
            had_session = self._bound_session_id is not None
            self._wipe_everything()
            self._sweep_due = had_session
            path = self.router.url.path if self.router.url else "/dashboard"
            return rx.redirect(f"/login?next={quote(path or '/dashboard')}", replace=True)
        self._wipe()
        if reason == guard.FORBIDDEN:
            return rx.redirect("/dashboard?denied=1", replace=True)
        if self.grant_active:
            self._sweep_due = True
        self.grant_active = False
        self.grant_seconds_left = 0
        return None

    def _after_event(self, outcome):
        """When a grant or session just ended, also clear the other sensitive pages this
        tab visited: their data may still sit in the browser's copy of the state."""
        if not self._sweep_due:
            return outcome
        self._sweep_due = False
        if outcome is None:
            return AuthState.sweep
        return [*outcome, AuthState.sweep] if isinstance(outcome, list) else [outcome, AuthState.sweep]

    def _wipe(self) -> None:
        """Sensitive data of this state. Page states override."""

    def _wipe_everything(self) -> None:
        """Forget the user and every loaded page's data in this tab."""
        auth = self
        while type(auth) is not AuthState:
            auth = auth.parent_state
        auth.reset()
        auth._bound_session_id = None

    # --- handlers -----------------------------------------------------------------

    async def _sweep_pages(self) -> None:
        from panel_app.state.gated import gated_page_classes

        for page_cls in gated_page_classes():
            page = await self.get_state(page_cls)
            if page.loaded:
                page._wipe()

    @rx.event
    async def sweep(self):
        """Empty every sensitive page state of this tab. It only ever removes data, so it
        needs no guard: a client calling it can only clear its own tab."""
        await self._sweep_pages()

    @rx.event
    async def forget_tab(self):
        """Sign-out (and a signed-out login page): forget the user and every page's data in
        this tab, so a restored tab or the next person at this browser sees nothing."""
        self._wipe_everything()
        await self._sweep_pages()

    @guard.login_only
    def check_login(self):
        """on_load of every logged-in page: refreshes the shell, or sends to /login."""
        self._denied_notice()

    def _denied_notice(self) -> None:
        """A page load shows why the user was sent here (``?denied=1``), else nothing."""
        denied = self.router.url.query_parameters.get("denied")
        self.notice = t("shell.notice.denied", self.lang) if denied else ""

    @guard.login_only
    def tick(self):
        """Once a second on every logged-in page: the countdown, and logout in every tab."""

    @guard.login_only
    def set_language(self, lang: str):
        if not isinstance(lang, str) or lang not in LANGUAGES:
            return
        ctx = guard.current()
        ctx.user.language = lang
        ctx.db.add(ctx.user)
        record(ctx.db, ctx.actor, Area.AUTH, "language_changed", now=ctx.now, target=lang)
        self.lang = lang
