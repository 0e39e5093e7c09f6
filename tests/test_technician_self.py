"""A technical administrator's own person, and nothing of the account's (issue 19, item 4).

A technician opens /profile and /support like the owner, for themselves: their own email
address and mobile number under the same factor rules (services/factor_rules.py), their own
support tickets. The account's contract data, the owner's contact details and waiting changes,
and (without the support area) every other ticket stay out of reach, decided by the server at
every event from the database. Handlers are called as Reflex calls them, through the real
guard (tests/state_harness.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from panel_app import tasks
from panel_app.clock import utcnow
from panel_app.components.shell import NAV_ITEMS
from panel_app.db import transaction
from panel_app.delivery import outbox_messages
from panel_app.models import Account, AuditEvent, FactorChange, Ticket, TicketMessage, User, VerificationCode
from panel_app.security.passwords import hash_password
from panel_app.security.permissions import (
    GRANTABLE_AREAS,
    ROLE_ADMIN,
    ROLE_OWNER,
    SELF_AREAS,
    Area,
    acts_for_account,
    allowed_areas,
    may_enter,
)
from panel_app.services import factor_changes, support
from panel_app.services.audit import Actor
from panel_app.state.profile import ProfileState
from panel_app.state.security import SecurityState
from panel_app.state.standard import DashboardState
from panel_app.state.stepup import StepUpState
from panel_app.state.support import SupportState
from tests.state_harness import login_token, tab_state
from tests.test_states_areas import frontend_json, redirect_path

OWNER_PHONE = "+4915112345612"
TECH_PHONE = "+4917612345634"
HUGE = "9" * 200_000


def _reload(user_id: int) -> User:
    with transaction() as db:
        return db.get(User, user_id)


def _login(user: User, grant_method: str | None = None) -> str:
    return login_token(user, grant_method=grant_method, ip="127.0.0.1")


def _page(state_cls, token: str | None, path: str):
    return tab_state(state_cls, token, path, ip="127.0.0.1")


def _codes_to(recipient: str) -> list[str]:
    with transaction() as db:
        return [m for message in outbox_messages(db, recipient) for m in re.findall(r"\b(\d{6})\b", message.text)]


def _messages_to(recipient: str) -> list[str]:
    with transaction() as db:
        return [message.subject + "\n" + message.text for message in outbox_messages(db, recipient)]


def _audits(action: str) -> list[AuditEvent]:
    with transaction() as db:
        return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def _account(account_id: int) -> Account:
    with transaction() as db:
        return db.get(Account, account_id)


@pytest.fixture
def owner(make_user):
    user = make_user(email="owner@test.example", phone=OWNER_PHONE, name="Olga Owner", company="Olga GmbH")
    with transaction() as db:
        row = db.get(User, user.id)
        row.created_at = utcnow() - timedelta(days=30)
        account = db.get(Account, row.account_id)
        account.street, account.postal_code, account.city, account.country = "Geheimweg 7", "10115", "Berlin", "DE"
        account.vat_id = "DE123456789"
        db.add(row)
        db.add(account)
    return _reload(user.id)


def _technician(owner: User, areas: str = "domains,email", email: str = "tom@test.example") -> User:
    with transaction() as db:
        tech = User(account_id=owner.account_id, email=email, name="Tom Tech", phone=TECH_PHONE, role=ROLE_ADMIN,
                    areas=areas, password_hash=hash_password("correct horse battery"),
                    created_at=utcnow() - timedelta(days=30))
        db.add(tech)
        db.flush()
        tech_id = tech.id
    return _reload(tech_id)


@pytest.fixture
def tech(owner):
    return _technician(owner)


def _owner_ticket(owner: User, subject: str = "Owner's invoice question") -> int:
    with transaction() as db:
        return support.create_ticket(db, Actor.for_user(db.get(User, owner.id)), kind="billing", subject=subject,
                                     body="Private to the owner", now=utcnow()).ticket.id


# --- the access rules -----------------------------------------------------------------------


def test_a_technician_enters_their_own_areas_but_acts_for_the_account_only_where_granted():
    for area in (Area.PROFILE, Area.SECURITY, Area.SUPPORT, Area.ACTIVITY, Area.DASHBOARD, Area.HELP):
        assert area in SELF_AREAS and may_enter(ROLE_ADMIN, "", area)
    for area in (Area.PAYMENTS, Area.TEAM, Area.INVOICES, Area.DOMAINS):
        assert not may_enter(ROLE_ADMIN, "", area)
    assert not acts_for_account(ROLE_ADMIN, "", Area.SUPPORT)
    assert acts_for_account(ROLE_ADMIN, "support", Area.SUPPORT)
    every_grant = ",".join(a.value for a in GRANTABLE_AREAS)
    for area in (Area.PROFILE, Area.PAYMENTS, Area.TEAM, Area.SECURITY, Area.ACTIVITY):
        assert not acts_for_account(ROLE_ADMIN, every_grant, area)  # no grant reaches the owner's things
    assert all(acts_for_account(ROLE_OWNER, "", area) for area in Area)
    assert not acts_for_account("stranger", every_grant, Area.SUPPORT)
    assert allowed_areas("stranger", every_grant) == frozenset()


def test_every_link_of_a_technicians_navigation_and_banners_opens():
    """The nav shows exactly the areas the technician may enter; the banner and the gate link
    to /profile and the help and letter pages to /support, which every user may enter."""
    areas = allowed_areas(ROLE_ADMIN, "domains")
    shown = [route for area, route, _label, _icon in NAV_ITEMS if area in areas]
    assert {"/profile", "/support", "/security", "/activity", "/dashboard", "/help", "/domains"} <= set(shown)
    assert all(may_enter(ROLE_ADMIN, "domains", area) for area, _r, _l, _i in NAV_ITEMS if area in areas)


# --- /profile: their own person --------------------------------------------------------------


def test_a_technicians_profile_shows_their_own_contact_and_nothing_of_the_account(owner, tech):
    state = _page(ProfileState, _login(tech, "email"), "/profile")
    state.load()
    assert redirect_path(state.load()) is None  # no "no access"
    assert state.loaded and state.account_data is False
    assert (state.email, state.phone) == ("tom@test.example", TECH_PHONE)
    assert state.form_street == state.form_vat_id == state.form_name == "" and state.country_options == []
    shown = frontend_json(state)
    for secret in ("Geheimweg", "DE123456789", "10115", "Olga", "owner@test.example", OWNER_PHONE):
        assert secret not in shown

    owner_page = _page(ProfileState, _login(owner, "email"), "/profile")
    owner_page.load()
    assert owner_page.account_data is True and owner_page.form_street == "Geheimweg 7"


def test_a_technician_cannot_change_the_accounts_data(owner, tech):
    state = _page(ProfileState, _login(tech, "totp"), "/profile")
    state.load()
    state.save_profile({"name": "Tom Takeover", "company": "", "street": "Diebesgasse 1", "postal_code": "10115",
                        "city": "Berlin", "country": "DE", "vat_id": ""})
    assert state.error == "Only the account owner can change these details."
    assert state.form_street == ""  # the refused input is not even kept
    account = _account(owner.account_id)
    assert (account.name, account.street) == ("Olga Owner", "Geheimweg 7")
    assert _audits("profile_updated") == []


async def test_a_technician_changes_their_own_phone_at_once_with_both_codes(owner, tech):
    """Verified by email (settled) and a code to the current number: two factors, at once —
    the owner's rule, applied to the technician's own number."""
    state = _page(ProfileState, _login(tech, "email"), "/profile")
    state.load()
    state.begin_change("phone")
    assert state.change_step == "enter" and state.change_has_old and not state.change_waits
    state.send_change_code({"value": "+49 176 99999999"})
    await tasks.wait_all()
    assert state.change_step == "code" and state.change_confirm_old
    [new_code], [old_code] = _codes_to("+4917699999999"), _codes_to(TECH_PHONE)
    state.confirm_change({"code": new_code, "old_code": old_code})
    await tasks.wait_all()
    assert _reload(tech.id).phone == "+4917699999999"
    assert _reload(owner.id).phone == OWNER_PHONE  # the owner's number is not the technician's to move
    assert any("contact details were changed" in text for text in _messages_to(TECH_PHONE))
    assert not any("contact details were changed" in text for text in _messages_to(OWNER_PHONE))
    [event] = _audits("contact_changed")
    assert event.actor_user_id == tech.id and event.target == str(tech.id)


async def test_a_technicians_email_change_under_an_email_grant_waits_like_the_owners(owner, tech):
    """A grant from the mailbox never moves the mailbox at once: scheduled, announced with a
    cancel link to /profile (which the technician can open), the banner on every page."""
    state = _page(ProfileState, _login(tech, "email"), "/profile")
    state.load()
    state.begin_change("email")
    assert state.change_waits  # said before anything is typed
    state.send_change_code({"value": "tom.new@test.example"})
    await tasks.wait_all()
    state.confirm_change({"code": _codes_to("tom.new@test.example")[0]})
    await tasks.wait_all()
    assert _reload(tech.id).email == "tom@test.example" and _reload(tech.id).factor_change_pending
    assert not _reload(owner.id).factor_change_pending
    assert [row.value for row in state.scheduled]
    [notice] = [text for text in _messages_to("tom@test.example") if "will be changed" in text]
    assert "/profile?cancel_change=" in notice
    assert not [text for text in _messages_to("owner@test.example") if "will be changed" in text]
    # The link's page opens for the technician, who cancels from a settled factor (WhatsApp).
    other = _page(ProfileState, _login(tech, "whatsapp"), "/profile")
    other.load()
    assert other.loaded and other.scheduled[0].may_cancel and "email" in other.pending_change  # the banner
    other.cancel_scheduled(other.scheduled[0].id)
    await tasks.wait_all()
    assert other.scheduled == [] and not _reload(tech.id).factor_change_pending


async def test_a_technician_cannot_see_or_cancel_the_owners_waiting_change(owner, tech):
    with transaction() as db:
        owner_row = db.get(User, owner.id)
        change = factor_changes.schedule(db, Actor.for_user(owner_row), owner_row, "email", "olga.new@test.example",
                                         now=utcnow(), delay_seconds=3600, requested_by="Olga", by="email")
    state = _page(ProfileState, _login(tech, "whatsapp"), "/profile")
    state.load()
    assert state.scheduled == [] and state.pending_change == ""
    assert "olga" not in frontend_json(state).lower()
    state.cancel_scheduled(str(change.id))
    assert state.error == "This change no longer waits: it was cancelled or has taken effect."
    with transaction() as db:
        assert db.get(FactorChange, change.id).cancelled_at is None
    assert _audits("contact_change_cancelled") == []


async def test_hostile_payloads_to_a_technicians_profile_change_nothing(owner, tech):
    state = _page(ProfileState, _login(tech, "email"), "/profile")
    state.load()
    junk = [None, True, 7, -1, 2**70, [], ["phone"], {"kind": "phone"}, "", "owner", HUGE, "phone\x00", "1" * 300]
    for payload in junk:
        state.begin_change(payload)
        assert state.change_kind == ""  # only a real kind opens the form
        state.set_without_old(payload)
        state.send_change_code(payload)
        state.send_change_code({"value": payload})
        state.confirm_change(payload)
        state.confirm_change({"code": payload, "old_code": payload})
        state.cancel_scheduled(payload)
        state.save_profile(payload)
        state.save_profile({"street": payload, "name": payload})
    await tasks.wait_all()
    assert len(state.error) < 300 and len(state.change_value_error) < 300 and len(state.code_error) < 300
    assert HUGE not in frontend_json(state)
    tech_now, owner_now = _reload(tech.id), _reload(owner.id)
    assert (tech_now.email, tech_now.phone) == ("tom@test.example", TECH_PHONE)
    assert (owner_now.email, owner_now.phone) == ("owner@test.example", OWNER_PHONE)
    assert _account(owner.account_id).street == "Geheimweg 7"
    with transaction() as db:
        assert db.exec(select(FactorChange)).all() == []
        assert db.exec(select(VerificationCode)).all() == []


def test_a_technicians_security_page_is_their_own(owner, tech):
    _login(owner, "email")  # the owner's session must not be listed
    state = _page(SecurityState, _login(tech, "email"), "/security")
    state.load()
    assert state.loaded and len(state.sessions) == 1 and state.sessions[0].current == "1"
    assert "owner@test.example" not in frontend_json(state)


# --- /support: their own tickets ------------------------------------------------------------


def test_the_gates_ticket_is_readable_by_the_technician_and_the_owners_are_not(owner, tech):
    owner_ticket = _owner_ticket(owner)
    token = _login(tech)  # no grant: the gate's way out needs a login only
    gate = _page(StepUpState, token, "/profile")
    gate.request_contact_update()
    number = int(re.search(r"#(\d+)", gate.ticket_message).group(1))
    assert gate.ticket_linked
    gate.request_contact_update()
    assert gate.ticket_message == f"Your request is already with support (ticket #{number})."

    state = _page(SupportState, token, "/support")
    assert redirect_path(state.load()) is None
    assert [row.number for row in state.tickets] == [f"#{number}"] and state.whole_account is False
    state.open_ticket(str(number))
    assert state.open_id == str(number) and state.open_messages
    assert "Private to the owner" not in frontend_json(state)

    state.open_ticket(str(owner_ticket))
    assert state.error == "This ticket was not found." and state.open_id == str(number)  # still their own
    assert "Private to the owner" not in frontend_json(state)

    dashboard = _page(DashboardState, token, "/dashboard")
    dashboard.load()
    assert dashboard.open_tickets == 1  # their own, not the account's two


def test_a_technician_cannot_answer_or_close_the_owners_ticket(owner, tech):
    owner_ticket = _owner_ticket(owner)
    state = _page(SupportState, _login(tech), "/support")
    state.load()
    state.open_id = str(owner_ticket)  # as if a crafted client had it: the service decides
    state.reply({"body": "I am the owner now"})
    assert state.error == "This ticket was not found." and state.open_id == ""
    state.open_id = str(owner_ticket)
    state.close_ticket()
    with transaction() as db:
        assert db.get(Ticket, owner_ticket).status == "open"
        assert [m.body for m in db.exec(select(TicketMessage).where(TicketMessage.ticket_id == owner_ticket))] == [
            "Private to the owner"]
    assert _audits("ticket_replied") == [] and _audits("ticket_closed") == []


def test_hostile_payloads_to_a_technicians_support_page(owner, tech):
    owner_ticket = _owner_ticket(owner)
    state = _page(SupportState, _login(tech), "/support")
    state.load()
    for payload in [None, True, -1, 0, 2**70, [], {"id": owner_ticket}, str(owner_ticket), owner_ticket,
                    f"{owner_ticket}.0", " 1", HUGE, "x" * 300]:
        state.open_ticket(payload)
        assert state.open_id == ""
        state.reply(payload)
        state.create_ticket(payload)
        state.create_ticket({"kind": payload, "subject": payload, "body": payload})
    assert HUGE not in frontend_json(state) and "Private to the owner" not in frontend_json(state)
    with transaction() as db:
        assert [t.id for t in db.exec(select(Ticket)).all()] == [owner_ticket]


def test_with_the_support_area_the_technician_sees_every_ticket_at_the_next_event(owner, tech):
    owner_ticket = _owner_ticket(owner)
    state = _page(SupportState, _login(tech), "/support")
    state.load()
    assert state.tickets == []
    with transaction() as db:  # the owner grants the support area
        row = db.get(User, tech.id)
        row.areas = "domains,email,support"
        db.add(row)
    state.load()
    assert state.whole_account and [row.id for row in state.tickets] == [str(owner_ticket)]
    state.open_ticket(str(owner_ticket))
    assert state.open_id == str(owner_ticket)
    with transaction() as db:  # and takes it away again: the next event decides anew
        row = db.get(User, tech.id)
        row.areas = "domains"
        db.add(row)
    state.back_to_list()
    assert state.tickets == [] and state.open_id == "" and state.whole_account is False


async def test_a_technicians_stolen_channel_moves_nothing_at_once_and_cancels_nothing(owner, tech):
    """As the attacker with the technician's password and one channel: WhatsApp alone only
    schedules a new number and cannot cancel it; the mailbox cannot cancel a waiting new
    address. The owner's factors are untouched throughout."""
    phone_grant = _page(ProfileState, _login(tech, "whatsapp"), "/profile")
    phone_grant.load()
    phone_grant.begin_change("phone")
    phone_grant.send_change_code({"value": "+49 176 55555555"})
    await tasks.wait_all()
    phone_grant.confirm_change({"code": _codes_to("+4917655555555")[0]})
    await tasks.wait_all()
    assert _reload(tech.id).phone == TECH_PHONE and _reload(tech.id).factor_change_pending
    [row] = phone_grant.scheduled
    assert not row.may_cancel
    phone_grant.cancel_scheduled(row.id)
    assert _reload(tech.id).factor_change_pending and "cannot cancel" in phone_grant.error

    mailbox = _page(ProfileState, _login(tech, "email"), "/profile")
    mailbox.load()
    [row] = mailbox.scheduled
    assert row.may_cancel  # the mailbox is a factor this new number does not replace
    with transaction() as db:
        tech_row = db.get(User, tech.id)
        change = factor_changes.schedule(db, Actor.for_user(tech_row), tech_row, "email", "thief@evil.example",
                                         now=utcnow(), delay_seconds=3600, requested_by="Tom", by="email")
    mailbox = _page(ProfileState, _login(tech, "email"), "/profile")
    mailbox.load()
    [email_row] = [r for r in mailbox.scheduled if r.id == str(change.id)]
    assert not email_row.may_cancel
    mailbox.cancel_scheduled(email_row.id)
    with transaction() as db:
        assert db.get(FactorChange, change.id).cancelled_at is None
    assert _reload(owner.id).phone == OWNER_PHONE and _reload(owner.id).email == "owner@test.example"
