"""The /domains/[domain] and /email page states, driven like Reflex drives them.

A real state tree is built (``rx.State`` with every substate, as the in-memory
state manager does), its router data set the way an event sets it (cookie header,
page path), and handlers are called directly. The guard therefore decides from
the database exactly as in production; time is moved with the shared ``clock``
fixture (``tests/conftest.py``).

Tests are ``async`` only so that ``tasks.spawn`` finds a running loop (as it does
under Reflex) and the owner's notice is sent after the handler's transaction.
"""

from __future__ import annotations

import inspect
import json
from datetime import date, datetime

import pytest
import reflex as rx
from reflex.istate.data import RouterData

from tests.state_harness import login_token, tab_state
from sqlmodel import Session, select

import panel_app.pages.dns as dns_page
import panel_app.pages.mail as mail_page
from panel_app import tasks
from panel_app.db import get_engine, transaction
from panel_app.i18n import CATALOGS, t
from panel_app.i18n.catalog import ui_dns, ui_mail
from panel_app.models import (
    AuditEvent, DnsChange, DnsRecord, Domain, MailForwarder, Mailbox, OutboxMessage, User,
)
from panel_app.security import crypto
from panel_app.security.passwords import hash_password, verify_password
from panel_app.state.dns import DnsState
from panel_app.state.dns_parts import (
    AUTH_CODE_VISIBLE_SECONDS, RECORD_FORM_FIRST_FIELD_ID, DnsAuthCodeState, DnsRecordFormState,
)
from panel_app.state.guard import GUARD_MARKER
from panel_app.state.gated import PagePart
from panel_app.state.mail import MailState
from panel_app.state.mail_parts import MailboxCreateState, MailboxEditState, MailForwardingState

ZONE = "example.com"
AUTH_CODE = "Xy7#Xy7#Xy7#Xy7#"
STRONG = "Moorland-Violin-47-Teapot"


# --- the clock, users, sessions ---------------------------------------------------------------


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def stranger(make_user):
    user = make_user(email="stranger@test.example", phone="+4915112345699")
    _add_domain(user.account_id, "stranger.example", records=[("@", "A", 3600, "198.51.100.99")])
    return user


def _add_domain(account_id: int, name: str, *, records=(), auth_code: str | None = AUTH_CODE,
                catch_all: str = "") -> int:
    with transaction() as db:
        domain = Domain(account_id=account_id, name=name, registered_on=date(2020, 3, 1),
                        expires_on=date(2027, 3, 1), catch_all=catch_all,
                        auth_code_enc=crypto.encrypt(auth_code) if auth_code else "")
        db.add(domain)
        db.flush()
        for rname, rtype, ttl, value in records:
            db.add(DnsRecord(domain_id=domain.id, name=rname, rtype=rtype, ttl=ttl, value=value))
        return domain.id


@pytest.fixture
def domain_id(owner) -> int:
    return _add_domain(owner.account_id, ZONE, records=[
        ("@", "A", 3600, "192.0.2.1"),
        ("@", "MX", 3600, "10 mail.example.com."),
        ("mail", "A", 3600, "192.0.2.2"),
    ])


def _add_admin(owner, *, areas: str, email: str = "tech@test.example") -> User:
    with transaction() as db:
        admin = User(account_id=owner.account_id, email=email, name="Tech", phone="+4915112345600",
                     password_hash=hash_password("correct horse battery"), role="admin", areas=areas)
        db.add(admin)
        db.flush()
        return admin


def _login(user, now: datetime, *, grant: bool = True) -> str:
    return login_token(user, now, grant_method="totp" if grant else None)


def _state(cls, token: str | None, path: str, query: dict | None = None):
    return tab_state(cls, token, path, query)


def _auth(page) -> DnsAuthCodeState:
    """The auth code part of a DNS page."""
    return page.substates[DnsAuthCodeState.get_name()]


def _form(page) -> DnsRecordFormState:
    """The record form part of a DNS page."""
    return page.substates[DnsRecordFormState.get_name()]


def _create(page) -> MailboxCreateState:
    """The part of the mail page that creates a mailbox."""
    return page.substates[MailboxCreateState.get_name()]


def _edit(page) -> MailboxEditState:
    """The part of the mail page that changes or deletes a mailbox."""
    return page.substates[MailboxEditState.get_name()]


