"""Domain services: zone editing (atomic, undoable), zone file, transfer lock, auth code,
account scoping and the audit trail."""

from __future__ import annotations

import json
import string
from collections import Counter
from dataclasses import fields
from datetime import date, timedelta

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.zone
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from panel_app.db import get_engine, transaction
from panel_app.models import AuditEvent, DnsChange, DnsRecord, Domain
from panel_app.security import crypto
from panel_app.services import dns_names, dns_rules, dns_zone, dns_zone_rules, domains
from panel_app.services.audit import Actor
from panel_app.services.dns_rules import CleanRecord, RecordInput
from panel_app.services.validation import NotFound, Unreadable, ValidationError

ZONE = "example.com"


# --- fixtures ------------------------------------------------------------------------------


def _add_domain(account_id: int, name: str, *, auth_code: str | None = "Ab3$Ab3$Ab3$Ab3$") -> int:
    with transaction() as session:
        domain = Domain(account_id=account_id, name=name, registered_on=date(2020, 3, 1),
                        expires_on=date(2027, 3, 1),
                        auth_code_enc=crypto.encrypt(auth_code) if auth_code else "")
        session.add(domain)
        session.flush()
        return domain.id


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def actor(owner) -> Actor:
    return Actor.for_user(owner, ip="198.51.100.7", user_agent="pytest")


@pytest.fixture
def domain_id(owner) -> int:
    return _add_domain(owner.account_id, ZONE)


@pytest.fixture
def stranger(make_user) -> Actor:
    user = make_user(email="stranger@test.example", phone="+4915112345699")
    _add_domain(user.account_id, "stranger.example.org")
    return Actor.for_user(user)


def stored(domain_id: int) -> Counter:
    """The zone as stored: a multiset of (name, type, ttl, value)."""
    with Session(get_engine()) as session:
        rows = session.exec(select(DnsRecord).where(DnsRecord.domain_id == domain_id)).all()
        return Counter((r.name, r.rtype, r.ttl, r.value) for r in rows)


def audit_rows() -> list[AuditEvent]:
    with Session(get_engine()) as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


def changes(domain_id: int) -> list[DnsChange]:
    with Session(get_engine()) as session:
        return list(session.exec(select(DnsChange).where(DnsChange.domain_id == domain_id)
                                 .order_by(DnsChange.id)).all())


def add(actor, record: RecordInput, now, zone: str = ZONE):
    with transaction() as session:
        return dns_zone.add_record(session, actor, zone, record, now=now)


A_WWW = RecordInput("www", "A", 3600, "192.0.2.10")
MX_MAIL = RecordInput("@", "MX", 3600, "mail", priority=10)


# --- listing and reading ------------------------------------------------------------------


def test_list_domains_shows_only_own_domains(owner, domain_id, stranger, db):
    _add_domain(owner.account_id, "xn--bcher-kva.de")
    listed = domains.list_domains(db, owner.account_id)
    assert [d.name for d in listed] == ["example.com", "xn--bcher-kva.de"]
    assert listed[1].display_name == "bücher.de"
    assert listed[0].registered_on == date(2020, 3, 1) and listed[0].transfer_lock is True


def test_domain_summary_carries_nothing_sensitive():
    names = {f.name for f in fields(domains.DomainSummary)}
    assert not names & {"auth_code", "auth_code_enc", "catch_all", "records", "id"}


def test_get_zone_returns_display_records(actor, domain_id, now, db):
    add(actor, A_WWW, now)
    add(actor, MX_MAIL, now)
    add(actor, RecordInput("mail", "A", 3600, "192.0.2.25"), now)
    zone = dns_zone.get_zone(db, actor.account_id, "Example.COM.")
    assert zone.domain == ZONE
    assert [(r.name, r.rtype) for r in zone.records] == [("@", "MX"), ("mail", "A"), ("www", "A")]
    mx = zone.records[0]
    assert isinstance(mx, dns_zone.RecordView)
    assert (mx.rdata, mx.value, mx.priority, mx.fqdn) == ("10 mail.example.com.", "mail.example.com", 10, "example.com")
    assert zone.last_change is not None and zone.last_change.action == "add"
    # the edit form starts from to_input() and saving it unchanged validates to the same record
    assert dns_rules.validate_record(mx.to_input(), ZONE) == CleanRecord("@", "MX", 3600, mx.rdata)


