"""The DNS page's parsed-zone cache (services/dns_zone_cache.py): one parse shared by every
reader, a new read after every write of the zone (whoever writes it), nothing stale served by
another worker, a bound on what it holds, and the zone version kept by the database itself
(migration 0010)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import Session, func, select, text

from panel_app import migrate
from panel_app.db import get_engine, make_engine, transaction
from panel_app.models import DnsRecord, Domain
from panel_app.services import dns_zone, dns_zone_cache
from panel_app.services.audit import Actor
from panel_app.services.dns_rules import RecordInput
from panel_app.services.dns_zone_cache import ZoneCache
from panel_app.services.validation import NotFound
from panel_app.state.dns import DnsState
from tests.state_harness import login_token, tab_state

ZONE = "example.com"
BASE = [("@", "A", 3600, "192.0.2.1"), ("@", "MX", 3600, "10 mail.example.com."),
        ("mail", "A", 3600, "192.0.2.2")]


@pytest.fixture(autouse=True)
def zones(monkeypatch) -> ZoneCache:
    """This worker's cache, empty at the start of each test."""
    cache = ZoneCache(max_records=20_000)
    monkeypatch.setattr(dns_zone_cache, "ZONES", cache)
    return cache


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def actor(owner) -> Actor:
    return Actor.for_user(owner, ip="198.51.100.7", user_agent="pytest")


def _add_domain(account_id: int, name: str = ZONE, records=BASE, **extra) -> int:
    with transaction() as db:
        domain = Domain(account_id=account_id, name=name, registered_on=date(2020, 3, 1),
                        expires_on=date(2027, 3, 1), **extra)
        db.add(domain)
        db.flush()
        for rname, rtype, ttl, value in records:
            db.add(DnsRecord(domain_id=domain.id, name=rname, rtype=rtype, ttl=ttl, value=value))
        return domain.id


@pytest.fixture
def domain_id(owner) -> int:
    return _add_domain(owner.account_id)


def read(account_id: int) -> dns_zone.ZoneView:
    """The zone as a new event of some tab reads it (its own session)."""
    with Session(get_engine()) as db:
        return dns_zone.get_zone(db, account_id, ZONE)


def shown(zone: dns_zone.ZoneView) -> set[tuple]:
    return {(r.name, r.rtype, r.ttl, r.rdata) for r in zone.records}


def stored(domain_id: int) -> set[tuple]:
    with Session(get_engine()) as db:
        return {(r.name, r.rtype, r.ttl, r.value)
                for r in db.exec(select(DnsRecord).where(DnsRecord.domain_id == domain_id))}


def version(domain_id: int) -> int:
    with Session(get_engine()) as db:
        return db.exec(select(Domain.zone_version).where(Domain.id == domain_id)).one()


# --- one parse, shared and immutable -------------------------------------------------------------


def test_two_readers_share_one_parsed_zone(owner, domain_id, zones):
    first, second = read(owner.account_id), read(owner.account_id)
    assert second is first and zones.loads == 1 and zones.hits == 1
    assert shown(first) == stored(domain_id)


async def test_two_tabs_of_the_account_share_one_parse_and_each_shows_it(owner, domain_id, zones, clock):
    tabs = []
    for _ in range(2):
        tab = tab_state(DnsState, login_token(owner, clock.now, grant_method="totp"), f"/domains/{ZONE}")
        tab.load()
        tabs.append(tab)
    assert zones.loads == 1
    assert [(r.name, r.rtype, r.value) for r in tabs[0].records] == \
        [(r.name, r.rtype, r.value) for r in tabs[1].records] != []


def test_the_shared_zone_cannot_be_changed_by_a_reader(owner, domain_id):
    zone = read(owner.account_id)
    with pytest.raises(dataclasses.FrozenInstanceError):
        zone.records[0].rdata = "203.0.113.66"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        zone.records = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        zone.records.append(zone.records[0])  # type: ignore[attr-defined]
    assert isinstance(zone.problems, tuple) and len(zone.problems) == len(zone.records)
    assert read(owner.account_id).records[0].rdata != "203.0.113.66"