def _forwarding(page) -> MailForwardingState:
    """The part of the mail page with the forwarders and the catch-all address."""
    return page.substates[MailForwardingState.get_name()]


def _navigate(state, path: str) -> None:
    state.router = RouterData.from_router_data({
        "headers": {"cookie": state.router.headers.cookie, "user-agent": "pytest"},
        "pathname": path, "asPath": path, "ip": "192.0.2.50",
    })


def _revealed(outcome) -> str:
    """What a reveal writes into the page (it travels in the answer, never in the state)."""
    return json.dumps(outcome.args, default=str) if isinstance(outcome, rx.event.EventSpec) else ""


def _whole_state_text(state) -> str:
    """Everything the state tree could send to the browser (and more: backend vars too)."""
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    return json.dumps(root.dict(), default=str) + repr(vars(state))


def _db_snapshot() -> dict:
    """Everything a refused handler must leave alone."""
    with Session(get_engine()) as db:
        rows = {model: db.exec(select(model)).all()
                for model in (DnsRecord, DnsChange, Domain, Mailbox, MailForwarder)}
        return {
            "records": sorted((r.domain_id, r.name, r.rtype, r.ttl, r.value) for r in rows[DnsRecord]),
            "changes": sorted((c.id, c.undone_at) for c in rows[DnsChange]),
            "domains": sorted((d.name, d.transfer_lock, d.auth_code_enc, d.catch_all) for d in rows[Domain]),
            "mailboxes": sorted((m.local_part, m.password_hash, m.quota_mb) for m in rows[Mailbox]),
            "forwarders": sorted((f.local_part, f.destination) for f in rows[MailForwarder]),
            "audit": sorted(a.action for a in db.exec(select(AuditEvent)) if a.action != "permission_denied"),
        }


def _audit_actions() -> list[str]:
    with Session(get_engine()) as db:
        return [a.action for a in db.exec(select(AuditEvent).order_by(AuditEvent.id))]


def _zone() -> set[tuple]:
    with Session(get_engine()) as db:
        domain = db.exec(select(Domain).where(Domain.name == ZONE)).one()
        return {(r.name, r.rtype, r.ttl, r.value)
                for r in db.exec(select(DnsRecord).where(DnsRecord.domain_id == domain.id))}


def _domain_row(name: str = ZONE) -> Domain:
    with Session(get_engine()) as db:
        return db.exec(select(Domain).where(Domain.name == name)).one()


# --- every handler is guarded, and refuses without a grant ---------------------------------------


def _handlers(cls) -> dict:
    return {name: h.fn for name, h in cls.event_handlers.items() if name != "setvar"}


def _dummy_args(fn) -> list:
    args = []
    for param in list(inspect.signature(fn).parameters.values())[1:]:
        annotation = str(param.annotation)
        if "dict" in annotation:
            args.append({"rtype": "A", "name": "evil", "ttl": "3600", "value": "198.51.100.66",
                         "local_part": "evil", "password": STRONG, "quota_mb": "2048",
                         "destination": "evil@attacker.example", "confirmation": f"info@{ZONE}",
                         "mode": "on"})
        elif "bool" in annotation:
            args.append(False)
        else:
            args.append("1")
    return args


def _parts(page) -> list:
    """The page's parts (substates holding one form or secret), loaded with it."""
    return [sub for sub in page.substates.values() if isinstance(sub, PagePart)]


@pytest.mark.parametrize("cls", [DnsAuthCodeState, DnsRecordFormState, MailboxCreateState, MailboxEditState,
                                 MailForwardingState])
def test_every_public_handler_of_a_part_needs_a_grant(cls):
    handlers = _handlers(cls)
    assert handlers, cls
    for name, fn in handlers.items():
        assert getattr(fn, GUARD_MARKER, None) is not None, f"{cls.__name__}.{name} is not guarded"
        _area, need_grant = getattr(fn, GUARD_MARKER)
        assert need_grant, f"{cls.__name__}.{name} does not require a grant"
    assert cls.area == cls.get_parent_state().area


@pytest.mark.parametrize("cls", [DnsState, MailState])
def test_every_public_handler_needs_a_grant(cls):
    handlers = _handlers(cls)
    assert {"load", "tick"} <= set(handlers)
    for name, fn in handlers.items():
        assert getattr(fn, GUARD_MARKER, None) is not None, f"{cls.__name__}.{name} is not guarded"
        _area, need_grant = getattr(fn, GUARD_MARKER)
        assert need_grant, f"{cls.__name__}.{name} does not require a grant"


