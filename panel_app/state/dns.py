"""/domains/[domain]: one domain's header, transfer lock and DNS zone.

The domain comes from the page URL; every service call is scoped to the signed-in
user's account, so another customer's domain looks exactly like a missing one.

The page holds the header and the zone (``DnsState``); the auth code and the record
form are its parts (``state/dns_parts.py``: ``DnsAuthCodeState``,
``DnsRecordFormState``): substates with the same guard, wiped with the page, told of
the page's changes through the hooks below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import unquote

import reflex as rx

from panel_app.i18n import formatting as fmt
from panel_app.i18n import t
from panel_app.security.permissions import Area
from panel_app.services import dns_names, dns_zone, domains
from panel_app.services.validation import Unreadable, ValidationError, parse_row_id
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.gated import GatedPage


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
    # The auth code and the record form are parts of the page (state/dns_parts.py):
    # substates guarded and wiped with it.

    # --- guard hooks ----------------------------------------------------------------------

    def _accept(self, ctx: guard.GuardContext) -> None:
        # Another domain in the same tab: forget the last one's data (and its auth code).
        if self.loaded and _route_domain(self.router.url.path) != self._route_key:
            self._wipe()
        super()._accept(ctx)
        for part in self._parts():
            part._on_accepted(ctx)

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
        for part in self._parts():
            part._on_not_found()

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
        # The zone may be the worker's shared, cached one: read from it, never change it.
        origin = dns_names.zone_origin(zone.domain)
        rows = []
        for record, problem in zip(zone.records, zone.problems, strict=True):
            rows.append(RecordRow(
                id=str(record.id),
                name=record.name,
                fqdn=record.fqdn,
                rtype=record.rtype,
                ttl=str(record.ttl),
                value=record.rdata,
                problem=self._problem_text(problem, lang),
            ))
        self.records = rows
        if any(row.problem for row in rows):
            self.zone_error = t("dnsui.zone_has_problems", lang)
        self.undo_label = self._change_text(zone.last_change, origin, lang)

    @staticmethod
    def _problem_text(problem: dns_zone.RecordProblem | None, lang: str) -> str:
        """Why a stored record would not be accepted as typed today ("" when fine)."""
        return "" if problem is None else t(problem.message_key, lang, **dict(problem.params))

    @staticmethod
    def _change_text(change: dns_zone.ChangeView | None, origin, lang: str) -> str:
        if change is None or change.action not in (dns_zone.CHANGE_ADD, dns_zone.CHANGE_UPDATE,
                                                   dns_zone.CHANGE_DELETE):
            return ""
        name = _shown_name(change.name, origin)
        what = t(f"dns.change.{change.action}", lang, rtype=change.rtype, name=name)
        return t("dnsui.undo.what", lang, change=what, when=guard.current().moment(change.created_at))

    # --- helpers -------------------------------------------------------------------------------

    def _usable(self) -> bool:
        return bool(self.domain_name) and not self.not_found

    # --- hooks: what the parts do when the page changes (each overrides those it needs) -------

    def _on_accepted(self, ctx: guard.GuardContext) -> None:
        """Every event of the page the guard let through, after the page loaded (when it may)."""

    def _on_not_found(self) -> None:
        """The domain is not the account's (or no longer): nothing of it may stay."""

    def _on_record_deleted(self, record_id: str) -> None:
        """The record ``record_id`` was deleted."""

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
        for part in self._parts():
            part._on_record_deleted(str(target))
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
