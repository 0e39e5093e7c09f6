"""Mail services: mailboxes, passwords, quotas, forwarders, catch-all, loops,
account scoping and the audit trail."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from panel_app.db import get_engine, transaction
from panel_app.i18n import CATALOGS
from panel_app.models import AuditEvent, Domain, MailForwarder, Mailbox
from panel_app.security.passwords import verify_password
from panel_app.services import mail
from panel_app.services.audit import Actor
from panel_app.services.domains import NotFound
from panel_app.services.validation import ValidationError

ZONE = "kunde.example"
STRONG = "Moorland-Violin-47-Teapot"
STRONG_2 = "Quartz Lantern Saffron 9"


def _add_domain(account_id: int, name: str) -> int:
    with transaction() as session:
        domain = Domain(account_id=account_id, name=name, registered_on=date(2021, 5, 1),
                        expires_on=date(2027, 5, 1))
        session.add(domain)
        session.flush()
        return domain.id


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def actor(owner) -> Actor:
    return Actor.for_user(owner, ip="198.51.100.9")


@pytest.fixture
def domain_id(owner) -> int:
    return _add_domain(owner.account_id, ZONE)


@pytest.fixture
def stranger(make_user) -> Actor:
    user = make_user(email="stranger@test.example", phone="+4915112345699")
    _add_domain(user.account_id, "stranger.example")
    return Actor.for_user(user)


def audit_rows() -> list[AuditEvent]:
    with Session(get_engine()) as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


def mailbox_row(mailbox_id: int) -> Mailbox | None:
    with Session(get_engine()) as session:
        return session.get(Mailbox, mailbox_id)


def create_box(actor, local="info", password=STRONG, quota=1024, now=None, zone=ZONE):
    with transaction() as session:
        return mail.create_mailbox(session, actor, zone, local, password, quota, now=now)


def forward(actor, local, destination, now, zone=ZONE):
    with transaction() as session:
        return mail.create_forwarder(session, actor, zone, local, destination, now=now)


def catch_all(actor, destination, now, zone=ZONE):
    with transaction() as session:
        return mail.set_catch_all(session, actor, zone, destination, now=now)


def error_of(call) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        call()
    return info.value.field, info.value.message_key


# --- local parts ----------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "stored"), [
    ("info", "info"), (" Info ", "info"), ("first.last", "first.last"), ("no-reply", "no-reply"),
    ("team_2", "team_2"), ("a", "a"), ("x" * 64, "x" * 64)])
def test_valid_local_parts(typed, stored):
    assert mail.normalize_local_part(typed) == stored


@pytest.mark.parametrize(("typed", "key"), [
    ("", "validation.required"), (".info", "mail.error.local_part_invalid"),
    ("info.", "mail.error.local_part_invalid"), ("a..b", "mail.error.local_part_invalid"),
    ("a b", "mail.error.local_part_invalid"), ('"quoted"', "mail.error.local_part_invalid"),
    ("a@b", "mail.error.local_part_invalid"), ("jörg", "mail.error.local_part_invalid"),
    ("a/b", "mail.error.local_part_invalid"), ("name+tag", "mail.error.local_part_plus"),
    ("x" * 65, "validation.too_long"), ("tab\there", "validation.invalid"), (5, "validation.invalid")])
def test_invalid_local_parts(typed, key):
    assert error_of(lambda: mail.normalize_local_part(typed)) == ("local_part", key)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=100), st.from_regex(r"[a-z0-9._+-]{1,70}", fullmatch=True)))
def test_generated_local_parts_never_crash(typed):
    try:
        result = mail.normalize_local_part(typed)
    except ValidationError as exc:
        assert exc.message_key in CATALOGS["en"]
        return
    assert re.fullmatch(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*", result) and len(result) <= 64


# --- password strength -----------------------------------------------------------------------


@pytest.mark.parametrize(("password", "key"), [
    ("", "validation.required"),
    (None, "validation.required"),
    ("Xk9#mQ2!v", "validation.password_too_short"),
    ("password1234", "mail.error.password_weak.common"),
    ("aaaaaaaaaaaa", "mail.error.password_weak.repeat"),
    ("abcdefghijkl", "mail.error.password_weak.sequence"),
    ("zxcvbnm,./as", "mail.error.password_weak.keyboard"),
    ("12.05.1988", "mail.error.password_weak.dates"),
    ("michaeljohnson", "mail.error.password_weak.names"),
    ("info@kunde.example", "mail.error.password_weak.personal"),
    ("line\nbreak-Xk9#mQ2", "mail.error.password_invalid"),
    ("\ud800Xk9#mQ2!vLq", "mail.error.password_invalid"),
    ("x" * 1025, "mail.error.password_too_long"),
])
def test_weak_passwords_are_explained(actor, domain_id, now, password, key):
    assert error_of(lambda: create_box(actor, password=password, now=now)) == ("password", key)
    assert key in CATALOGS["en"] and key in CATALOGS["de"]


def test_strong_passwords_pass():
    for password in (STRONG, "correct horse battery staple", "Xk9#mQ2!vL7@", "y" * 3 + "Xk9#mQ2!vL7@" * 80):
        assert mail.password_problem(password) is None


# --- mailboxes ---------------------------------------------------------------------------------


def test_create_mailbox_stores_only_a_hash(actor, domain_id, now):
    view = create_box(actor, local="Info", now=now)
    assert (view.address, view.quota_mb, view.used_mb, view.used_percent) == ("info@kunde.example", 1024, 0, 0)
    row = mailbox_row(view.id)
    assert row.password_hash != STRONG and STRONG not in row.password_hash
    assert row.password_hash.startswith("$argon2id$")
    assert verify_password(STRONG, row.password_hash)
    (event,) = audit_rows()
    assert (event.area, event.action, event.target) == ("email", "mailbox_created", "info@kunde.example")
    assert json.loads(event.detail) == {"quota_mb": 1024}
    assert_password_not_in_audit(STRONG)


@pytest.mark.parametrize(("quota", "ok"), [
    (100, True), (51200, True), ("2048", True), (99, False), (51201, False), (0, False), (-5, False),
    ("1 GB", False), (True, False), (1024.5, False)])
def test_quota_bounds(actor, domain_id, now, quota, ok):
    if ok:
        assert create_box(actor, quota=quota, now=now).quota_mb == int(quota)
    else:
        assert error_of(lambda: create_box(actor, quota=quota, now=now)) == ("quota_mb", "mail.error.quota_range")


def test_no_duplicate_address_across_mailboxes_and_forwarders(actor, domain_id, now):
    create_box(actor, local="info", now=now)
    forward(actor, "sales", "boss@elsewhere.example", now)
    assert error_of(lambda: create_box(actor, local="INFO", now=now)) == ("local_part", "mail.error.address_taken")
    assert error_of(lambda: create_box(actor, local="sales", now=now)) == ("local_part", "mail.error.address_taken")
    assert error_of(lambda: forward(actor, "info", "x@elsewhere.example", now)) == (
        "local_part", "mail.error.address_taken")
    assert error_of(lambda: forward(actor, "Sales", "y@elsewhere.example", now)) == (
        "local_part", "mail.error.address_taken")
    assert len(audit_rows()) == 2


def test_refused_create_writes_nothing(actor, domain_id, now, db):
    with pytest.raises(ValidationError):
        mail.create_mailbox(db, actor, ZONE, "info", "password1234", 1024, now=now)
    db.commit()
    assert db.exec(select(Mailbox)).all() == [] and audit_rows() == []


def test_list_mailboxes_with_usage(actor, domain_id, now, db):
    a = create_box(actor, local="b-full", quota=100, now=now)
    b = create_box(actor, local="a-some", quota=1000, now=now)
    with transaction() as session:
        session.get(Mailbox, a.id).used_mb = 150  # over quota (quota lowered elsewhere): bar stays full
        session.get(Mailbox, b.id).used_mb = 333
    boxes = mail.list_mailboxes(db, actor.account_id, ZONE)
    assert [(m.local_part, m.used_mb, m.used_percent) for m in boxes] == [("a-some", 333, 33), ("b-full", 150, 100)]


def test_change_password(actor, domain_id, now):
    box = create_box(actor, now=now)
    old_hash = mailbox_row(box.id).password_hash
    assert error_of(lambda: change(actor, box.id, "aaaaaaaaaaaa", now)) == ("password", "mail.error.password_weak.repeat")
    assert mailbox_row(box.id).password_hash == old_hash
    change(actor, box.id, STRONG_2, now)
    row = mailbox_row(box.id)
    assert verify_password(STRONG_2, row.password_hash) and not verify_password(STRONG, row.password_hash)
    assert [e.action for e in audit_rows()] == ["mailbox_created", "mailbox_password_changed"]
    assert_password_not_in_audit(STRONG)
    assert_password_not_in_audit(STRONG_2)


def change(actor, mailbox_id, password, now):
    with transaction() as session:
        mail.change_mailbox_password(session, actor, ZONE, mailbox_id, password, now=now)


def test_set_quota(actor, domain_id, now):
    box = create_box(actor, quota=1024, now=now)
    with transaction() as session:
        session.get(Mailbox, box.id).used_mb = 500
    with transaction() as session:
        assert mail.set_mailbox_quota(session, actor, ZONE, box.id, "2048", now=now).quota_mb == 2048
    with transaction() as session:
        mail.set_mailbox_quota(session, actor, ZONE, box.id, 2048, now=now)  # unchanged: no entry
    with transaction() as session:
        assert error_of(lambda: mail.set_mailbox_quota(session, actor, ZONE, box.id, 400, now=now)) == (
            "quota_mb", "mail.error.quota_below_usage")
        assert error_of(lambda: mail.set_mailbox_quota(session, actor, ZONE, box.id, 60000, now=now)) == (
            "quota_mb", "mail.error.quota_range")
    assert mailbox_row(box.id).quota_mb == 2048
    events = audit_rows()
    assert [e.action for e in events] == ["mailbox_created", "mailbox_quota_changed"]
    assert json.loads(events[1].detail) == {"quota_mb": 2048, "old_quota_mb": 1024}


def test_delete_needs_the_full_address(actor, domain_id, now, db):
    box = create_box(actor, now=now)
    for typed in ("info", "info@", "kunde.example", "", None, "info@kunde.example.x"):
        assert error_of(lambda: mail.delete_mailbox(db, actor, ZONE, box.id, typed, now=now)) == (
            "confirmation", "mail.error.confirmation_mismatch")
        db.rollback()  # release the domain's row lock, as the caller's transaction would
    assert mailbox_row(box.id) is not None
    with transaction() as session:
        mail.delete_mailbox(session, actor, ZONE, box.id, "  INFO@Kunde.Example ", now=now)
    assert mailbox_row(box.id) is None
    assert [e.action for e in audit_rows()] == ["mailbox_created", "mailbox_deleted"]


def test_catch_all_mailbox_cannot_be_deleted(actor, domain_id, now, db):
    box = create_box(actor, now=now)
    catch_all(actor, "info@kunde.example", now)
    assert error_of(lambda: mail.delete_mailbox(db, actor, ZONE, box.id, "info@kunde.example", now=now)) == (
        "mailbox", "mail.error.mailbox_is_catch_all")


# --- forwarders --------------------------------------------------------------------------------


def test_forwarder_create_and_delete(actor, domain_id, now, db):
    view = forward(actor, "Sales", " Boss@Elsewhere.Example ", now)
    assert (view.address, view.destination) == ("sales@kunde.example", "boss@elsewhere.example")
    assert [f.address for f in mail.list_forwarders(db, actor.account_id, ZONE)] == ["sales@kunde.example"]
    with transaction() as session:
        mail.delete_forwarder(session, actor, ZONE, view.id, now=now)
    assert mail.list_forwarders(db, actor.account_id, ZONE) == []
    events = audit_rows()
    assert [(e.action, e.target) for e in events] == [("forwarder_created", "sales@kunde.example"),
                                                      ("forwarder_deleted", "sales@kunde.example")]
    assert json.loads(events[0].detail) == {"destination": "boss@elsewhere.example"}


@pytest.mark.parametrize("destination", ["", "not-an-address", "a@b", "x@@y.example", None, 17])
def test_forwarder_destination_must_be_an_address(actor, domain_id, now, destination):
    field, _key = error_of(lambda: forward(actor, "sales", destination, now))
    assert field == "destination"


def test_forwarder_loops_are_refused(owner, actor, domain_id, now):
    _add_domain(owner.account_id, "second.example")
    assert error_of(lambda: forward(actor, "self", "SELF@kunde.example", now)) == (
        "destination", "mail.error.forward_to_itself")
    forward(actor, "a", "b@kunde.example", now)
    assert error_of(lambda: forward(actor, "b", "a@kunde.example", now)) == ("destination", "mail.error.forward_loop")
    # across domains: a -> b (unset) ... b -> x@second, x@second -> a@kunde closes the circle
    forward(actor, "b", "x@second.example", now)
    assert error_of(lambda: forward(actor, "x", "a@kunde.example", now, zone="second.example")) == (
        "destination", "mail.error.forward_loop")
    # ending in a mailbox is fine
    create_box(actor, local="end", now=now, zone="second.example")
    forward(actor, "x", "end@second.example", now, zone="second.example")


def test_catch_all(actor, domain_id, now, db):
    assert catch_all(actor, " Postmaster@Elsewhere.Example ", now) == "postmaster@elsewhere.example"
    assert catch_all(actor, "postmaster@elsewhere.example", now) == "postmaster@elsewhere.example"  # no change
    assert mail.get_mail_overview(db, actor.account_id, ZONE).catch_all == "postmaster@elsewhere.example"
    assert catch_all(actor, "", now) == ""
    assert [e.action for e in audit_rows()] == ["catch_all_set", "catch_all_off"]
    assert error_of(lambda: catch_all(actor, "nope", now)) == ("catch_all", "validation.email_invalid")


def test_catch_all_loops_are_refused(actor, domain_id, now):
    # an unknown address of the same domain would come straight back to the catch-all
    assert error_of(lambda: catch_all(actor, "nobody@kunde.example", now)) == ("catch_all", "mail.error.forward_loop")
    create_box(actor, local="info", now=now)
    assert catch_all(actor, "info@kunde.example", now) == "info@kunde.example"


def test_deleting_a_forwarder_cannot_create_a_loop(owner, actor, domain_id, now, db):
    _add_domain(owner.account_id, "second.example")
    create_box(actor, local="box", now=now)
    fwd = forward(actor, "team", "box@kunde.example", now)
    forward(actor, "back", "team@kunde.example", now, zone="second.example")
    catch_all(actor, "back@second.example", now)  # *@kunde -> back@second -> team@kunde -> box: fine
    # without team@kunde, mail to it would fall to the catch-all and circle forever
    assert error_of(lambda: mail.delete_forwarder(db, actor, ZONE, fwd.id, now=now)) == (
        "forwarder", "mail.error.delete_would_loop")
    db.rollback()
    with Session(get_engine()) as session:
        assert session.get(MailForwarder, fwd.id) is not None


# --- scoping and audit --------------------------------------------------------------------------


def test_other_accounts_domain_and_items_are_not_found(actor, stranger, domain_id, now, db):
    own_box = create_box(actor, local="mine", now=now)
    own_fwd = forward(actor, "myfwd", "me@elsewhere.example", now)
    foreign_box = create_box(stranger, local="theirs", now=now, zone="stranger.example")
    foreign_fwd = forward(stranger, "fwd", "a@elsewhere.example", now, zone="stranger.example")
    events_before = len(audit_rows())
    foreign = "stranger.example"
    calls = [
        lambda: mail.list_mailboxes(db, actor.account_id, foreign),
        lambda: mail.list_forwarders(db, actor.account_id, foreign),
        lambda: mail.get_mail_overview(db, actor.account_id, foreign),
        lambda: mail.create_mailbox(db, actor, foreign, "x", STRONG, 1024, now=now),
        lambda: mail.change_mailbox_password(db, actor, foreign, foreign_box.id, STRONG, now=now),
        lambda: mail.set_mailbox_quota(db, actor, foreign, foreign_box.id, 2048, now=now),
        lambda: mail.delete_mailbox(db, actor, foreign, foreign_box.id, "theirs@stranger.example", now=now),
        lambda: mail.create_forwarder(db, actor, foreign, "y", "a@b.example", now=now),
        lambda: mail.delete_forwarder(db, actor, foreign, foreign_fwd.id, now=now),
        lambda: mail.set_catch_all(db, actor, foreign, "a@b.example", now=now),
    ]
    for call in calls:
        with pytest.raises(NotFound) as info:
            call()
        assert info.value.field == "domain"
    # their mailbox / forwarder ids through my own domain
    item_calls = [
        lambda: mail.change_mailbox_password(db, actor, ZONE, foreign_box.id, STRONG, now=now),
        lambda: mail.set_mailbox_quota(db, actor, ZONE, foreign_box.id, 2048, now=now),
        lambda: mail.delete_mailbox(db, actor, ZONE, foreign_box.id, "theirs@stranger.example", now=now),
        lambda: mail.delete_forwarder(db, actor, ZONE, foreign_fwd.id, now=now),
        lambda: mail.delete_mailbox(db, actor, ZONE, "1", "x", now=now),
    ]
    for call in item_calls:
        with pytest.raises(NotFound) as info:
            call()
        assert info.value.field in ("mailbox", "forwarder")
    db.commit()
    assert len(audit_rows()) == events_before
    for box_id in (foreign_box.id, own_box.id):
        row = mailbox_row(box_id)
        assert row is not None and row.quota_mb == 1024 and verify_password(STRONG, row.password_hash)
    with Session(get_engine()) as session:
        assert session.get(MailForwarder, own_fwd.id) is not None
        assert session.get(MailForwarder, foreign_fwd.id) is not None


def test_one_audit_entry_per_change_and_no_password(actor, domain_id, now):
    box = create_box(actor, now=now)
    change(actor, box.id, STRONG_2, now)
    with transaction() as session:
        mail.set_mailbox_quota(session, actor, ZONE, box.id, 4096, now=now)
    fwd = forward(actor, "sales", "boss@elsewhere.example", now)
    catch_all(actor, "info@kunde.example", now)
    catch_all(actor, "", now)
    with transaction() as session:
        mail.delete_forwarder(session, actor, ZONE, fwd.id, now=now)
    with transaction() as session:
        mail.delete_mailbox(session, actor, ZONE, box.id, "info@kunde.example", now=now)
    events = audit_rows()
    assert [e.action for e in events] == [
        "mailbox_created", "mailbox_password_changed", "mailbox_quota_changed", "forwarder_created",
        "catch_all_set", "catch_all_off", "forwarder_deleted", "mailbox_deleted"]
    assert all(e.area == "email" and e.actor_user_id == actor.user_id for e in events)
    assert_password_not_in_audit(STRONG)
    assert_password_not_in_audit(STRONG_2)


def assert_password_not_in_audit(password: str) -> None:
    for event in audit_rows():
        for value in (event.action, event.target, event.detail, event.actor_label, event.user_agent):
            assert password not in value
        assert "password" not in json.loads(event.detail or "{}")


def test_every_mail_message_key_is_translated():
    source = open(mail.__file__, encoding="utf-8").read()
    keys = set(re.findall(r'"((?:mail|validation)\.[a-z_.]+)"', source))
    assert "mail.error.forward_loop" in keys
    for lang in ("en", "de"):
        assert not keys - set(CATALOGS[lang]), lang
