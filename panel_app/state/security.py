"""/security: verification methods (authenticator app, preferred channel,
recovery codes) and the user's active sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from panel_app.i18n import t
from panel_app.models import LoginSession
from panel_app.security import devices as known_devices
from panel_app.security import sessions
from panel_app.security.permissions import Area
from panel_app.services import (accounts, authenticator_setup, factor_rules, passkey_setup, passkeys,
                                recovery_codes, stepup)
from panel_app.services.audit import record
from panel_app.services.demo import effective_ttl_seconds
from panel_app.services.methods import authenticator
from panel_app.services.notifications import notify_everywhere
from panel_app.services.user_agents import describe_user_agent
from panel_app.services.validation import ValidationError, parse_row_id
from panel_app.settings import get_settings
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.gated import GatedPage, reveal_once
from panel_app.tasks import spawn


TOTP_SECRET_ELEMENT_ID = "totp-secret"
TOTP_QR_ELEMENT_ID = "totp-qr"
RECOVERY_CODES_ELEMENT_ID = "recovery-codes"
# A browser's answer to the "create a passkey" prompt is a few KB at most.
_MAX_PASSKEY_RESPONSE = passkeys.MAX_RESPONSE_CHARS
# What the passkey button may report (components/passkey.py): shown as passkey.error.<code>.
PASSKEY_ERROR_CODES = frozenset({"cancelled", "no_passkey", "timeout", "not_allowed", "unsupported", "failed",
                                 "already_registered"})


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One active login session of the user."""

    id: str
    browser: str
    ip: str
    started: str
    last_seen: str
    current: str  # "1" for the session of this page, else ""


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One browser the user verified on (a known device)."""

    id: str
    browser: str
    ip: str
    first: str
    last: str
    current: str  # "1" for the device of this page's session, else ""


@dataclass(frozen=True, slots=True)
class PasskeyRow:
    """One passkey of the user."""

    id: str
    name: str
    created: str
    last_used: str  # a moment, or "never" in the user's language
    synced: str  # "1" for a synced passkey, else "" (this device only)
    new_until: str  # while new (not yet counting as a factor): when it settles, else ""


class SecurityState(GatedPage, AuthState):
    area: ClassVar[Area] = Area.SECURITY

    totp_enabled: bool = False
    preferred_channel: str = ""
    channel_choices: list[str] = []  # the user's methods, from the registry (services/methods)
    recovery_left: int = 0
    # The set-up key, its QR code and new recovery codes are never kept here: they are
    # written into the page by the event that made them (``reveal_once``).
    enrolling: bool = False
    recovery_codes_shown: bool = False
    sessions: list[SessionRow] = []
    devices: list[DeviceRow] = []
    password_errors: dict[str, str] = {}  # form field -> why it was refused
    passkeys: list[PasskeyRow] = []
    # While "add a passkey" is open: the options (JSON) of the browser's prompt, made before
    # the click so the prompt opens in its gesture (the challenge is no secret: single use,
    # bound to this login session), and the name the new passkey will get.
    passkey_options: str = ""
    passkey_name: str = ""
    passkey_name_error: str = ""
    renaming_passkey: str = ""  # the id of the passkey whose name is being edited

    def _load(self, ctx: guard.GuardContext) -> None:
        user = ctx.user
        delay = timedelta(seconds=get_settings().factor_change_delay_seconds)
        self.passkeys = [
            PasskeyRow(
                id=str(row.id),
                name=row.name,
                created=ctx.moment(row.created_at),
                last_used=ctx.moment(row.last_used_at) if row.last_used_at else t("security.passkey.never",
                                                                                           ctx.lang),
                synced="1" if row.synced else "",
                new_until="" if passkey_setup.is_settled(row, ctx.now) else ctx.moment(row.created_at + delay),
            )
            for row in passkeys.credentials_of(ctx.db, passkey_setup.owner_of(user))
        ]
        self.totp_enabled = authenticator.is_enrolled(ctx.db, user)
        self.channel_choices = stepup.available_methods(ctx.db, user)
        self.preferred_channel = stepup.preferred_among(user, self.channel_choices)
        self.recovery_left = recovery_codes.recovery_codes_left(ctx.db, user) if self.totp_enabled else 0
        rows = sessions.active_sessions(ctx.db, user.id, now=ctx.now,
                                        idle_seconds=get_settings().session_idle_seconds)
        self.sessions = [
            SessionRow(
                id=str(row.id),
                browser=describe_user_agent(row.user_agent, ctx.lang),
                ip=row.ip or "—",
                started=ctx.moment(row.created_at),
                last_seen=ctx.moment(row.last_seen_at),
                current="1" if row.id == ctx.login_session.id else "",
            )
            for row in rows
        ]
        this_device = stepup.device_of(ctx.db, ctx.login_session)
        self.devices = [
            DeviceRow(
                id=str(row.id),
                browser=describe_user_agent(row.user_agent, ctx.lang),
                ip=row.ip or "—",
                first=ctx.moment(row.first_used_at),
                last=ctx.moment(row.last_used_at),
                current="1" if row.id == this_device else "",
            )
            for row in known_devices.listed(ctx.db, user.id)
        ]

    @guard.requires_stepup()
    def set_preferred(self, channel: str):
        ctx = guard.current()
        try:
            stepup.set_preferred_channel(ctx.db, ctx.user, channel, ctx.actor, ctx.now)
        except ValidationError as exc:
            self._fail(exc.message_key)
            return
        self._say("security.preferred_saved")
        self._reload()

    def _app_itself_required(self, ctx: guard.GuardContext, *, removing: bool = False) -> bool:
        """With an app set up, only the app (or one of its recovery codes) may replace it or
        make new recovery codes; an app still new may be removed by any verification
        (``services/factor_rules.py``). Refused here with the reason on the page. (New codes
        right after this session set the app up: ``recovery_codes.renewable_after_setup``.)"""
        decision = factor_rules.decide(ctx.db, ctx.user, factor=factor_rules.APP,
                                       grant_method=ctx.login_session.grant_method, removing=removing, now=ctx.now)
        if decision is factor_rules.Decision.AT_ONCE:
            return False
        self._fail("security.app_required")
        return True

    @guard.requires_stepup()
    def begin_enrollment(self):
        ctx = guard.current()
        if self._app_itself_required(ctx):
            return
        secret, uri = authenticator_setup.begin_totp_enrollment(ctx.db, ctx.user, ctx.now, ctx.actor)
        self.enrolling = True
        self.recovery_codes_shown = False
        self.message = self.error = ""
        return [reveal_once(TOTP_SECRET_ELEMENT_ID, " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))),
                reveal_once(TOTP_QR_ELEMENT_ID, authenticator_setup.qr_data_uri(uri))]

    @guard.requires_stepup()
    def cancel_enrollment(self):
        self.enrolling = False

    @guard.requires_stepup()
    def confirm_enrollment(self, form_data: dict):
        ctx = guard.current()
        code = form_data.get("code") if isinstance(form_data, dict) else None
        verified_with = ctx.login_session.grant_method
        result = authenticator_setup.confirm_totp_enrollment(ctx.db, ctx.user, code, ctx.now, ctx.actor)
        if not result.ok:
            self._fail(result.error_key)
            return
        # Factors changed: every grant of the user ended. This session verified a moment
        # ago and just proved the new app, so it keeps working — still on the grant of the
        # factor it verified with: a brand-new app must not authorise contact changes.
        ttl = effective_ttl_seconds(ctx.db)
        sessions.start_grant(ctx.db, ctx.login_session, method=verified_with, now=ctx.now, ttl_seconds=ttl)
        # It may renew the codes it is about to show for a few minutes, without the app.
        recovery_codes.remember_app_confirmed(ctx.db, ctx.login_session, ctx.now)
        record(ctx.db, ctx.actor, Area.AUTH, "grant_started", now=ctx.now, method=verified_with,
               reason="enrollment")
        spawn(notify_everywhere(ctx.user.id, "totp_added"))
        self.enrolling = False
        self.recovery_codes_shown = True
        self._show_grant(ctx.login_session, ctx.now)
        self._say("security.totp_enabled")
        self._reload()
        return reveal_once(RECOVERY_CODES_ELEMENT_ID, result.recovery_codes)

    @guard.requires_stepup()
    def remove_totp(self):
        ctx = guard.current()
        if self._app_itself_required(ctx, removing=True):
            return
        if authenticator_setup.remove_totp(ctx.db, ctx.user, ctx.now, ctx.actor):
            spawn(notify_everywhere(ctx.user.id, "totp_removed"))
        # Every grant ended with the factor: the gate returns at the next tick.
        self._wipe()
        self.grant_active = False

    @guard.requires_stepup()
    def regenerate_codes(self):
        ctx = guard.current()
        just_set_up = recovery_codes.renewable_after_setup(ctx.db, ctx.user, ctx.login_session, ctx.now)
        if not just_set_up and self._app_itself_required(ctx):
            return
        try:
            codes = recovery_codes.regenerate_recovery_codes(ctx.db, ctx.user, ctx.now, ctx.actor)
        except ValidationError as exc:
            self._fail(exc.message_key)
            return
        self._say("security.codes_regenerated")
        self._reload()
        self.recovery_codes_shown = True
        return reveal_once(RECOVERY_CODES_ELEMENT_ID, codes)

    @guard.requires_stepup()
    def hide_recovery_codes(self):
        self.recovery_codes_shown = False

    @guard.requires_stepup()
    def change_password(self, form_data: dict):
        """Ends every grant (this page returns to the gate) and every other session."""
        ctx = guard.current()
        form = form_data if isinstance(form_data, dict) else {}
        try:
            accounts.change_password(ctx.db, ctx.actor, ctx.user, current=form.get("current_password"),
                                     new=form.get("new_password"), now=ctx.now,
                                     device_id=stepup.device_of(ctx.db, ctx.login_session))
        except ValidationError as exc:
            self.password_errors = {exc.field: t(exc.message_key, ctx.lang, **exc.params)}
            return
        self.password_errors = {}
        spawn(notify_everywhere(ctx.user.id, "password_changed"))
        self.notice = t("security.password.changed", ctx.lang)
        self._wipe()
        self.grant_active = False

    @guard.requires_stepup()
    def sign_out_session(self, session_id: str):
        ctx = guard.current()
        target = parse_row_id(session_id)
        row = ctx.db.get(LoginSession, target) if target is not None else None
        if row is None or row.user_id != ctx.user.id or row.id == ctx.login_session.id:
            return
        sessions.revoke_session(ctx.db, row, reason="signed_out_by_user", now=ctx.now)
        record(ctx.db, ctx.actor, Area.SECURITY, "session_revoked", now=ctx.now, target=f"session {row.id}")
        self._say("security.session_ended")
        self._reload()

    @guard.requires_stepup()
    def forget_device(self, device_id: str):
        """This browser no longer counts as known: its sessions fall back to the budget of
        unknown devices (they stay signed in; sign them out above)."""
        ctx = guard.current()
        target = parse_row_id(device_id)
        if target is None or not known_devices.forget(ctx.db, ctx.user.id, target):
            return
        record(ctx.db, ctx.actor, Area.SECURITY, "device_removed", now=ctx.now, target=f"device {target}")
        self._say("security.devices.removed")
        self._reload()

    @guard.requires_stepup()
    def sign_out_others(self):
        ctx = guard.current()
        count = sessions.revoke_user_sessions(ctx.db, ctx.user.id, reason="signed_out_by_user", now=ctx.now,
                                              except_session_id=ctx.login_session.id)
        record(ctx.db, ctx.actor, Area.SECURITY, "other_sessions_revoked", now=ctx.now, count=count)
        self._say("security.others_ended", count=count)
        self._reload()

    # --- passkeys -----------------------------------------------------------------

    def _close_passkey_form(self) -> None:
        self.passkey_options = self.passkey_name = self.passkey_name_error = ""

    @guard.requires_stepup()
    def begin_passkey(self):
        """Open "add a passkey": options for the browser's prompt (a second click replaces
        them), or why this verification may not add one."""
        ctx = guard.current()
        options = passkey_setup.begin_add(ctx.db, ctx.user, ctx.login_session, ctx.now, ctx.actor)
        if options is None:
            self._close_passkey_form()
            self._fail(passkey_setup.ERROR_DEVICE_REQUIRED)
            return
        self.passkey_options = options
        self.passkey_name = passkeys.clean_name(describe_user_agent(self.router.headers.user_agent or "",
                                                                    ctx.lang)) or "Passkey"
        self.passkey_name_error = ""
        self.message = self.error = ""

    @guard.requires_stepup()
    def cancel_passkey(self):
        self._close_passkey_form()

    @guard.requires_stepup()
    def set_passkey_name(self, name: str):
        """The name field of the new passkey (checked again when it is stored)."""
        ctx = guard.current()
        clean = passkeys.clean_name(name) if isinstance(name, str) and len(name) <= 200 else None
        if clean is None:
            self.passkey_name = ""
            self.passkey_name_error = t(passkeys.ERROR_NAME, ctx.lang)
            return
        self.passkey_name, self.passkey_name_error = clean, ""

    @guard.requires_stepup()
    def finish_passkey(self, response: str):
        """The browser's answer to the "create a passkey" prompt."""
        ctx = guard.current()
        if not self.passkey_options:
            return
        if not isinstance(response, str) or not response or len(response) > _MAX_PASSKEY_RESPONSE:
            self._fail("passkey.error.failed")
            return
        outcome = passkey_setup.finish_add(ctx.db, ctx.user, ctx.login_session, response=response,
                                           name=self.passkey_name, now=ctx.now, actor=ctx.actor)
        self._close_passkey_form()  # its challenge is used up either way
        if not outcome.ok:
            self._fail(outcome.error_key or "passkey.error.failed")
            self._reload()
            return
        spawn(notify_everywhere(ctx.user.id, "passkey_added", name=outcome.name))
        self._say("security.passkey.added", name=outcome.name)
        self._reload()

    @guard.requires_stepup()
    def passkey_failed(self, code: str):
        """The "create a passkey" prompt ended without an answer."""
        if not isinstance(code, str) or code not in PASSKEY_ERROR_CODES:
            return
        if code == "timeout":  # its challenge ran out with it
            self._close_passkey_form()
        self._fail(f"passkey.error.{code}")

    @guard.requires_stepup()
    def begin_rename_passkey(self, passkey_id: str):
        if not isinstance(passkey_id, str) or passkey_id not in {row.id for row in self.passkeys}:
            return
        self.renaming_passkey = passkey_id

    @guard.requires_stepup()
    def cancel_rename_passkey(self):
        self.renaming_passkey = ""

    @guard.requires_stepup()
    def rename_passkey(self, form_data: dict):
        ctx = guard.current()
        name = form_data.get("name") if isinstance(form_data, dict) else None
        if not self.renaming_passkey:
            return
        if isinstance(name, str) and len(name) > 200:
            name = None
        outcome = passkey_setup.rename(ctx.db, ctx.user, self.renaming_passkey, name, now=ctx.now, actor=ctx.actor)
        if not outcome.ok:
            self._fail(outcome.error_key or passkeys.ERROR_NAME)
            if outcome.error_key == passkey_setup.ERROR_NOT_FOUND:
                self.renaming_passkey = ""
                self._reload()
            return
        self.renaming_passkey = ""
        self._say("security.passkey.renamed", name=outcome.name)
        self._reload()

    @guard.requires_stepup()
    def remove_passkey(self, passkey_id: str):
        """Every grant of the user ends with it (the gate returns)."""
        ctx = guard.current()
        outcome = passkey_setup.remove(ctx.db, ctx.user, ctx.login_session, passkey_id, now=ctx.now, actor=ctx.actor)
        if not outcome.ok:
            self._fail(outcome.error_key or passkey_setup.ERROR_NOT_FOUND)
            self._reload()
            return
        spawn(notify_everywhere(ctx.user.id, "passkey_removed", name=outcome.name))
        self._wipe()
        self.grant_active = False