# --- adding, changing, deleting ----------------------------------------------------------------


def test_add_record_stores_snapshot_and_one_audit_entry(actor, domain_id, now):
    add(actor, A_WWW, now)
    view = add(actor, RecordInput("www", "AAAA", 600, "2001:DB8::1"), now)
    assert view.rdata == "2001:db8::1" and view.id is not None
    assert stored(domain_id) == Counter({("www", "A", 3600, "192.0.2.10"): 1, ("www", "AAAA", 600, "2001:db8::1"): 1})
    history = changes(domain_id)
    assert [c.summary for c in history] == ["add A www", "add AAAA www"]
    assert json.loads(history[1].snapshot) == [{"name": "www", "rtype": "A", "ttl": 3600, "value": "192.0.2.10"}]
    assert history[1].actor_user_id == actor.user_id
    events = audit_rows()
    assert [(e.area, e.action, e.target) for e in events] == [("domains", "dns_record_added", ZONE)] * 2
    assert json.loads(events[1].detail)["value"] == "2001:db8::1"
    assert events[1].ip == "198.51.100.7" and events[1].account_id == actor.account_id


def test_rrset_shares_one_ttl(actor, domain_id, now):
    add(actor, A_WWW, now)
    add(actor, RecordInput("www", "A", 300, "192.0.2.11"), now)
    assert {ttl for (_, rtype, ttl, _) in stored(domain_id) if rtype == "A"} == {300}


def test_refused_add_leaves_everything_unchanged(actor, domain_id, now, db):
    add(actor, A_WWW, now)
    before, audit_before, changes_before = stored(domain_id), len(audit_rows()), len(changes(domain_id))
    with pytest.raises(ValidationError) as info:
        # the service runs in a session we then commit: nothing may have been added to it
        dns_zone.add_record(db, actor, ZONE, RecordInput("www", "CNAME", 3600, "other.net"), now=now)
    assert (info.value.field, info.value.message_key) == ("name", "dns.error.cname_not_alone")
    db.commit()
    assert stored(domain_id) == before
    assert len(audit_rows()) == audit_before and len(changes(domain_id)) == changes_before


def test_refused_add_of_invalid_record(actor, domain_id, now, db):
    with pytest.raises(ValidationError) as info:
        dns_zone.add_record(db, actor, ZONE, RecordInput("www", "A", 3600, "999.1.1.1"), now=now)
    assert info.value.field == "value"
    db.commit()
    assert stored(domain_id) == Counter() and audit_rows() == [] and changes(domain_id) == []


def test_mx_to_alias_refused_both_ways(actor, domain_id, now):
    add(actor, RecordInput("mail", "CNAME", 3600, "mx.provider.net"), now)
    with pytest.raises(ValidationError) as info:
        add(actor, MX_MAIL, now)
    assert (info.value.field, info.value.message_key) == ("value", "dns.error.target_is_alias")
    with transaction() as session:
        alias_id = dns_zone.get_zone(session, actor.account_id, ZONE).records[0].id
        dns_zone.delete_record(session, actor, ZONE, alias_id, now=now)
    add(actor, MX_MAIL, now)
    with pytest.raises(ValidationError) as info:
        add(actor, RecordInput("mail", "CNAME", 3600, "mx.provider.net"), now)
    assert (info.value.field, info.value.message_key) == ("name", "dns.error.alias_is_target")


def test_update_record(actor, domain_id, now, db):
    view = add(actor, A_WWW, now)
    add(actor, RecordInput("www", "A", 3600, "192.0.2.11"), now)
    with transaction() as session:
        updated = dns_zone.update_record(session, actor, ZONE, view.id, RecordInput("www", "A", 900, "192.0.2.99"),
                                        now=now)
    assert updated.id == view.id and updated.rdata == "192.0.2.99"
    assert stored(domain_id) == Counter({("www", "A", 900, "192.0.2.99"): 1, ("www", "A", 900, "192.0.2.11"): 1})
    detail = json.loads(audit_rows()[-1].detail)
    assert (audit_rows()[-1].action, detail["old_value"], detail["value"]) == ("dns_record_updated", "192.0.2.10",
                                                                              "192.0.2.99")