def test_the_cache_decides_no_access(owner, domain_id, make_user):
    read(owner.account_id)  # cached for the owner's account
    stranger = make_user(email="stranger@test.example", phone="+4915112345699")
    with pytest.raises(NotFound), Session(get_engine()) as db:
        dns_zone.get_zone(db, stranger.account_id, ZONE)


def test_a_problem_is_kept_as_a_key_and_each_tab_translates_it(owner, zones):
    _add_domain(owner.account_id, records=[("@", "A", 3600, "192.0.2.1"), ("@", "MX", 3600, "10 MAIL.example.com.")])
    zone = read(owner.account_id)
    problems = [p for p in zone.problems if p is not None]
    assert problems and all(isinstance(p, dns_zone.RecordProblem) for p in problems)
    english = DnsState._problem_text(problems[0], "en")
    german = DnsState._problem_text(problems[0], "de")
    assert english and german and english != german


# --- every write of the zone is seen by the next read ---------------------------------------------


def _add(actor, now):
    with transaction() as db:
        dns_zone.add_record(db, actor, ZONE, RecordInput(name="www", rtype="A", value="192.0.2.80"), now=now)


def _record_id(name: str) -> int:
    with Session(get_engine()) as db:
        return db.exec(select(DnsRecord.id).where(DnsRecord.name == name)).first()


def _update(actor, now):
    with transaction() as db:
        dns_zone.update_record(db, actor, ZONE, _record_id("mail"),
                               RecordInput(name="mail", rtype="A", value="192.0.2.99"), now=now)


def _delete(actor, now):
    with transaction() as db:
        dns_zone.delete_record(db, actor, ZONE, _record_id("mail"), now=now)


def _undo(actor, now):
    with transaction() as db:
        dns_zone.undo_last_change(db, actor, ZONE, now=now)


def _other_tool(sql: str):
    """A write the panel did not make (a zone-file import by hand, a provisioning script): only
    the database sees it."""
    def write(_actor, _now):
        with get_engine().begin() as conn:
            conn.execute(text(sql))
    return write


WRITES = {
    "add": (None, _add),
    "update": (None, _update),
    "delete": (None, _delete),
    "undo": (_add, _undo),
    "undo twice": (lambda a, n: (_add(a, n), _update(a, n + timedelta(minutes=1)), _undo(a, n)), _undo),
    "import by another tool (insert)": (None, _other_tool(
        "INSERT INTO dnsrecord (domain_id, name, rtype, ttl, value) "
        "SELECT id, 'imported', 'A', 3600, '192.0.2.55' FROM domain")),
    "fix by another tool (update)": (None, _other_tool("UPDATE dnsrecord SET ttl = 600 WHERE name = 'mail'")),
    "removal by another tool (delete)": (None, _other_tool("DELETE FROM dnsrecord WHERE name = 'mail'")),
}


@pytest.mark.parametrize("setup, write", WRITES.values(), ids=WRITES.keys())
def test_every_write_bumps_the_version_and_the_next_read_sees_it(owner, actor, domain_id, zones, now,
                                                                 setup, write):
    if setup:
        setup(actor, now)
    before = read(owner.account_id)
    assert read(owner.account_id) is before  # cached
    version_before = version(domain_id)

    write(actor, now + timedelta(minutes=5))

    assert version(domain_id) > version_before
    after = read(owner.account_id)
    assert after is not before and shown(after) == stored(domain_id) != shown(before)


def test_undo_label_follows_the_writes(owner, actor, domain_id, now):
    assert read(owner.account_id).last_change is None
    _add(actor, now)
    assert read(owner.account_id).last_change.action == dns_zone.CHANGE_ADD
    _undo(actor, now)
    assert read(owner.account_id).last_change is None


def test_a_change_rolled_back_is_never_served(owner, actor, domain_id, now):
    read(owner.account_id)
    with pytest.raises(RuntimeError), transaction() as db:
        dns_zone.add_record(db, actor, ZONE, RecordInput(name="ghost", rtype="A", value="192.0.2.66"), now=now)
        assert "ghost" in {r.name for r in dns_zone.get_zone(db, owner.account_id, ZONE).records}  # its own write
        raise RuntimeError("the event failed after the change")
    # A committed change of the same shape reaches the version the lost one had.
    with transaction() as db:
        dns_zone.add_record(db, actor, ZONE, RecordInput(name="real", rtype="A", value="192.0.2.67"), now=now)
    names = {r.name for r in read(owner.account_id).records}
    assert "real" in names and "ghost" not in names