@pytest.mark.parametrize("cls, path", [(DnsState, f"/domains/{ZONE}"), (MailState, "/email")])
@pytest.mark.parametrize("grant", [False, True])
async def test_without_a_grant_every_handler_refuses(cls, path, grant, owner, domain_id, clock):
    """Logged in but not verified (or verified and then expired): no data, no change."""
    with transaction() as db:
        db.add(Mailbox(domain_id=domain_id, local_part="info", password_hash=hash_password(STRONG),
                       quota_mb=1024))
        db.add(MailForwarder(domain_id=domain_id, local_part="sales", destination="sales@elsewhere.example"))
    token = _login(owner, clock.now, grant=grant)
    if grant:  # the grant ran out ten minutes later
        clock.advance(601)
    before = _db_snapshot()
    state = _state(cls, token, path)
    for page in (state, *_parts(state)):
        for name, fn in _handlers(type(page)).items():
            getattr(page, name)(*_dummy_args(fn))
    await tasks.wait_all()
    assert _db_snapshot() == before
    assert not state.loaded and not state.grant_active
    text = _whole_state_text(state)
    for secret in (AUTH_CODE, "192.0.2.2", "mail.example.com", f"info@{ZONE}", "sales@elsewhere.example"):
        assert secret not in text
    with Session(get_engine()) as db:
        assert db.exec(select(OutboxMessage)).all() == []


async def test_without_a_login_the_page_redirects_to_login(owner, domain_id, clock):
    state = _state(DnsState, None, f"/domains/{ZONE}")
    outcome = state.load()
    assert isinstance(outcome, rx.event.EventSpec)
    assert "/login?next=" in json.dumps(outcome.args, default=str)
    assert state.records == [] and not state.loaded


async def test_an_admin_without_the_area_is_sent_away(owner, domain_id, clock):
    admin = _add_admin(owner, areas="email")
    state = _state(DnsState, _login(admin, clock.now), f"/domains/{ZONE}")
    outcome = _auth(state).reveal_auth_code()
    assert "/dashboard?denied=1" in json.dumps(outcome.args, default=str)
    assert not _auth(state).auth_code_shown and state.records == [] and AUTH_CODE not in _revealed(outcome)
    assert "auth_code_revealed" not in _audit_actions()


# --- /domains/[domain] with a grant ------------------------------------------------------------


@pytest.fixture
def dns_state(owner, domain_id, clock):
    state = _state(DnsState, _login(owner, clock.now), f"/domains/{ZONE}")
    state.load()
    return state


async def test_load_shows_the_domain_and_its_records(dns_state):
    assert dns_state.loaded and not dns_state.not_found
    assert dns_state.display_name == ZONE
    assert dns_state.expires == "2027-03-01" and dns_state.status_label == "Active"
    assert dns_state.transfer_lock is True
    assert [(r.name, r.rtype, r.ttl, r.value) for r in dns_state.records] == [
        ("@", "A", "3600", "192.0.2.1"), ("@", "MX", "3600", "10 mail.example.com."),
        ("mail", "A", "3600", "192.0.2.2")]
    assert all(r.problem == "" for r in dns_state.records)
    assert dns_state.zone_error == "" and dns_state.undo_label == ""
    assert not _auth(dns_state).auth_code_shown  # never without the explicit click
    assert AUTH_CODE not in _whole_state_text(dns_state)


async def test_a_german_user_reads_german(make_user, clock):
    user = make_user(email="kundin@test.example", language="de")
    _add_domain(user.account_id, ZONE)
    state = _state(DnsState, _login(user, clock.now), f"/domains/{ZONE}")
    state.load()
    assert (state.expires, state.status_label) == ("01.03.2027", "Aktiv")
    _form(state).save_record({"rtype": "AAAA", "name": "www", "ttl": "3600", "value": "192.0.2.1"})
    assert _form(state).value_error == CATALOGS["de"]["dns.error.ipv4_in_aaaa"]