def test_refused_update_leaves_zone_unchanged(actor, domain_id, now, db):
    view = add(actor, A_WWW, now)
    add(actor, RecordInput("mail", "A", 3600, "192.0.2.25"), now)
    before, events = stored(domain_id), len(audit_rows())
    with pytest.raises(ValidationError) as info:
        # turning www into a CNAME is fine on its own, but "mail" -> CNAME next to its A is not
        dns_zone.update_record(db, actor, ZONE, view.id, RecordInput("mail", "CNAME", 3600, "x.net"), now=now)
    assert info.value.message_key == "dns.error.cname_not_alone"
    db.commit()
    assert stored(domain_id) == before and len(audit_rows()) == events


def test_update_to_an_identical_sibling_is_a_duplicate(actor, domain_id, now, db):
    view = add(actor, A_WWW, now)
    add(actor, RecordInput("www", "A", 3600, "192.0.2.11"), now)
    with pytest.raises(ValidationError) as info:
        dns_zone.update_record(db, actor, ZONE, view.id, RecordInput("www", "A", 3600, "192.0.2.11"), now=now)
    assert info.value.message_key == "dns.error.duplicate"


def test_delete_record(actor, domain_id, now):
    view = add(actor, A_WWW, now)
    with transaction() as session:
        dns_zone.delete_record(session, actor, ZONE, view.id, now=now)
    assert stored(domain_id) == Counter()
    assert audit_rows()[-1].action == "dns_record_deleted"
    assert json.loads(changes(domain_id)[-1].snapshot)[0]["value"] == "192.0.2.10"


def test_delete_that_exposes_a_wildcard_alias_is_refused(actor, domain_id, now, db):
    add(actor, RecordInput("*", "CNAME", 3600, "elsewhere.net"), now)
    mail_a = add(actor, RecordInput("mail", "A", 3600, "192.0.2.25"), now)
    add(actor, MX_MAIL, now)
    before = stored(domain_id)
    with pytest.raises(ValidationError) as info:
        dns_zone.delete_record(db, actor, ZONE, mail_a.id, now=now)
    assert (info.value.field, info.value.message_key) == ("record", "dns.error.target_is_alias")
    db.commit()
    assert stored(domain_id) == before


@pytest.mark.parametrize("bad_id", [999999, "1", None, True, 1.0])
def test_unknown_record_ids(actor, domain_id, now, db, bad_id):
    with pytest.raises(NotFound):
        dns_zone.update_record(db, actor, ZONE, bad_id, A_WWW, now=now)
    with pytest.raises(NotFound):
        dns_zone.delete_record(db, actor, ZONE, bad_id, now=now)


# --- undo --------------------------------------------------------------------------------------------


def undo(actor, now):
    with transaction() as session:
        return dns_zone.undo_last_change(session, actor, ZONE, now=now)


def test_undo_walks_back_change_by_change(actor, domain_id, now):
    states = [stored(domain_id)]
    first = add(actor, A_WWW, now)
    states.append(stored(domain_id))
    add(actor, MX_MAIL, now)
    states.append(stored(domain_id))
    with transaction() as session:
        dns_zone.update_record(session, actor, ZONE, first.id, RecordInput("web", "A", 600, "192.0.2.1"), now=now)
    states.append(stored(domain_id))
    with transaction() as session:
        dns_zone.delete_record(session, actor, ZONE, first.id, now=now)

    undone = []
    for expected in reversed(states):  # each undo restores the state before that change
        undone.append(undo(actor, now))
        assert stored(domain_id) == expected
    assert [c.action for c in undone] == ["delete", "update", "add", "add"]
    assert all(c.undone_at is not None for c in changes(domain_id))
    with pytest.raises(ValidationError) as info:
        undo(actor, now)
    assert info.value.message_key == "dns.error.nothing_to_undo"
    assert [e.action for e in audit_rows()].count("dns_change_undone") == 4


