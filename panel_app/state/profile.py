"""/profile: the contract holder's name, company, address and VAT ID, and
changing the user's email address or mobile number.

A contact change needs a grant obtained with a factor OTHER than the one being
changed: whoever holds only the mailbox (or only the phone) must not be able to
redirect it. The new value gets a confirmation code (purpose ``confirm_email`` /
``confirm_phone``, bound to this login session); the value it was sent to is
kept in a backend var only, and the code row's destination is compared with it
before anything changes. After the change every grant of the user has ended
(the profile service does that), so the page wipes itself and the gate returns;
``gate_notice`` survives the wipe to say why.
"""

from __future__ import annotations

from typing import ClassVar

from panel_app.delivery import CodeMessage
from panel_app.i18n import t
from panel_app.models import VerificationCode
from panel_app.security import codes, factors
from panel_app.security.permissions import Area
from panel_app.services import profile, stepup
from panel_app.services.audit import record
from panel_app.services.code_delivery import deliver_and_record
from panel_app.services.invoice_pdf import COUNTRY_NAMES, country_name
from panel_app.services.notifications import notify_user
from panel_app.services.validation import ValidationError
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.gated import GatedPage
from panel_app.tasks import spawn

# kind -> (code purpose, delivery channel, the step-up method that proves the same factor)
CONTACT_FLOWS = {
    "email": ("confirm_email", codes.CHANNEL_EMAIL, stepup.METHOD_EMAIL),
    "phone": ("confirm_phone", codes.CHANNEL_WHATSAPP, stepup.METHOD_WHATSAPP),
}
PROFILE_FORM_FIELDS = profile.PROFILE_FIELDS
_KEEP_LENGTH = 200
_MAX_CODE_INPUT = codes.MAX_RAW_INPUT_LENGTH


def _kept(form_data: dict, name: str) -> str:
    value = form_data.get(name)
    return value[:_KEEP_LENGTH] if isinstance(value, str) else ""


def _same_factor(kind: str, grant_method: str | None) -> bool:
    """True when this session's grant was obtained through the very factor being changed."""
    return grant_method == CONTACT_FLOWS[kind][2]


def _other_methods(ctx: guard.GuardContext, kind: str) -> list[str]:
    same = CONTACT_FLOWS[kind][2]
    return [m for m in stepup.available_methods(ctx.user) if m != same]


def _methods_text(methods: list[str], lang: str) -> str:
    """The methods for a sentence: "Authenticator app or WhatsApp"."""
    return f" {t('profile.contact.or', lang)} ".join(t(f"gate.method.{m}", lang) for m in methods)


def country_choices(lang: str, current: str) -> list[dict[str, str]]:
    """EU/EEA and neighbouring countries by name; the stored one is always offered."""
    codes_offered = {c for c in COUNTRY_NAMES if c in profile.COUNTRY_CODES}
    if current:
        codes_offered.add(current)
    options = [{"value": c, "label": country_name(c, lang)} for c in codes_offered]
    return sorted(options, key=lambda o: o["label"])