async def test_add_record_stores_it_and_offers_undo(dns_state):
    _form(dns_state).save_record({"rtype": "A", "name": "www", "ttl": "600", "value": "192.0.2.7"})
    assert ("www", "A", 600, "192.0.2.7") in _zone()
    # Said in the form, where the user is; the page's own message (at its top) is not repeated.
    assert _form(dns_state).form_message == t("dnsui.added") and dns_state.message == ""
    assert any(r.name == "www" and r.value == "192.0.2.7" for r in dns_state.records)
    assert _form(dns_state).form_value == "" and _form(dns_state).value_error == ""  # the form starts afresh
    assert dns_state.undo_label.startswith(t("dns.change.add", rtype="A", name=f"www.{ZONE}"))
    assert _audit_actions()[-1] == "dns_record_added"

    dns_state.undo_last_change()
    assert ("www", "A", 600, "192.0.2.7") not in _zone()
    added = t("dns.change.add", rtype="A", name=f"www.{ZONE}")
    assert dns_state.message == t("dnsui.undo.done", change=added)
    assert dns_state.undo_label == ""


@pytest.mark.parametrize("form, field, key, params", [
    ({"rtype": "A", "name": "www", "ttl": "3600", "value": "2001:db8::1"}, "value", "dns.error.ipv6_in_a",
     {}),
    ({"rtype": "A", "name": "www", "ttl": "5", "value": "192.0.2.9"}, "ttl", "dns.error.number_range",
     {"min": 60, "max": 86400}),
    ({"rtype": "MX", "name": "@", "ttl": "3600", "value": "mx2.example.net", "priority": ""}, "priority",
     "validation.required", {}),
    ({"rtype": "CNAME", "name": "@", "ttl": "3600", "value": "other.example.net"}, "name",
     "dns.error.cname_at_apex", {}),
    ({"rtype": "SRV", "name": "_sip._tcp", "ttl": "3600", "value": "sip.example.net", "priority": "10",
      "weight": "5", "port": "99999"}, "port", "dns.error.number_range", {"min": 0, "max": 65535}),
    ({"rtype": "CAA", "name": "@", "ttl": "3600", "value": "letsencrypt.org", "flags": "0", "tag": "bogus"},
     "tag", "dns.error.caa_tag_invalid", {}),
    ({"rtype": "HINFO", "name": "@", "ttl": "3600", "value": "x"}, "rtype", "dns.error.type_unsupported", {}),
])
async def test_bad_record_shows_the_error_next_to_its_field_and_keeps_the_input(dns_state, form, field, key,
                                                                                params):
    before = _db_snapshot()
    _form(dns_state).save_record(form)
    assert getattr(_form(dns_state), f"{field}_error") == t(key, **params)
    others = [f for f in ("name", "rtype", "ttl", "value", "priority", "weight", "port", "flags", "tag")
              if f != field]
    assert all(getattr(_form(dns_state), f"{f}_error") == "" for f in others)
    assert _form(dns_state).form_error == "" and dns_state.message == ""
    for name in ("name", "ttl", "value"):  # what the user typed is still there
        assert getattr(_form(dns_state), f"form_{name}") == form[name]
    assert _db_snapshot() == before


async def test_edit_fills_the_form_and_saves_the_change(dns_state):
    mx = next(r for r in dns_state.records if r.rtype == "MX")
    shown = _form(dns_state).start_edit(mx.id)
    form = _form(dns_state)
    # The form, below the records, is brought into view with the focus in its first field.
    script = shown.args[0][1]._var_value
    assert script.startswith("window.panelShowInPlace(") and f'data-form-key=\\"{form.form_key}\\"' in script
    assert RECORD_FORM_FIRST_FIELD_ID in script
    assert (form.editing_id, form.form_rtype, form.form_name, form.form_value,
            form.form_priority) == (mx.id, "MX", "@", "mail.example.com", "10")
    _form(dns_state).save_record({"rtype": "MX", "name": "@", "ttl": "3600", "value": "mail", "priority": "20"})
    assert ("@", "MX", 3600, "20 mail.example.com.") in _zone()
    assert ("@", "MX", 3600, "10 mail.example.com.") not in _zone()
    assert _form(dns_state).editing_id == "" and _form(dns_state).form_message == t("dnsui.updated")
    _form(dns_state).start_add()
    assert _form(dns_state).form_message == ""


async def test_delete_record(dns_state):
    www = next(r for r in dns_state.records if r.name == "mail")
    dns_state.delete_record(www.id)
    assert ("mail", "A", 3600, "192.0.2.2") not in _zone()
    assert dns_state.message == t("dnsui.deleted")
    dns_state.delete_record("999999")  # gone or never there: said, nothing else
    assert dns_state.error == t("dns.error.record_not_found")
    dns_state.delete_record({"id": 1})  # junk from a client: ignored
    assert _audit_actions().count("dns_record_deleted") == 1