def test_each_undo_restores_the_state_before_that_change(actor, domain_id, now):
    add(actor, A_WWW, now)
    after_first = stored(domain_id)
    add(actor, RecordInput("www", "A", 60, "192.0.2.11"), now)  # also changes the TTL of the first
    assert stored(domain_id) != after_first
    undo(actor, now)
    assert stored(domain_id) == after_first
    add(actor, MX_MAIL, now)
    undo(actor, now)
    assert stored(domain_id) == after_first  # the new change undone, not the earlier undone one
    undo(actor, now)
    assert stored(domain_id) == Counter()


def test_undo_keeps_ids_of_untouched_records(actor, domain_id, now, db):
    keep = add(actor, A_WWW, now)
    add(actor, MX_MAIL, now)
    undo(actor, now)
    assert [r.id for r in dns_zone.get_zone(db, actor.account_id, ZONE).records] == [keep.id]


def test_zone_view_names_the_change_to_undo(actor, domain_id, now, db):
    assert dns_zone.get_zone(db, actor.account_id, ZONE).last_change is None
    add(actor, RecordInput("_sip._tcp", "SRV", 3600, "sip.x.net", priority=1, weight=2, port=5060), now)
    change = dns_zone.get_zone(db, actor.account_id, ZONE).last_change
    assert (change.action, change.rtype, change.name) == ("add", "SRV", "_sip._tcp")


# --- zone file ---------------------------------------------------------------------------------------


def test_zone_file_is_a_loadable_master_file(actor, domain_id, now, db):
    add(actor, A_WWW, now)
    add(actor, MX_MAIL, now)
    add(actor, RecordInput("mail", "A", 3600, "192.0.2.25"), now)
    add(actor, RecordInput("@", "TXT", 300, "v=spf1 mx -all"), now)
    add(actor, RecordInput("dkim._domainkey", "TXT", 3600, "p=" + "Q" * 400), now)
    add(actor, RecordInput("@", "CAA", 3600, "letsencrypt.org", tag="issue"), now)
    add(actor, RecordInput("_sip._tcp", "SRV", 3600, "sip.provider.net", priority=1, weight=2, port=5060), now)
    add(actor, RecordInput("blog", "CNAME", 3600, "hosted.blog.net"), now)
    text = dns_zone.zone_file(db, actor.account_id, ZONE)
    assert text.startswith("; Zone file for example.com.\n$ORIGIN example.com.\n$TTL 3600\n")
    assert "\tIN\tSOA\tns1.panel.example. hostmaster.example.com. 2026112508 " in text

    zone = dns.zone.from_text(text, origin=ZONE, relativize=False)
    loaded = Counter()
    for name, node in zone.nodes.items():
        for rdataset in node.rdatasets:
            if rdataset.rdtype in (dns.rdatatype.SOA, dns.rdatatype.NS):
                continue
            for rdata in rdataset:
                relative = "@" if name == dns.name.from_text(ZONE) else name.relativize(
                    dns.name.from_text(ZONE)).to_text()
                loaded[(relative, dns.rdatatype.to_text(rdataset.rdtype), rdataset.ttl, rdata.to_text())] += 1
    assert loaded == stored(domain_id)
    txt = zone.find_rdataset("dkim._domainkey.example.com.", dns.rdatatype.TXT)
    assert b"".join(next(iter(txt)).strings) == ("p=" + "Q" * 400).encode()


def test_zone_file_uses_own_apex_ns_and_serial_moves_with_changes(actor, domain_id, now, db):
    add(actor, RecordInput("@", "NS", 3600, "ns1.dns-host.net"), now)
    add(actor, RecordInput("@", "NS", 3600, "ns2.dns-host.net"), now)
    text = dns_zone.zone_file(db, actor.account_id, ZONE)
    assert "SOA\tns1.dns-host.net. hostmaster.example.com. 2026112502 " in text
    assert "panel.example" not in text
    undo(actor, now + timedelta(days=1))
    text = dns_zone.zone_file(db, actor.account_id, ZONE)
    assert " 2026112601 " in text
    dns.zone.from_text(text, origin=ZONE)


