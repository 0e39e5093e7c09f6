"""The logged-in user's shell state: who is signed in, language, grant countdown.

Everything here is display data that is not sensitive. It is refreshed from the
database by the guard on every event; no decision is ever taken from it.
"""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from panel_app.i18n import LANGUAGES, browser_language, t
from panel_app.i18n.formatting import valid_time_zone
from panel_app.security import sessions, tabs
from panel_app.security.permissions import Area, allowed_areas
from panel_app.services.audit import record
from panel_app.settings import get_settings
from panel_app.state import guard


# The support console's pages that show times (their loads decide access themselves).
STAFF_CONSOLE_PAGES = ("/staff/tickets", "/staff/admin", "/staff/security")


def page_load_events(path: str) -> list:
    """The on_load events of the page at ``path`` (none when no app is running: tests)."""
    from reflex_base.registry import RegistrationContext
    from reflex_base.utils.exceptions import ReflexRuntimeError

    try:
        return list(RegistrationContext.get().app.get_load_events(path))
    except (LookupError, ReflexRuntimeError):
        return []


class AuthState(rx.State):
    user_name: str = ""
    user_email: str = ""
    role: str = ""
    lang: str = "en"
    areas: list[str] = []
    signed_in: bool = False
    grant_active: bool = False
    # The countdown runs in the browser (assets/panel.js) from these two: seconds left
    # when the server computed them, and when (ms) it did, so each new value restarts it.
    grant_seconds_left: int = 0
    grant_stamp: int = 0
    grant_method: str = ""
    notice: str = ""
    # A contact change made without the old address or number waits: said on every page.
    pending_change: str = ""
    _bound_session_id: int | None = None
    _user_id: int | None = None  # for the event log only
    # ``lang`` is the signed-in user's choice (kept when the tab is emptied), not a guess.
    _user_language: bool = False
    # The language picked on a page before sign-in (this tab only), and the browser's time
    # zone (sent once per tab, validated): kept when the tab is emptied, like ``lang``.
    _picked_language: str = ""
    _time_zone: str = ""
    # Some page of this tab holds sensitive data (a grant-protected page was loaded).
    _holds_sensitive: bool = False
    # What the open-tab row last recorded: (session id, grant end, holds sensitive).
    _tab_record: tuple | None = None

    # --- guard hooks ------------------------------------------------------------

    def _accept(self, ctx: guard.GuardContext) -> None:
        if self._bound_session_id != ctx.view.session_id:
            # A first login in this tab, or another one: the tab check in front of every
            # event (state/tab_check.py) has already emptied a tab bound elsewhere.
            self._bound_session_id = ctx.view.session_id
            self._user_id = ctx.view.user_id
            self._holds_sensitive = False
            self._tab_record = None
        user = ctx.view.user
        self._user_language = user.language in LANGUAGES
        self._update(user_name=user.name or user.email, user_email=user.email, role=user.role,
                     lang=ctx.lang, signed_in=True,
                     areas=sorted(a.value for a in allowed_areas(user.role, user.areas)),
                     pending_change=self._pending_change_text(ctx) if user.factor_change_pending else "")
        self._show_grant(ctx.view.session, ctx.now)

    def _update(self, **values) -> None:
        """Assign only what changed: every assignment goes to the browser in the delta."""
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    @staticmethod
    def _pending_change_text(ctx: guard.GuardContext) -> str:
        from panel_app.services import factor_changes

        return " ".join(
            t("shell.pending_change", ctx.lang, kind=t(f"profile.kind.{change.kind}", ctx.lang),
              effective=ctx.moment(change.effective_at))
            for change in factor_changes.pending(ctx.db, ctx.view.user_id)
        )

    def _show_grant(self, login_session, now) -> None:
        live = sessions.grant_is_valid(login_session, now)
        self._update(grant_active=live, grant_method=(login_session.grant_method or "") if live else "")
        # The countdown restarts from every new stamp (a page opened later shows it anew).
        self.grant_seconds_left = max(0, int((login_session.grant_expires_at - now).total_seconds())) if live else 0
        self.grant_stamp = int(now.timestamp() * 1000)

    def _sync_tab(self, ctx: guard.GuardContext) -> None:
        """At the end of a guarded event: record in the database what this tab now holds,
        so the push loop can wipe it when the grant or session ends (only on change)."""
        login_session = ctx.session_now()
        grant_until = login_session.grant_expires_at if sessions.grant_is_valid(login_session, ctx.now) else None
        record_now = (login_session.id, grant_until, self._holds_sensitive)
        if record_now == self._tab_record:
            return
        tabs.register(ctx.db, client_token=self.router.session.client_token, login_session=login_session,
                      holds_sensitive=self._holds_sensitive, grant_until=grant_until,
                      idle_seconds=get_settings().session_idle_seconds, now=ctx.now)
        self._tab_record = record_now

    def _refuse(self, reason: guard.Refusal):
        if reason == guard.LOGIN:
            self._wipe_everything()
            path = self.router.url.path if self.router.url else "/dashboard"
            return rx.redirect(f"/login?next={quote(path or '/dashboard')}", replace=True)
        self._wipe()
        if reason == guard.FORBIDDEN:
            return rx.redirect("/dashboard?denied=1", replace=True)
        self.grant_active = False
        self.grant_seconds_left = 0
        return None

    def _wipe(self) -> None:
        """Sensitive data of this state. Page states override."""

    def _wipe_everything(self) -> None:
        """Forget the user and the loaded pages' data in this tab (the tab check also
        empties the states this event did not load)."""
        auth = self
        while type(auth) is not AuthState:
            auth = auth.parent_state
        auth.reset()

    def _tab_language(self) -> str:
        """The language of this tab when the account has none of its own: the one picked
        on a page before sign-in, else the browser's (i18n.effective_language)."""
        if self._picked_language in LANGUAGES:
            return self._picked_language
        return browser_language(self.router.headers.accept_language)

    def _reload_page(self):
        """The current page's on_load again, so that what the server computed for it
        (statuses, money, dates) follows a new language or time zone."""
        path = self.router.url.path if self.router.url else ""
        if not path or not (self.signed_in or path.startswith(STAFF_CONSOLE_PAGES)):
            return None
        return page_load_events(path) or None

    # --- handlers -----------------------------------------------------------------

    @guard.automatic  # a page load, not an action of the user
    def set_time_zone(self, zone: str):
        """Sent once per page load by the browser (components/i18n.tab_marker): its time
        zone, e.g. ``Europe/Berlin``. Anything the zoneinfo database does not know is ignored."""
        valid = valid_time_zone(zone)
        if valid is None or valid == self._time_zone:
            return None
        self._time_zone = valid
        return self._reload_page()

    @rx.event
    async def forget_tab(self):
        """Sign-out button: forget the user and every page's data in this tab at once,
        before the sign-out form posts, so nothing lingers in the browser's copy."""
        from panel_app.state.tab_check import wipe_tab

        await wipe_tab(self, everything=True)

    @guard.login_only
    @guard.automatic
    def check_login(self):
        """on_load of every logged-in page: refreshes the shell, or sends to /login."""
        self._denied_notice()

    def _denied_notice(self) -> None:
        """A page load shows why the user was sent here (``?denied=1``), else nothing."""
        denied = self.router.url.query_parameters.get("denied")
        self.notice = t("shell.notice.denied", self.lang) if denied else ""

    @guard.login_only
    @guard.automatic
    def tick(self):
        """Sent by the browser when the countdown reaches zero (never on a timer): the
        grant badge disappears; the push loop does the same within a second anyway."""

    @guard.login_only
    def set_language(self, lang: str):
        if not isinstance(lang, str) or lang not in LANGUAGES:
            return
        ctx = guard.current()
        ctx.user.language = lang
        ctx.db.add(ctx.user)
        record(ctx.db, ctx.actor, Area.AUTH, "language_changed", now=ctx.now, target=lang)
        self.lang = lang
        self._user_language = True
        return self._reload_page()