# --- other workers ----------------------------------------------------------------------------------


def test_another_workers_write_is_seen_here(owner, actor, domain_id, zones, monkeypatch, now):
    here = read(owner.account_id)
    other_worker = ZoneCache(max_records=20_000)
    monkeypatch.setattr(dns_zone_cache, "ZONES", other_worker)
    _add(actor, now)
    assert "www" in {r.name for r in read(owner.account_id).records}
    monkeypatch.setattr(dns_zone_cache, "ZONES", zones)  # back in this worker, which holds the old zone
    again = read(owner.account_id)
    assert again is not here and "www" in {r.name for r in again.records} and zones.loads == 2


def test_a_version_bumped_in_the_database_is_never_answered_from_the_cache(owner, domain_id, zones):
    read(owner.account_id)
    with get_engine().begin() as conn:
        conn.execute(text("UPDATE domain SET zone_version = zone_version + 1"))
    read(owner.account_id)
    assert zones.loads == 2


def test_a_domain_that_reuses_a_deleted_ones_id_never_meets_its_zone(owner, domain_id):
    old = read(owner.account_id)
    with get_engine().begin() as conn:
        conn.execute(text("DELETE FROM dnsrecord"))
        conn.execute(text("DELETE FROM domain"))
    # Same id, same name, the same number of rows written: only the zone differs.
    _add_domain(owner.account_id, records=[(n, t_, ttl, v.replace("192.0.2.", "198.51.100."))
                                           for n, t_, ttl, v in BASE], id=domain_id)
    new = read(owner.account_id)
    assert shown(new) == stored(domain_id) != shown(old)


# --- bounded ------------------------------------------------------------------------------------------


def test_the_cache_is_bounded_by_the_records_it_holds_and_drops_the_least_used(owner, zones, monkeypatch):
    small = ZoneCache(max_records=10)  # each zone below weighs 3 records + 1
    monkeypatch.setattr(dns_zone_cache, "ZONES", small)
    ids = [_add_domain(owner.account_id, name=f"zone{i}.example") for i in range(4)]
    with Session(get_engine()) as db:
        for i in range(2):
            dns_zone.get_zone(db, owner.account_id, f"zone{i}.example")
        dns_zone.get_zone(db, owner.account_id, "zone0.example")  # zone1 is now the least used
        dns_zone.get_zone(db, owner.account_id, "zone2.example")
        assert len(small) == 2 and small.records_held <= 10
        assert small.get(ids[0], version(ids[0]), "zone0.example") is not None
        assert small.get(ids[1], version(ids[1]), "zone1.example") is None
    assert ZoneCache(max_records=0).records_held == 0


def test_one_entry_per_domain_the_newest(owner, actor, domain_id, zones, now):
    read(owner.account_id)
    _add(actor, now)
    read(owner.account_id)
    assert len(zones) == 1 and zones.records_held == len(stored(domain_id)) + 1


# --- concurrent writes ----------------------------------------------------------------------------------


def test_concurrent_writes_never_leave_an_older_zone_served(owner, actor, domain_id, zones, race, now):
    read(owner.account_id)
    writers = 4

    def attempt(index: int):
        if index < writers:
            with transaction() as db:
                dns_zone.add_record(db, actor, ZONE, RecordInput(name=f"w{index}", rtype="A",
                                                                 value=f"192.0.2.{100 + index}"), now=now)
            return None
        served = []
        for _ in range(6):
            with Session(get_engine()) as db:
                rows_before = db.exec(select(func.count()).select_from(DnsRecord)).one()
            served.append((rows_before, len(read(owner.account_id).records)))
        return served

    results = race.times(writers + 3, attempt)
    assert not [r for r in results if isinstance(r, Exception)]
    for served in results[writers:]:
        assert all(count >= rows_before for rows_before, count in served)  # never older than the DB was
    final = read(owner.account_id)
    assert shown(final) == stored(domain_id) and len(final.records) == len(BASE) + writers
    entry_version = zones._entries[domain_id].version
    assert entry_version == version(domain_id)