class ProfileState(GatedPage, AuthState):
    area: ClassVar[Area] = Area.PROFILE

    # The personal data form: loaded values, or what was typed when saving failed.
    form_name: str = ""
    form_company: str = ""
    form_street: str = ""
    form_postal_code: str = ""
    form_city: str = ""
    form_country: str = ""
    form_vat_id: str = ""
    name_error: str = ""
    company_error: str = ""
    street_error: str = ""
    postal_code_error: str = ""
    city_error: str = ""
    country_error: str = ""
    vat_id_error: str = ""
    profile_form_key: int = 0
    country_options: list[dict[str, str]] = []
    message: str = ""
    error: str = ""
    # Contact details and their change.
    email: str = ""
    phone: str = ""
    change_kind: str = ""  # "" | "email" | "phone"
    change_step: str = ""  # "enter" | "code"
    change_blocked: str = ""  # why this session may not change that contact
    change_can_switch: bool = False
    change_value: str = ""  # what was typed, kept on error (the user's own input)
    change_value_error: str = ""
    change_info: str = ""
    code_error: str = ""
    code_form_key: int = 0
    # Shown above the gate after the grant ended on purpose (kept through _wipe).
    gate_notice: str = ""
    # The confirmed-to value: server side only, never sent to the browser.
    _pending_kind: str = ""
    _pending_contact: str = ""

    def _wipe(self) -> None:
        notice = self.gate_notice
        super()._wipe()
        if notice:
            self.gate_notice = notice

    def _load(self, ctx: guard.GuardContext) -> None:
        data = profile.get_profile(ctx.db, ctx.user)
        for name in PROFILE_FORM_FIELDS:
            setattr(self, f"form_{name}", getattr(data, name))
        self.country_options = country_choices(ctx.lang, data.country)
        self.email = data.email
        self.phone = data.phone
        self.gate_notice = ""

    def _say(self, key: str, **params) -> None:
        self.message, self.error = t(key, self.lang, **params), ""

    def _fail(self, key: str, **params) -> None:
        self.error, self.message = t(key, self.lang, **params), ""

    def _clear_field_errors(self) -> None:
        for name in PROFILE_FORM_FIELDS:
            setattr(self, f"{name}_error", "")

    def _reset_change(self) -> None:
        self.change_kind = self.change_step = self.change_blocked = ""
        self.change_value = self.change_value_error = self.change_info = self.code_error = ""
        self.change_can_switch = False
        self._pending_kind = self._pending_contact = ""

    def _end_page(self, notice: str) -> None:
        """The grant is gone: wipe everything sensitive, show the gate and ``notice`` above it."""
        self._wipe()
        self.gate_notice = notice
        self.grant_active = False
        self.grant_seconds_left = 0
        self.grant_method = ""

    def _block_if_same_factor(self, ctx: guard.GuardContext, kind: str) -> bool:
        """A contact change needs a grant from another factor, one that has settled."""
        same = _same_factor(kind, ctx.login_session.grant_method)
        if not same and factors.grant_factor_settled(ctx.db, ctx.user, ctx.login_session, ctx.now):
            return False
        kind_text = t(f"profile.kind.{kind}", ctx.lang)
        others = _other_methods(ctx, kind)
        if not same:
            method = t(f"gate.method.{ctx.login_session.grant_method}", ctx.lang)
            self.change_blocked = t("profile.contact.factor_too_new", ctx.lang, kind=kind_text, method=method,
                                    hours=factors.SETTLE_SECONDS // 3600)
        elif others:
            methods = _methods_text(others, ctx.lang)
            self.change_blocked = t("profile.contact.same_factor", ctx.lang, kind=kind_text, methods=methods)
        else:
            self.change_blocked = t("profile.contact.no_other_method", ctx.lang, kind=kind_text)
        self.change_can_switch = bool(others)
        self.change_step = ""
        self._pending_kind = self._pending_contact = ""
        return True

    def _send_code(self, ctx: guard.GuardContext, kind: str, destination: str) -> bool:
        purpose, channel, _same = CONTACT_FLOWS[kind]
        outcome = codes.issue_code(ctx.db, user=ctx.user, session_id=ctx.login_session.id, purpose=purpose,
                                   channel=channel, destination=destination, now=ctx.now)
        masked = stepup.mask_destination(channel, destination)
        if not outcome.ok:
            record(ctx.db, ctx.actor, Area.PROFILE, "code_throttled", now=ctx.now, channel=channel,
                   purpose=purpose, reason=outcome.reason, retry_after_seconds=outcome.retry_after_seconds)
            text = t(outcome.error_key, ctx.lang)
            if outcome.retry_after_seconds:
                text += " " + t("gate.wait_seconds", ctx.lang, seconds=outcome.retry_after_seconds)
            if self.change_step == "code":
                self.code_error = text
            else:
                self.change_value_error = text
            return False
        record(ctx.db, ctx.actor, Area.PROFILE, "code_sent", now=ctx.now, channel=channel, purpose=purpose,
               destination=masked)
        message = CodeMessage(channel=channel, destination=destination, code=outcome.code, language=ctx.lang,
                              purpose=purpose, code_id=outcome.code_id)
        # Runs once this event's transaction has committed.
        spawn(deliver_and_record(message, ctx.actor))
        self.change_info = t("profile.contact.code_sent", ctx.lang, destination=destination)
        self.code_error = ""
        return True

    # --- personal data -------------------------------------------------------------

    @guard.requires_stepup()
    def save_profile(self, form_data: dict):
        ctx = guard.current()
        if not isinstance(form_data, dict):
            return
        self._clear_field_errors()
        self.message = self.error = ""
        for name in PROFILE_FORM_FIELDS:
            setattr(self, f"form_{name}", _kept(form_data, name))
        values = {name: form_data.get(name) for name in PROFILE_FORM_FIELDS}
        try:
            result = profile.update_profile(ctx.db, ctx.actor, ctx.user, now=ctx.now, **values)
        except ValidationError as exc:
            text = t(exc.message_key, ctx.lang, **exc.params)
            if exc.field in PROFILE_FORM_FIELDS:
                setattr(self, f"{exc.field}_error", text)
            else:
                self.error = text
            return
        self._say("profile.saved" if result.changed else "profile.unchanged")
        self._reload()
        self.profile_form_key += 1  # show the stored (normalized) values

    # --- email / phone change -----------------------------------------------------------

    @guard.requires_stepup()
    def begin_change(self, kind: str):
        ctx = guard.current()
        if not isinstance(kind, str) or kind not in CONTACT_FLOWS:
            return
        self._reset_change()
        self.message = self.error = ""
        self.change_kind = kind
        if not self._block_if_same_factor(ctx, kind):
            self.change_step = "enter"

    @guard.requires_stepup()
    def cancel_change(self):
        self._reset_change()

    @guard.requires_stepup()
    def send_change_code(self, form_data: dict):
        ctx = guard.current()
        kind = self.change_kind
        if not isinstance(form_data, dict) or kind not in CONTACT_FLOWS or self.change_step != "enter":
            return
        if self._block_if_same_factor(ctx, kind):
            return
        self.change_value = _kept(form_data, "value")
        self.change_value_error = ""
        try:
            new_value = profile.start_contact_change(ctx.db, ctx.actor, ctx.user, kind, form_data.get("value"),
                                                     ctx.now)
        except ValidationError as exc:
            self.change_value_error = t(exc.message_key, ctx.lang, **exc.params)
            return
        if not self._send_code(ctx, kind, new_value):
            return
        self._pending_kind, self._pending_contact = kind, new_value
        self.change_step = "code"
        self.code_form_key += 1

    @guard.requires_stepup()
    def resend_change_code(self):
        ctx = guard.current()
        kind = self._pending_kind
        if kind not in CONTACT_FLOWS or not self._pending_contact or self.change_step != "code":
            return
        if self._block_if_same_factor(ctx, kind):
            return
        self._send_code(ctx, kind, self._pending_contact)

    @guard.requires_stepup()
    def confirm_change(self, form_data: dict):
        ctx = guard.current()
        kind, new_value = self._pending_kind, self._pending_contact
        if not isinstance(form_data, dict) or kind not in CONTACT_FLOWS or not new_value:
            return
        if self._block_if_same_factor(ctx, kind):
            return
        purpose, channel, _same = CONTACT_FLOWS[kind]
        submitted = form_data.get("code")
        if isinstance(submitted, str) and len(submitted) > _MAX_CODE_INPUT:
            submitted = submitted[:_MAX_CODE_INPUT + 1]  # refused as too long, without keeping the rest
        result = codes.check_code(ctx.db, user=ctx.user, session_id=ctx.login_session.id, purpose=purpose,
                                  submitted=submitted, now=ctx.now, channel=channel)
        if not result.ok:
            if result.was_guess:
                record(ctx.db, ctx.actor, Area.PROFILE, "verification_failed", now=ctx.now, method=channel,
                       purpose=purpose, reason=result.reason)
            self.code_error = t(result.error_key, ctx.lang)
            if result.tries_left is not None:
                self.code_error += " " + t("gate.tries_left", ctx.lang, tries=result.tries_left)
            return
        code_row = ctx.db.get(VerificationCode, result.code_row_id)
        if code_row is None or code_row.destination != new_value[:254]:
            # The live code went to another value (e.g. a second tab started another change).
            self._reset_change()
            self._fail("profile.contact.code_mismatch")
            return
        try:
            old_value = profile.apply_contact_change(ctx.db, ctx.actor, ctx.user, kind, new_value, ctx.now)
        except ValidationError as exc:
            self._reset_change()
            self._fail(exc.message_key, **exc.params)
            return
        kind_text = t(f"profile.kind.{kind}", ctx.lang)
        # The old address hears of it; a phone change is reported to the (unchanged) email address.
        spawn(notify_user(ctx.user.id, "contact_changed", to=old_value if kind == "email" else ctx.user.email,
                          field=kind_text, new_value=stepup.mask_destination(channel, new_value)))
        # apply_contact_change ended every grant of the user: back to the gate.
        self._end_page(t("profile.contact_changed", ctx.lang, kind=kind_text))

    @guard.requires_stepup()
    def verify_with_other_method(self):
        """Same factor: end this grant so the gate returns and another method can be chosen."""
        ctx = guard.current()
        kind = self.change_kind if self.change_kind in CONTACT_FLOWS else "email"
        others = _other_methods(ctx, kind)
        stepup.end_grant(ctx.db, login_session=ctx.login_session, actor=ctx.actor, now=ctx.now,
                         reason="switch_method")
        methods = _methods_text(others, ctx.lang)
        self._end_page(t("profile.contact.choose_other", ctx.lang, methods=methods,
                         kind=t(f"profile.kind.{kind}", ctx.lang)))