def test_empty_zone_file_gets_default_name_servers(actor, domain_id, db):
    text = dns_zone.zone_file(db, actor.account_id, ZONE)
    assert " 2020030100 " in text  # no change yet: the registration day
    zone = dns.zone.from_text(text, origin=ZONE)
    ns = zone.find_rdataset("@", dns.rdatatype.NS)
    assert sorted(r.target.to_text() for r in ns) == sorted(dns_zone.DEFAULT_NAMESERVERS)


# --- a stored zone the panel cannot parse ------------------------------------------------------


def test_an_unparsable_stored_zone_raises_the_panels_own_error(actor, domain_id, now, db):
    """A record written by another tool (a label dnspython refuses): every service call
    says ``Unreadable``, never a dnspython exception, and changes nothing."""
    with transaction() as session:
        session.add(DnsRecord(domain_id=domain_id, name="x" * 70, rtype="A", ttl=3600, value="192.0.2.1"))
    before = stored(domain_id)
    calls = {
        "get_zone": lambda: dns_zone.get_zone(db, actor.account_id, ZONE),
        "add_record": lambda: dns_zone.add_record(db, actor, ZONE, RecordInput("www", "A", 3600, "192.0.2.9"),
                                                 now=now),
        "delete_record": lambda: dns_zone.delete_record(db, actor, ZONE, 10**6, now=now),
    }
    for name, call in calls.items():
        with pytest.raises(ValidationError) as raised:
            call()
        assert raised.type in (Unreadable, NotFound), name
        if raised.type is Unreadable:
            assert raised.value.message_key == "dnsui.zone_unreadable", name
    db.rollback()
    assert stored(domain_id) == before


def test_the_rules_raise_the_panels_own_error_for_names_dnspython_refuses():
    with pytest.raises(Unreadable):
        dns_names.display_name("x" * 70, ZONE)
    with pytest.raises(Unreadable):
        dns_names.zone_origin("a" * 300 + ".example")
    assert dns_names.display_name("www", ZONE) == "www.example.com"


# --- transfer lock and auth code --------------------------------------------------------------------


def test_transfer_lock(actor, domain_id, now, db):
    with transaction() as session:
        summary = domains.set_transfer_lock(session, actor, ZONE, False, now=now)
    assert summary.transfer_lock is False
    with transaction() as session:
        domains.set_transfer_lock(session, actor, ZONE, False, now=now)  # no change, no entry
    with transaction() as session:
        domains.set_transfer_lock(session, actor, ZONE, True, now=now)
    assert [e.action for e in audit_rows()] == ["transfer_lock_off", "transfer_lock_on"]
    with pytest.raises(ValidationError):
        domains.set_transfer_lock(db, actor, ZONE, "false", now=now)


def test_reveal_auth_code_is_audited_without_the_code(actor, domain_id, now):
    with transaction() as session:
        code = domains.reveal_auth_code(session, actor, ZONE, now=now)
    assert code == "Ab3$Ab3$Ab3$Ab3$"
    (event,) = audit_rows()
    assert (event.area, event.action, event.target) == ("domains", "auth_code_revealed", ZONE)
    assert_no_secret_in_audit(code)


def test_reveal_without_code(owner, actor, now, db):
    _add_domain(owner.account_id, "nocode.example.net", auth_code=None)
    with pytest.raises(ValidationError) as info:
        domains.reveal_auth_code(db, actor, "nocode.example.net", now=now)
    assert info.value.message_key == "domains.error.no_auth_code"
    assert audit_rows() == []


def test_regenerate_auth_code(actor, domain_id, now):
    with transaction() as session:
        code = domains.regenerate_auth_code(session, actor, ZONE, now=now)
    assert len(code) == 16
    for chars in (string.ascii_uppercase, string.ascii_lowercase, string.digits):
        assert any(c in chars for c in code)
    assert any(not c.isalnum() for c in code)
    with Session(get_engine()) as session:
        stored_enc = session.get(Domain, domain_id).auth_code_enc
    assert code not in stored_enc and crypto.decrypt(stored_enc) == code
    with transaction() as session:
        assert domains.reveal_auth_code(session, actor, ZONE, now=now) == code
    with transaction() as session:
        second = domains.regenerate_auth_code(session, actor, ZONE, now=now)
    assert second != code
    assert [e.action for e in audit_rows()] == ["auth_code_regenerated", "auth_code_revealed", "auth_code_regenerated"]
    assert_no_secret_in_audit(code)
    assert_no_secret_in_audit(second)


