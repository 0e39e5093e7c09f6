"""The parsed, validated zones of the DNS page, shared by every tab of the worker.

Reading a zone for the page (its rows, a parse of every record by dnspython for the form and
again for the "would it be accepted today" check) is the page's main cost. A zone changes
rarely and is read by every tab that shows it, so each worker keeps the finished result
(``dns_zone.ZoneView``, frozen all the way down: no tab can change what another sees) per
domain, for the zone version the database holds:

- ``domain.zone_version`` is bumped by the database itself (triggers, migration 0010) in the
  transaction of every write of the domain's ``dnsrecord`` or ``dnschange`` rows, whoever
  writes them. A reader asks the database for the version (in the query that finds the
  domain for the account anyway) and is served only an entry of exactly that version: a
  worker that holds an older one reads the zone again.
- A zone read inside a transaction that wrote zone rows (the reload after a change, in the
  same event) is neither served nor stored: it is not committed yet, and may never be.
- An entry is stored only when the version was the same before and after reading the rows
  (reads are not one snapshot on SQLite or PostgreSQL's read committed), so an entry never
  holds data of a version other than its own.

The cache holds zone data only: access is decided before it is asked (the guard, then the
account's domain lookup), and it holds nothing of a user. Bounded by the number of records
it holds (``PANEL_DNS_ZONE_CACHE_RECORDS``), least recently used out first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from panel_app.models import DnsChange, DnsRecord

_WROTE_ZONE = "dns_zone_written"  # Session.info key: this transaction flushed zone rows


def wrote_zone(db: Session) -> bool:
    """Whether the session's open transaction has written zone rows."""
    return bool(db.info.get(_WROTE_ZONE))


@event.listens_for(Session, "after_flush")
def _note_zone_write(session: Session, _flush_context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, (DnsRecord, DnsChange)):
            session.info[_WROTE_ZONE] = True
            return


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_zone_write(session: Session) -> None:
    session.info.pop(_WROTE_ZONE, None)


@dataclass(frozen=True, slots=True)
class _Entry:
    version: int
    name: str
    zone: Any
    weight: int


class ZoneCache:
    """Per domain id, the zone of one version; bounded by the records held."""

    def __init__(self, max_records: int):
        self.max_records = max_records
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.loads = 0  # zones read and parsed (for tests and the bench)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def records_held(self) -> int:
        return self._weight

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._weight = 0

    def get(self, domain_id: int, version: int, name: str) -> Any | None:
        with self._lock:
            entry = self._entries.get(domain_id)
            if entry is None or entry.version != version or entry.name != name:
                return None
            self._entries.move_to_end(domain_id)
            self.hits += 1
            return entry.zone

    def put(self, domain_id: int, version: int, name: str, zone: Any) -> None:
        weight = len(zone.records) + 1
        with self._lock:
            if weight > self.max_records:
                return
            old = self._entries.get(domain_id)
            if old is not None:
                if old.version > version:  # a slower reader of an older version: keep the newer
                    return
                self._weight -= old.weight
                del self._entries[domain_id]
            self._entries[domain_id] = _Entry(version, name, zone, weight)
            self._weight += weight
            while self._weight > self.max_records:
                _, evicted = self._entries.popitem(last=False)
                self._weight -= evicted.weight

    def read(self, db: Session, key, load: Callable[[], Any],
             current_version: Callable[[], int | None]) -> Any:
        """The zone of ``key`` (a ``domains.ZoneKey`` read in ``db`` just now): the cached
        one of that version, else ``load()``, stored when the version held still."""
        writing = wrote_zone(db)
        zone = None if writing else self.get(key.domain_id, key.version, key.name)
        if zone is not None:
            return zone
        zone = load()
        with self._lock:
            self.loads += 1
        if not writing and current_version() == key.version:
            self.put(key.domain_id, key.version, key.name, zone)
        return zone


def _max_records() -> int:
    from panel_app.settings import get_settings

    return get_settings().dns_zone_cache_records


ZONES = ZoneCache(_max_records())