async def test_zone_file_is_shown_on_request(dns_state):
    assert dns_state.zone_text == ""
    dns_state.show_zone_file()
    assert f"$ORIGIN {ZONE}." in dns_state.zone_text
    assert "mail\t3600\tIN\tA\t192.0.2.2" in dns_state.zone_text
    dns_state.hide_zone_file()
    assert dns_state.zone_text == ""


async def test_transfer_lock_asks_before_turning_off(dns_state):
    dns_state.change_transfer_lock(False)
    assert dns_state.confirm_unlock is True
    assert _domain_row().transfer_lock is True  # nothing happened yet
    dns_state.cancel_unlock()
    assert dns_state.confirm_unlock is False and _domain_row().transfer_lock is True

    dns_state.change_transfer_lock(False)
    dns_state.confirm_unlock_transfer()
    assert _domain_row().transfer_lock is False and dns_state.transfer_lock is False
    dns_state.change_transfer_lock(True)  # turning it on needs no question
    assert _domain_row().transfer_lock is True and dns_state.confirm_unlock is False
    assert _audit_actions()[-2:] == ["transfer_lock_off", "transfer_lock_on"]


async def test_auth_code_is_shown_for_sixty_seconds_and_mailed_to_the_owner(owner, domain_id, clock):
    admin = _add_admin(owner, areas="domains")
    state = _state(DnsState, _login(admin, clock.now), f"/domains/{ZONE}")
    state.load()
    outcome = _auth(state).reveal_auth_code()
    assert AUTH_CODE in _revealed(outcome) and _auth(state).auth_code_shown
    assert AUTH_CODE not in _whole_state_text(state)  # shown once, never kept for a later event
    assert _auth(state).auth_code_seconds_left == AUTH_CODE_VISIBLE_SECONDS
    await tasks.wait_all()
    assert _audit_actions()[-1] == "auth_code_revealed"
    with Session(get_engine()) as db:
        notices = db.exec(select(OutboxMessage)).all()
    assert [n.recipient for n in notices] == [owner.email]  # the owner, not the admin who looked
    assert ZONE in notices[0].subject and admin.email in notices[0].text
    assert AUTH_CODE not in notices[0].text and AUTH_CODE not in notices[0].html

    clock.advance(30)
    state.tick()
    assert _auth(state).auth_code_shown and _auth(state).auth_code_seconds_left == 30
    clock.advance(30)
    state.tick()
    assert not _auth(state).auth_code_shown and _auth(state).auth_code_seconds_left == 0
    assert AUTH_CODE not in _whole_state_text(state)
    assert state.records  # the rest of the page stays


async def test_auth_code_hide_and_wipe_on_grant_expiry(dns_state, clock):
    _auth(dns_state).reveal_auth_code()
    _auth(dns_state).hide_auth_code()
    assert not _auth(dns_state).auth_code_shown
    assert AUTH_CODE in _revealed(_auth(dns_state).reveal_auth_code())
    assert _audit_actions().count("auth_code_revealed") == 2  # every reveal is recorded
    await tasks.wait_all()

    clock.advance(600)  # the grant ends while the code is on screen
    dns_state.tick()
    assert not _auth(dns_state).auth_code_shown and dns_state.records == [] and not dns_state.loaded
    assert AUTH_CODE not in _whole_state_text(dns_state)


async def test_regenerate_replaces_the_code_without_showing_it(dns_state):
    _auth(dns_state).reveal_auth_code()
    _auth(dns_state).regenerate_auth_code()
    assert not _auth(dns_state).auth_code_shown
    new_code = crypto.decrypt(_domain_row().auth_code_enc)
    assert new_code != AUTH_CODE
    assert new_code not in _whole_state_text(dns_state)
    assert new_code in _revealed(_auth(dns_state).reveal_auth_code())
    await tasks.wait_all()