def test_new_auth_codes_are_varied():
    codes = {domains.new_auth_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 16 and not set(c) & set("&<>\"'\\ O0Il1") for c in codes)


def assert_no_secret_in_audit(secret: str) -> None:
    for row in audit_rows():
        for value in (row.action, row.target, row.detail, row.actor_label, row.user_agent):
            assert secret not in value


# --- account scoping --------------------------------------------------------------------------------


def test_other_accounts_domain_is_not_found(actor, stranger, domain_id, now, db):
    add(actor, A_WWW, now)
    foreign = "stranger.example.org"
    calls = [
        lambda: dns_zone.get_zone(db, actor.account_id, foreign),
        lambda: domains.get_domain(db, actor.account_id, foreign),
        lambda: dns_zone.zone_file(db, actor.account_id, foreign),
        lambda: dns_zone.add_record(db, actor, foreign, A_WWW, now=now),
        lambda: dns_zone.update_record(db, actor, foreign, 1, A_WWW, now=now),
        lambda: dns_zone.delete_record(db, actor, foreign, 1, now=now),
        lambda: dns_zone.undo_last_change(db, actor, foreign, now=now),
        lambda: domains.set_transfer_lock(db, actor, foreign, False, now=now),
        lambda: domains.reveal_auth_code(db, actor, foreign, now=now),
        lambda: domains.regenerate_auth_code(db, actor, foreign, now=now),
        lambda: dns_zone.get_zone(db, actor.account_id, "missing.example.org"),
        lambda: dns_zone.get_zone(db, actor.account_id, None),
        lambda: dns_zone.get_zone(db, actor.account_id, "\ud800"),
    ]
    for call in calls:
        with pytest.raises(NotFound) as info:
            call()
        assert (info.value.field, info.value.message_key) == ("domain", "domains.error.not_found")
    db.commit()
    assert [e.action for e in audit_rows()] == ["dns_record_added"]


def test_record_of_another_domain_cannot_be_touched(actor, stranger, domain_id, now, db):
    foreign_view = add(stranger, A_WWW, now, zone="stranger.example.org")
    with pytest.raises(NotFound) as info:
        dns_zone.update_record(db, actor, ZONE, foreign_view.id, RecordInput("www", "A", 3600, "192.0.2.66"), now=now)
    assert info.value.field == "record"
    with pytest.raises(NotFound):
        dns_zone.delete_record(db, actor, ZONE, foreign_view.id, now=now)
    db.commit()
    with Session(get_engine()) as session:
        assert session.get(DnsRecord, foreign_view.id).value == "192.0.2.10"


# --- generated sequences of changes ---------------------------------------------------------------------

_NAME_POOL = ["@", "www", "mail", "*", "*.dev", "a.dev", "_sip._tcp", "ns", "bücher", "x.mail"]
_TARGET_POOL = ["mail", "www", "ns", "a.dev", "b.dev", "@", "mx.provider.net", "x.mail.example.com."]
_ODD = st.one_of(st.text(max_size=80), st.builds(lambda c, n: c * n, st.characters(), st.integers(0, 6000)))


@st.composite
def record_inputs(draw, *, sane: bool) -> RecordInput:
    """``sane``: valid on its own most of the time (the zone rules may still refuse it).
    Otherwise any field may be junk: odd Unicode, huge strings, wrong types."""
    rtype = draw(st.sampled_from(dns_rules.RECORD_TYPES))
    junk = (lambda good: good) if sane else (lambda good: st.one_of(good, _ODD, st.integers(-5, 100000)))
    name = draw(junk(st.sampled_from(_NAME_POOL)))
    ttl = draw(junk(st.sampled_from([60, 300, 3600, 86400])))
    value = draw(junk({
        "A": st.sampled_from(["192.0.2.1", "192.0.2.2"]),
        "AAAA": st.sampled_from(["2001:db8::1", "2001:db8::2"]),
        "TXT": st.one_of(st.sampled_from(["v=spf1 -all", "hello"]), st.text(min_size=1, max_size=600)),
        "CAA": st.sampled_from(["letsencrypt.org", ";", "mailto:a@b.example"]),
    }.get(rtype, st.sampled_from(_TARGET_POOL))))
    number = junk(st.integers(0, 20))
    if rtype == "SRV" and sane:
        name = draw(st.sampled_from(["_sip._tcp", "_xmpp._tcp.a.dev"]))
    return RecordInput(name=name, rtype=rtype, ttl=ttl, value=value, priority=draw(number), weight=draw(number),
                       port=draw(number), flags=draw(junk(st.sampled_from([0, 128]))),
                       tag=draw(junk(st.sampled_from(["issue", "issuewild", "iodef"]))) if rtype == "CAA"
                       else None)


