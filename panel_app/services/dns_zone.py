"""A domain's DNS zone: the records, the editor with undo, the zone file.

Reads take the ``account_id`` whose domains may be seen; changes take the acting
``Actor`` and ``now``. Every lookup is scoped to the account (``domains.load_domain``):
another customer's domain (or record) is reported exactly like a missing one
(``NotFound``).

Every change is applied as one unit: the new zone is built in memory, validated as
a whole (``dns_rules`` for the record, ``dns_zone_rules`` for the zone), and only then
written, together with a ``DnsChange`` snapshot of the zone before the change (for
undo) and one audit entry. A refused change writes nothing. Services flush, never
commit.

A stored zone the panel cannot parse (written by another tool) is reported as
``Unreadable``, never as a parsing library's exception.

``get_zone`` (the page's read) is served from the worker's zone cache
(``dns_zone_cache``) when the database's zone version matches; the version is bumped by
the database on every write of the zone's rows, so the writes here need nothing more.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlmodel import Session, col, func, select

from panel_app.models import DnsChange, DnsRecord, Domain
from panel_app.security.permissions import Area
from panel_app.services import audit, dns_names, dns_rules, dns_zone_cache, dns_zone_rules
from panel_app.services.audit import Actor
from panel_app.services.dns_names import APEX
from panel_app.services.dns_rules import CleanRecord, RecordInput
from panel_app.services.domains import ZoneKey, load_domain, reports_unreadable, zone_key, zone_version
from panel_app.services.validation import NotFound, Unreadable, ValidationError

# Used in the synthesized SOA / NS lines of the zone file when the zone has no
# apex NS records of its own (the panel's name servers answer for it then).
DEFAULT_NAMESERVERS = ("ns1.panel.example.", "ns2.panel.example.")
SOA_REFRESH, SOA_RETRY, SOA_EXPIRE, SOA_MINIMUM = 10800, 3600, 1209600, 300

CHANGE_ADD, CHANGE_UPDATE, CHANGE_DELETE = "add", "update", "delete"


# --- display records (plain data for the UI, never SQLModel rows) -----------------------


@dataclass(frozen=True)
class RecordView:
    """One record for the table and, field by field, for the edit form
    (``to_input()`` gives the ``RecordInput`` the form starts from)."""

    id: int
    name: str  # relative, "@" for the apex
    fqdn: str  # full name for people (Unicode)
    rtype: str
    ttl: int
    rdata: str  # stored presentation form, e.g. "10 mail.example.com."
    value: str  # the form's value field: address, target, plain text, CAA value
    priority: int | None = None
    weight: int | None = None
    port: int | None = None
    flags: int | None = None
    tag: str | None = None

    def to_input(self) -> RecordInput:
        return RecordInput(name=self.name, rtype=self.rtype, ttl=self.ttl, value=self.value,
                           priority=self.priority, weight=self.weight, port=self.port,
                           flags=self.flags, tag=self.tag)


@dataclass(frozen=True)
class ChangeView:
    """The change undo would revert. UI text: t(f"dns.change.{action}", rtype=, name=)."""

    id: int
    action: str  # add | update | delete
    rtype: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class RecordProblem:
    """Why a stored record would not be accepted as typed today: a message key and its
    parameters (the page translates it)."""

    message_key: str
    params: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class ZoneView:
    """Shared by every tab that shows the zone (the zone cache): immutable all through."""

    domain: str
    display_name: str
    records: tuple[RecordView, ...]
    last_change: ChangeView | None  # None: nothing to undo
    problems: tuple[RecordProblem | None, ...] = ()  # one per record, None when fine


# --- stored rows ----------------------------------------------------------------------


def _rows(db: Session, domain: Domain | ZoneKey) -> list[DnsRecord]:
    domain_id = domain.domain_id if isinstance(domain, ZoneKey) else domain.id
    return list(db.exec(select(DnsRecord).where(DnsRecord.domain_id == domain_id)
                        .order_by(col(DnsRecord.id))).all())


def _clean(row: DnsRecord) -> CleanRecord:
    return CleanRecord(row.name, row.rtype, row.ttl, row.value)


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _view(row: DnsRecord, origin) -> RecordView:
    return dataclasses.replace(_shown(_clean(row), origin)[0], id=row.id)


@functools.lru_cache(maxsize=8192)
def _shown(clean: CleanRecord, origin) -> tuple[RecordView, RecordProblem | None]:
    """How a stored record shows (id 0) and why it would not be accepted today: a function
    of the record and its zone only, worked out once per worker (every save and page load
    of a zone asks again for the records it did not change)."""
    try:
        form = dns_rules.record_to_input(clean, origin)
    except ValidationError:  # a record not written by this panel: show it as stored
        form = RecordInput(name=clean.name, rtype=clean.rtype, ttl=clean.ttl, value=clean.value)
    view = RecordView(
        id=0,
        name=clean.name,
        fqdn=dns_names.display_name(clean.name, origin),
        rtype=clean.rtype,
        ttl=clean.ttl,
        rdata=clean.value,
        value=str(form.value),
        priority=_int_or_none(form.priority),
        weight=_int_or_none(form.weight),
        port=_int_or_none(form.port),
        flags=_int_or_none(form.flags),
        tag=form.tag if isinstance(form.tag, str) else None,
    )
    try:
        dns_rules.revalidate(clean, origin)
    except ValidationError as exc:  # Unreadable too: "dns.error.value_invalid"
        return view, RecordProblem(exc.message_key, tuple(sorted(exc.params.items())))
    return view, None


def _last_change(db: Session, domain: Domain | ZoneKey) -> DnsChange | None:
    domain_id = domain.domain_id if isinstance(domain, ZoneKey) else domain.id
    return db.exec(
        select(DnsChange)
        .where(DnsChange.domain_id == domain_id, col(DnsChange.undone_at).is_(None))
        .order_by(col(DnsChange.id).desc())
        .limit(1)  # without it the ORM loads every change (each with its snapshot) to keep one
    ).first()


def _change_view(change: DnsChange | None) -> ChangeView | None:
    if change is None:
        return None
    action, rtype, name = (change.summary.split(" ", 2) + ["", "", ""])[:3]
    return ChangeView(id=change.id, action=action, rtype=rtype, name=name, created_at=change.created_at)


# --- reads ----------------------------------------------------------------------------


def _read_zone(db: Session, key: ZoneKey) -> ZoneView:
    origin = dns_names.zone_origin(key.name)
    rows = sorted(_rows(db, key), key=lambda r: dns_zone_rules.sort_key(_clean(r)))
    return ZoneView(
        domain=key.name,
        display_name=dns_names.display_name(APEX, origin),
        records=tuple(_view(row, origin) for row in rows),
        last_change=_change_view(_last_change(db, key)),
        problems=tuple(_shown(_clean(row), origin)[1] for row in rows),
    )


@reports_unreadable()
def get_zone(db: Session, account_id: int, domain_name: str) -> ZoneView:
    """The account's zone as the page shows it; the worker's cached one while the
    database holds the same zone version (after the account's domain was found: the
    cache never decides who may see a zone)."""
    key = zone_key(db, account_id, domain_name)
    return dns_zone_cache.ZONES.read(db, key, lambda: _read_zone(db, key),
                                     lambda: zone_version(db, key.domain_id))


def _serial(db: Session, domain: Domain) -> int:
    """YYYYMMDDnn from the day of the latest change (an undo counts as a change)."""
    created, undone = db.exec(select(func.max(DnsChange.created_at), func.max(DnsChange.undone_at))
                              .where(DnsChange.domain_id == domain.id)).one()
    moments = [m for m in (created, undone) if m is not None]
    if not moments:
        return int(domain.registered_on.strftime("%Y%m%d")) * 100
    latest = max(moments)
    latest_day = latest.date()
    start = datetime.combine(latest_day, time.min, tzinfo=latest.tzinfo)  # as the database returns it
    end = start + timedelta(days=1)
    same_day = sum(db.exec(select(func.count()).where(DnsChange.domain_id == domain.id, column >= start,
                                                      column < end)).one()
                   for column in (col(DnsChange.created_at), col(DnsChange.undone_at)))
    return int(latest_day.strftime("%Y%m%d")) * 100 + min(same_day, 99)


@reports_unreadable()
def zone_file(db: Session, account_id: int, domain_name: str) -> str:
    """The zone in RFC 1035 master-file format, with a synthesized SOA."""
    domain = load_domain(db, account_id, domain_name)
    origin = dns_names.zone_origin(domain.name)
    records = sorted((_clean(r) for r in _rows(db, domain)), key=dns_zone_rules.sort_key)
    apex_ns = [r.value for r in records if r.name == APEX and r.rtype == "NS"]
    nameservers = apex_ns or list(DEFAULT_NAMESERVERS)
    fqdn = origin.to_text()
    lines = [
        f"; Zone file for {fqdn}",
        f"$ORIGIN {fqdn}",
        f"$TTL {dns_rules.DEFAULT_TTL}",
        f"@\t{dns_rules.DEFAULT_TTL}\tIN\tSOA\t{nameservers[0]} hostmaster.{fqdn} "
        f"{_serial(db, domain)} {SOA_REFRESH} {SOA_RETRY} {SOA_EXPIRE} {SOA_MINIMUM}",
    ]
    if not apex_ns:
        lines += [f"@\t{dns_rules.DEFAULT_TTL}\tIN\tNS\t{ns}" for ns in DEFAULT_NAMESERVERS]
    lines += [f"{r.name}\t{r.ttl}\tIN\t{r.rtype}\t{r.value}" for r in records]
    return "\n".join(lines) + "\n"


# --- DNS changes ------------------------------------------------------------------------


def _snapshot(records: list[CleanRecord]) -> str:
    return json.dumps([{"name": r.name, "rtype": r.rtype, "ttl": r.ttl, "value": r.value}
                       for r in sorted(records, key=dns_zone_rules.sort_key)])


def _replace_zone(db: Session, domain: Domain, rows: list[DnsRecord], records: list[CleanRecord]) -> None:
    """Make the stored zone equal ``records``, keeping rows (and ids) that stay."""
    wanted: dict[tuple, int] = {}
    for record in records:
        key = (record.name, record.rtype, record.ttl, record.value)
        wanted[key] = wanted.get(key, 0) + 1
    for row in rows:
        key = (row.name, row.rtype, row.ttl, row.value)
        if wanted.get(key, 0) > 0:
            wanted[key] -= 1
        else:
            db.delete(row)
    for (name, rtype, ttl, value), count in wanted.items():
        for _ in range(count):
            db.add(DnsRecord(domain_id=domain.id, name=name, rtype=rtype, ttl=ttl, value=value))


def _audit_detail(record: CleanRecord) -> dict:
    return {"name": record.name, "rtype": record.rtype, "ttl": record.ttl, "value": record.value[:200]}


def _store_snapshot(
    db: Session, actor: Actor, domain: Domain, *, now: datetime, before: list[CleanRecord],
    summary: str,
) -> None:
    db.add(DnsChange(domain_id=domain.id, created_at=now, actor_user_id=actor.user_id,
                     summary=summary[:300], snapshot=_snapshot(before)))


def _record_id(record_id: object) -> int:
    if isinstance(record_id, bool) or not isinstance(record_id, int):
        raise NotFound("record", "dns.error.record_not_found")
    return record_id


@reports_unreadable()
def add_record(
    db: Session, actor: Actor, domain_name: str, record: RecordInput, *, now: datetime
) -> RecordView:
    domain = load_domain(db, actor.account_id, domain_name, for_update=True)
    origin = dns_names.zone_origin(domain.name)
    clean = dns_rules.validate_record(record, origin)
    rows = _rows(db, domain)
    before = [_clean(r) for r in rows]
    after = dns_zone_rules.harmonize_ttl(before, clean) + [clean]
    dns_zone_rules.check_zone(after, origin, focus=clean)

    _store_snapshot(db, actor, domain, now=now, before=before,
                    summary=f"{CHANGE_ADD} {clean.rtype} {clean.name}")
    for row in rows:  # the rest of its RRset takes the new TTL
        if (row.name, row.rtype) == dns_zone_rules.rrset_key(clean):
            row.ttl = clean.ttl
            db.add(row)
    new_row = DnsRecord(domain_id=domain.id, name=clean.name, rtype=clean.rtype, ttl=clean.ttl,
                        value=clean.value)
    db.add(new_row)
    audit.record(db, actor, Area.DOMAINS, "dns_record_added", now=now, target=domain.name,
                 **_audit_detail(clean))
    db.flush()
    return _view(new_row, origin)


@reports_unreadable()
def update_record(
    db: Session, actor: Actor, domain_name: str, record_id: int, record: RecordInput, *, now: datetime
) -> RecordView:
    domain = load_domain(db, actor.account_id, domain_name, for_update=True)
    record_id = _record_id(record_id)
    origin = dns_names.zone_origin(domain.name)
    rows = _rows(db, domain)
    target_row = next((r for r in rows if r.id == record_id), None)
    if target_row is None:
        raise NotFound("record", "dns.error.record_not_found")
    clean = dns_rules.validate_record(record, origin)
    before = [_clean(r) for r in rows]
    others = [_clean(r) for r in rows if r.id != record_id]
    after = dns_zone_rules.harmonize_ttl(others, clean) + [clean]
    dns_zone_rules.check_zone(after, origin, focus=clean)

    old = _clean(target_row)
    _store_snapshot(db, actor, domain, now=now, before=before,
                    summary=f"{CHANGE_UPDATE} {clean.rtype} {clean.name}")
    for row in rows:
        if row.id != record_id and (row.name, row.rtype) == dns_zone_rules.rrset_key(clean):
            row.ttl = clean.ttl
            db.add(row)
    target_row.name, target_row.rtype = clean.name, clean.rtype
    target_row.ttl, target_row.value = clean.ttl, clean.value
    db.add(target_row)
    audit.record(db, actor, Area.DOMAINS, "dns_record_updated", now=now, target=domain.name,
                 **_audit_detail(clean), old_name=old.name, old_rtype=old.rtype, old_ttl=old.ttl,
                 old_value=old.value[:200])
    db.flush()
    return _view(target_row, origin)


@reports_unreadable()
def delete_record(db: Session, actor: Actor, domain_name: str, record_id: int, *, now: datetime) -> None:
    domain = load_domain(db, actor.account_id, domain_name, for_update=True)
    record_id = _record_id(record_id)
    origin = dns_names.zone_origin(domain.name)
    rows = _rows(db, domain)
    target_row = next((r for r in rows if r.id == record_id), None)
    if target_row is None:
        raise NotFound("record", "dns.error.record_not_found")
    before = [_clean(r) for r in rows]
    gone = _clean(target_row)
    # Removing a record can break the zone too: a target may now fall under a
    # wildcard CNAME.
    try:
        dns_zone_rules.check_zone([_clean(r) for r in rows if r.id != record_id], origin)
    except Unreadable:
        raise
    except ValidationError as exc:
        raise ValidationError("record", exc.message_key, **exc.params) from None

    _store_snapshot(db, actor, domain, now=now, before=before,
                    summary=f"{CHANGE_DELETE} {gone.rtype} {gone.name}")
    db.delete(target_row)
    audit.record(db, actor, Area.DOMAINS, "dns_record_deleted", now=now, target=domain.name,
                 **_audit_detail(gone))
    db.flush()


@reports_unreadable("dns.error.undo_impossible")
def undo_last_change(db: Session, actor: Actor, domain_name: str, *, now: datetime) -> ChangeView:
    """Restore the zone as it was before the latest change not yet undone.
    Repeated calls walk further back. Returns the change that was undone."""
    domain = load_domain(db, actor.account_id, domain_name, for_update=True)
    origin = dns_names.zone_origin(domain.name)
    change = _last_change(db, domain)
    if change is None:
        raise ValidationError("undo", "dns.error.nothing_to_undo")
    try:
        restored = [CleanRecord(str(r["name"]), str(r["rtype"]), int(r["ttl"]), str(r["value"]))
                    for r in json.loads(change.snapshot)]
    except (ValueError, TypeError, KeyError):
        raise ValidationError("undo", "dns.error.undo_impossible") from None
    try:
        dns_zone_rules.check_zone(restored, origin)
    except Unreadable:
        raise
    except ValidationError:
        raise ValidationError("undo", "dns.error.undo_impossible") from None

    _replace_zone(db, domain, _rows(db, domain), restored)
    change.undone_at = now
    db.add(change)
    view = _change_view(change)
    audit.record(db, actor, Area.DOMAINS, "dns_change_undone", now=now, target=domain.name,
                 change_id=change.id, change=change.summary)
    return view
