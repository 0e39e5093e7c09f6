"""The verification gate: choose a method, get or read a code, enter it.

Its handlers need a login only (this is how a grant is obtained). Every decision
comes from ``services.stepup``; codes never enter a state var, a log or an event
payload sent to the browser, and sending happens in a background task.
"""

from __future__ import annotations

import json

import reflex as rx

from panel_app.api.paths import DEVICE_ROUTE, backend_path
from panel_app.delivery import CodeMessage, error_key_for
from panel_app.delivery.base import STATUS_DELIVERED, STATUS_FAILED, STATUS_READ
from panel_app.i18n import t
from panel_app.security import sessions
from panel_app.services import gate_return, methods, passkeys, stepup, support
from panel_app.services.code_delivery import deliver_and_record
from panel_app.services.demo import effective_ttl_seconds
from panel_app.services.methods import CodeScope
from panel_app.services.methods import passkey as passkey_method
from panel_app.services.notifications import notify_everywhere
from panel_app.services.validation import ValidationError
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.tasks import spawn

_MAX_CODE_INPUT = 64
# A browser's passkey answer is 1-2 KB; the service refuses more than this too.
_MAX_PASSKEY_RESPONSE = 16_000
PASSKEY = passkey_method.NAME
_ARRIVED = frozenset({STATUS_DELIVERED, STATUS_READ})
# Refusals before the passkey's answer was checked: its challenge is still unused.
_CHALLENGE_KEPT = frozenset({passkeys.ERROR_MALFORMED, stepup.ERROR_LOCKED})
# What the passkey button may report (components/passkey.py): shown as passkey.error.<code>.
# Keyboard focus (assets/panel.js): to the code field once a code was sent; to the page's
# content (its heading) once the verification opened it.
_FOCUS_CODE = "window.panelFocusCode()"
_FOCUS_CONTENT = "window.panelFocusContent()"
PASSKEY_ERROR_CODES = frozenset({"cancelled", "no_passkey", "timeout", "not_allowed", "unsupported", "failed",
                                 "already_registered"})


