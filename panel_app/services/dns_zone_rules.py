"""DNS zone rules: what must hold between the records of one zone, and its order.

Pure functions, no database. The zone service (``services.dns_zone``) calls
``check_zone`` for the whole zone after a change (each record already passed
``dns_rules.validate_record``), before anything is flushed.

Every public function raises the panel's own errors only (``ValidationError``, and
``Unreadable`` for data dnspython or IDNA cannot parse), never a library's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import dns.name
import dns.rdata

from panel_app.services.dns_names import APEX, display_name, own_errors, relative_name, zone_origin
from panel_app.services.dns_rules import RECORD_TYPES, CleanRecord, parse_rdata
from panel_app.services.validation import ValidationError

MAX_ZONE_RECORDS = 500
# Types whose target must be a real host, never an alias (RFC 2181 10.3, RFC 2782).
TARGET_TYPES = ("MX", "NS", "SRV")


def _target_of(rtype: str, rdata: dns.rdata.Rdata) -> dns.name.Name | None:
    if rtype == "MX":
        return rdata.exchange
    if rtype in ("NS", "SRV"):
        return rdata.target
    return None


def _alias_at(relative: str, by_name: dict[str, list[CleanRecord]]) -> bool:
    """Does ``relative`` resolve to a CNAME in this zone, directly or by a wildcard?"""
    if relative in by_name:
        return any(r.rtype == "CNAME" for r in by_name[relative])
    if relative == APEX:
        return False
    names = list(by_name)
    if any(other.endswith("." + relative) for other in names):
        return False  # an empty non-terminal: wildcards do not apply (RFC 4592)
    labels = relative.split(".")
    for cut in range(1, len(labels) + 1):
        ancestor = ".".join(labels[cut:]) or APEX
        exists = ancestor == APEX or ancestor in by_name or any(n.endswith("." + ancestor) for n in names)
        if exists:  # the closest encloser: only its wildcard can answer
            wildcard = "*" if ancestor == APEX else "*." + ancestor
            return any(r.rtype == "CNAME" for r in by_name.get(wildcard, ()))
    return False


@own_errors
def check_zone(
    records: Sequence[CleanRecord], origin: str | dns.name.Name, *, focus: CleanRecord | None = None
) -> None:
    """The rules between records. ``focus`` is the record being added or changed: it
    decides which form field an error is shown next to."""
    origin = zone_origin(origin)
    if len(records) > MAX_ZONE_RECORDS:
        raise ValidationError("name", "dns.error.zone_full", max=MAX_ZONE_RECORDS)
    by_name: dict[str, list[CleanRecord]] = defaultdict(list)
    parsed: list[tuple[CleanRecord, dns.rdata.Rdata]] = []
    for record in records:
        if record.rtype not in RECORD_TYPES:
            raise ValidationError("rtype", "dns.error.type_unsupported")
        parsed.append((record, parse_rdata(record.rtype, record.value, origin)))
        by_name[record.name].append(record)

    for name, group in by_name.items():
        shown = display_name(name, origin)
        cnames = [r for r in group if r.rtype == "CNAME"]
        if cnames and name == APEX:
            raise ValidationError("name", "dns.error.cname_at_apex")
        if len(cnames) > 1:
            raise ValidationError("name", "dns.error.cname_duplicate", name=shown)
        if cnames and len(group) > 1:
            raise ValidationError("name", "dns.error.cname_not_alone", name=shown)
        seen: set[tuple[str, str]] = set()
        for record in group:
            key = (record.rtype, record.value)
            if key in seen:
                raise ValidationError("value", "dns.error.duplicate")
            seen.add(key)

    for record, rdata in parsed:
        target = _target_of(record.rtype, rdata)
        relative = relative_name(target, origin) if target is not None else None
        if relative is None or not _alias_at(relative, by_name):
            continue
        shown = target.to_text(omit_final_dot=True)
        if focus is not None and focus.rtype == "CNAME":
            raise ValidationError("name", "dns.error.alias_is_target", name=shown)
        raise ValidationError("value", "dns.error.target_is_alias", target=shown)


def rrset_key(record: CleanRecord) -> tuple[str, str]:
    return (record.name, record.rtype)


def harmonize_ttl(records: Iterable[CleanRecord], changed: CleanRecord) -> list[CleanRecord]:
    """One TTL per RRset (RFC 2181 5.2): the changed record's TTL applies to its set."""
    out = []
    for record in records:
        if rrset_key(record) == rrset_key(changed) and record.ttl != changed.ttl:
            record = CleanRecord(record.name, record.rtype, changed.ttl, record.value)
        out.append(record)
    return out


def sort_key(record: CleanRecord) -> tuple:
    """Apex first, then by name, type (in RECORD_TYPES order) and value."""
    type_order = RECORD_TYPES.index(record.rtype) if record.rtype in RECORD_TYPES else len(RECORD_TYPES)
    return (record.name != APEX, record.name, type_order, record.value)
