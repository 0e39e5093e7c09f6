"""/profile: the signed-in user's own email address and mobile number with their change, and
for the owner alone the contract holder's name, company, address and VAT ID.

Every user opens it for their own person (``Area.PROFILE`` is a self area): a technical
administrator changes their own address and number under the same factor rules as the owner,
and never sees or changes the account's contract data (``profile.manages_account_data``, read
from the database at every event; ``profile.update_profile`` refuses anyone else as well).

A factor is changed only with that factor, or slowly and loudly (``services/factor_rules.py``
decides, at the preview and again at the confirmation). With access to the current address or
number, a change needs a code to it *and* a code to the new one (purposes ``confirm_old_*`` and
``confirm_*``, bound to this login session), and takes effect at once when the grant came from
another settled factor. Without access, or under a grant from the very channel it moves, a code
to the new one schedules the change (``services/factor_changes.py``): it waits, is announced on
every channel, and only a settled factor it does not replace (or support) cancels it. The values codes were sent to are kept in backend
vars only, and each code row's destination is compared with them before anything
changes. After a change every grant of the user has ended, so the page wipes itself
and the gate returns; ``gate_notice`` survives the wipe to say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from panel_app.delivery import CodeMessage
from panel_app.i18n import formatting as fmt
from panel_app.i18n import t
from panel_app.models import VerificationCode
from panel_app.security import codes
from panel_app.security.permissions import Area
from panel_app.services import factor_changes, factor_rules, methods, profile, stepup
from panel_app.services.audit import record
from panel_app.services.code_delivery import deliver_and_record
from panel_app.services.invoice_pdf import COUNTRY_NAMES, country_name
from panel_app.services.notifications import notify_everywhere
from panel_app.services.validation import ValidationError
from panel_app.settings import get_settings
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.gated import GatedPage
from panel_app.state.rows import Option
from panel_app.tasks import spawn

# kind -> (purpose of the code to the new value, purpose of the code to the old one, channel)
CONTACT_FLOWS = {
    "email": ("confirm_email", "confirm_old_email", codes.CHANNEL_EMAIL),
    "phone": ("confirm_phone", "confirm_old_phone", codes.CHANNEL_WHATSAPP),
}
PROFILE_FORM_FIELDS = profile.PROFILE_FIELDS
_KEEP_LENGTH = 200
_MAX_CODE_INPUT = codes.MAX_RAW_INPUT_LENGTH


def _kept(form_data: dict, name: str) -> str:
    value = form_data.get(name)
    return value[:_KEEP_LENGTH] if isinstance(value, str) else ""


def _old_value(user, kind: str) -> str:
    return (user.email if kind == "email" else user.phone) or ""


def country_choices(lang: str, current: str) -> list[Option]:
    """EU/EEA and neighbouring countries by name; the stored one is always offered."""
    codes_offered = {c for c in COUNTRY_NAMES if c in profile.COUNTRY_CODES}
    if current:
        codes_offered.add(current)
    options = [Option(value=c, label=country_name(c, lang)) for c in codes_offered]
    return sorted(options, key=lambda o: o.label)


@dataclass(frozen=True, slots=True)
class ScheduledChangeRow:
    """A change of contact details waiting for its time."""

    id: str
    kind: str
    value: str  # masked
    effective: str
    by: str
    may_cancel: bool  # this session's grant may cancel it (factor_rules.may_cancel)
    advice: str  # else: how to cancel it instead


class ProfileState(GatedPage, AuthState):
    area: ClassVar[Area] = Area.PROFILE

    # The account's contract data are shown (and loaded) only to the owner.
    account_data: bool = False
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
    country_options: list[Option] = []
    # Contact details and their change.
    email: str = ""
    phone: str = ""
    change_kind: str = ""  # "" | "email" | "phone"
    change_step: str = ""  # "enter" | "code"
    change_has_old: bool = False  # there is a current value to confirm (or to do without)
    change_without_old: bool = False  # "I no longer have access": scheduled, not done
    change_confirm_old: bool = False  # a code went to the current value too
    change_waits: bool = False  # scheduled: without the current one, or this grant cannot move it at once
    change_delay_hours: int = 0
    change_value: str = ""  # what was typed, kept on error (the user's own input)
    change_value_error: str = ""
    change_info: str = ""
    code_error: str = ""
    code_form_key: int = 0
    # Changes waiting for their time (made without the old address or number).
    scheduled: list[ScheduledChangeRow] = []
    # Shown above the gate after the grant ended on purpose (kept through _wipe).
    gate_notice: str = ""
    # The confirmed-to value: server side only, never sent to the browser.
    _pending_kind: str = ""
    _pending_contact: str = ""
    _pending_old: str = ""  # the current value a code went to ("" when none is needed)

    def _wipe(self) -> None:
        notice = self.gate_notice
        super()._wipe()
        if notice:
            self.gate_notice = notice

    def _load(self, ctx: guard.GuardContext) -> None:
        self.account_data = profile.manages_account_data(ctx.user)
        if self.account_data:
            data = profile.get_profile(ctx.db, ctx.user)
            for name in PROFILE_FORM_FIELDS:
                setattr(self, f"form_{name}", getattr(data, name))
            self.country_options = country_choices(ctx.lang, data.country)
        else:  # a technical administrator: their own person only, nothing of the account
            for name in PROFILE_FORM_FIELDS:
                setattr(self, f"form_{name}", "")
            self.country_options = []
        contact = profile.get_contact(ctx.user)
        self.email = contact.email
        self.phone = contact.phone
        self.gate_notice = ""
        self.scheduled = [self._scheduled_row(ctx, change) for change in factor_changes.pending(ctx.db, ctx.user.id)]

    def _scheduled_row(self, ctx: guard.GuardContext, change: factor_changes.PendingChange) -> ScheduledChangeRow:
        may_cancel = factor_rules.may_cancel(ctx.db, ctx.user, kind=change.kind,
                                             grant_method=ctx.login_session.grant_method, now=ctx.now)
        advice = ""
        if not may_cancel:
            others = [t(methods.get(name).label_key, ctx.lang)
                      for name in factor_rules.cancelling_factors(ctx.db, ctx.user, kind=change.kind, now=ctx.now)]
            advice = (t("profile.scheduled.cancel_with", ctx.lang, methods=", ".join(others)) if others
                      else t("profile.scheduled.cancel_by_support", ctx.lang))
        return ScheduledChangeRow(id=str(change.id), kind=t(f"profile.kind.{change.kind}", ctx.lang),
                                  value=change.masked, effective=ctx.moment(change.effective_at),
                                  by=change.requested_by, may_cancel=may_cancel, advice=advice)

    def _clear_field_errors(self) -> None:
        for name in PROFILE_FORM_FIELDS:
            setattr(self, f"{name}_error", "")

    def _reset_change(self) -> None:
        self.change_kind = self.change_step = ""
        self.change_value = self.change_value_error = self.change_info = self.code_error = ""
        self.change_has_old = self.change_without_old = self.change_confirm_old = self.change_waits = False
        self._pending_kind = self._pending_contact = self._pending_old = ""

    def _end_page(self, notice: str) -> None:
        """The grant is gone: wipe everything sensitive, show the gate and ``notice`` above it."""
        self._wipe()
        self.gate_notice = notice
        self.grant_active = False
        self.grant_seconds_left = 0
        self.grant_method = ""

    def _send_code(self, ctx: guard.GuardContext, purpose: str, channel: str, destination: str) -> str | None:
        """Send one confirmation code; returns the masked destination, or None (and the
        reason on the page) when the cooldown or the hourly limit forbids it."""
        outcome = codes.issue_code(ctx.db, user=ctx.user, session_id=ctx.login_session.id, purpose=purpose,
                                   channel=channel, destination=destination, now=ctx.now,
                                   device_id=stepup.device_of(ctx.db, ctx.login_session))
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
            return None
        record(ctx.db, ctx.actor, Area.PROFILE, "code_sent", now=ctx.now, channel=channel, purpose=purpose,
               destination=masked)
        message = CodeMessage(channel=channel, destination=destination, code=outcome.code, language=ctx.lang,
                              purpose=purpose, code_id=outcome.code_id)
        # Runs once this event's transaction has committed.
        spawn(deliver_and_record(message, ctx.actor))
        return masked

    def _send_codes(self, ctx: guard.GuardContext) -> bool:
        """A code to the new value, and one to the old value when it is to be confirmed."""
        new_purpose, old_purpose, channel = CONTACT_FLOWS[self._pending_kind]
        sent_new = self._send_code(ctx, new_purpose, channel, self._pending_contact)
        if sent_new is None:
            return False
        if not self._pending_old:
            self.change_info = t("profile.contact.code_sent", ctx.lang, destination=sent_new)
            return True
        sent_old = self._send_code(ctx, old_purpose, channel, self._pending_old)
        if sent_old is None:
            return False
        self.change_info = t("profile.contact.codes_sent", ctx.lang, new=sent_new, old=sent_old)
        return True

    def _check_code(self, ctx: guard.GuardContext, purpose: str, channel: str, submitted: object,
                    destination: str, *, proves_factor: bool = False) -> bool:
        """``proves_factor``: the code to the current address or number stands for that factor,
        so each guess counts in the step-up guess budget too (the README's bound holds)."""
        if isinstance(submitted, str) and len(submitted) > _MAX_CODE_INPUT:
            submitted = submitted[:_MAX_CODE_INPUT + 1]  # refused as too long, without keeping the rest
        if proves_factor:
            wait = stepup.reserve_guess(ctx.db, ctx.user, ctx.now, stepup.device_of(ctx.db, ctx.login_session))
            if wait:
                record(ctx.db, ctx.actor, Area.PROFILE, "verification_throttled", now=ctx.now, method=channel,
                       purpose=purpose, retry_after_seconds=wait)
                self.code_error = t(stepup.ERROR_LOCKED, ctx.lang) + " " + t("gate.wait_seconds", ctx.lang,
                                                                             seconds=wait)
                return False
        result = codes.check_code(ctx.db, user=ctx.user, session_id=ctx.login_session.id, purpose=purpose,
                                  submitted=submitted, now=ctx.now, channel=channel)
        if result.ok and proves_factor:
            stepup.guess_succeeded(ctx.db, ctx.user, stepup.device_of(ctx.db, ctx.login_session))
        if not result.ok:
            if result.was_guess:
                record(ctx.db, ctx.actor, Area.PROFILE, "verification_failed", now=ctx.now, method=channel,
                       purpose=purpose, reason=result.reason)
            self.code_error = t(result.error_key, ctx.lang)
            if result.tries_left is not None:
                self.code_error += " " + t("gate.tries_left", ctx.lang, tries=result.tries_left)
            return False
        code_row = ctx.db.get(VerificationCode, result.code_row_id)
        if code_row is None or code_row.destination != destination[:254]:
            # The live code went to another value (e.g. a second tab started another change).
            self._reset_change()
            self._fail("profile.contact.code_mismatch")
            return False
        return True

    # --- personal data -------------------------------------------------------------

    @guard.requires_stepup()
    def save_profile(self, form_data: dict):
        ctx = guard.current()
        if not isinstance(form_data, dict):
            return
        self._clear_field_errors()
        self.message = self.error = ""
        if not profile.manages_account_data(ctx.user):  # decided now, from the database
            self._fail("profile.error.owner_only")
            return
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
        if factor_changes.waiting_blocks(ctx.db, ctx.user, kind, by=ctx.login_session.grant_method or "",
                                         now=ctx.now):
            self._fail("profile.scheduled.already_waiting")  # before any code is sent
            return
        self.change_kind = kind
        self.change_has_old = bool(_old_value(ctx.user, kind))
        self.change_delay_hours = max(1, get_settings().factor_change_delay_seconds // 3600)
        # Said before anything is typed: even with a code to the current one, this grant waits.
        self.change_waits = self._decision(ctx, kind, True) is not factor_rules.Decision.AT_ONCE
        self.change_step = "enter"

    @guard.requires_stepup()
    def set_without_old(self, without_old: bool):
        """ "I no longer have access to the current one": the change will be scheduled."""
        if isinstance(without_old, bool) and self.change_step == "enter" and self.change_has_old:
            self.change_without_old = without_old

    @guard.requires_stepup()
    def cancel_change(self):
        self._reset_change()

    @guard.requires_stepup()
    def send_change_code(self, form_data: dict):
        ctx = guard.current()
        kind = self.change_kind
        if not isinstance(form_data, dict) or kind not in CONTACT_FLOWS or self.change_step != "enter":
            return
        self.change_value = _kept(form_data, "value")
        self.change_value_error = ""
        try:
            new_value = profile.start_contact_change(ctx.db, ctx.actor, ctx.user, kind, form_data.get("value"),
                                                     ctx.now)
        except ValidationError as exc:
            self.change_value_error = t(exc.message_key, ctx.lang, **exc.params)
            return
        old_value = _old_value(ctx.user, kind)
        self._pending_kind, self._pending_contact = kind, new_value
        self._pending_old = "" if self.change_without_old or not old_value else old_value
        self.change_waits = self.change_without_old or self._decision(ctx, kind, bool(self._pending_old)) \
            is not factor_rules.Decision.AT_ONCE
        if self.change_waits:
            self._pending_old = ""  # a code to the current one would add nothing: this grant proved it
        if not self._send_codes(ctx):
            self._pending_kind = self._pending_contact = self._pending_old = ""
            return
        self.change_step = "code"
        self.change_confirm_old = bool(self._pending_old)
        self.code_form_key += 1

    @guard.requires_stepup()
    def resend_change_code(self):
        ctx = guard.current()
        if self._pending_kind not in CONTACT_FLOWS or not self._pending_contact or self.change_step != "code":
            return
        self._send_codes(ctx)

    @guard.requires_stepup()
    def confirm_change(self, form_data: dict):
        ctx = guard.current()
        kind, new_value, old_value = self._pending_kind, self._pending_contact, self._pending_old
        if not isinstance(form_data, dict) or kind not in CONTACT_FLOWS or not new_value:
            return
        new_purpose, old_purpose, channel = CONTACT_FLOWS[kind]
        if old_value and not self._check_code(ctx, old_purpose, channel, form_data.get("old_code"), old_value,
                                              proves_factor=True):
            return
        if not self._check_code(ctx, new_purpose, channel, form_data.get("code"), new_value):
            return
        kind_text = t(f"profile.kind.{kind}", ctx.lang)
        masked_new = stepup.mask_destination(channel, new_value)
        # The rule decides now, from the database (the grant may have changed since the codes went out).
        if self.change_without_old or self._decision(ctx, kind, bool(old_value)) is not factor_rules.Decision.AT_ONCE:
            self._schedule(ctx, kind, new_value, kind_text, masked_new)
            return
        try:
            replaced = profile.apply_contact_change(ctx.db, ctx.actor, ctx.user, kind, new_value, ctx.now)
        except ValidationError as exc:
            self._reset_change()
            self._fail(exc.message_key, **exc.params)
            return
        # Every channel hears of it, the replaced address or number included.
        spawn(notify_everywhere(ctx.user.id, "contact_changed", field=kind_text, new_value=masked_new,
                                also_email=replaced if kind == "email" else None,
                                also_phone=replaced if kind == "phone" else None))
        # apply_contact_change ended every grant of the user: back to the gate.
        self._end_page(t("profile.contact_changed", ctx.lang, kind=kind_text))

    def _decision(self, ctx: guard.GuardContext, kind: str, old_proven: bool) -> factor_rules.Decision:
        """Whether this change may take effect at once: the grant's factor, plus the current
        address or number when a code to it is (to be) confirmed."""
        return factor_rules.decide(ctx.db, ctx.user, factor=kind, grant_method=ctx.login_session.grant_method,
                                   proven=frozenset({kind}) if old_proven else frozenset(), now=ctx.now)

    def _schedule(self, ctx: guard.GuardContext, kind: str, new_value: str, kind_text: str, masked_new: str):
        settings = get_settings()
        try:
            change = factor_changes.schedule(ctx.db, ctx.actor, ctx.user, kind, new_value, now=ctx.now,
                                             delay_seconds=settings.factor_change_delay_seconds,
                                             requested_by=ctx.actor.label,
                                             by=ctx.login_session.grant_method or "")
        except ValidationError as exc:
            self._reset_change()
            self._fail(exc.message_key, **exc.params)
            return
        spawn(notify_everywhere(ctx.user.id, "contact_change_scheduled", field=kind_text, new_value=masked_new,
                                hours=max(1, settings.factor_change_delay_seconds // 3600),
                                effective=partial(fmt.moment, change.effective_at),  # in UTC, saying so
                                **factor_changes.announcement_params(change)))
        self._reset_change()
        self._say("profile.scheduled.done", kind=kind_text, effective=ctx.moment(change.effective_at))
        self._reload()

    @guard.requires_stepup()
    def cancel_scheduled(self, change_id: str):
        """One click, from a session verified with a settled factor the change does not replace."""
        ctx = guard.current()
        try:
            change = factor_changes.cancel(ctx.db, ctx.actor, ctx.user, change_id, now=ctx.now,
                                           by=ctx.login_session.grant_method or "")
        except ValidationError as exc:
            self._fail(exc.message_key, **exc.params)
            return
        kind_text = t(f"profile.kind.{change.kind}", ctx.lang)
        spawn(notify_everywhere(ctx.user.id, "contact_change_cancelled", field=kind_text, actor=ctx.actor.label,
                                new_value=stepup.mask_destination(CONTACT_FLOWS[change.kind][2],
                                                                  change.new_value)))
        self._say("profile.scheduled.cancelled", kind=kind_text)
        self._reload()
