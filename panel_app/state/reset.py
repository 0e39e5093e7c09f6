"""/forgot and /reset?token=...: self-service password reset, without a login.

No login, so no guard: like the invitation page, every handler decides from the
database at the moment of the event. The token is read from the page URL each
time and the reset row says how far the user got (a second factor proven or not);
the tab keeps nothing but display text. The browser's known-device cookie (from the
websocket's request headers) picks the guess and send budget.
"""

from __future__ import annotations

from functools import partial

import reflex as rx

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.delivery import CodeMessage
from panel_app.delivery.base import mask_phone
from panel_app.i18n import LANGUAGES, effective_language, t
from panel_app.i18n import formatting as fmt
from panel_app.security import devices
from panel_app.security.passwords import MAX_PASSWORD_LENGTH
from panel_app.security.permissions import Area
from panel_app.services import factor_changes, passkeys, password_reset, stepup
from panel_app.services.audit import Actor, record
from panel_app.services.code_delivery import deliver_and_record
from panel_app.services.notifications import notify_everywhere
from panel_app.services.validation import ValidationError
from panel_app.settings import get_settings
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.login import PASSKEY_ERROR_CODES, passkey_error_key
from panel_app.tasks import spawn

STEP_LOADING = "loading"
STEP_INVALID = "invalid"
STEP_FACTOR = "factor"  # prove a second factor
STEP_PASSWORD = "password"  # choose the new password
STEP_SCHEDULE = "schedule"  # no second factor: the new password will wait
STEP_DONE = "done"
STEP_SCHEDULED = "scheduled"
_MAX_INPUT = 64


class ForgotState(AuthState):
    sent: bool = False

    @rx.event
    def open_forgot(self):
        if not self._user_language:
            self.lang = self._tab_language()
        self.sent = bool(self.router.url.query_parameters.get("sent"))

    @rx.event
    def choose_language(self, lang: str):
        if isinstance(lang, str) and lang in LANGUAGES and not self.signed_in:
            self.lang = self._picked_language = lang


