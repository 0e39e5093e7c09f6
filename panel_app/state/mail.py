"""/email: mailboxes, forwarders and the catch-all address of the account's domains.

Passwords are read from the submitted form only and handed straight to the
service: no password is ever kept in a state var (the live strength check keeps
only the resulting message). Everything else the user typed stays in the form
when a change is refused.

The page holds the domain and its lists (``MailState``); each form is a part of it
(``state/mail_parts.py``: ``MailboxCreateState``, ``MailboxEditState``,
``MailForwardingState``): substates with the same guard, wiped with the page, told
of the page's changes through the hooks below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import quote

import reflex as rx

from panel_app.i18n import formatting as fmt
from panel_app.i18n import t
from panel_app.security.permissions import Area
from panel_app.services import domains, mail
from panel_app.services.validation import ValidationError, parse_row_id
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.gated import GatedPage


@dataclass(frozen=True, slots=True)
class MailboxRow:
    id: str
    address: str
    quota: str  # formatted
    quota_mb: str
    usage: str
    percent: str


@dataclass(frozen=True, slots=True)
class ForwarderRow:
    id: str
    address: str
    destination: str


class MailState(GatedPage, AuthState):
    area: ClassVar[Area] = Area.EMAIL

    domain_options: list[str] = []
    selected_domain: str = ""
    mailboxes: list[MailboxRow] = []
    forwarders: list[ForwarderRow] = []
    catch_all: str = ""
    # The forms are parts of the page (state/mail_parts.py): substates guarded and wiped
    # with it.

    # --- loading ---------------------------------------------------------------------------

    def _asked_for(self) -> str:
        """The domain the address names (``/email?domain=...``), or ""."""
        wanted = self.router.url.query_parameters.get("domain") if self.router.url else None
        return wanted if isinstance(wanted, str) and len(wanted) <= 253 else ""

    def _load(self, ctx: guard.GuardContext) -> None:
        names = [d.name for d in domains.list_domains(ctx.db, ctx.user.account_id)]
        self.domain_options = names
        switched = self.selected_domain not in names
        if switched:
            wanted = self._asked_for()
            self.selected_domain = wanted if wanted in names else mail.default_domain(ctx.db, ctx.user.account_id)
            self._close_mailbox_forms()
        if not self.selected_domain:
            self.mailboxes, self.forwarders, self.catch_all = [], [], ""
            return
        try:
            overview = mail.get_mail_overview(ctx.db, ctx.user.account_id, self.selected_domain)
        except ValidationError as exc:  # removed meanwhile: the next load picks another
            self.mailboxes, self.forwarders, self.catch_all = [], [], ""
            self.selected_domain = ""
            self._fail(exc.message_key, **exc.params)
            return
        lang = ctx.lang
        self.mailboxes = [
            MailboxRow(
                id=str(box.id),
                address=box.address,
                quota=fmt.megabytes(box.quota_mb, lang),
                quota_mb=str(box.quota_mb),
                usage=t("mailui.usage_of", lang, used=fmt.megabytes(box.used_mb, lang),
                           quota=fmt.megabytes(box.quota_mb, lang)),
                percent=str(box.used_percent),
            )
            for box in overview.mailboxes
        ]
        self.forwarders = [
            ForwarderRow(id=str(fwd.id), address=fwd.address, destination=fwd.destination)
            for fwd in overview.forwarders
        ]
        self.catch_all = overview.catch_all
        for part in self._parts():
            part._on_loaded()
        if switched:
            self._reset_forms()

    # --- helpers ------------------------------------------------------------------------------

    def _text(self, exc: ValidationError) -> str:
        return t(exc.message_key, self.lang, **exc.params)

    def _close_mailbox_forms(self) -> None:
        for part in self._parts():
            part._on_close_mailbox_forms()

    def _reset_forms(self) -> None:
        """Another domain: the forms start empty."""
        for part in self._parts():
            part._on_domain_changed()

    def _box(self, mailbox_id: object) -> MailboxRow | None:
        target = parse_row_id(mailbox_id)
        return next((b for b in self.mailboxes if target is not None and b.id == str(target)), None)

    def _feedback(self, password: object) -> tuple[str, str]:
        """(message key, text) of the live strength check; the password is not kept."""
        name = self.selected_domain
        key = mail.password_problem(password, user_inputs=(name, name.split(".")[0])) if name else \
            mail.password_problem(password)
        key = key or "mailui.password_ok"
        params = {"max": mail.MAX_PASSWORD_LENGTH} if key == "mail.error.password_too_long" else {}
        return key, t(key, self.lang, **params)

    def _handle_gone(self, exc: ValidationError) -> None:
        """The domain, mailbox or forwarder disappeared meanwhile: say so and reload."""
        self._fail(exc.message_key, **exc.params)
        self._close_mailbox_forms()
        self._reload()

    # --- hooks: what the parts do when the page changes (each overrides those it needs) -------

    def _on_loaded(self) -> None:
        """The domain's lists were read (again)."""

    def _on_close_mailbox_forms(self) -> None:
        """The forms about one mailbox close: another domain, or something vanished."""

    def _on_domain_changed(self) -> None:
        """Another domain is shown: the forms start empty."""

    # --- choosing the domain --------------------------------------------------------------

    def _show_domain(self, name: str) -> None:
        self.selected_domain = name
        self.message = self.error = ""
        self._close_mailbox_forms()
        self._reload()
        self._reset_forms()

    @guard.requires_stepup()
    @guard.automatic
    def load(self):
        """on_load: the domain the address names wins on every load (a link, the back
        button, a page opened again), not only the first."""
        wanted = self._asked_for()
        if wanted and wanted in self.domain_options and wanted != self.selected_domain:
            self._show_domain(wanted)

    @guard.requires_stepup()
    def select_domain(self, name: str):
        if not isinstance(name, str) or name not in self.domain_options or name == self.selected_domain:
            return None
        self._show_domain(name)
        # The address names the domain shown (a reload, a bookmark, a link opens it again).
        return rx.redirect(f"/email?domain={quote(name, safe='')}", replace=True)