# --- the migration -----------------------------------------------------------------------------------------


def test_migration_adds_the_version_and_its_triggers_and_removes_them_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/migrate.db")

    def run(conn, action, revision):
        config = migrate.alembic_config()
        config.attributes["connection"] = conn
        action(config, revision)
        conn.commit()

    with engine.connect() as conn:
        run(conn, command.upgrade, "0009_staff_grant_method")
        conn.execute(sa.text("INSERT INTO account (id, customer_number, name, company, street, postal_code, city, "
                             "country, vat_id, is_demo, created_at) VALUES (1, 'K1', 'A', '', '', '', '', 'DE', "
                             "'', FALSE, '2025-06-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO domain (id, account_id, name, status, registered_on, expires_on, "
                             "auto_renew, transfer_lock, auth_code_enc, catch_all) VALUES (1, 1, 'x.example', "
                             "'active', '2020-01-01', '2030-01-01', TRUE, TRUE, '', '')"))
        conn.commit()
        run(conn, command.upgrade, "head")

        def zone_version():
            return conn.execute(sa.text("SELECT zone_version FROM domain WHERE id = 1")).scalar_one()

        assert zone_version() == 0
        conn.execute(sa.text("INSERT INTO dnsrecord (domain_id, name, rtype, ttl, value) "
                             "VALUES (1, '@', 'A', 3600, '192.0.2.1')"))
        conn.execute(sa.text("UPDATE dnsrecord SET ttl = 600"))
        conn.execute(sa.text("INSERT INTO dnschange (domain_id, created_at, summary, snapshot) "
                             "VALUES (1, '2026-01-01 00:00:00', 'add A @', '[]')"))
        conn.execute(sa.text("UPDATE dnschange SET undone_at = '2026-01-02 00:00:00'"))
        conn.execute(sa.text("DELETE FROM dnsrecord"))
        conn.commit()
        assert zone_version() == 5

        run(conn, command.downgrade, "0009_staff_grant_method")
        columns = {c["name"] for c in sa.inspect(conn).get_columns("domain")}
        assert "zone_version" not in columns
        conn.execute(sa.text("INSERT INTO dnsrecord (domain_id, name, rtype, ttl, value) "
                             "VALUES (1, '@', 'A', 3600, '192.0.2.1')"))  # no trigger left behind
        conn.commit()
        run(conn, command.upgrade, "head")
        assert zone_version() == 0
    engine.dispose()


def test_a_stored_value_is_parsed_once_per_worker_and_shown_per_zone(owner, monkeypatch):
    """Every read of a zone after a write (the zone cache misses) and every save (the whole
    zone is checked) would parse each stored value again with dnspython: the worker keeps
    each parsed value and each record's view, keyed by the record and its zone alone."""
    import dns.rdata

    from panel_app.services import dns_rules

    dns_rules._parsed.cache_clear()
    dns_zone._shown.cache_clear()
    parsed = []
    real = dns.rdata.from_text
    monkeypatch.setattr(dns.rdata, "from_text", lambda *a, **k: parsed.append(a[2]) or real(*a, **k))
    _add_domain(owner.account_id)
    _add_domain(owner.account_id, "example.org")
    with Session(get_engine()) as db:
        first = dns_zone.get_zone(db, owner.account_id, ZONE)
        once = len(parsed)
        assert once >= len(BASE)
        again = dns_zone._read_zone(db, dns_zone.zone_key(db, owner.account_id, ZONE))  # past the zone cache
        assert len(parsed) == once and again == first  # nothing parsed twice, the same view
        other = dns_zone.get_zone(db, owner.account_id, "example.org")
    assert {r.fqdn for r in other.records} == {"example.org", "mail.example.org"}  # its own zone's names
    assert {r.id for r in other.records}.isdisjoint({r.id for r in first.records})  # its own rows
