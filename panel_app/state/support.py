"""/support: the tickets the user may see, one open ticket's messages, reply, close, new ticket.

A standard section: a login is enough (no step-up grant), and every user opens it. Which
tickets it shows is decided by the support service at every event from the database
(``support.scope_for``): every ticket of the account for the owner and a technical
administrator with the support area, else the user's own tickets. Every handler goes through
the guard; a ticket outside the scope (another user's, another account's) is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from panel_app.i18n import t
from panel_app.security.permissions import Area
from panel_app.services import support
from panel_app.services.validation import ValidationError, parse_row_id
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.rows import Option

_KEEP_SUBJECT = support.SUBJECT_MAX
_KEEP_BODY = support.BODY_MAX


def _kept(form_data: dict, name: str, limit: int) -> str:
    value = form_data.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _problem(ctx: guard.GuardContext, rule, value: object) -> str:
    """The translated error of one field rule, or "" if the value passes."""
    try:
        rule(value)
    except ValidationError as exc:
        return t(exc.message_key, ctx.lang, **exc.params)
    return ""


@dataclass(frozen=True, slots=True)
class TicketRow:
    id: str
    number: str
    subject: str
    kind: str
    status: str
    status_label: str
    updated: str
    messages: str  # how many
    view_label: str


@dataclass(frozen=True, slots=True)
class TicketMessageRow:
    id: str
    author: str
    body: str
    when: str
    from_support: str  # "1" or ""


class SupportState(AuthState):
    # Every ticket of the account is listed (else the user's own): says which in the intro.
    whole_account: bool = False
    tickets: list[TicketRow] = []
    kind_options: list[Option] = []
    message: str = ""
    error: str = ""
    # The ticket being read ("" = the list is shown).
    open_id: str = ""
    open_title: str = ""
    open_status: str = ""
    open_status_label: str = ""
    open_kind_label: str = ""
    open_messages: list[TicketMessageRow] = []
    reply_body: str = ""
    reply_error: str = ""
    reply_form_key: int = 0
    # The new ticket form: kept on error, remounted empty after success.
    new_kind: str = "general"
    new_subject: str = ""
    new_body: str = ""
    new_kind_error: str = ""
    new_subject_error: str = ""
    new_body_error: str = ""
    new_form_key: int = 0

    def _wipe(self) -> None:
        """Refused (e.g. the support area was taken away): forget the tickets."""
        self.reset()

    # --- helpers (not handlers) ---------------------------------------------------

    def _refresh(self, ctx: guard.GuardContext) -> None:
        lang = ctx.lang
        scope = support.scope_for(ctx.user)
        self.whole_account = scope.whole_account
        self.kind_options = [Option(value=kind, label=t(f"support.kind.{kind}", lang)) for kind in support.KINDS]
        self.tickets = [
            TicketRow(
                id=str(row.id),
                number=f"#{row.id}",
                subject=row.subject,
                kind=t(f"support.kind.{row.kind}", lang),
                status=row.status,
                status_label=t(f"support.status.{row.status}", lang),
                updated=ctx.moment(row.updated_at),
                messages=str(row.message_count),
                view_label=t("support.view_named", lang, number=row.id, subject=row.subject),
            )
            for row in support.list_tickets(ctx.db, scope)
        ]
        if self.open_id:
            try:
                self._show(ctx, support.get_ticket(ctx.db, scope, self.open_id))
            except ValidationError:
                self._hide()

    def _show(self, ctx: guard.GuardContext, detail: support.TicketDetail) -> None:
        lang = ctx.lang
        ticket = detail.ticket
        self.open_id = str(ticket.id)
        self.open_title = t("support.ticket_title", lang, number=ticket.id, subject=ticket.subject)
        self.open_status = ticket.status
        self.open_status_label = t(f"support.status.{ticket.status}", lang)
        self.open_kind_label = t(f"support.kind.{ticket.kind}", lang)
        self.open_messages = [
            TicketMessageRow(
                id=str(m.id),
                author=t("support.from_support", lang) if m.from_support else m.author_label,
                body=m.body,
                when=ctx.moment(m.created_at),
                from_support="1" if m.from_support else "",
            )
            for m in detail.messages
        ]

    def _hide(self) -> None:
        self.open_id = self.open_title = self.open_status = self.open_status_label = self.open_kind_label = ""
        self.open_messages = []
        self.reply_body = self.reply_error = ""

    def _say(self, key: str, **params) -> None:
        self.message, self.error = t(key, self.lang, **params), ""

    def _fail(self, key: str, **params) -> None:
        self.error, self.message = t(key, self.lang, **params), ""

    # --- handlers -------------------------------------------------------------------

    @guard.requires_login(Area.SUPPORT)
    def load(self):
        self.message = self.error = ""
        self._hide()
        self._refresh(guard.current())

    @guard.requires_login(Area.SUPPORT)
    def open_ticket(self, ticket_id: str):
        ctx = guard.current()
        target = parse_row_id(ticket_id)
        if target is None:
            return
        try:
            detail = support.get_ticket(ctx.db, support.scope_for(ctx.user), target)
        except ValidationError as exc:
            self._fail(exc.message_key, **exc.params)
            self._refresh(ctx)
            return
        self.message = self.error = ""
        self.reply_body = self.reply_error = ""
        self._show(ctx, detail)

    @guard.requires_login(Area.SUPPORT)
    def back_to_list(self):
        self._hide()
        self._refresh(guard.current())

    @guard.requires_login(Area.SUPPORT)
    def reply(self, form_data: dict):
        ctx = guard.current()
        if not isinstance(form_data, dict) or not self.open_id:
            return
        self.message = self.error = self.reply_error = ""
        self.reply_body = _kept(form_data, "body", _KEEP_BODY)
        try:
            support.reply_to_ticket(ctx.db, ctx.actor, self.open_id, form_data.get("body"), now=ctx.now)
        except ValidationError as exc:
            if exc.field == "body":
                self.reply_error = t(exc.message_key, ctx.lang, **exc.params)
            else:
                self._fail(exc.message_key, **exc.params)
                self._hide()
                self._refresh(ctx)
            return
        self.reply_body = ""
        self.reply_form_key += 1
        self._say("support.replied")
        self._refresh(ctx)

    @guard.requires_login(Area.SUPPORT)
    def close_ticket(self):
        ctx = guard.current()
        if not self.open_id:
            return
        try:
            support.close_ticket(ctx.db, ctx.actor, self.open_id, now=ctx.now)
        except ValidationError as exc:
            self._fail(exc.message_key, **exc.params)
            self._hide()
            self._refresh(ctx)
            return
        self._say("support.closed_done")
        self._refresh(ctx)

    @guard.requires_login(Area.SUPPORT)
    def create_ticket(self, form_data: dict):
        ctx = guard.current()
        if not isinstance(form_data, dict):
            return
        self.message = self.error = ""
        kind, subject, body = form_data.get("kind"), form_data.get("subject"), form_data.get("body")
        self.new_kind = kind if kind in support.KINDS else "general"
        self.new_subject = _kept(form_data, "subject", _KEEP_SUBJECT)
        self.new_body = _kept(form_data, "body", _KEEP_BODY)
        # Each field with the service's own rule, so that every mistake shows at once.
        self.new_kind_error = _problem(ctx, support.clean_kind, kind)
        self.new_subject_error = _problem(ctx, support.clean_subject, subject)
        self.new_body_error = _problem(ctx, support.clean_body, body)
        if self.new_kind_error or self.new_subject_error or self.new_body_error:
            return
        try:
            detail = support.create_ticket(ctx.db, ctx.actor, kind=kind, subject=subject, body=body, now=ctx.now)
        except ValidationError as exc:
            self._fail(exc.message_key, **exc.params)
            return
        self.new_kind, self.new_subject, self.new_body = "general", "", ""
        self.new_form_key += 1
        self._say("support.created")
        self.open_id = str(detail.ticket.id)
        self._refresh(ctx)
