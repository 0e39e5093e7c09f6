"""The staff console's states: its own guard, gate and pages.

Every staff handler goes through ``staff_only``: the ``panel_staff`` cookie from the
websocket's request headers is resolved in the database at the moment of the event
(a customer's ``panel_session`` cookie means nothing here), the authenticator app must
be set up and a grant live (from the app or a passkey; with ``PANEL_STAFF_REQUIRE_PASSKEY``
from a passkey, and an app grant of someone without one opens only "My sign-in methods" to
add one: ``services/staff_passkeys.access``); otherwise the page is emptied and the gate
shows. Staff pages hold no customer secret (``services/staff_support.py``); what they
hold goes when the staff session or grant ends (``check_staff_tab`` in front of every
event of a staff page and of Reflex's own events).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from dataclasses import dataclass
from datetime import datetime

import reflex as rx
from sqlmodel import Session

from panel_app import tasks
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.i18n import CATALOGS, DEFAULT_LANGUAGE, LANGUAGES, normalize_language, t
from panel_app.i18n import formatting as fmt
from panel_app.models import StaffSession, StaffUser
from panel_app.security.permissions import ROLE_ADMIN
from panel_app.security import staff as staff_core
from panel_app.security import totp
from panel_app.components.passkey import ERROR_CODES as PASSKEY_ERROR_CODES
from panel_app.services import factor_changes, postal_letters, staff_passkeys, staff_recovery, staff_support, support
from panel_app.services.notifications import notify_everywhere, notify_user
from panel_app.services.staff_support import StaffActor
from panel_app.services.validation import NotFound, ValidationError
from panel_app.settings import get_settings
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.gated import reveal_once
from panel_app.tasks import spawn

STAFF_GUARD_MARKER = "_panel_staff_guard"
QR_ELEMENT_ID = "staff-totp-qr"
SECRET_ELEMENT_ID = "staff-totp-secret"
# Gate options older than this are made anew at the next event (a challenge lives 120 s).
PASSKEY_OPTIONS_FRESH_SECONDS = 90


@dataclass
class StaffContext:
    db: Session
    now: datetime
    staff: StaffUser
    session: StaffSession
    actor: StaffActor


_current: contextvars.ContextVar[StaffContext | None] = contextvars.ContextVar("panel_staff", default=None)


def current() -> StaffContext:
    ctx = _current.get()
    if ctx is None:
        raise RuntimeError("no staff event in progress")
    return ctx


def staff_token(state) -> str | None:
    return guard.cookie_from_header(state.router.headers.cookie, staff_core.COOKIE_NAME)


def _lang(state) -> str:
    return normalize_language(getattr(state, "ui_lang", DEFAULT_LANGUAGE))


def staff_only(*, admin: bool = False, grant: bool = True, setup: bool = False):
    """Signed in as staff (and ``admin``: a staff admin); ``grant``: app set up and a
    grant that opens the console (``staff_passkeys.ACCESS_FULL``), or with ``setup`` also one
    that only lets its holder add a passkey (``ACCESS_SETUP``). Decided from the database at
    the event."""

    def decorate(fn):
        if inspect.iscoroutinefunction(fn):
            raise TypeError("staff handlers are synchronous")

        @functools.wraps(fn)
        def wrapper(self, *args, **kwargs):
            now = utcnow()
            with transaction() as db:
                resolved = staff_core.resolve(db, staff_token(self), now=now, touch=guard.user_action.get(),
                                              idle_seconds=get_settings().staff_idle_seconds)
                base = self if isinstance(self, StaffState) else None
                if resolved is None:
                    base._signed_out()
                    return rx.redirect("/staff/login", replace=True)
                level = staff_passkeys.access(db, resolved.staff, resolved.session, now)
                base._show_staff(db, resolved, now, level)
                allowed = level == staff_passkeys.ACCESS_FULL or (setup and level == staff_passkeys.ACCESS_SETUP)
                if grant and not allowed:
                    base._wipe_pages()
                    return None
                if admin and resolved.staff.role != staff_core.ROLE_ADMIN:
                    base.forbidden = True
                    return None
                ip = (self.router.session.client_ip or "")[:64]
                ctx = StaffContext(db, now, resolved.staff, resolved.session, StaffActor.of(resolved.staff, ip))
                token = _current.set(ctx)
                try:
                    return fn(self, *args, **kwargs)
                finally:
                    _current.reset(token)

        setattr(wrapper, STAFF_GUARD_MARKER, (admin, grant, setup))
        return wrapper

    return decorate


class StaffState(rx.State):
    """Who is signed in to the console, and the gate (set-up or code)."""

    staff_name: str = ""
    staff_role: str = ""
    staff_signed_in: bool = False
    needs_app: bool = False
    # "Show QR code" was pressed: the QR image and the key have their place (no empty image before).
    app_setup_shown: bool = False
    gate_open: bool = False  # a live grant: the page's content shows
    grant_seconds_left: int = 0
    grant_stamp: int = 0
    gate_error: str = ""
    gate_notice: str = ""
    forbidden: bool = False
    ui_lang: str = "en"
    _time_zone: str = ""  # the browser's, copied from AuthState at every page load
    _lang_chosen: bool = False  # picked in this tab (else the browser's language, at every page load)
    # Passkeys at the gate: the staff member has one; only passkeys open the console; the
    # grant (the app's, no passkey yet) opens only "My sign-in methods"; the options for the
    # browser's prompt (made while the gate shows: the challenge is no secret, single use).
    has_passkey: bool = False
    require_passkey: bool = False
    passkey_setup_only: bool = False
    passkey_options: str = ""
    webauthn: bool = False  # the browser has WebAuthn (told by the page on mount)
    _passkey_options_at: float = 0.0
    _staff_session_id: int | None = None
    _staff_id: int | None = None  # for the event log only

    def _show_staff(self, db: Session, resolved: staff_core.ResolvedStaff, now: datetime,
                    level: str | None = None) -> None:
        if self._staff_session_id not in (None, resolved.session.id):
            self._wipe_pages()
            self.passkey_options, self._passkey_options_at = "", 0.0
        if level is None:
            level = staff_passkeys.access(db, resolved.staff, resolved.session, now)
        self._staff_session_id = resolved.session.id
        self._staff_id = resolved.staff.id
        self.staff_name = resolved.staff.name
        self.staff_role = resolved.staff.role
        self.staff_signed_in = True
        self.needs_app = not totp.is_enrolled(resolved.staff)
        self.require_passkey = staff_passkeys.required()
        self.has_passkey = staff_passkeys.has_passkey(db, resolved.staff)
        self.passkey_setup_only = level == staff_passkeys.ACCESS_SETUP
        live = level == staff_passkeys.ACCESS_FULL
        self.gate_open = live
        self.grant_seconds_left = int((resolved.session.grant_expires_at - now).total_seconds()) \
            if live or self.passkey_setup_only else 0
        self.grant_stamp = int(now.timestamp() * 1000)
        self._prepare_passkey_options(db, resolved, now, live)

    def _prepare_passkey_options(self, db: Session, resolved: staff_core.ResolvedStaff, now: datetime, live: bool,
                                 *, fresh: bool = False) -> None:
        """While the gate shows and a passkey can answer it: options for the browser's
        prompt, ready before the click (made anew when old, or after one was used)."""
        if live or self.needs_app or not self.has_passkey:
            self.passkey_options, self._passkey_options_at = "", 0.0
            return
        stale = now.timestamp() - self._passkey_options_at > PASSKEY_OPTIONS_FRESH_SECONDS
        if fresh or stale or not self.passkey_options:
            self.passkey_options = staff_passkeys.gate_options(db, resolved.staff, resolved.session, now=now)
            self._passkey_options_at = now.timestamp()

    def _signed_out(self) -> None:
        self._wipe_pages()
        self.staff_name = self.staff_role = self.passkey_options = self.gate_notice = ""
        self.staff_signed_in = self.gate_open = self.needs_app = self.app_setup_shown = False
        self.has_passkey = self.passkey_setup_only = False
        self._passkey_options_at = 0.0
        self._staff_session_id = self._staff_id = None

    def _root(self) -> StaffState:
        """The tab's StaffState instance (a page state is one of its substates)."""
        return self if type(self) is StaffState else self.parent_state

    def _wipe_pages(self) -> None:
        """Empty every loaded staff page of this tab (the substates of StaffState)."""
        self.gate_open = False
        self.grant_seconds_left = 0
        self.forbidden = False
        for sub in self._root().substates.values():
            if isinstance(sub, StaffPage):
                sub._wipe()

    # --- the gate ----------------------------------------------------------------------

    @staff_only(grant=False)
    def begin_setup(self):
        """First sign-in: a new secret for the app, shown once (QR and key)."""
        ctx = current()
        if totp.is_enrolled(ctx.staff):
            return None
        secret, uri = staff_core.begin_enrollment(ctx.db, ctx.staff)
        staff_support._staff_audit(ctx.db, ctx.actor, "staff_totp_setup_started", now=ctx.now)
        self.app_setup_shown = True
        return [reveal_once(SECRET_ELEMENT_ID, " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))),
                reveal_once(QR_ELEMENT_ID, totp.qr_data_uri(uri))]

    def _gate_failed(self, result: staff_passkeys.GateResult) -> None:
        lang = _lang(self)
        self.gate_error = t(result.error_key, lang) + (
            " " + t("gate.wait_seconds", lang, seconds=result.retry_after_seconds)
            if result.retry_after_seconds else "")

    def _gate_passed(self, ctx: StaffContext):
        """The gate opened (or, the app's grant of someone who must add a passkey, only
        "My sign-in methods"): load the page the tab shows (through its own guarded load)."""
        self.gate_error = self.gate_notice = ""
        self._show_staff(ctx.db, staff_core.ResolvedStaff(ctx.staff, ctx.session), ctx.now)
        return _page_load_of(self.router.url.path if self.router.url else "")

    @staff_only(grant=False)
    def verify(self, form_data: dict):
        """An app code (refused by the server when passkeys are required and one exists)."""
        ctx = current()
        submitted = form_data.get("code") if isinstance(form_data, dict) else None
        result = staff_passkeys.verify_app(ctx.db, ctx.actor, staff_core.ResolvedStaff(ctx.staff, ctx.session),
                                           submitted, now=ctx.now)
        if not result.ok:
            self._gate_failed(result)
            return None
        return self._gate_passed(ctx)

    @staff_only(grant=False)
    def verify_passkey(self, response: str):
        """The browser's answer to ``passkey_options``: the same grant as a good app code."""
        ctx = current()
        resolved = staff_core.ResolvedStaff(ctx.staff, ctx.session)
        result = staff_passkeys.verify_passkey(ctx.db, ctx.actor, resolved, response, now=ctx.now)
        if not result.ok:
            self._gate_failed(result)
            # The challenge may be spent: the next click needs new options.
            self._prepare_passkey_options(ctx.db, resolved, ctx.now, self.gate_open, fresh=True)
            return None
        return self._gate_passed(ctx)

    @staff_only(grant=False)
    def passkey_failed(self, code: str):
        """The browser's prompt ended without an answer (cancelled, no passkey here, ...)."""
        ctx = current()
        known = code if isinstance(code, str) and code in PASSKEY_ERROR_CODES else "failed"
        self.gate_error = t(f"passkey.error.{known}", _lang(self))
        self._prepare_passkey_options(ctx.db, staff_core.ResolvedStaff(ctx.staff, ctx.session), ctx.now,
                                      self.gate_open, fresh=True)

    @rx.event
    def passkey_support(self, supported: bool):
        """Whether this browser has WebAuthn (a display matter: the server decides the rest)."""
        self.webauthn = supported is True

    @staff_only(grant=False)
    def lock_now(self):
        ctx = current()
        staff_core.end_grant(ctx.db, ctx.session)
        self._wipe_pages()
        self._show_staff(ctx.db, staff_core.ResolvedStaff(ctx.staff, ctx.session), ctx.now)

    @rx.event
    def choose_language(self, lang: str):
        """The console's language (a display preference of this tab): texts made here and
        the page's own texts (which follow the shared language var) alike."""
        from panel_app.state.login import LoginState

        if isinstance(lang, str) and lang in LANGUAGES:
            self.ui_lang = lang
            self._lang_chosen = True
            return LoginState.choose_language(lang)
        return None


def _page_load_of(path: str):
    """The guarded ``load`` of the staff page at ``path`` (the built app serves its pages
    with a trailing slash: "/staff/tickets/" is the queue, "/staff/tickets/7/" a ticket)."""
    parts = [part for part in path.split("/") if part]
    page = parts[1] if len(parts) > 1 and parts[0] == "staff" else "tickets"
    if page == "security":
        return StaffSecurityState.load
    if page == "admin":
        return StaffAdminState.load
    if page == "tickets" and len(parts) > 2:
        return StaffTicketState.load
    return StaffQueueState.load


class StaffPage(rx.State, mixin=True):
    """Mixed into every staff page (before StaffState, so that each page has its own
    handlers): ``_load`` fills it once the guard passed; ``_wipe`` empties it."""

    loaded: bool = False
    message: str = ""
    error: str = ""

    def _wipe(self) -> None:
        self.reset()

    def _load(self, ctx: StaffContext) -> None:
        raise NotImplementedError

    def _say(self, key: str, **params) -> None:
        self.message, self.error = t(key, _lang(self), **params), ""

    def _fail(self, exc: ValidationError | NotFound | str) -> None:
        key = exc if isinstance(exc, str) else exc.message_key
        params = {} if isinstance(exc, str) else getattr(exc, "params", {}) or {}
        self.error, self.message = t(key, _lang(self), **params), ""

    @staff_only()
    @guard.automatic  # on_load, and the grant countdown reaching zero: not a person's action
    def load(self):
        self._load(current())
        self.loaded = True


def _when(moment: datetime, lang: str, tz: str | None = None) -> str:
    """In the tab's time zone (``_tz``), else in UTC, saying so."""
    return fmt.moment(moment, lang, tz)


def _tz(state) -> str | None:
    return fmt.valid_time_zone(getattr(state, "_time_zone", None))


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: str
    subject: str
    kind: str
    status: str
    customer: str
    updated: str


@dataclass(frozen=True, slots=True)
class PendingChangeRow:
    id: str
    text: str  # kind, masked new value, when it takes effect


@dataclass(frozen=True, slots=True)
class StaffMessageRow:
    author: str
    body: str
    when: str
    support: str  # "1" when written by support


@dataclass(frozen=True, slots=True)
class AccessRequestRow:
    id: str
    customer: str
    ticket: str
    reason: str
    by: str
    when: str


@dataclass(frozen=True, slots=True)
class StaffAuditRow:
    when: str
    staff: str
    action: str
    ticket: str
    detail: str


def status_label(status: str, lang: str) -> str:
    """A ticket's status in words: the same words in the queue and on the ticket."""
    return t(f"support.status.{status}", lang)


class StaffQueueState(StaffPage, StaffState):
    rows: list[QueueRow] = []
    kind_filter: str = ""
    status_filter: str = "open"
    age_filter: str = "any"
    empty_text: str = ""  # when no row: why (no ticket at all, none waiting, or the filters)
    can_clear: bool = False  # filters narrow the list: "Show all tickets"

    def _load(self, ctx: StaffContext) -> None:
        lang = _lang(self)
        self.rows = [
            QueueRow(id=str(r.id), subject=r.subject, kind=t(f"support.kind.{r.kind}", lang),
             status=status_label(r.status, lang), customer=r.customer,
             updated=_when(r.updated_at, lang, _tz(self)))
            for r in staff_support.queue(ctx.db, kind=self.kind_filter, status=self.status_filter,
                                         age=self.age_filter, now=ctx.now)
        ]
        self.can_clear = (self.kind_filter, self.status_filter, self.age_filter) != ("", "", "any")
        if self.rows:
            self.empty_text = ""
        elif not self.can_clear:
            self.empty_text = t("staff.queue.empty", lang)
        elif (self.kind_filter, self.status_filter, self.age_filter) == ("", support.STATUS_OPEN, "any"):
            self.empty_text = t("staff.queue.empty_open", lang)
        else:
            self.empty_text = t("staff.queue.empty_filtered", lang)

    @staff_only()
    def set_filter(self, name: str, value: str):
        allowed = {"kind": ("", *support.KINDS), "status": ("", *staff_support.STATUSES), "age": staff_support.AGES}
        if not isinstance(name, str) or name not in allowed or not isinstance(value, str) or value not in allowed[name]:
            return
        setattr(self, f"{name}_filter", value)
        self._load(current())

    @staff_only()
    def clear_filters(self):
        """Every ticket, whatever its type, status or age."""
        self.kind_filter, self.status_filter, self.age_filter = "", "", "any"
        self._load(current())


class StaffTicketState(StaffPage, StaffState):
    ticket_id: str = ""
    subject: str = ""
    kind: str = ""
    status: str = ""
    status_text: str = ""  # the queue's words for the status
    customer: str = ""
    requester: str = ""
    requester_email: str = ""
    requester_phone: str = ""
    requester_has_app: bool = False
    messages: list[StaffMessageRow] = []
    pending_changes: list[PendingChangeRow] = []
    evidence_passed: bool = False
    evidence_withdrawn: bool = False  # a later failed check took this agent's pass back
    evidence_asks: list[str] = []  # the checklist's items for this requester (their role's view)
    evidence_intro: str = ""
    evidence_role_note: str = ""  # a technical administrator: asked only what their areas show
    evidence_result: list[str] = []
    evidence_verdict: str = ""  # "3 of 4 match: enough to go on."
    evidence_verdict_ok: bool = False
    open_request: str = ""
    is_contact_update: bool = False
    letters: list[str] = []  # "Letter sent …, valid until …: waiting for the code" (never the code)
    letter_live: bool = False
    letter_proven: bool = False

    def _ticket_param(self) -> str:
        value = self.router.page.params.get("ticket") if self.router.page else None
        return value if isinstance(value, str) else ""

    def _load(self, ctx: StaffContext) -> None:
        lang = _lang(self)
        view = staff_support.view_ticket(ctx.db, ctx.actor, self._ticket_param(), now=ctx.now)
        self.ticket_id = str(view.id)
        self.subject, self.kind, self.status = view.subject, view.kind, view.status
        self.status_text = status_label(view.status, lang)
        self.is_contact_update = view.kind == support.KIND_CONTACT_UPDATE
        self.customer, self.requester = view.customer, view.requester_name
        self.requester_email, self.requester_phone = view.requester_email, view.requester_phone
        self.requester_has_app = view.requester_has_app
        self.messages = [StaffMessageRow(author=m.author_label, body=m.body, when=_when(m.created_at, lang, _tz(self)),
                          support="1" if m.from_support else "") for m in view.messages]
        self.pending_changes = [PendingChangeRow(id=str(change.id), text=_pending_text(change, lang))
                                for change in view.pending_changes]
        evidence = view.evidence
        self.evidence_passed, self.evidence_withdrawn = evidence.passed, evidence.withdrawn
        self.evidence_asks = list(evidence.items)
        self.evidence_intro = t("staff.evidence.intro", lang, evidence_needed=evidence.needed,
                                evidence_items=len(evidence.items))
        self.evidence_role_note = t("staff.evidence.role_admin", lang, name=view.requester_name) \
            if view.requester_role == ROLE_ADMIN else ""
        self.open_request = view.open_request
        letters = postal_letters.letters_of_ticket(ctx.db, view.id, ctx.now)
        self.letters = [t("staff.letter.row", lang, sent=_when(row.created_at, lang, _tz(self)), until=_when(row.expires_at, lang, _tz(self)),
                          state=t(f"staff.letter.state.{row.state}", lang)) for row in letters]
        self.letter_live = any(row.state == postal_letters.STATE_LIVE for row in letters)
        self.letter_proven = postal_letters.identity_proven(ctx.db, view.id, ctx.now)

    @staff_only()
    @guard.automatic
    def load(self):
        self.evidence_result, self.evidence_verdict, self.evidence_verdict_ok = [], "", False  # another ticket's
        try:
            self._load(current())
        except (ValidationError, NotFound) as exc:
            self._fail(exc)
            return
        self.loaded = True

    def _act(self, action, *, success: str, **params):
        """Run ``action(ctx)``; show its error, or ``success`` and the page again."""
        ctx = current()
        try:
            outcome = action(ctx)
        except (ValidationError, NotFound) as exc:
            self._fail(exc)
            return None
        self._load(ctx)
        self._say(success, **params)
        return outcome

    @staff_only()
    def reply(self, form_data: dict):
        body = form_data.get("body") if isinstance(form_data, dict) else None
        close = isinstance(form_data, dict) and form_data.get("close") == "on"
        done = self._act(lambda ctx: staff_support.reply(ctx.db, ctx.actor, self.ticket_id, body, now=ctx.now,
                                                         close=close), success="staff.ticket.replied")
        if done is not None and done[1] is not None:
            spawn(notify_user(done[1].id, "support_answered", ticket=done[0].id,
                              url=f"{get_settings().public_url}/support"))

    @staff_only()
    def close_ticket(self):
        self._act(lambda ctx: staff_support.close(ctx.db, ctx.actor, self.ticket_id, now=ctx.now),
                  success="staff.ticket.closed")

    @staff_only()
    def check_evidence(self, form_data: dict):
        answers = {k: form_data.get(k) for k in ("customer_number", "invoice_number", "invoice_amount",
                                                 "payment_last4", "postal_code")} if isinstance(form_data, dict) else {}
        result = self._act(lambda ctx: staff_recovery.check_evidence(ctx.db, ctx.actor, self.ticket_id, answers,
                                                                     now=ctx.now), success="staff.evidence.checked")
        if result is not None:
            lang = _lang(self)
            matched, passed = result
            asked = self.evidence_asks  # the requester's items (just reloaded)
            self.evidence_result = [
                t(f"staff.evidence.{item}", lang) + ": " + t("staff.evidence.match" if item in matched
                                                               else "staff.evidence.no_match", lang)
                for item in asked
            ]
            self.evidence_verdict_ok = passed
            self.evidence_verdict = t("staff.evidence.verdict_enough" if passed else "staff.evidence.verdict_short",
                                      lang, matched=len(matched), total=len(asked),
                                      needed=staff_support.evidence_needed_for(tuple(asked)))

    @staff_only()
    def schedule_change(self, form_data: dict):
        form = form_data if isinstance(form_data, dict) else {}
        result = self._act(lambda ctx: staff_recovery.schedule_contact_change(
            ctx.db, ctx.actor, self.ticket_id, form.get("kind"), form.get("value"), now=ctx.now,
            delay_seconds=get_settings().factor_change_delay_seconds), success="staff.change.scheduled")
        if result is not None:
            change, user = result
            spawn(_announce_scheduled(user.id, change))

    @staff_only()
    def cancel_change(self, form_data: dict):
        """The customer did not ask for this waiting change (told on the phone or in the ticket)."""
        form = form_data if isinstance(form_data, dict) else {}
        result = self._act(lambda ctx: staff_recovery.cancel_change(ctx.db, ctx.actor, self.ticket_id,
                                                                    form.get("change"), form.get("reason"),
                                                                    now=ctx.now), success="staff.change.cancelled")
        if result is not None:
            change, user = result
            lang = user.language
            spawn(notify_everywhere(user.id, "contact_change_cancelled", field=t(f"profile.kind.{change.kind}", lang),
                                    actor=current().actor.label, new_value=change.masked))

    @staff_only()
    def refuse(self, form_data: dict):
        reason = form_data.get("reason") if isinstance(form_data, dict) else None
        done = self._act(lambda ctx: staff_recovery.refuse(ctx.db, ctx.actor, self.ticket_id, reason, now=ctx.now),
                         success="staff.refused")
        if done is not None and done.user_id is not None:
            spawn(notify_user(done.user_id, "support_answered", ticket=done.id,
                              url=f"{get_settings().public_url}/support"))

    @staff_only()
    def request_letter(self):
        """A letter by post with a one-time code to the customer's address on file."""
        done = self._act(lambda ctx: postal_letters.request_letter(ctx.db, ctx.actor, self.ticket_id, now=ctx.now),
                         success="staff.letter.sent")
        if done is not None:
            spawn(notify_user(done.user_id, "support_answered", ticket=done.ticket_id,
                              url=f"{get_settings().public_url}/support"))

    @staff_only()
    def request_app_removal(self, form_data: dict):
        reason = form_data.get("reason") if isinstance(form_data, dict) else None
        self._act(lambda ctx: staff_recovery.request_totp_removal(ctx.db, ctx.actor, self.ticket_id, reason,
                                                                  now=ctx.now), success="staff.request.sent")


def _pending_text(change: staff_support.PendingView, lang: str) -> str:
    """A waiting change in words: what changes, to what (masked), when, and who asked."""
    who = t("staff.change.by_password_reset", lang) if change.requested_by == "password reset" \
        else change.requested_by
    text = t("staff.change.pending", lang, field=t(f"profile.kind.{change.kind}", lang), value=change.masked,
             when=_when(change.effective_at, lang))
    return text + (" " + t("staff.change.pending_by", lang, who=who) if who else "")


async def _announce_scheduled(user_id: int, change) -> None:
    """The same announcement as a self-service change without the old factor."""
    from panel_app.models import User

    with transaction() as db:
        user = db.get(User, user_id)
        lang = user.language if user is not None else "en"
    hours = max(1, round((change.effective_at - utcnow()).total_seconds() / 3600))
    await notify_everywhere(user_id, "contact_change_scheduled", field=t(f"profile.kind.{change.kind}", lang),
                            new_value=change.masked, effective=fmt.moment(change.effective_at, lang), hours=hours,
                            **factor_changes.announcement_params(change))


class StaffAdminState(StaffPage, StaffState):
    requests: list[AccessRequestRow] = []
    audit_rows: list[StaffAuditRow] = []

    def _load(self, ctx: StaffContext) -> None:
        lang = _lang(self)
        self.requests = [AccessRequestRow(id=str(r.id), customer=r.customer, ticket=str(r.ticket_id or ""),
                          reason=r.reason, by=r.requested_by, when=_when(r.requested_at, lang, _tz(self)))
                         for r in staff_recovery.pending_requests(ctx.db)]
        self.audit_rows = [StaffAuditRow(when=_when(r.created_at, lang, _tz(self)), staff=r.staff, action=r.action,
                            ticket=str(r.ticket_id or ""), detail=r.detail[:300])
                           for r in staff_support.staff_audit(ctx.db)]

    @staff_only(admin=True)
    @guard.automatic
    def load(self):
        self._load(current())
        self.loaded = True

    def _decide(self, request_id: str, approve: bool) -> None:
        ctx = current()
        try:
            _row, user = staff_recovery.decide(ctx.db, ctx.actor, ctx.staff, request_id, approve=approve, now=ctx.now)
        except ValidationError as exc:
            self._fail(exc)
            return
        if approve:
            spawn(notify_everywhere(user.id, "totp_removed"))
        self._load(ctx)
        self._say("staff.request.approved" if approve else "staff.request.rejected")

    @staff_only(admin=True)
    def approve(self, request_id: str):
        self._decide(request_id, True)

    @staff_only(admin=True)
    def reject(self, request_id: str):
        self._decide(request_id, False)


@dataclass(frozen=True, slots=True)
class StaffPasskeyRow:
    id: str
    name: str
    created: str
    last_used: str
    kind: str  # synced, or bound to its device


class StaffSecurityState(StaffPage, StaffState):
    """/staff/security, "My sign-in methods": the staff member's passkeys and security keys.
    Open with a grant that opens the console, or (passkeys required, none yet) with the app's
    grant that opens only this page, to add one."""

    passkeys: list[StaffPasskeyRow] = []
    can_remove: bool = False  # with passkeys required, the last one stays
    adding: bool = False  # a name was given: the browser's prompt is next
    new_name: str = ""
    register_options: str = ""

    def _load(self, ctx: StaffContext) -> None:
        lang = _lang(self)
        self.passkeys = [
            StaffPasskeyRow(id=str(row.id), name=row.name, created=_when(row.created_at, lang, _tz(self)),
                            last_used=_when(row.last_used_at, lang, _tz(self)) if row.last_used_at else t("staff.passkey.never", lang),
                            kind=t("staff.passkey.synced" if row.synced else "staff.passkey.device_bound", lang))
            for row in staff_passkeys.rows(ctx.db, ctx.staff)]
        self.can_remove = staff_passkeys.may_remove_any(ctx.db, ctx.staff)

    def _stop_adding(self) -> None:
        self.adding, self.new_name, self.register_options = False, "", ""

    def _after_change(self, ctx: StaffContext) -> None:
        """The list and the gate's state (a first passkey may change what the grant opens)."""
        self._show_staff(ctx.db, staff_core.ResolvedStaff(ctx.staff, ctx.session), ctx.now)
        if self.gate_open or self.passkey_setup_only:
            self._load(ctx)

    @staff_only(setup=True)
    @guard.automatic
    def load(self):
        self._load(current())
        self.loaded = True

    @staff_only(setup=True)
    def begin_add(self, form_data: dict):
        """A name for the new passkey: options for the browser's prompt (the next click)."""
        ctx = current()
        name = form_data.get("name") if isinstance(form_data, dict) else None
        outcome = staff_passkeys.begin_add(ctx.db, ctx.staff, ctx.session, name, now=ctx.now)
        if not outcome.ok:
            self._stop_adding()
            self._fail(outcome.error_key)
            return
        self.adding, self.new_name, self.register_options = True, outcome.name, outcome.options
        self.message = self.error = ""

    @staff_only(setup=True)
    def finish_add(self, response: str):
        """The browser's new credential: stored under the name given."""
        ctx = current()
        name = self.new_name if self.adding else None
        self._stop_adding()
        outcome = staff_passkeys.finish_add(ctx.db, ctx.actor, ctx.staff, ctx.session, response=response, name=name,
                                            now=ctx.now)
        if not outcome.ok:
            self._fail(outcome.error_key)
            return
        self._after_change(ctx)
        if self.gate_open:
            self._say("staff.passkey.added", name=outcome.name)
        else:  # the app's grant (passkeys required) ends here: the gate asks for the new passkey
            self._wipe()
            self.gate_notice = t("staff.passkey.now_verify", _lang(self), name=outcome.name)

    @staff_only(setup=True)
    def add_failed(self, code: str):
        """The browser's prompt ended without a credential (the options stay for a retry)."""
        known = code if isinstance(code, str) and code in PASSKEY_ERROR_CODES else "failed"
        self._fail(f"passkey.error.{known}")

    @staff_only(setup=True)
    def cancel_add(self):
        self._stop_adding()

    @staff_only()
    def rename(self, form_data: dict):
        ctx = current()
        form = form_data if isinstance(form_data, dict) else {}
        outcome = staff_passkeys.rename(ctx.db, ctx.actor, ctx.staff, form.get("id"), form.get("name"), now=ctx.now)
        if not outcome.ok:
            self._fail(outcome.error_key)
            return
        self._load(ctx)
        self._say("staff.passkey.renamed", name=outcome.name)

    @staff_only()
    def remove(self, credential_id: str):
        ctx = current()
        outcome = staff_passkeys.remove(ctx.db, ctx.actor, ctx.staff, credential_id, now=ctx.now)
        if not outcome.ok:
            self._fail(outcome.error_key)
            return
        self._after_change(ctx)
        self._say("staff.passkey.removed", name=outcome.name)


class StaffLoginState(rx.State):
    """/staff/login and /staff/setup: messages from the HTTP routes (no data)."""

    message: str = ""
    message_is_error: bool = False

    @rx.event
    @guard.automatic
    async def follow_language(self):
        """At every console page load: the page's texts and the console's in the language this
        tab chose, else the browser's (never English by accident when a tab's state was
        rebuilt, as after a reconnect to another worker)."""
        await _follow_language(self)

    @rx.event
    async def open_page(self):
        params = self.router.url.query_parameters if self.router.url else {}
        lang = await _follow_language(self)  # as on every console page
        error = params.get("error", "")
        if error == "throttled":
            wait = params.get("wait", "")
            seconds = int(wait) if wait.isascii() and wait.isdigit() and len(wait) < 6 else 60
            self.message, self.message_is_error = t("login.error.throttled", lang, seconds=seconds), True
        elif error == "invalid":
            self.message, self.message_is_error = t("login.error.invalid", lang), True
        elif error == "link":
            self.message, self.message_is_error = t("staff.setup.link_invalid", lang), True
        elif isinstance(error, str) and error in CATALOGS["en"] and error.startswith("validation."):
            self.message, self.message_is_error = t(error, lang), True
        elif params.get("ready"):
            self.message, self.message_is_error = t("staff.setup.ready", lang), False
        elif params.get("signed_out"):
            self.message, self.message_is_error = t("login.signed_out", lang), False
        else:
            self.message = ""


async def _follow_language(state) -> str:
    auth = await state.get_state(AuthState)
    staff = await state.get_state(StaffState)
    if staff._lang_chosen:
        lang = normalize_language(staff.ui_lang)
    elif auth._user_language:
        lang = normalize_language(auth.lang)
    else:
        lang = auth._tab_language()
    auth.lang = staff.ui_lang = lang
    staff._time_zone = auth._time_zone
    return lang


async def check_staff_tab(state, *, touch: bool = False) -> None:
    """In front of Reflex's own events and staff events: a staff tab whose cookie no longer
    resolves to its staff session, or whose grant ended, holds nothing. ``touch``: the event
    is a person's action, which extends the staff session's idle timeout."""
    staff_state = await state.get_state(StaffState)
    bound = staff_state._staff_session_id
    if bound is None and not touch:
        return
    token, now = staff_token(state), utcnow()

    def access() -> str | None:
        with transaction() as db:
            resolved = staff_core.resolve(db, token, now=now, touch=touch,
                                          idle_seconds=get_settings().staff_idle_seconds)
            if bound is None:
                return None
            if resolved is None or resolved.session.id != bound:
                return "out"
            return staff_passkeys.access(db, resolved.staff, resolved.session, now)

    outcome = await tasks.off_loop(access)
    if outcome is None or outcome == staff_passkeys.ACCESS_FULL:
        return
    await wipe_staff_tab(state, signed_out=outcome == "out", keep_setup=outcome == staff_passkeys.ACCESS_SETUP)


async def wipe_staff_tab(state, *, signed_out: bool = True, keep_setup: bool = False) -> None:
    """Empty every staff page of the tab (loaded for it, Redis); ``signed_out``: forget the
    staff member too; ``keep_setup``: the grant opens "My sign-in methods" only (that page
    stays: it holds nothing but the staff member's own passkeys)."""
    staff_state = await state.get_state(StaffState)
    for cls in (StaffQueueState, StaffTicketState, StaffAdminState, StaffSecurityState):
        if keep_setup and cls is StaffSecurityState:
            continue
        page = await state.get_state(cls)
        page._wipe()
    if signed_out:
        staff_state._signed_out()
    else:
        staff_state.gate_open = False


@functools.cache
def _staff_prefix() -> str:
    return StaffState.get_full_name() + "."


def is_staff_event(event_name: str) -> bool:
    return isinstance(event_name, str) and event_name.startswith(_staff_prefix())

