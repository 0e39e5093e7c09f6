"""The parts of the /domains/[domain] page (``DnsState``, state/dns.py): the transfer
auth code and the add/edit form of one record, each a substate of the page with its
guard, wiped with it.

The auth code is sensitive even inside a granted page: it is fetched only on an
explicit click, each reveal is audited (by the service) and mailed to the account
owner, and it is never kept in the tab's state: the reveal writes it straight
into the page (``reveal_once``), which clears it after ``AUTH_CODE_VISIBLE_SECONDS``.
The state only knows that it is shown, so a reconnect, another event or Redis
never hands it out again.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import ClassVar

import reflex as rx

from panel_app.i18n import t
from panel_app.security.permissions import Area
from panel_app.security.policy import POLICY
from panel_app.services import accounts, dns_rules, dns_zone, domains
from panel_app.services.dns_rules import RECORD_TYPES, RecordInput
from panel_app.services.notifications import notify_user
from panel_app.services.validation import Unreadable, ValidationError, parse_row_id
from panel_app.state import guard
from panel_app.state.dns import DnsState
from panel_app.state.gated import PagePart, reveal_once
from panel_app.tasks import spawn

AUTH_CODE_VISIBLE_SECONDS = POLICY.auth_code_visible_seconds
AUTH_CODE_ELEMENT_ID = "auth-code"
RECORD_FORM_ID = "record-form"
RECORD_FORM_FIRST_FIELD_ID = "dns-type"
RECORD_FORM_STATUS_ID = "record-form-status"


class DnsAuthCodeState(PagePart, DnsState):
    """The transfer auth code: reveal (audited, mailed to the owner), hide, regenerate."""

    area: ClassVar[Area] = Area.DOMAINS

    # The auth code itself is never here (see the module docstring), only whether it shows.
    auth_code_shown: bool = False
    auth_code_seconds_left: int = 0
    auth_code_stamp: int = 0
    auth_error: str = ""
    _auth_code_shown_at: datetime | None = None

    def _on_accepted(self, ctx: guard.GuardContext) -> None:
        self._expire_auth_code(ctx.now)

    def _on_not_found(self) -> None:
        self._hide_auth_code()

    def _expire_auth_code(self, now: datetime) -> None:
        shown_at = self._auth_code_shown_at
        if not self.auth_code_shown or shown_at is None:
            if self.auth_code_shown or shown_at is not None:
                self._hide_auth_code()
            return
        left = AUTH_CODE_VISIBLE_SECONDS - int((now - shown_at).total_seconds())
        if left <= 0 or left > AUTH_CODE_VISIBLE_SECONDS:  # time up (or the clock went back)
            self._hide_auth_code()
        else:
            self.auth_code_seconds_left = left

    def _hide_auth_code(self) -> None:
        self.auth_code_shown = False
        self.auth_code_seconds_left = 0
        self._auth_code_shown_at = None

    @guard.requires_stepup()
    def reveal_auth_code(self):
        ctx = guard.current()
        if not self._usable():
            return
        self.auth_error = ""
        try:
            code = domains.reveal_auth_code(ctx.db, ctx.actor, self.domain_name, now=ctx.now)
        except ValidationError as exc:
            self._hide_auth_code()
            self.auth_error = t(exc.message_key, ctx.lang, **exc.params)
            return
        self.auth_code_shown = True
        self._auth_code_shown_at = ctx.now
        self.auth_code_seconds_left = AUTH_CODE_VISIBLE_SECONDS
        self.auth_code_stamp = int(ctx.now.timestamp() * 1000)
        owner_id = accounts.account_owner_id(ctx.db, ctx.user)
        if owner_id is not None:
            spawn(notify_user(owner_id, "auth_code_revealed", domain=self.display_name or self.domain_name,
                              actor=ctx.actor.label))
        return reveal_once(AUTH_CODE_ELEMENT_ID, code, seconds=AUTH_CODE_VISIBLE_SECONDS)

    @guard.requires_stepup()
    @guard.automatic  # also sent by the countdown at zero
    def hide_auth_code(self):
        self._hide_auth_code()

    @guard.requires_stepup()
    def regenerate_auth_code(self):
        """A new code replaces the old one. It is not shown here: showing it is a
        reveal like any other (recorded, mailed to the owner)."""
        ctx = guard.current()
        if not self._usable():
            return
        self._hide_auth_code()
        self.auth_error = ""
        try:
            domains.regenerate_auth_code(ctx.db, ctx.actor, self.domain_name, now=ctx.now)
        except ValidationError as exc:
            self.auth_error = t(exc.message_key, ctx.lang, **exc.params)
            return
        self._say("dnsui.auth.regenerated")


CAA_TAGS = dns_rules.CAA_TAGS
# Form fields of a record, as the services name them (an error's ``field``).
FORM_FIELDS = ("name", "rtype", "ttl", "value", "priority", "weight", "port", "flags", "tag")
# Which of the optional fields each type uses.
TYPE_FIELDS = {
    "MX": ("priority",),
    "SRV": ("priority", "weight", "port"),
    "CAA": ("flags", "tag"),
}
_KEEP_CHARS = {"value": 5000}  # what is kept of a typed field for the form (others: 1000)


def _typed(value: object, field: str) -> str:
    """What the user typed into a field, as text to show again (never a password)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return ""
    return value[:_KEEP_CHARS.get(field, 1000)]