class StepUpState(AuthState):
    methods: list[str] = []  # the user's methods, from the registry (services/methods)
    fallbacks: list[str] = []  # offered as links under the form (a recovery code)
    method: str = ""
    has_phone: bool = False
    code_sent: bool = False  # a code was sent by the chosen method in this sign-in
    masked_destination: str = ""  # where the chosen method sends a code
    sent_to: str = ""  # where its last code went: only once one was sent (each method its own)
    sent_note: str = ""  # "on its way" / "delivered" for that code; "" once it failed
    delivery_status: str = ""
    delivery_problem: str = ""
    resend_in: int = 0
    resend_stamp: int = 0
    sends_left: int = 0
    error: str = ""
    help_open: bool = False
    ticket_message: str = ""
    ticket_linked: bool = False  # the message names a ticket: link to /support, where its requester reads it
    # The options (JSON) of the browser's passkey prompt while the passkey is the chosen
    # method: made before the click, so the prompt opens in the click's own gesture. The
    # challenge in them is no secret (single use, bound to this login session, 2 minutes).
    passkey_options: str = ""
    # Whether this browser can use passkeys (it says so when the gate appears); without,
    # the passkey is not offered.
    passkey_supported: bool = False
    _method_picked: bool = False  # the user picked the method (else the default is followed)
    # Why the gate is back (a grant ran out or was ended; "" on a first entry) and the
    # domain the page's URL names: the gate's own words (services/gate_return).
    return_reason: str = ""
    gate_domain: str = ""
    # The gate opened in a dialog over the page before the grant runs out (verify again in
    # place, components/grant_expiry.py); closed by a verification and when the grant ended.
    reverify_open: bool = False

    # --- helpers (not handlers) ---------------------------------------------------

    def _offered(self, ctx: guard.GuardContext) -> list[str]:
        """The user's methods this browser can use."""
        offered = stepup.available_methods(ctx.db, ctx.user)
        if not self.passkey_supported:
            offered = [m for m in offered if m != PASSKEY]
        return offered

    def _refresh(self, ctx: guard.GuardContext) -> None:
        user = ctx.user
        self.resend_stamp = int(ctx.now.timestamp() * 1000)
        self.methods = self._offered(ctx)
        self.fallbacks = stepup.fallback_methods(ctx.db, user)
        if self.method not in self.methods and self.method not in self.fallbacks:
            self.method = stepup.preferred_among(user, self.methods)
        self._prepare_passkey(ctx)
        self.has_phone = bool(user.phone)
        # Each channel shows its own last code (never another channel's): one status, one
        # "sent to", and a failure is never also "on its way".
        status = (stepup.code_status(ctx.db, user=user, login_session=ctx.login_session, now=ctx.now,
                                     channel=self.method) if stepup.sends_code(self.method) else None)
        if status is not None:
            self.code_sent = True
            self.masked_destination = self.sent_to = status.masked_destination
            self.delivery_status = status.delivery_status
            failed = status.delivery_status == STATUS_FAILED
            self.delivery_problem = (
                t(error_key_for(status.channel, status.delivery_error), ctx.lang) if failed else ""
            )
            self.sent_note = "" if failed else t(
                "gate.code_delivered" if status.delivery_status in _ARRIVED else "gate.code_on_its_way", ctx.lang,
                destination=status.masked_destination)
            self.resend_in = status.resend_in_seconds
            self.sends_left = status.sends_left_this_hour
        else:
            self.code_sent = False
            self.sent_to = self.sent_note = ""
            self.delivery_status = ""
            self.delivery_problem = ""
            self.resend_in = 0
            if stepup.sends_code(self.method):
                self.masked_destination = stepup.mask_destination(
                    self.method, stepup.destination_for(user, self.method) or "")
                # A code sent from another session still holds the cooldown: say how long.
                self.resend_in = stepup.send_wait_seconds(ctx.db, user=user, channel=self.method, now=ctx.now,
                                                          device_id=stepup.device_of(ctx.db, ctx.login_session))

    def _prepare_passkey(self, ctx: guard.GuardContext) -> None:
        """Options for the passkey prompt while the passkey is the method (kept while they
        are there: a new challenge each refresh would break a prompt already open)."""
        if self.method != PASSKEY:
            self.passkey_options = ""
            return
        if not self.passkey_options:
            self.passkey_options = methods.get(PASSKEY).options_for(
                ctx.db, user=ctx.user, scope=CodeScope(ctx.login_session.id, stepup.PURPOSE), now=ctx.now) or ""

    def _wipe(self) -> None:
        self.passkey_options = ""

    def _answer(self, ctx: guard.GuardContext, submitted: object):
        """Check an answer of the chosen method (a code, a passkey's response): the grant, or
        why not."""
        result = stepup.verify_stepup(
            ctx.db, user=ctx.user, login_session=ctx.login_session, method=self.method, submitted=submitted,
            now=ctx.now, actor=ctx.actor, ttl_seconds=effective_ttl_seconds(ctx.db),
        )
        if not result.ok:
            self.error = t(result.error_key, ctx.lang)
            if result.retry_after_seconds:
                self.error += " " + t("gate.wait_seconds", ctx.lang, seconds=result.retry_after_seconds)
            elif result.tries_left is not None:
                self.error += " " + t("gate.tries_left", ctx.lang, tries=result.tries_left)
            if result.alert == stepup.ALERT_CLONED:  # on every channel: the mailbox may be the attacker's
                spawn(notify_everywhere(ctx.user.id, result.alert))
            elif result.alert:
                spawn(notify_everywhere(ctx.user.id, result.alert, count=result.failures))
            if self.method == PASSKEY and result.error_key not in _CHALLENGE_KEPT:
                self.passkey_options = ""  # a challenge answers once: the next try needs new options
                self._refresh(ctx)
            return None
        if result.used_recovery_code:
            spawn(notify_everywhere(ctx.user.id, "recovery_code_used", remaining=result.recovery_codes_left))
        self.error = ""
        self.help_open = False
        self.passkey_options = ""
        self.reverify_open = False
        self.return_reason = ""
        self._show_grant(ctx.login_session, ctx.now)
        if ctx.login_session.device_id is None:
            # The browser asks for its known-device cookie (HttpOnly: only an HTTP
            # response can set it); the route checks the session and its fresh grant.
            return rx.call_script(f"window.panelRememberDevice({json.dumps(backend_path(DEVICE_ROUTE))}); "
                                  f"{_FOCUS_CONTENT}")
        return rx.call_script(_FOCUS_CONTENT)

    # --- handlers -------------------------------------------------------------------

    @guard.login_only
    @guard.automatic
    def prepare(self):
        """When the gate appears: offer the user's methods, preferred first."""
        self.error = ""
        self.method = ""
        self.passkey_options = ""
        self._method_picked = False
        ctx = guard.current()
        self._explain_gate(ctx)
        self._refresh(ctx)

    def _explain_gate(self, ctx: guard.GuardContext) -> None:
        """Why the gate is here and which domain it opens; a gate shown in place of the
        page (the grant is over) closes the dialog of an earlier "verify again"."""
        path = self.router.url.path if self.router.url else ""
        self.gate_domain = gate_return.domain_in_path(path)
        if sessions.grant_is_valid(ctx.login_session, ctx.now):
            self.return_reason = ""  # verifying again before the end (the dialog)
            return
        self.reverify_open = False
        why = gate_return.why_gate(ctx.login_session, ctx.now)
        if why.kind == gate_return.EXPIRED:
            self.return_reason = t("gate.return.expired", ctx.lang, minutes=why.minutes)
        elif why.kind == gate_return.ENDED:
            self.return_reason = t("gate.return.ended", ctx.lang)
        else:
            self.return_reason = ""

    @guard.login_only
    def show_reverify(self, open_: bool):
        """Open or close the dialog that verifies again before the grant runs out."""
        if not isinstance(open_, bool):
            return
        self.reverify_open = open_ and self.grant_active

    @guard.login_only
    @guard.automatic
    def set_passkey_supported(self, supported: bool):
        """The browser says whether it can use passkeys (on the gate's mount)."""
        if not isinstance(supported, bool) or supported == self.passkey_supported:
            return
        self.passkey_supported = supported
        if not self._method_picked or (not supported and self.method == PASSKEY):
            self.method = ""  # the default among what this browser can use
        self._refresh(guard.current())

    @guard.login_only
    @guard.automatic
    def poll(self):
        """Resend countdown at zero, or pushed by the server when the delivery status of
        the code changed: show the current state of the code."""
        ctx = guard.current()
        if self.grant_active and not self.reverify_open:
            return
        self._refresh(ctx)

    @guard.login_only
    def choose_method(self, method: str):
        ctx = guard.current()
        allowed = stepup.available_methods(ctx.db, ctx.user) + stepup.fallback_methods(ctx.db, ctx.user)
        if not isinstance(method, str) or method not in allowed:
            return
        if method == PASSKEY and not self.passkey_supported:
            return
        self.method = method
        self._method_picked = True
        self.error = ""
        self.passkey_options = ""  # fresh options for a passkey chosen (again)
        self._refresh(ctx)

    @guard.login_only
    def send_code(self):
        ctx = guard.current()
        if not stepup.sends_code(self.method):
            return None
        result = stepup.request_stepup_code(ctx.db, user=ctx.user, login_session=ctx.login_session,
                                            channel=self.method, now=ctx.now, actor=ctx.actor)
        if not result.ok:
            self.error = t(result.error_key, ctx.lang)
            if result.retry_after_seconds:
                self.error += " " + t("gate.wait_seconds", ctx.lang, seconds=result.retry_after_seconds)
            self._refresh(ctx)
            return None
        message = CodeMessage(channel=result.channel, destination=stepup.destination_for(ctx.user, result.channel),
                              code=result.code, language=ctx.lang, purpose="stepup", code_id=result.code_id)
        # Runs once this event's transaction has committed (the handler returns first);
        # the gate is then told how the delivery went, without asking.
        spawn(_deliver_then_show(message, ctx.actor, ctx.login_session.id))
        self.error = ""
        self._refresh(ctx)  # "on its way" comes from the code's own status, as every later change
        return rx.call_script(_FOCUS_CODE)

    @guard.login_only
    def verify(self, form_data: dict):
        ctx = guard.current()
        if self.method == PASSKEY:  # a passkey answers through verify_passkey, never a typed code
            return None
        submitted = form_data.get("code") if isinstance(form_data, dict) else None
        if isinstance(submitted, str) and len(submitted) > _MAX_CODE_INPUT:
            submitted = submitted[:_MAX_CODE_INPUT + 1]  # still refused as too long, without echoing it
        return self._answer(ctx, submitted)

    @guard.login_only
    def verify_passkey(self, response: str):
        """The browser's answer to the passkey prompt (a JSON string)."""
        ctx = guard.current()
        if self.method != PASSKEY:
            return None
        if not isinstance(response, str) or not response or len(response) > _MAX_PASSKEY_RESPONSE:
            self.error = t("passkey.error.failed", ctx.lang)
            return None
        return self._answer(ctx, response)

    @guard.login_only
    def passkey_failed(self, code: str):
        """The passkey prompt ended without an answer (closed, timed out, ...)."""
        if not isinstance(code, str) or code not in PASSKEY_ERROR_CODES:
            return
        ctx = guard.current()
        self.error = t(f"passkey.error.{code}", ctx.lang)
        if code == "timeout" and self.method == PASSKEY:  # its challenge may have run out with it
            self.passkey_options = ""
            self._refresh(ctx)

    @guard.login_only
    def toggle_help(self):
        self.help_open = not self.help_open
        self._refresh(guard.current())

    @guard.login_only
    def request_contact_update(self):
        """The way out without a code: a support ticket "contact details update" naming the
        method that failed and how its last code went (from the database, now)."""
        ctx = guard.current()
        channel = self.method if self.method in support.CHANNELS else stepup.METHOD_EMAIL
        status = (stepup.code_status(ctx.db, user=ctx.user, login_session=ctx.login_session, now=ctx.now,
                                     channel=channel) if stepup.sends_code(channel) else None)
        try:
            request = support.create_contact_update_ticket(
                ctx.db, ctx.actor, ctx.user, channel=channel, now=ctx.now,
                delivery_status=status.delivery_status if status is not None else "")
        except ValidationError as exc:
            self.ticket_message = t(exc.message_key, ctx.lang)
            self.ticket_linked = False
            return
        if request.created:
            self.ticket_message = t("gate.ticket_created", ctx.lang, number=request.ticket.id,
                                    channel=t(f"support.channel.{channel}", ctx.lang))
        else:
            self.ticket_message = t("gate.ticket_exists", ctx.lang, number=request.ticket.id)
        self.ticket_linked = True


async def _deliver_then_show(message: CodeMessage, actor, login_session_id: int) -> None:
    from panel_app.state import push

    await deliver_and_record(message, actor)
    await push.refresh_tabs_of_session(login_session_id, StepUpState.poll)


class GrantState(AuthState):
    """Ending the grant early ("lock now"): the same as running out."""

    @guard.login_only
    def end_now(self):
        ctx = guard.current()
        stepup.end_grant(ctx.db, login_session=ctx.login_session, actor=ctx.actor, now=ctx.now, reason="user")
        self._show_grant(ctx.login_session, ctx.now)