async def test_another_accounts_domain_is_not_found(owner, domain_id, stranger, clock):
    before = _db_snapshot()
    state = _state(DnsState, _login(owner, clock.now), "/domains/stranger.example")
    state.load()
    assert state.loaded and state.not_found
    assert state.records == [] and state.display_name == ""
    assert _revealed(_auth(state).reveal_auth_code()) == ""
    _form(state).save_record({"rtype": "A", "name": "evil", "ttl": "3600", "value": "192.0.2.66"})
    state.change_transfer_lock(False)
    state.confirm_unlock_transfer()
    state.show_zone_file()
    state.undo_last_change()
    _auth(state).regenerate_auth_code()
    assert not _auth(state).auth_code_shown and state.zone_text == ""
    assert "198.51.100.99" not in _whole_state_text(state)
    assert _db_snapshot() == before

    unknown = _state(DnsState, _login(owner, clock.now), "/domains/nowhere.example")
    unknown.load()
    assert unknown.not_found


async def test_moving_to_another_domain_forgets_the_first(owner, domain_id, clock):
    _add_domain(owner.account_id, "second.example", records=[("@", "A", 3600, "192.0.2.200")])
    state = _state(DnsState, _login(owner, clock.now), f"/domains/{ZONE}")
    state.load()
    _auth(state).reveal_auth_code()
    await tasks.wait_all()
    _navigate(state, "/domains/second.example")
    state.load()
    assert state.display_name == "second.example"
    assert [r.value for r in state.records] == ["192.0.2.200"]
    assert not _auth(state).auth_code_shown


async def test_a_zone_that_fails_to_revalidate_is_shown_with_its_problems(owner, clock):
    """Values stored before validation was strict ("@" as CNAME target, unquoted TXT,
    junk) are shown as stored and marked; the page and further changes still work."""
    _add_domain(owner.account_id, ZONE, records=[
        ("@", "A", 3600, "192.0.2.1"),
        ("www", "CNAME", 3600, "@"),
        ("@", "TXT", 3600, "v=spf1 -all"),
        ("old", "A", 3600, "not-an-address"),
    ])
    state = _state(DnsState, _login(owner, clock.now), f"/domains/{ZONE}")
    state.load()
    assert state.loaded and not state.not_found
    assert state.zone_error == t("dnsui.zone_has_problems")
    problems = {r.name + " " + r.rtype: r.problem for r in state.records}
    assert problems["@ A"] == ""
    assert problems["www CNAME"] != "" and problems["old A"] != ""
    # A change is refused with a message instead of failing: the stored junk cannot be parsed,
    # and the message says so rather than blaming the (valid) new record.
    _form(state).save_record({"rtype": "A", "name": "new", "ttl": "3600", "value": "192.0.2.5"})
    assert _form(state).form_error == t("dnsui.zone_blocks_change") and _form(state).value_error == ""
    assert _form(state).form_value == "192.0.2.5"
    # Editing the broken record shows it as stored, so it can be fixed.
    old = next(r for r in state.records if r.name == "old")
    _form(state).start_edit(old.id)
    assert _form(state).form_value == "not-an-address"
    _form(state).save_record({"rtype": "A", "name": "old", "ttl": "3600", "value": "192.0.2.3"})
    assert ("old", "A", 3600, "192.0.2.3") in _zone()
    state.show_zone_file()
    assert "www\t3600\tIN\tCNAME\t@" in state.zone_text


async def test_a_zone_the_panel_cannot_parse_is_said_so_and_changes_are_refused(owner, clock):
    """A stored name dnspython refuses (written by another tool): the page says the zone
    cannot be read, changes are refused with that message, nothing is written."""
    _add_domain(owner.account_id, ZONE, records=[("@", "A", 3600, "192.0.2.1"), ("x" * 70, "A", 3600, "192.0.2.2")])
    state = _state(DnsState, _login(owner, clock.now), f"/domains/{ZONE}")
    state.load()
    assert state.loaded and not state.not_found
    assert state.zone_error == t("dnsui.zone_unreadable") and state.records == []
    before = _zone()
    _form(state).save_record({"rtype": "A", "name": "new", "ttl": "3600", "value": "192.0.2.5"})
    assert _form(state).form_error == t("dnsui.zone_unreadable")
    state.undo_last_change()
    assert state.error == t("dns.error.nothing_to_undo")
    assert _zone() == before


# --- /email with a grant -------------------------------------------------------------------------


@pytest.fixture
def mail_state(owner, domain_id, clock):
    _add_domain(owner.account_id, "second.example", auth_code=None)
    with transaction() as db:
        db.add(Mailbox(domain_id=domain_id, local_part="info", password_hash=hash_password(STRONG),
                       quota_mb=1024, used_mb=300))
    state = _state(MailState, _login(owner, clock.now), "/email")
    state.load()
    return state