class ResetState(AuthState):
    step: str = STEP_LOADING
    methods: list[str] = []
    method: str = ""
    masked_phone: str = ""
    # Why each second factor this account lacks is not offered (texts; never which ones it has
    # beyond what ``methods`` shows).
    not_offered: list[str] = []
    code_sent: bool = False
    # Options for the passkey prompt (JSON; the challenge in it is no secret): made when the
    # passkey method is chosen, so the prompt starts in the click itself; "" = not ready.
    passkey_options: str = ""
    error: str = ""
    info: str = ""
    password_error: str = ""
    result_text: str = ""
    _language_chosen: bool = False
    _not_offered: list[tuple[str, str]] = []  # (method, why), for the texts in another language

    # --- helpers ------------------------------------------------------------------

    def _token(self) -> object:
        return self.router.url.query_parameters.get("token") if self.router.url else None

    def _device_token(self) -> object:
        return guard.cookie_from_header(self.router.headers.cookie, devices.COOKIE_NAME)

    def _context(self, db):
        """(open reset, actor, device id) or None when the link does not work (shown so)."""
        now = utcnow()
        opened = password_reset.open_link(db, self._token(), now)
        if opened is None:
            self._invalid()
            return None
        router = self.router
        actor = Actor(opened.user.id, opened.user.account_id, opened.user.email,
                      (router.session.client_ip or "")[:64], (router.headers.user_agent or "")[:300])
        device = devices.find(db, self._device_token(), user_id=opened.user.id)
        return opened, actor, device.id if device is not None else None, now

    def _invalid(self) -> None:
        self.step = STEP_INVALID
        self.methods, self.method, self.masked_phone, self.code_sent = [], "", "", False
        self._not_offered, self.not_offered = [], []
        self.passkey_options = ""
        self.error = self.info = self.password_error = ""

    def _show(self, db, opened) -> None:
        self.methods = password_reset.methods_for(db, opened.user, utcnow())
        self._not_offered = password_reset.methods_not_offered(db, opened.user, utcnow())
        self._show_not_offered()
        self.masked_phone = mask_phone(opened.user.phone) if opened.user.phone else ""
        if opened.verified:
            self.step = STEP_PASSWORD
        elif not self.methods:
            self.step = STEP_SCHEDULE
        else:
            self.step = STEP_FACTOR
            if self.method not in self.methods:
                self.method = self.methods[0]
        if self.step != STEP_FACTOR or self.method != password_reset.METHOD_PASSKEY:
            self.passkey_options = ""
        elif not self.passkey_options:
            self.passkey_options = password_reset.passkey_options(db, opened, now=utcnow()) or ""

    def _show_not_offered(self) -> None:
        self.not_offered = [t(f"reset.not_offered.{method}.{why}", self.lang) for method, why in self._not_offered]

    def _fail(self, key: str, wait: int = 0) -> None:
        self.error = t(key, self.lang) + (" " + t("gate.wait_seconds", self.lang, seconds=wait) if wait else "")
        self.info = ""

    # --- handlers -----------------------------------------------------------------

    @rx.event
    def open_reset(self):
        """on_load: which second factors this account can prove, or "this link does not work"."""
        if not self.signed_in and not self._language_chosen:
            self.lang = self._tab_language()
        self.error = self.info = self.password_error = self.result_text = ""
        self.code_sent = False
        self.method = ""
        self.passkey_options = ""
        with transaction() as db:
            found = self._context(db)
            if found is not None:
                self._show(db, found[0])

    @rx.event
    def choose_language(self, lang: str):
        if isinstance(lang, str) and lang in LANGUAGES and not self.signed_in:
            self.lang = self._picked_language = lang
            self._language_chosen = True
            self._show_not_offered()

    @rx.event
    def choose_method(self, method: str):
        if self.step != STEP_FACTOR or not isinstance(method, str) or method not in self.methods:
            return
        self.method = method
        self.error = self.info = ""
        self.code_sent = False
        if method == password_reset.METHOD_PASSKEY and not self.passkey_options:
            with transaction() as db:
                found = self._context(db)
                if found is not None:
                    self._show(db, found[0])

    @rx.event
    def send_code(self):
        """A WhatsApp code for this reset (never by email: the link already came that way)."""
        if self.step != STEP_FACTOR or self.method != stepup.METHOD_WHATSAPP:
            return
        with transaction() as db:
            found = self._context(db)
            if found is None:
                return
            opened, actor, device_id, now = found
            outcome = password_reset.send_whatsapp_code(db, opened, now=now, device_id=device_id)
            if not outcome.ok:
                record(db, actor, Area.AUTH, "code_throttled", now=now, channel="whatsapp", purpose="reset",
                       reason=outcome.reason, retry_after_seconds=outcome.retry_after_seconds)
                self._fail(outcome.error_key, outcome.retry_after_seconds)
                return
            masked = mask_phone(opened.user.phone)
            record(db, actor, Area.AUTH, "code_sent", now=now, channel="whatsapp", purpose="reset",
                   destination=masked)
            message = CodeMessage(channel="whatsapp", destination=opened.user.phone, code=outcome.code,
                                  language=effective_language(opened.user.language, self.lang), purpose="reset",
                                  code_id=outcome.code_id)
        spawn(deliver_and_record(message, actor))
        self.code_sent = True
        self.error = ""
        self.info = t("gate.code_on_its_way", self.lang, destination=masked)

    @rx.event
    def verify(self, form_data: dict):
        if self.step != STEP_FACTOR or self.method == password_reset.METHOD_PASSKEY:
            return
        submitted = form_data.get("code") if isinstance(form_data, dict) else None
        if isinstance(submitted, str) and len(submitted) > _MAX_INPUT:
            submitted = submitted[:_MAX_INPUT + 1]
        with transaction() as db:
            found = self._context(db)
            if found is None:
                return
            opened, actor, device_id, now = found
            result = password_reset.verify_factor(db, opened, method=self.method, submitted=submitted, now=now,
                                                  actor=actor, device_id=device_id)
            if not result.ok:
                self._fail(result.error_key, result.retry_after_seconds)
                return
            self._show(db, opened)
            user_id = opened.user.id
        self.error = self.info = ""
        if result.used_recovery_code:
            spawn(notify_everywhere(user_id, "recovery_code_used", remaining=result.recovery_codes_left))

    @rx.event
    def verify_passkey(self, response: str):
        """The browser's answer to ``passkey_options`` (components/passkey.py). Spent either
        way: a failed try shows why and makes new options."""
        if self.step != STEP_FACTOR or self.method != password_reset.METHOD_PASSKEY:
            return
        if not isinstance(response, str) or len(response) > passkeys.MAX_RESPONSE_CHARS:
            response = None  # refused below as malformed, without a guess
        self.passkey_options = ""
        with transaction() as db:
            found = self._context(db)
            if found is None:
                return
            opened, actor, device_id, now = found
            result = password_reset.verify_factor(db, opened, method=password_reset.METHOD_PASSKEY,
                                                  submitted=response, now=now, actor=actor, device_id=device_id)
            user_id = opened.user.id
            if result.ok:
                self.error = self.info = ""
            else:
                self._fail(result.error_key, result.retry_after_seconds)
            self._show(db, opened)
        if result.alert:
            spawn(notify_everywhere(user_id, result.alert))

    @rx.event
    def passkey_failed(self, code: str):
        """The browser's prompt failed (cancelled, timed out, ...): say so, with new options
        (the old challenge may have expired meanwhile)."""
        if self.step != STEP_FACTOR or self.method != password_reset.METHOD_PASSKEY:
            return
        key = passkey_error_key(code) if isinstance(code, str) and code in PASSKEY_ERROR_CODES else None
        self._fail(key or passkeys.ERROR_MALFORMED)
        self.passkey_options = ""
        with transaction() as db:
            found = self._context(db)
            if found is not None:
                self._show(db, found[0])

    @rx.event
    def set_password(self, form_data: dict):
        if self.step not in (STEP_PASSWORD, STEP_SCHEDULE):
            return
        new = form_data.get("new_password") if isinstance(form_data, dict) else None
        if isinstance(new, str) and len(new) > MAX_PASSWORD_LENGTH:
            new = new[:MAX_PASSWORD_LENGTH + 1]
        scheduled = None
        try:
            with transaction() as db:
                found = self._context(db)
                if found is None:
                    return
                opened, actor, _device_id, now = found
                user_id = opened.user.id
                if self.step == STEP_PASSWORD:
                    password_reset.complete(db, opened, new_password=new, now=now, actor=actor)
                else:
                    scheduled = password_reset.schedule(
                        db, opened, new_password=new, now=now, actor=actor,
                        delay_seconds=get_settings().factor_change_delay_seconds)
        except ValidationError as exc:
            if exc.field == "new_password":
                self.password_error = t(exc.message_key, self.lang, **exc.params)
            else:
                self._invalid()
            return
        self.password_error = ""
        if scheduled is None:
            self.step = STEP_DONE
            self.result_text = t("reset.done", self.lang)
            # The ended sessions' open tabs are marked due and emptied by the push loop.
            spawn(notify_everywhere(user_id, "password_reset_done"))
        else:
            self.step = STEP_SCHEDULED
            when = fmt.moment(scheduled.effective_at, self.lang)
            self.result_text = t("reset.scheduled", self.lang, effective=when)
            spawn(notify_everywhere(user_id, "password_reset_scheduled", effective=partial(fmt.moment, scheduled.effective_at),
                                    **factor_changes.announcement_params(scheduled)))