def _text(value: object) -> str:
    return "" if value is None else str(value)


class DnsRecordFormState(PagePart, DnsState):
    """The add/edit form of one record."""

    area: ClassVar[Area] = Area.DOMAINS

    # The add/edit form: what was typed stays on error; form_key remounts it after success.
    editing_id: str = ""
    form_rtype: str = "A"
    form_name: str = ""
    form_ttl: str = str(dns_rules.DEFAULT_TTL)
    form_value: str = ""
    form_priority: str = ""
    form_weight: str = ""
    form_port: str = ""
    form_flags: str = ""
    form_tag: str = "issue"
    name_error: str = ""
    rtype_error: str = ""
    ttl_error: str = ""
    value_error: str = ""
    priority_error: str = ""
    weight_error: str = ""
    port_error: str = ""
    flags_error: str = ""
    tag_error: str = ""
    form_error: str = ""
    # "Saved": shown in the form, where the user is (the page's own message is at its top).
    form_message: str = ""
    form_key: int = 0

    def _on_record_deleted(self, record_id: str) -> None:
        if self.editing_id == record_id:
            self._reset_form()

    def _clear_form_errors(self) -> None:
        for field in FORM_FIELDS:
            setattr(self, f"{field}_error", "")
        self.form_error = self.form_message = ""

    def _reset_form(self, rtype: str = "A") -> None:
        self.editing_id = ""
        self.form_rtype = rtype
        self.form_name = self.form_value = ""
        self.form_ttl = str(dns_rules.DEFAULT_TTL)
        self.form_priority = self.form_weight = self.form_port = self.form_flags = ""
        self.form_tag = "issue"
        self._clear_form_errors()
        self.form_key += 1

    @guard.requires_stepup()
    def start_add(self):
        self._reset_form()

    @guard.requires_stepup()
    def start_edit(self, record_id: str):
        ctx = guard.current()
        target = parse_row_id(record_id)
        if target is None or not self._usable():
            return
        try:
            zone = dns_zone.get_zone(ctx.db, ctx.user.account_id, self.domain_name)
        except ValidationError:  # the domain is gone, or its zone unreadable
            self._reload()
            return
        record = next((r for r in zone.records if r.id == target), None)
        if record is None:
            self._fail("dns.error.record_not_found")
            self._reload()
            return
        self._reset_form(record.rtype if record.rtype in RECORD_TYPES else "A")
        self.editing_id = str(record.id)
        self.form_name = record.name
        self.form_ttl = str(record.ttl)
        self.form_value = record.value
        self.form_priority = _text(record.priority)
        self.form_weight = _text(record.weight)
        self.form_port = _text(record.port)
        self.form_flags = _text(record.flags)
        self.form_tag = record.tag if record.tag in CAA_TAGS else "issue"
        # The form is below the records: bring it to the user, focus in its first field.
        return self._show_form(focus_id=RECORD_FORM_FIRST_FIELD_ID)

    def _show_form(self, *, focus_id: str = "", inside_id: str = ""):
        """Scroll the form (or the element ``inside_id`` in it) into view once the browser
        shows this version of it (``form_key``), and focus ``focus_id`` (assets/panel.js)."""
        form = f'#{RECORD_FORM_ID}[data-form-key="{self.form_key}"]'
        target = f"{form} #{inside_id}" if inside_id else form
        focus = f"{form} #{focus_id}" if focus_id else ""
        return rx.call_script(f"window.panelShowInPlace({json.dumps(target)}, {json.dumps(focus)})")

    @guard.requires_stepup()
    def cancel_edit(self):
        self._reset_form()

    @guard.requires_stepup()
    def set_form_type(self, rtype: str):
        if isinstance(rtype, str) and rtype in RECORD_TYPES:
            self.form_rtype = rtype
            self.rtype_error = ""

    @guard.requires_stepup()
    def save_record(self, form_data: dict):
        ctx = guard.current()
        if not isinstance(form_data, dict) or not self._usable():
            return
        rtype = form_data.get("rtype")
        if not isinstance(rtype, str) or not rtype:
            rtype = self.form_rtype
        typed = {field: _typed(form_data.get(field), field) for field in FORM_FIELDS if field != "rtype"}
        # Keep what was typed, so an error never empties the form.
        if isinstance(rtype, str) and rtype.strip().upper() in RECORD_TYPES:
            self.form_rtype = rtype.strip().upper()
        for field, value in typed.items():
            setattr(self, f"form_{field}", value)
        if self.form_tag not in CAA_TAGS:
            self.form_tag = "issue"
        self._clear_form_errors()

        wanted = TYPE_FIELDS.get(self.form_rtype, ())
        optional = {f: (form_data.get(f) if f in wanted else None)
                    for f in ("priority", "weight", "port", "flags", "tag")}
        record = RecordInput(name=form_data.get("name", ""), rtype=rtype, ttl=form_data.get("ttl", ""),
                             value=form_data.get("value", ""), **optional)
        try:
            if self.editing_id:
                target = parse_row_id(self.editing_id)
                dns_zone.update_record(ctx.db, ctx.actor, self.domain_name, target, record, now=ctx.now)
            else:
                dns_zone.add_record(ctx.db, ctx.actor, self.domain_name, record, now=ctx.now)
        except Unreadable:
            self.form_error = t("dnsui.zone_unreadable", ctx.lang)
            return
        except ValidationError as exc:
            if exc.message_key == "dns.error.value_invalid" and self._valid_alone(record):
                # The new record is fine; a stored one the zone check cannot parse is not.
                self.form_error = t("dnsui.zone_blocks_change", ctx.lang)
            else:
                self._show_form_error(exc)
            return
        done = "dnsui.updated" if self.editing_id else "dnsui.added"
        self._reset_form(self.form_rtype)
        self.message = self.error = ""
        self.form_message = t(done, ctx.lang)
        self._reload()
        return self._show_form(inside_id=RECORD_FORM_STATUS_ID)

    def _valid_alone(self, record: RecordInput) -> bool:
        try:
            dns_rules.validate_record(record, self.domain_name)
        except ValidationError:
            return False
        return True

    def _show_form_error(self, exc: ValidationError) -> None:
        text = t(exc.message_key, self.lang, **exc.params)
        if exc.field in FORM_FIELDS:
            setattr(self, f"{exc.field}_error", text)
        else:  # the domain or record is gone, or the zone as a whole
            self.form_error = text
            if isinstance(exc, domains.NotFound):
                self._reload()