def _mailbox(local_part: str, domain: str = ZONE) -> Mailbox | None:
    with Session(get_engine()) as db:
        domain_row = db.exec(select(Domain).where(Domain.name == domain)).one()
        return db.exec(select(Mailbox).where(Mailbox.domain_id == domain_row.id,
                                             Mailbox.local_part == local_part)).first()


async def test_mail_overview(mail_state):
    assert mail_state.domain_options == [ZONE, "second.example"]
    assert mail_state.selected_domain == ZONE
    assert [(b.address, b.quota, b.usage, b.percent) for b in mail_state.mailboxes] == [
        (f"info@{ZONE}", "1.0 GB", t("mailui.usage_of", used="300 MB", quota="1.0 GB"), "29")]
    mail_state.select_domain("second.example")
    assert mail_state.selected_domain == "second.example" and mail_state.mailboxes == []
    mail_state.select_domain("stranger.example")  # not one of ours: ignored
    assert mail_state.selected_domain == "second.example"


async def test_email_preselects_the_domain_from_the_link(owner, domain_id, clock):
    _add_domain(owner.account_id, "second.example")
    state = _state(MailState, _login(owner, clock.now), "/email", query={"domain": "second.example"})
    state.load()
    assert state.selected_domain == "second.example"


async def test_the_first_event_of_a_part_does_not_remount_its_form(mail_state):
    """A part that the page prepared on load (the create form) keeps its form key through
    its own first event: a remount would throw away what the user is typing."""
    create = _create(mail_state)
    key = create.create_key
    create.check_new_password("typing")
    assert create.create_key == key and create.password_feedback_key


async def test_create_mailbox_keeps_input_but_never_the_password(mail_state):
    weak = "password123"
    _create(mail_state).check_new_password(weak)
    assert _create(mail_state).password_feedback_key.startswith("mail.error.password_weak")
    assert _create(mail_state).password_feedback == t(_create(mail_state).password_feedback_key)
    password_field = _create(mail_state).password_key
    _create(mail_state).create_mailbox({"local_part": "anna.schmidt", "password": weak, "quota_mb": "2048"})
    assert _create(mail_state).password_key != password_field  # the password input is emptied (remounted)
    assert _create(mail_state).new_password_error.startswith(t("mail.error.password_weak").split(".")[0])
    assert (_create(mail_state).new_local_part, _create(mail_state).new_quota) == ("anna.schmidt", "2048")
    assert _mailbox("anna.schmidt") is None
    assert "anna.schmidt" in _whole_state_text(mail_state)  # what was typed is there; the password is not
    assert weak not in _whole_state_text(mail_state)

    _create(mail_state).check_new_password(STRONG)
    assert _create(mail_state).password_feedback_key == "mailui.password_ok"
    _create(mail_state).create_mailbox({"local_part": "anna+news", "password": STRONG, "quota_mb": "2048"})
    assert _create(mail_state).new_local_part_error == t("mail.error.local_part_plus")
    _create(mail_state).create_mailbox({"local_part": "anna", "password": STRONG, "quota_mb": "5"})
    assert _create(mail_state).new_quota_error == t("mail.error.quota_range", min=100, max=51200)

    _create(mail_state).create_mailbox({"local_part": "Anna", "password": STRONG, "quota_mb": "2048"})
    box = _mailbox("anna")
    assert box is not None and box.quota_mb == 2048 and verify_password(STRONG, box.password_hash)
    assert mail_state.message == t("mailui.created", address=f"anna@{ZONE}")
    assert _create(mail_state).new_local_part == "" and _create(mail_state).new_local_part_error == ""
    assert f"anna@{ZONE}" in [b.address for b in mail_state.mailboxes]
    assert STRONG not in _whole_state_text(mail_state)


