"""/support/letter: the customer enters the code of a letter by post (``services/postal_letters.py``).

A login is enough (the customer may have lost every second factor; the letter is bound to
the signed-in user, so the login session is the binding). The page holds the letter's
dates and the outcome, never the code: the form's value goes to the service and is gone.
"""

from __future__ import annotations

from panel_app.i18n import formatting as fmt
from panel_app.i18n import t
from panel_app.services import postal_letters
from panel_app.services.notifications import notify_everywhere
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.tasks import spawn


class LetterState(AuthState):
    loaded: bool = False
    has_letter: bool = False
    letter_live: bool = False
    status_text: str = ""  # "Letter sent on …; its code is valid until …."
    message: str = ""
    error: str = ""
    form_key: int = 0

    def _wipe(self) -> None:
        self.reset()

    def _show(self, ctx: guard.GuardContext) -> None:
        lang = ctx.lang
        status = postal_letters.status_of(ctx.db, ctx.view.user_id, ctx.now)
        self.has_letter = status is not None
        self.letter_live = status is not None and status.state == postal_letters.STATE_LIVE
        self.status_text = t("letter.status", lang, sent=fmt.day(status.created_at, lang),
                             until=fmt.day(status.expires_at, lang)) if status is not None else ""
        if status is not None and not self.letter_live and not self.message:
            self.error = t(postal_letters.ERROR_KEYS[status.state], lang)
        self.loaded = True

    @guard.login_only
    @guard.automatic
    def load(self):
        self.message = self.error = ""
        self._show(guard.current())

    @guard.login_only
    def submit(self, form_data: dict):
        ctx = guard.current()
        submitted = form_data.get("code") if isinstance(form_data, dict) else None
        outcome = postal_letters.redeem(ctx.db, ctx.actor, ctx.user, submitted, now=ctx.now)
        self.form_key += 1
        lang = ctx.lang
        if not outcome.ok:
            self.message = ""
            self.error = t(outcome.error_key, lang, tries=outcome.tries_left if outcome.tries_left is not None else 0)
            self._show(ctx)
            return
        self.error = ""
        if outcome.applied is not None:
            change = outcome.applied.change
            field = t(f"profile.kind.{change.kind}", lang)
            self.message = t("letter.done_applied", lang, field=field, new_value=change.masked)
            old = outcome.applied.old_value
            spawn(notify_everywhere(ctx.view.user_id, "contact_change_confirmed", field=field,
                                    new_value=change.masked,
                                    also_email=old if change.kind == "email" else None,
                                    also_phone=old if change.kind == "phone" else None))
        else:
            self.message = t("letter.done_missed" if outcome.change_missed else "letter.done", lang)
        self._show(ctx)
