"""/domains/[domain]: one domain's DNS zone, transfer lock and auth code.

The domain comes from the page URL; every service call is scoped to the signed-in
user's account, so another customer's domain looks exactly like a missing one.

The auth code is sensitive even inside a granted page: it is fetched only on an
explicit click, each reveal is audited (by the service) and mailed to the account
owner, and it is never kept in the tab's state: the reveal writes it straight
into the page (``reveal_once``), which clears it after ``AUTH_CODE_VISIBLE_SECONDS``.
The state only knows that it is shown, so a reconnect, another event or Redis
never hands it out again.

The page holds the header and the zone (``DnsState``); the auth code and the record
form are its parts (``DnsAuthCodeState``, ``DnsRecordFormState``): substates with
the same guard, wiped with the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from urllib.parse import unquote

import reflex as rx

from panel_app.i18n import formatting as fmt
from panel_app.i18n import t
from panel_app.security.permissions import Area
from panel_app.security.policy import POLICY
from panel_app.services import accounts, dns_names, dns_rules, dns_zone, domains
from panel_app.services.dns_rules import RECORD_TYPES, CleanRecord, RecordInput
from panel_app.services.notifications import notify_user
from panel_app.services.validation import Unreadable, ValidationError, parse_row_id
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.gated import GatedPage, PagePart, reveal_once
from panel_app.tasks import spawn

AUTH_CODE_VISIBLE_SECONDS = POLICY.auth_code_visible_seconds
AUTH_CODE_ELEMENT_ID = "auth-code"
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


def _route_domain(path: object) -> str:
    """The domain in ``/domains/<domain>`` (also behind a frontend path prefix)."""
    if not isinstance(path, str):
        return ""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if len(parts) >= 2 and parts[-2] == "domains":
        return unquote(parts[-1])[:300]
    return ""


def _shown_name(name: str, origin) -> str:
    """A record name for people; as stored when the rules cannot read it."""
    try:
        return dns_names.display_name(name, origin)
    except ValidationError:
        return name


@dataclass(frozen=True, slots=True)
class RecordRow:
    """One record of the zone as the page shows it."""

    id: str
    name: str
    fqdn: str
    rtype: str
    ttl: str
    value: str  # the record data as stored
    problem: str  # why it would not be accepted today ("" when fine)


class DnsState(GatedPage, AuthState):
    area: ClassVar[Area] = Area.DOMAINS

    # The domain (ASCII key from the URL) and its header.
    domain_name: str = ""
    _route_key: str = ""  # the domain as the URL names it, to notice a change of page
    not_found: bool = False
    display_name: str = ""
    status: str = ""
    status_label: str = ""
    expires: str = ""
    auto_renew: bool = False
    transfer_lock: bool = False
    confirm_unlock: bool = False
    # The zone.
    records: list[RecordRow] = []
    zone_error: str = ""
    undo_label: str = ""
    zone_text: str = ""
    # The auth code and the record form are parts of the page (DnsAuthCodeState,
    # DnsRecordFormState, below): substates guarded and wiped with it.

    # --- guard hooks ----------------------------------------------------------------------

    def _accept(self, ctx: guard.GuardContext) -> None:
        # Another domain in the same tab: forget the last one's data (and its auth code).
        if self.loaded and _route_domain(self.router.url.path) != self._route_key:
            self._wipe()
        super()._accept(ctx)
        auth_code = self._part(DnsAuthCodeState)
        if auth_code is not None:
            auth_code._expire_auth_code(ctx.now)

    def _load(self, ctx: guard.GuardContext) -> None:
        self._route_key = self.domain_name = _route_domain(self.router.url.path)
        try:
            summary = domains.get_domain(ctx.db, ctx.user.account_id, self.domain_name)
        except ValidationError:
            self._show_not_found()
            return
        lang = ctx.lang
        self.not_found = False
        self.domain_name = summary.name
        self.display_name = summary.display_name
        self.status = summary.status
        known = summary.status in ("active", "suspended", "cancelled")
        self.status_label = t(f"status.{summary.status}", lang) if known else summary.status
        self.expires = fmt.day(summary.expires_on, lang)
        self.auto_renew = summary.auto_renew
        self.transfer_lock = summary.transfer_lock
        self._load_zone(ctx)

    def _show_not_found(self) -> None:
        self.not_found = True
        self.display_name = self.status = self.status_label = self.expires = ""
        self.undo_label = self.zone_text = ""
        self.records = []
        auth_code = self._part(DnsAuthCodeState)
        if auth_code is not None:
            auth_code._hide_auth_code()

    def _load_zone(self, ctx: guard.GuardContext) -> None:
        lang = ctx.lang
        self.zone_error = ""
        try:
            zone = dns_zone.get_zone(ctx.db, ctx.user.account_id, self.domain_name)
        except Unreadable:
            # A stored zone this panel cannot read: say so instead of failing the page.
            self.records = []
            self.undo_label = ""
            self.zone_error = t("dnsui.zone_unreadable", lang)
            return
        except ValidationError:
            self._show_not_found()
            return
        origin = dns_names.zone_origin(zone.domain)
        rows = []
        for record in zone.records:
            rows.append(RecordRow(
                id=str(record.id),
                name=record.name,
                fqdn=record.fqdn,
                rtype=record.rtype,
                ttl=str(record.ttl),
                value=record.rdata,
                problem=self._record_problem(record, origin, lang),
            ))
        self.records = rows
        if any(row.problem for row in rows):
            self.zone_error = t("dnsui.zone_has_problems", lang)
        self.undo_label = self._change_text(zone.last_change, origin, lang)

    @staticmethod
    def _record_problem(record: dns_zone.RecordView, origin, lang: str) -> str:
        """Why a stored record would not be accepted as typed today ("" when fine)."""
        try:
            dns_rules.revalidate(CleanRecord(record.name, record.rtype, record.ttl, record.rdata), origin)
        except ValidationError as exc:  # Unreadable too: "dns.error.value_invalid"
            return t(exc.message_key, lang, **exc.params)
        return ""

    @staticmethod
    def _change_text(change: dns_zone.ChangeView | None, origin, lang: str) -> str:
        if change is None or change.action not in (dns_zone.CHANGE_ADD, dns_zone.CHANGE_UPDATE,
                                                   dns_zone.CHANGE_DELETE):
            return ""
        name = _shown_name(change.name, origin)
        what = t(f"dns.change.{change.action}", lang, rtype=change.rtype, name=name)
        return t("dnsui.undo.what", lang, change=what, when=fmt.moment(change.created_at, lang))

    # --- helpers -------------------------------------------------------------------------------

    def _usable(self) -> bool:
        return bool(self.domain_name) and not self.not_found

    # --- transfer lock ------------------------------------------------------------------------

    @guard.requires_stepup()
    def change_transfer_lock(self, locked: bool):
        """The switch: turning the lock on applies at once; off asks first."""
        if not isinstance(locked, bool) or not self._usable():
            return
        if locked:
            self._set_lock(True)
        else:
            self.confirm_unlock = True

    @guard.requires_stepup()
    def confirm_unlock_transfer(self):
        if not self._usable():
            return
        self.confirm_unlock = False
        self._set_lock(False)

    @guard.requires_stepup()
    def cancel_unlock(self):
        self.confirm_unlock = False

    def _set_lock(self, locked: bool) -> None:
        ctx = guard.current()
        try:
            summary = domains.set_transfer_lock(ctx.db, ctx.actor, self.domain_name, locked, now=ctx.now)
        except ValidationError as exc:
            self._fail(exc.message_key, **exc.params)
            self._reload()
            return
        self.transfer_lock = summary.transfer_lock
        self._say("dnsui.lock.turned_on" if summary.transfer_lock else "dnsui.lock.turned_off")

    # --- delete, undo, zone file ------------------------------------------------------------

    @guard.requires_stepup()
    def delete_record(self, record_id: str):
        ctx = guard.current()
        target = parse_row_id(record_id)
        if target is None or not self._usable():
            return
        try:
            dns_zone.delete_record(ctx.db, ctx.actor, self.domain_name, target, now=ctx.now)
        except Unreadable as exc:
            self._fail(exc.message_key)
            return
        except ValidationError as exc:
            self._fail(exc.message_key, **exc.params)
            self._reload()
            return
        form = self._part(DnsRecordFormState)
        if form is not None and form.editing_id == str(target):
            form._reset_form()
        self._say("dnsui.deleted")
        self._reload()

    @guard.requires_stepup()
    def undo_last_change(self):
        ctx = guard.current()
        if not self._usable():
            return
        try:
            change = dns_zone.undo_last_change(ctx.db, ctx.actor, self.domain_name, now=ctx.now)
        except Unreadable as exc:
            self._fail(exc.message_key)
            return
        except ValidationError as exc:
            self._fail(exc.message_key, **exc.params)
            self._reload()
            return
        name = _shown_name(change.name, self.domain_name)
        what = t(f"dns.change.{change.action}", ctx.lang, rtype=change.rtype, name=name) \
            if change.action in (dns_zone.CHANGE_ADD, dns_zone.CHANGE_UPDATE, dns_zone.CHANGE_DELETE) else ""
        self._say("dnsui.undo.done", change=what)
        if self.zone_text:
            self.zone_text = dns_zone.zone_file(ctx.db, ctx.user.account_id, self.domain_name)
        self._reload()

    @guard.requires_stepup()
    def show_zone_file(self):
        ctx = guard.current()
        if not self._usable():
            return
        try:
            self.zone_text = dns_zone.zone_file(ctx.db, ctx.user.account_id, self.domain_name)
        except ValidationError as exc:
            self._fail(exc.message_key, **exc.params)

    @guard.requires_stepup()
    def hide_zone_file(self):
        self.zone_text = ""

    @guard.requires_stepup()
    def download_zone_file(self):
        ctx = guard.current()
        if not self._usable():
            return None
        try:
            text = dns_zone.zone_file(ctx.db, ctx.user.account_id, self.domain_name)
        except ValidationError as exc:
            self._fail(exc.message_key, **exc.params)
            return None
        return rx.download(data=text.encode("utf-8"), filename=f"{self.domain_name}.zone")


class DnsAuthCodeState(PagePart, DnsState):
    """The transfer auth code: reveal (audited, mailed to the owner), hide, regenerate."""

    area: ClassVar[Area] = Area.DOMAINS

    # The auth code itself is never here (see the module docstring), only whether it shows.
    auth_code_shown: bool = False
    auth_code_seconds_left: int = 0
    auth_code_stamp: int = 0
    auth_error: str = ""
    _auth_code_shown_at: datetime | None = None

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
    form_key: int = 0

    def _clear_form_errors(self) -> None:
        for field in FORM_FIELDS:
            setattr(self, f"{field}_error", "")
        self.form_error = ""

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
        self._say("dnsui.updated" if self.editing_id else "dnsui.added")
        self._reset_form(self.form_rtype)
        self._reload()

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
