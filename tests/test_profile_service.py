"""Personal data: reading, validated updates, and the email/phone change flow."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from panel_app.models import Account, AuditEvent, LoginSession, User
from panel_app.security.sessions import grant_is_valid
from panel_app.services.audit import Actor
from panel_app.services.profile import (
    apply_contact_change,
    get_profile,
    normalize_vat_id,
    start_contact_change,
    update_profile,
)
from panel_app.services.validation import ValidationError

ADDRESS = dict(name="Erika Beispiel", company="Beispiel AG", street="Lindenallee 3", postal_code="50667",
               city="Köln", country="DE", vat_id="DE 123 456 789")


@pytest.fixture
def owner(make_user):
    return make_user(email="erika@test.example", phone="+4915112345612")


def audits(db):
    db.expire_all()
    return db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()


def error(callable_, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        callable_(*args, **kwargs)
    return info.value.field, info.value.message_key


def test_get_profile_reads_account_and_user(db, owner):
    record = get_profile(db, owner)
    assert (record.name, record.email, record.phone, record.country, record.street) == (
        "Test Owner", "erika@test.example", "+4915112345612", "DE", "")


def test_update_profile_saves_normalized_values_and_audits_field_names(db, owner, now):
    result = update_profile(db, Actor.for_user(owner), owner, now=now, **ADDRESS)
    db.commit()

    assert result.changed == ("name", "company", "street", "postal_code", "city", "vat_id")
    assert result.profile.vat_id == "DE123456789"
    account = db.get(Account, owner.account_id)
    stored = (account.name, account.company, account.street, account.postal_code, account.city,
              account.vat_id)
    assert stored == ("Erika Beispiel", "Beispiel AG", "Lindenallee 3", "50667", "Köln", "DE123456789")
    assert db.get(User, owner.id).name == "Erika Beispiel"
    (event,) = audits(db)
    assert (event.action, event.area) == ("profile_updated", "profile")
    assert json.loads(event.detail) == {"fields": list(result.changed)}
    assert "Lindenallee" not in event.detail and "Köln" not in event.detail


def test_saving_unchanged_data_changes_and_audits_nothing(db, owner, now):
    update_profile(db, Actor.for_user(owner), owner, now=now, **ADDRESS)
    result = update_profile(db, Actor.for_user(owner), owner, now=now, **ADDRESS)
    assert result.changed == ()
    assert len(audits(db)) == 1


def test_fields_left_out_keep_their_values(db, owner, now):
    update_profile(db, Actor.for_user(owner), owner, now=now, **ADDRESS)
    result = update_profile(db, Actor.for_user(owner), owner, now=now, city="Bonn", postal_code="53111")
    assert result.changed == ("postal_code", "city")
    assert (result.profile.street, result.profile.city) == ("Lindenallee 3", "Bonn")


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("name", "", ("name", "validation.required")),
        ("name", "   ", ("name", "validation.required")),
        ("name", "x" * 201, ("name", "validation.too_long")),
        ("name", "Eve\nMallory", ("name", "validation.invalid")),
        ("name", {"a": 1}, ("name", "validation.invalid")),
        ("company", "x" * 201, ("company", "validation.too_long")),
        ("street", "", ("street", "validation.required")),
        ("city", "", ("city", "validation.required")),
        ("city", "x" * 101, ("city", "validation.too_long")),
        ("country", "XX", ("country", "profile.error.country_invalid")),
        ("country", "Germany", ("country", "validation.too_long")),
        ("country", "", ("country", "validation.required")),
        ("postal_code", "1234", ("postal_code", "profile.error.postal_code_invalid")),
        ("postal_code", "123456", ("postal_code", "profile.error.postal_code_invalid")),
        ("postal_code", "5066A", ("postal_code", "profile.error.postal_code_invalid")),
        ("vat_id", "DE12345678", ("vat_id", "profile.error.vat_id_invalid")),  # DE needs 9 digits
        ("vat_id", "ATU1234567", ("vat_id", "profile.error.vat_id_invalid")),
        ("vat_id", "US123456789", ("vat_id", "profile.error.vat_id_prefix")),
        ("vat_id", "GR123456789", ("vat_id", "profile.error.vat_id_prefix")),  # Greece uses EL
        ("vat_id", "D", ("vat_id", "profile.error.vat_id_invalid")),
        ("vat_id", "DE1", ("vat_id", "profile.error.vat_id_invalid")),
        ("vat_id", "CZ1234567890123", ("vat_id", "profile.error.vat_id_invalid")),  # 13 after the prefix
        ("vat_id", "DE12345678€", ("vat_id", "profile.error.vat_id_invalid")),
    ],
)
def test_profile_validation(db, owner, now, field, value, expected):
    kwargs = dict(ADDRESS, **{field: value})
    assert error(update_profile, db, Actor.for_user(owner), owner, now=now, **kwargs) == expected
    assert audits(db) == []
    assert db.get(Account, owner.account_id).street == ""


@pytest.mark.parametrize(
    "country, postal_code, stored",
    [("DE", "01067", "01067"), ("AT", "1010", "1010"), ("NL", "1234 ab", "1234 AB"),
     ("NL", "1234AB", "1234AB"), ("PL", "00-950", "00-950"), ("GB", "sw1a 1aa", "SW1A 1AA"),
     ("US", "10001", "10001")],
)
def test_postal_codes_per_country(db, owner, now, country, postal_code, stored):
    result = update_profile(db, Actor.for_user(owner), owner, now=now, **dict(ADDRESS, country=country,
                                                                              postal_code=postal_code))
    assert (result.profile.country, result.profile.postal_code) == (country, stored)


def test_country_change_checks_the_postal_code_against_the_new_country(db, owner, now):
    update_profile(db, Actor.for_user(owner), owner, now=now, **ADDRESS)
    # The postal code kept from before must fit the new country too.
    assert error(update_profile, db, Actor.for_user(owner), owner, now=now, country="AT") == (
        "postal_code", "profile.error.postal_code_invalid")
    assert error(update_profile, db, Actor.for_user(owner), owner, now=now, country="AT",
                 postal_code="50667") == ("postal_code", "profile.error.postal_code_invalid")


@pytest.mark.parametrize(
    "raw, stored",
    [("de123456789", "DE123456789"), ("DE 123.456.789", "DE123456789"), ("ATU12345678", "ATU12345678"),
     ("NL123456789B01", "NL123456789B01"), ("EL123456789", "EL123456789"), ("FRXX123456789", "FRXX123456789"),
     ("CZ12345678", "CZ12345678"), ("ESX1234567X", "ESX1234567X"), ("IE1234567WA", "IE1234567WA"),
     ("XI123456789", "XI123456789"), ("", ""), ("  ", "")],
)
def test_vat_ids_accepted(raw, stored):
    assert normalize_vat_id(raw) == stored


def test_only_the_owner_of_the_same_account_updates_the_profile(db, owner, make_user, now):
    admin = make_user(email="admin@test.example")
    admin_row = db.get(User, admin.id)
    admin_row.role, admin_row.account_id = "admin", owner.account_id
    db.add(admin_row)
    db.commit()
    assert error(update_profile, db, Actor.for_user(admin_row), owner, now=now, **ADDRESS) == (
        "profile", "profile.error.owner_only")
    assert error(update_profile, db, Actor.for_user(admin_row), admin_row, now=now, **ADDRESS) == (
        "profile", "profile.error.owner_only")  # nor as themselves: the data belongs to the contract holder
    stranger = make_user(email="stranger@test.example")
    assert error(update_profile, db, Actor.for_user(stranger), owner, now=now, **ADDRESS) == (
        "profile", "profile.error.owner_only")
    assert audits(db) == []


# --- email and phone ------------------------------------------------------------------------------


def test_start_contact_change_normalizes_and_writes_nothing(db, owner, now):
    actor = Actor.for_user(owner)
    new_email = start_contact_change(db, actor, owner, "email", "  Erika.NEW@Example.COM ", now)
    assert new_email == "erika.new@example.com"
    assert start_contact_change(db, actor, owner, "phone", "0151 2345 6789", now) == "+4915123456789"
    assert start_contact_change(db, actor, owner, "phone", "+43 664 1234567", now) == "+436641234567"
    assert audits(db) == []
    assert db.get(User, owner.id).email == "erika@test.example"


@pytest.mark.parametrize(
    "kind, value, expected",
    [
        ("email", "not-an-email", ("email", "validation.email_invalid")),
        ("email", "", ("email", "validation.required")),
        ("email", "ERIKA@test.example", ("email", "profile.error.contact_unchanged")),
        ("phone", "12", ("phone", "validation.phone_invalid")),
        ("phone", "+49 151 12345612", ("phone", "profile.error.contact_unchanged")),
        ("fax", "+49 151 99999999", ("kind", "validation.invalid")),
        (["email"], "a@b.example", ("kind", "validation.invalid")),
    ],
)
def test_start_contact_change_refusals(db, owner, make_user, now, kind, value, expected):
    make_user(email="taken@test.example", phone="+4915199999999")
    assert error(start_contact_change, db, Actor.for_user(owner), owner, kind, value, now) == expected


@pytest.mark.parametrize("kind, value, key", [("email", "taken@test.example", "validation.email_taken"),
                                              ("phone", "+49 151 99999999", "profile.error.phone_taken")])
def test_a_taken_address_is_refused_only_after_the_code(db, owner, make_user, now, kind, value, key):
    """Starting a change never tells whether an address belongs to someone else."""
    make_user(email="taken@test.example", phone="+4915199999999")
    assert start_contact_change(db, Actor.for_user(owner), owner, kind, value, now)
    assert error(apply_contact_change, db, Actor.for_user(owner), owner, kind, value, now) == (kind, key)


def test_nobody_changes_someone_elses_contact(db, owner, make_user, now):
    other = make_user(email="other@test.example", phone=None)
    assert error(start_contact_change, db, Actor.for_user(other), owner, "email", "x@test.example", now) == (
        "kind", "profile.error.not_allowed")
    assert error(apply_contact_change, db, Actor.for_user(other), owner, "email", "x@test.example", now) == (
        "kind", "profile.error.not_allowed")
    assert db.get(User, owner.id).email == "erika@test.example"


def _session_with_grant(db, user, now):
    row = LoginSession(user_id=user.id, token_hash=f"hash-{user.id}-{now.timestamp()}", created_at=now,
                       last_seen_at=now, expires_at=now + timedelta(hours=12), grant_verified_at=now,
                       grant_expires_at=now + timedelta(minutes=10), grant_method="email")
    db.add(row)
    db.commit()
    return row


def test_apply_contact_change_sets_audits_and_ends_every_grant(db, owner, make_user, now):
    first = _session_with_grant(db, owner, now)
    second = _session_with_grant(db, owner, now + timedelta(seconds=1))
    bystander = make_user(email="bystander@test.example", phone=None)
    theirs = _session_with_grant(db, bystander, now)

    old = apply_contact_change(db, Actor.for_user(owner), owner, "email", "Erika.New@Example.com", now)
    db.commit()

    assert old == "erika@test.example"
    assert db.get(User, owner.id).email == "erika.new@example.com"
    db.expire_all()
    assert not grant_is_valid(db.get(LoginSession, first.id), now)
    assert not grant_is_valid(db.get(LoginSession, second.id), now)
    assert grant_is_valid(db.get(LoginSession, theirs.id), now)  # other users keep theirs
    (event,) = audits(db)
    assert (event.action, event.area, json.loads(event.detail)) == (
        "contact_changed", "profile", {"kind": "email"})
    assert "erika" not in event.detail


def test_apply_phone_change_returns_the_old_number(db, owner, now):
    old = apply_contact_change(db, Actor.for_user(owner), owner, "phone", "+49 160 5556667", now)
    assert old == "+4915112345612"
    assert db.get(User, owner.id).phone == "+491605556667"


def test_apply_rechecks_that_the_address_is_still_free(db, owner, make_user, now):
    start_contact_change(db, Actor.for_user(owner), owner, "email", "late@test.example", now)
    make_user(email="late@test.example")  # someone else took it while the code was on its way
    actor = Actor.for_user(owner)
    assert error(apply_contact_change, db, actor, owner, "email", "late@test.example", now) == (
        "email", "validation.email_taken")
    assert audits(db) == []