async def test_change_password_and_quota(mail_state):
    info = mail_state.mailboxes[0]
    _edit(mail_state).start_password_change(info.id)
    assert _edit(mail_state).password_box_address == f"info@{ZONE}"
    _edit(mail_state).change_password({"password": "info"})
    assert _edit(mail_state).change_password_error != ""
    new = "Quartz Lantern Saffron 9"
    _edit(mail_state).change_password({"password": new})
    assert verify_password(new, _mailbox("info").password_hash)
    assert _edit(mail_state).password_box_id == "" and new not in _whole_state_text(mail_state)

    _edit(mail_state).start_quota_change(info.id)
    assert _edit(mail_state).quota_value == "1024"
    _edit(mail_state).change_quota({"quota_mb": "200"})
    assert _edit(mail_state).quota_error == t("mail.error.quota_below_usage", used=300)
    assert _edit(mail_state).quota_value == "200" and _mailbox("info").quota_mb == 1024
    _edit(mail_state).change_quota({"quota_mb": "4096"})
    assert _mailbox("info").quota_mb == 4096 and _edit(mail_state).quota_box_id == ""


async def test_delete_mailbox_needs_the_full_address(mail_state):
    info = mail_state.mailboxes[0]
    _edit(mail_state).start_delete(info.id)
    assert _edit(mail_state).delete_box_address == f"info@{ZONE}"
    _edit(mail_state).delete_mailbox({"confirmation": "info"})
    assert _edit(mail_state).delete_error == t("mail.error.confirmation_mismatch", address=f"info@{ZONE}")
    assert _edit(mail_state).delete_typed == "info" and _mailbox("info") is not None
    _edit(mail_state).delete_mailbox({"confirmation": f"INFO@{ZONE}"})
    assert _mailbox("info") is None
    assert _edit(mail_state).delete_box_id == "" and mail_state.mailboxes == []
    assert mail_state.message == t("mailui.deleted", address=f"info@{ZONE}")


async def test_forwarders_and_catch_all(mail_state):
    _forwarding(mail_state).create_forwarder({"local_part": "sales", "destination": "not-an-address"})
    assert _forwarding(mail_state).fwd_destination_error == t("validation.email_invalid")
    assert (_forwarding(mail_state).fwd_local_part, _forwarding(mail_state).fwd_destination) == ("sales", "not-an-address")
    _forwarding(mail_state).create_forwarder({"local_part": "info", "destination": "boss@elsewhere.example"})
    assert _forwarding(mail_state).fwd_local_part_error == t("mail.error.address_taken")
    _forwarding(mail_state).create_forwarder({"local_part": "sales", "destination": "boss@elsewhere.example"})
    assert [(f.address, f.destination) for f in mail_state.forwarders] == [
        (f"sales@{ZONE}", "boss@elsewhere.example")]
    assert _forwarding(mail_state).fwd_local_part == ""

    # An unknown address of the domain itself would send mail back to the catch-all.
    _forwarding(mail_state).save_catch_all({"mode": "on", "destination": f"nobody@{ZONE}"})
    assert _forwarding(mail_state).catch_all_error == t("mail.error.forward_loop")
    assert (_forwarding(mail_state).catch_all_mode, _forwarding(mail_state).catch_all_value) == ("on", f"nobody@{ZONE}")
    assert _domain_row().catch_all == ""
    _forwarding(mail_state).save_catch_all({"mode": "on", "destination": f"info@{ZONE}"})
    assert _domain_row().catch_all == f"info@{ZONE}"
    assert mail_state.catch_all == f"info@{ZONE}" and _forwarding(mail_state).catch_all_mode == "on"
    _forwarding(mail_state).save_catch_all({"mode": "on", "destination": ""})
    assert _forwarding(mail_state).catch_all_error == t("validation.required")
    _forwarding(mail_state).save_catch_all({"mode": "off", "destination": ""})
    assert _domain_row().catch_all == "" and _forwarding(mail_state).catch_all_mode == "off"

    _forwarding(mail_state).delete_forwarder(mail_state.forwarders[0].id)
    assert mail_state.forwarders == []
    assert mail_state.message == t("mailui.forwarder.deleted", address=f"sales@{ZONE}")


# --- pages and texts ------------------------------------------------------------------------------


def test_catalogs_match():
    for module in (ui_dns, ui_mail):
        assert set(module.EN) == set(module.DE)
        for key, text in module.EN.items():
            assert CATALOGS["en"][key] == text
            placeholders = {p.split("}")[0] for p in text.split("{")[1:]}
            assert placeholders == {p.split("}")[0] for p in module.DE[key].split("{")[1:]}, key


def test_pages_build():
    from reflex.compiler.compiler import _compile_page

    assert "transfer-lock" in _compile_page(dns_page.domain_page(), "/domains/[domain]")
    assert "new-password" in _compile_page(mail_page.email_page(), "/email")