_RECORDS = st.one_of(record_inputs(sane=True), record_inputs(sane=True), record_inputs(sane=False))


_OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), _RECORDS),
        st.tuples(st.just("add"), _RECORDS),
        st.tuples(st.just("update"), st.integers(0, 10), _RECORDS),
        st.tuples(st.just("delete"), st.integers(0, 10)),
        st.tuples(st.just("undo")),
    ),
    max_size=12,
)


def _zone_now(session: Session, zone_domain_id: int) -> Counter:
    rows = session.exec(select(DnsRecord).where(DnsRecord.domain_id == zone_domain_id)).all()
    return Counter((r.name, r.rtype, r.ttl, r.value) for r in rows)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=_OPERATIONS)
def test_no_sequence_of_changes_stores_an_invalid_zone(actor, domain_id, now, operations):
    with Session(get_engine()) as session:
        history: list[Counter] = []  # zone before each change that undo has not reverted
        successes = 0
        for operation in operations:
            before = _zone_now(session, domain_id)
            ids = sorted(r.id for r in session.exec(select(DnsRecord).where(DnsRecord.domain_id == domain_id)))

            def pick(i):
                return ids[i % len(ids)] if ids else 424242

            try:
                if operation[0] == "add":
                    dns_zone.add_record(session, actor, ZONE, operation[1], now=now)
                elif operation[0] == "update":
                    dns_zone.update_record(session, actor, ZONE, pick(operation[1]), operation[2], now=now)
                elif operation[0] == "delete":
                    dns_zone.delete_record(session, actor, ZONE, pick(operation[1]), now=now)
                else:
                    dns_zone.undo_last_change(session, actor, ZONE, now=now)
            except ValidationError as exc:
                event(f"{operation[0]} refused")
                event(f"{operation[0]} {exc.field} {exc.message_key}")
                assert _zone_now(session, domain_id) == before  # a refused change changes nothing
                if operation[0] == "undo":
                    assert not history
                continue
            successes += 1
            event(f"{operation[0]} applied")
            if operation[0] == "undo":
                assert _zone_now(session, domain_id) == history.pop()
            else:
                history.append(before)

            records = [CleanRecord(*key) for key in _zone_now(session, domain_id).elements()]
            for record in records:
                assert dns_rules.revalidate(record, ZONE) == record
            dns_zone_rules.check_zone(records, ZONE)
            ttls: dict[tuple[str, str], set[int]] = {}
            for record in records:
                ttls.setdefault((record.name, record.rtype), set()).add(record.ttl)
            assert all(len(v) == 1 for v in ttls.values()), ttls

        events = session.exec(select(AuditEvent)).all()
        assert len(events) == successes  # exactly one audit entry per change
        assert all(e.area == "domains" and e.account_id == actor.account_id for e in events)
        session.rollback()


def test_zone_serial_counts_the_latest_days_changes_and_undos_only(actor, domain_id, now, db):
    add(actor, RecordInput("@", "NS", 3600, "ns1.dns-host.net"), now - timedelta(days=1))
    add(actor, RecordInput("@", "NS", 3600, "ns2.dns-host.net"), now)
    add(actor, RecordInput("www", "A", 3600, "192.0.2.7"), now)
    undo(actor, now + timedelta(minutes=5))  # the same day: an undo is a change of the zone too
    assert " 2026112503 " in dns_zone.zone_file(db, actor.account_id, ZONE)
