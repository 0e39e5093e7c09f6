"""The activity log as its readers see it: scope (owner vs. administrator), filters,
pages, labels and the CSV export with formula-injection escaping."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlmodel import select

from panel_app.models import AuditEvent, User
from panel_app.security.passwords import hash_password
from panel_app.security.permissions import Area
from panel_app.services import activity
from panel_app.services.activity import ActivityFilters, export_csv, parse_filters, query_events
from panel_app.services.audit import Actor, record
from panel_app.services.validation import ValidationError

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
_HASH = hash_password("not used in these tests")


@pytest.fixture
def owner(db, make_user):
    return db.get(User, make_user(email="owner@test.example").id)


def make_admin(db, owner, email="ada@test.example", areas="domains") -> User:
    admin = User(account_id=owner.account_id, email=email, password_hash=_HASH, role="admin", areas=areas)
    db.add(admin)
    db.commit()
    return admin


@pytest.fixture
def admin(db, owner):
    return make_admin(db, owner)


def log(db, user: User | None, action: str, when, *, area=Area.DOMAINS, target="", account_id=None,
        ip="203.0.113.5", user_agent=FIREFOX):
    if user is None:
        actor = Actor(user_id=None, account_id=account_id, label="Support: Jan")
    else:
        actor = Actor.for_user(user, ip=ip, user_agent=user_agent)
    event = record(db, actor, area, action, now=when, target=target)
    db.commit()
    return event


def ids(rows) -> list[int]:
    return [r.id for r in rows]


# --- scope ------------------------------------------------------------------------------------


def test_owner_sees_everything_an_admin_only_their_own(db, owner, admin, make_user, now):
    other_admin = make_admin(db, owner, email="bob@test.example")
    stranger = db.get(User, make_user(email="stranger@test.example", phone="+4915112345698").id)
    e_owner = log(db, owner, "profile_updated", now, area=Area.PROFILE)
    e_admin = log(db, admin, "dns_record_added", now + timedelta(minutes=1), target="www A 198.51.100.1")
    e_other = log(db, other_admin, "mailbox_created", now + timedelta(minutes=2), area=Area.EMAIL)
    e_support = log(db, None, "ticket_answered", now + timedelta(minutes=3), area=Area.SUPPORT,
                    account_id=owner.account_id)
    log(db, stranger, "login", now, area=Area.AUTH)

    rows, total = query_events(db, owner, ActivityFilters())
    assert (ids(rows), total) == ([e_support.id, e_other.id, e_admin.id, e_owner.id], 4)

    rows, total = query_events(db, admin, ActivityFilters())
    assert (ids(rows), total) == ([e_admin.id], 1)
    assert rows[0].target == "www A 198.51.100.1"


def test_an_admin_cannot_widen_their_scope_with_a_filter(db, owner, admin, now):
    log(db, owner, "profile_updated", now, area=Area.PROFILE)
    log(db, None, "ticket_answered", now, area=Area.SUPPORT, account_id=owner.account_id)
    mine = log(db, admin, "login", now, area=Area.AUTH)
    assert query_events(db, admin, ActivityFilters(actor_user_id=owner.id)) == ([], 0)
    assert query_events(db, admin, ActivityFilters(actor_system=True)) == ([], 0)
    assert query_events(db, admin, ActivityFilters(area="profile")) == ([], 0)
    assert ids(query_events(db, admin, ActivityFilters(actor_user_id=admin.id))[0]) == [mine.id]
    exported = export_csv(db, admin, ActivityFilters(actor_user_id=owner.id)).decode("utf-8-sig")
    assert exported.count("\r\n") == 1  # the header only


def test_actor_choices_owner_everyone_admin_only_self(db, owner, admin, now):
    log(db, None, "ticket_answered", now, area=Area.SUPPORT, account_id=owner.account_id)
    assert [(v, label) for v, label, _role in activity.actor_choices(db, owner)] == [
        (str(owner.id), "owner@test.example"), (str(admin.id), "ada@test.example"), ("system", "")]
    assert activity.actor_choices(db, admin) == [(str(admin.id), "ada@test.example", "admin")]


# --- filters ----------------------------------------------------------------------------------


def test_filter_by_actor_area_and_inclusive_date_range(db, owner, admin, now):
    day1 = now.replace(hour=0, minute=0)  # 2026-11-25 00:00 UTC
    first = log(db, owner, "login", day1, area=Area.AUTH)
    second = log(db, admin, "dns_record_added", day1 + timedelta(hours=23, minutes=59, seconds=59))
    third = log(db, admin, "login", day1 + timedelta(days=1), area=Area.AUTH)
    fourth = log(db, owner, "profile_updated", day1 + timedelta(days=2), area=Area.PROFILE)

    def found(**kwargs):
        return ids(query_events(db, owner, ActivityFilters(**kwargs))[0])

    assert found(actor_user_id=admin.id) == [third.id, second.id]
    assert found(actor_user_id=owner.id) == [fourth.id, first.id]
    assert found(area="auth") == [third.id, first.id]
    assert found(area="auth", actor_user_id=admin.id) == [third.id]
    assert found(date_from=date(2026, 11, 25), date_to=date(2026, 11, 25)) == [second.id, first.id]
    assert found(date_from=date(2026, 11, 26)) == [fourth.id, third.id]
    assert found(date_to=date(2026, 11, 26)) == [third.id, second.id, first.id]
    assert found(date_from=date(2026, 12, 1)) == []


def test_parse_filters_from_a_form(owner):
    assert parse_filters({"actor": "all", "area": "all", "from": "", "to": ""}) == ActivityFilters()
    assert parse_filters({}) == ActivityFilters()
    assert parse_filters({"actor": "17", "area": "domains", "from": "2026-11-01",
                          "to": "2026-11-30"}) == ActivityFilters(actor_user_id=17, area="domains",
                                                                   date_from=date(2026, 11, 1),
                                                                   date_to=date(2026, 11, 30))
    assert parse_filters({"actor": "system"}) == ActivityFilters(actor_system=True)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"actor": "-1"}, ("actor", "validation.invalid")),
        ({"actor": "1 OR 1=1"}, ("actor", "validation.invalid")),
        ({"actor": 5}, ("actor", "validation.invalid")),
        ({"area": "nope"}, ("area", "validation.invalid")),
        ({"area": ["domains"]}, ("area", "validation.invalid")),
        ({"from": "25.11.2026"}, ("from", "activity.error.date_invalid")),
        ({"from": "2026-02-30"}, ("from", "activity.error.date_invalid")),
        ({"to": 20261125}, ("to", "activity.error.date_invalid")),
        ({"from": "2026-11-26", "to": "2026-11-25"}, ("to", "activity.error.range")),
    ],
)
def test_parse_filters_refuses_bad_input(raw, expected):
    with pytest.raises(ValidationError) as info:
        parse_filters(raw)
    assert (info.value.field, info.value.message_key) == expected


# --- pages and labels -------------------------------------------------------------------------


def test_pages_of_fifty_newest_first(db, owner, now):
    events = [log(db, owner, "login", now + timedelta(minutes=i), area=Area.AUTH) for i in range(120)]
    newest_first = [e.id for e in reversed(events)]

    rows, total = query_events(db, owner, ActivityFilters(), 1)
    assert (total, ids(rows)) == (120, newest_first[:50])
    assert ids(query_events(db, owner, ActivityFilters(), 2)[0]) == newest_first[50:100]
    assert ids(query_events(db, owner, ActivityFilters(), 3)[0]) == newest_first[100:]
    assert query_events(db, owner, ActivityFilters(), 4)[0] == []
    for odd in (0, -3, "2", None, True):
        assert ids(query_events(db, owner, ActivityFilters(), odd)[0]) == newest_first[:50]
    assert activity.page_count(120) == 3 and activity.page_count(0) == 1 and activity.page_count(50) == 1


def test_rows_carry_actor_role_ip_browser_and_labels(db, owner, admin, now):
    log(db, admin, "dns_record_added", now, ip="198.51.100.23")
    (row,), _ = query_events(db, owner, ActivityFilters())
    assert (row.actor_label, row.actor_role, row.ip, row.browser) == (
        "ada@test.example", "admin", "198.51.100.23", "Firefox on Linux")
    assert activity.action_label("dns_record_added", "de") == "DNS-Eintrag hinzugefügt"
    assert activity.action_label("something_new", "de") == "something_new"
    assert activity.area_label("domains", "en") == "Domains"


# --- CSV --------------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read umlauts right
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_contains_the_visible_entries_with_translated_headers(db, owner, admin, now):
    log(db, owner, "profile_updated", now, area=Area.PROFILE, target="Müller GmbH")
    log(db, admin, "dns_record_added", now + timedelta(minutes=1), target="www A 198.51.100.1")

    header, *rows = read_csv(export_csv(db, owner, ActivityFilters(), lang="de"))
    assert header == ["Zeit (UTC)", "Wer", "Rolle", "Bereich", "Aktion (Code)", "Aktion", "Betroffen",
                      "IP-Adresse", "Browser", "Details"]
    assert rows == [
        ["2026-11-25 12:01:00 UTC", "ada@test.example", "Administrator", "Domains", "dns_record_added",
         "DNS-Eintrag hinzugefügt", "www A 198.51.100.1", "203.0.113.5", "Firefox on Linux", ""],
        ["2026-11-25 12:00:00 UTC", "owner@test.example", "Inhaber", "Persönliche Daten", "profile_updated",
         "Persönliche Daten geändert", "Müller GmbH", "203.0.113.5", "Firefox on Linux", ""],
    ]
    # Filters apply to the export too.
    _header, *only_admin = read_csv(export_csv(db, owner, ActivityFilters(actor_user_id=admin.id)))
    assert [r[1] for r in only_admin] == ["ada@test.example"]


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0",
                                       "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"])
def test_csv_neutralises_formula_injection(db, owner, now, dangerous):
    log(db, owner, "dns_record_added", now, target=dangerous, user_agent=dangerous)
    _header, row = read_csv(export_csv(db, owner, ActivityFilters()))
    assert row[6] == "'" + dangerous
    assert not row[8].startswith(("=", "+", "-", "@", "\t", "\r"))
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row)


def test_csv_leaves_harmless_values_alone():
    assert activity.safe_cell("a=b") == "a=b"
    assert activity.safe_cell("198.51.100.1") == "198.51.100.1"
    assert activity.safe_cell("") == ""
    assert activity.safe_cell(None) == ""
    assert activity.safe_cell("-") == "'-"


# --- read only --------------------------------------------------------------------------------


def test_reading_and_exporting_change_nothing(db, owner, admin, now):
    log(db, owner, "login", now, area=Area.AUTH)
    before = [e.model_dump() for e in db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    query_events(db, owner, ActivityFilters())
    export_csv(db, admin, ActivityFilters())
    db.commit()
    db.expire_all()
    assert [e.model_dump() for e in db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()] == before


def test_the_activity_page_offers_no_way_to_change_or_delete_entries():
    from panel_app.state.activity import ActivityState

    assert set(ActivityState.event_handlers) - {"setvar"} == {
        "load", "tick", "apply_filters", "clear_filters", "next_page", "previous_page", "export_csv"}
    public = {name for name in dir(activity)
              if not name.startswith("_") and callable(getattr(activity, name))}
    assert not {n for n in public if any(w in n for w in ("delete", "remove", "update", "edit", "purge"))}


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1999-12-31", "3000-01-01"])
def test_far_off_dates_are_refused_with_a_message_not_an_overflow(value):
    for field in ("from", "to"):
        with pytest.raises(ValidationError) as info:
            activity.parse_filters({field: value})
        assert info.value.message_key == "activity.error.date_invalid"


def test_the_last_accepted_day_still_filters(db, owner):
    filters = activity.parse_filters({"to": "2999-12-31", "from": "2000-01-01"})
    assert filters.date_to.year == 2999
    activity.query_events(db, owner, filters)  # no OverflowError computing the next day
