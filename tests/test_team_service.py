"""Technical administrators: invitations (hash only, 7 days, single use, revocable),
acceptance, areas, removal, owner-only access and the audit trail."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import select

from panel_app.db import transaction
from panel_app.models import AuditEvent, Authenticator, Invitation, LoginSession, OutboxMessage, RecoveryCode, User
from panel_app.security import sessions
from panel_app.security.crypto import keyed_hash
from panel_app.security.passwords import verify_password
from panel_app.security.permissions import (
    GRANTABLE_AREAS,
    acts_for_account,
    Area,
    allowed_areas,
    may_enter,
    parse_areas,
)
from panel_app.services import auth, invitations, team
from panel_app.services.audit import Actor
from panel_app.services.validation import ValidationError
from panel_app.settings import get_settings

GOOD_PASSWORD = "violet tractor mango seventeen"
PHONE = "+49 151 23456789"


@pytest.fixture
def owner(db, make_user):
    return db.get(User, make_user(email="owner@test.example", name="Olga Owner", company="Beispiel GmbH").id)


@pytest.fixture
def actor(owner):
    return Actor.for_user(owner, ip="203.0.113.1", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")


def audits(db) -> list[AuditEvent]:
    db.expire_all()
    return list(db.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


def token_of(sent: invitations.SentInvitation) -> str:
    (token,) = parse_qs(urlparse(sent.link).query)["token"]
    return token


def invite(db, actor, now, email="ada@test.example", areas=("domains", "email"), name="Ada Admin"):
    sent = invitations.invite_admin(db, actor, email=email, name=name, areas=list(areas), now=now)
    db.commit()
    return sent


def accept(token, now, **overrides):
    fields = dict(name="Ada Admin", password=GOOD_PASSWORD, phone=PHONE, language="de")
    fields.update(overrides)
    with transaction() as session:
        return invitations.accept_invitation(session, token, now=now, ip="198.51.100.7", user_agent="Firefox/130.0",
                                             **fields)


def join(db, actor, now, email="ada@test.example", areas=("domains", "email")) -> User:
    joined = accept(token_of(invite(db, actor, now, email=email, areas=areas)), now)
    db.expire_all()
    return db.get(User, joined.user_id)


def error(callable_, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        callable_(*args, **kwargs)
    return info.value.field, info.value.message_key


# --- inviting ---------------------------------------------------------------------------------


def test_invitation_keeps_only_a_keyed_hash_and_links_to_the_public_url(db, actor, owner, now):
    sent = invite(db, actor, now)
    token = token_of(sent)

    assert sent.link == f"{get_settings().public_url}/invite?token={token}"
    assert len(token) >= 40
    row = db.exec(select(Invitation)).one()
    assert row.token_hash == keyed_hash(token, "invite")
    assert token not in " ".join(str(v) for v in row.model_dump().values())
    assert (row.email, row.areas, row.account_id, row.created_by_user_id) == (
        "ada@test.example", "domains,email", owner.account_id, owner.id)
    assert row.expires_at == now + timedelta(days=7)
    assert token not in repr(sent)


def test_invitation_email_with_the_link_lands_in_the_outbox_in_the_owners_language(db, actor, owner, now):
    owner.language = "de"
    db.add(owner)
    db.commit()
    sent = invite(db, actor, now)

    assert asyncio.run(invitations.send_invitation_email(sent)) is True

    (message,) = db.exec(select(OutboxMessage)).all()
    assert message.recipient == "ada@test.example"
    assert sent.link in message.text
    assert "Beispiel GmbH" in message.subject and message.subject.startswith("Einladung")
    assert "Olga Owner" in message.text and "Domains" in message.text


def test_describe_shows_who_invited_for_which_account(db, actor, now):
    sent = invite(db, actor, now)
    preview = invitations.describe_invitation(db, token_of(sent), now=now)
    assert (preview.email, preview.inviter_name, preview.account_name, preview.areas) == (
        "ada@test.example", "Olga Owner", "Beispiel GmbH", ("domains", "email"))


@pytest.mark.parametrize("junk", [None, "", 42, ["x"], "a" * 19, "a" * 101, "../../etc/passwd-xxxxxxxxxxxxxx",
                                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])
def test_junk_or_unknown_tokens_describe_nothing_and_accept_nothing(db, actor, now, junk):
    invite(db, actor, now)
    assert invitations.describe_invitation(db, junk, now=now) is None
    with pytest.raises(invitations.InvitationInvalid):
        accept(junk, now)
    assert db.exec(select(User).where(User.role == "admin")).all() == []


def test_invite_checks_email_areas_and_duplicates(db, actor, now):
    assert error(invitations.invite_admin, db, actor, email="not-an-email", areas=["domains"], now=now)[1] == \
        "validation.email_invalid"
    assert error(invitations.invite_admin, db, actor, email="x@test.example", areas=[], now=now) == (
        "areas", "team.error.areas_required")
    for forbidden in (["profile"], ["payments"], ["team"], ["security"], ["domains", "activity"], "domains",
                      [None], [["domains"]]):
        assert error(invitations.invite_admin, db, actor, email="x@test.example", areas=forbidden, now=now) == (
            "areas", "team.error.areas_invalid")
    assert error(invitations.invite_admin, db, actor, email="OWNER@test.example", areas=["domains"], now=now) == (
        "email", "team.error.already_member")
    invite(db, actor, now, email="ada@test.example")
    assert error(invitations.invite_admin, db, actor, email="Ada@Test.example", areas=["domains"], now=now) == (
        "email", "team.error.already_invited")
    assert [e.action for e in audits(db)] == ["admin_invited"]


def test_an_address_with_a_login_elsewhere_is_not_revealed_to_the_owner(db, actor, make_user, now):
    make_user(email="taken@test.example", phone="+4915112345699")
    sent = invite(db, actor, now, email="taken@test.example")  # no error: nothing learned
    # Only the holder of the link (sent to that very address) learns it cannot be used.
    assert error(accept, token_of(sent), now) == ("email", "invite.error.email_taken")
    assert invitations.describe_invitation(db, token_of(sent), now=now) is not None  # not used up


# --- accepting --------------------------------------------------------------------------------


def test_accepting_creates_an_admin_of_the_same_account_who_can_sign_in(db, actor, owner, now):
    sent = invite(db, actor, now, areas=("domains", "invoices"))
    joined = accept(token_of(sent), now)

    db.expire_all()
    admin = db.get(User, joined.user_id)
    assert (admin.role, admin.account_id, admin.email, admin.name, admin.phone, admin.language) == (
        "admin", owner.account_id, "ada@test.example", "Ada Admin", "+4915123456789", "de")
    assert parse_areas(admin.areas) == {Area.DOMAINS, Area.INVOICES}
    assert verify_password(GOOD_PASSWORD, admin.password_hash)
    assert joined.owner_ids == (owner.id,)
    assert db.exec(select(Invitation)).one().accepted_at == now

    result = auth.login(db, email="ada@test.example", password=GOOD_PASSWORD, ip="198.51.100.7",
                        user_agent="Firefox/130.0", now=now + timedelta(minutes=1), absolute_seconds=3600)
    assert result.outcome == auth.LoginOutcome.OK


def test_invitation_expires_after_seven_days(db, actor, now):
    token = token_of(invite(db, actor, now))
    later = now + timedelta(days=7, seconds=1)
    assert invitations.describe_invitation(db, token, now=later) is None
    with pytest.raises(invitations.InvitationInvalid):
        accept(token, later)
    assert db.exec(select(User).where(User.email == "ada@test.example")).first() is None
    # One second before the end it still works.
    accept(token, now + timedelta(days=7, seconds=-1))


def test_an_invitation_works_only_once(db, actor, now):
    token = token_of(invite(db, actor, now))
    accept(token, now)
    with pytest.raises(invitations.InvitationInvalid):
        accept(token, now + timedelta(seconds=5), name="Mallory", phone="+4915199999999")
    assert invitations.describe_invitation(db, token, now=now) is None
    assert len(db.exec(select(User).where(User.role == "admin")).all()) == 1


def test_two_concurrent_accepts_exactly_one_wins(db, actor, now, race):
    token = token_of(invite(db, actor, now))

    def outcome(result: object) -> str:
        if isinstance(result, invitations.InvitationInvalid):
            return "refused"
        return f"error: {result!r}" if isinstance(result, Exception) else "won"

    outcomes = [outcome(r) for r in race.times(2, lambda i: accept(token, now, name=f"Person {i}"))]

    assert sorted(outcomes) == ["refused", "won"]
    db.expire_all()
    assert len(db.exec(select(User).where(User.role == "admin")).all()) == 1
    assert [e.action for e in audits(db)].count("admin_joined") == 1


def test_two_accounts_inviting_one_address_at_once_give_it_one_login(db, actor, now, make_user, race):
    """Both accepts pass the "address taken" check before either writes: the loser is told
    the address is taken (the unique address, not a database error)."""
    other_owner = db.get(User, make_user(email="second-owner@test.example").id)
    tokens = [token_of(invite(db, actor, now)), token_of(invite(db, Actor.for_user(other_owner), now))]

    def outcome(result: object) -> str:
        if isinstance(result, ValidationError) and not isinstance(result, invitations.InvitationInvalid):
            return result.message_key
        return f"error: {result!r}" if isinstance(result, Exception) else "won"

    outcomes = [outcome(r) for r in race.times(2, lambda i: accept(tokens[i], now, name=f"Person {i}"))]

    assert sorted(outcomes) == ["invite.error.email_taken", "won"]
    db.expire_all()
    assert len(db.exec(select(User).where(User.email == "ada@test.example")).all()) == 1


def test_a_revoked_invitation_is_refused(db, actor, now):
    sent = invite(db, actor, now)
    assert invitations.revoke_invitation(db, actor, sent.invitation_id, now=now) == "ada@test.example"
    db.commit()
    assert invitations.describe_invitation(db, token_of(sent), now=now) is None
    with pytest.raises(invitations.InvitationInvalid):
        accept(token_of(sent), now)
    # Revoked is final: neither revoke nor resend applies again.
    assert error(invitations.revoke_invitation, db, actor, sent.invitation_id, now=now)[1] == "team.error.not_found"
    assert error(invitations.resend_invitation, db, actor, sent.invitation_id, now=now)[1] == "team.error.not_found"


def test_resend_makes_a_new_link_and_kills_the_old_one(db, actor, now):
    first = invite(db, actor, now)
    later = now + timedelta(days=6)
    second = invitations.resend_invitation(db, actor, first.invitation_id, now=later)
    db.commit()
    assert token_of(second) != token_of(first)
    assert second.expires_at == later + timedelta(days=7)
    with pytest.raises(invitations.InvitationInvalid):
        accept(token_of(first), later)
    accept(token_of(second), later + timedelta(days=3))  # past the first link's end


def test_an_expired_invitation_can_be_resent(db, actor, now):
    first = invite(db, actor, now)
    later = now + timedelta(days=10)
    assert [i.status for i in team.list_team(db, actor, now=later).invitations] == ["expired"]
    second = invitations.resend_invitation(db, actor, first.invitation_id, now=later)
    db.commit()
    assert [i.status for i in team.list_team(db, actor, now=later).invitations] == ["pending"]
    accept(token_of(second), later)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"name": ""}, ("name", "validation.required")),
        ({"name": None}, ("name", "validation.required")),
        ({"name": "x\u0000y"}, ("name", "validation.invalid")),
        ({"password": "short1!"}, ("password", "validation.password_too_short")),
        ({"password": "password123"}, ("password", "mail.error.password_weak.common")),
        ({"password": 12345678901}, ("password", "validation.required")),
        ({"phone": ""}, ("phone", "validation.required")),
        ({"phone": "12"}, ("phone", "validation.phone_invalid")),
        ({"language": "fr"}, ("language", "validation.invalid")),
        ({"language": ["de"]}, ("language", "validation.invalid")),
    ],
)
def test_accept_validates_every_field_and_keeps_the_link_usable(db, actor, now, overrides, expected):
    token = token_of(invite(db, actor, now))
    assert error(accept, token, now, **overrides) == expected
    assert db.exec(select(User).where(User.role == "admin")).all() == []
    assert invitations.describe_invitation(db, token, now=now) is not None


def test_password_that_contains_the_address_is_refused(db, actor, now):
    token = token_of(invite(db, actor, now, email="quentin.zebrafield@test.example"))
    field, key = error(accept, token, now, password="quentin.zebrafield")
    assert field == "password" and key.startswith("mail.error.password_weak")


# --- the owner's controls ---------------------------------------------------------------------


def test_list_team_shows_owner_admins_and_open_invitations(db, actor, owner, now):
    admin = join(db, actor, now, areas=("email",))
    invite(db, actor, now, email="bob@test.example", areas=("support",), name="Bob")
    overview = team.list_team(db, actor, now=now)
    assert [(m.email, m.role, m.areas, m.status) for m in overview.members] == [
        ("owner@test.example", "owner", (), "active"),
        ("ada@test.example", "admin", ("email",), "active"),
    ]
    assert [(i.email, i.name, i.areas, i.status) for i in overview.invitations] == [
        ("bob@test.example", "Bob", ("support",), "pending")]
    team.revoke_admin(db, actor, admin.id, now=now)
    db.commit()
    assert [m.status for m in team.list_team(db, actor, now=now).members] == ["active", "removed"]


def test_changed_areas_are_stored_and_read_back_by_the_next_permission_check(db, actor, now):
    admin = join(db, actor, now, areas=("domains", "email"))
    assert may_enter(admin.role, admin.areas, Area.DOMAINS)

    view = team.change_areas(db, actor, admin.id, ["invoices", "support"], now=now)
    db.commit()
    assert view.areas == ("support", "invoices")

    with transaction() as fresh:  # what the guard does at the admin's next event
        stored = fresh.get(User, admin.id)
        assert stored.areas == "support,invoices"
        assert parse_areas(stored.areas) == {Area.SUPPORT, Area.INVOICES}
        assert not may_enter(stored.role, stored.areas, Area.DOMAINS)
        assert not may_enter(stored.role, stored.areas, Area.EMAIL)
        assert may_enter(stored.role, stored.areas, Area.INVOICES)
        never = {Area.PAYMENTS, Area.TEAM}
        assert not never & allowed_areas(stored.role, stored.areas)
        # /profile opens for their own person; the account's contract data stay the owner's.
        assert may_enter(stored.role, stored.areas, Area.PROFILE)
        assert not acts_for_account(stored.role, stored.areas, Area.PROFILE)
        assert acts_for_account(stored.role, stored.areas, Area.SUPPORT)

    assert error(team.change_areas, db, actor, admin.id, ["payments"], now=now) == (
        "areas", "team.error.areas_invalid")
    assert error(team.change_areas, db, actor, admin.id, [], now=now) == (
        "areas", "team.error.areas_required")
    db.expire_all()
    assert db.get(User, admin.id).areas == "support,invoices"


def test_granting_every_grantable_area_never_grants_the_owners_areas(db, actor, now):
    admin = join(db, actor, now)
    team.change_areas(db, actor, admin.id, [a.value for a in GRANTABLE_AREAS], now=now)
    db.commit()
    db.expire_all()
    stored = db.get(User, admin.id)
    for area in (Area.PAYMENTS, Area.TEAM):
        assert not may_enter(stored.role, stored.areas, area)
    for area in (Area.PROFILE, Area.PAYMENTS, Area.TEAM, Area.SECURITY, Area.ACTIVITY):
        assert not acts_for_account(stored.role, stored.areas, area)


def _sessions_for(db, user, now, count=2):
    tokens = []
    for _ in range(count):
        row, token = sessions.create_session(db, user, ip="198.51.100.7", user_agent="Firefox/130.0", now=now,
                                             absolute_seconds=3600)
        sessions.start_grant(db, row, method="email", now=now, ttl_seconds=600)
        tokens.append(token)
    db.commit()
    return tokens


def test_removing_an_admin_ends_every_session_and_grant_and_the_login(db, actor, owner, now):
    admin = join(db, actor, now)
    admin_tokens = _sessions_for(db, admin, now)
    (owner_token,) = _sessions_for(db, owner, now, count=1)

    removed = team.revoke_admin(db, actor, admin.id, now=now + timedelta(minutes=1))
    db.commit()
    assert (removed.email, removed.sessions_ended) == ("ada@test.example", 2)

    db.expire_all()
    assert db.get(User, admin.id).is_active is False
    rows = db.exec(select(LoginSession).where(LoginSession.user_id == admin.id)).all()
    assert all(r.revoked_at is not None and r.grant_expires_at is None for r in rows)
    later = now + timedelta(minutes=2)
    for token in admin_tokens:
        assert sessions.resolve_session(db, token, now=later, idle_seconds=1800) is None
    assert sessions.resolve_session(db, owner_token, now=later, idle_seconds=1800) is not None
    result = auth.login(db, email="ada@test.example", password=GOOD_PASSWORD, ip="198.51.100.7",
                        user_agent="Firefox/130.0", now=later, absolute_seconds=3600)
    assert result.outcome == auth.LoginOutcome.INVALID
    assert error(team.revoke_admin, db, actor, admin.id, now=later)[1] == "team.error.already_removed"
    assert error(team.change_areas, db, actor, admin.id, ["email"], now=later)[1] == \
        "team.error.already_removed"


def test_end_admin_sessions_signs_out_but_keeps_the_login(db, actor, now):
    admin = join(db, actor, now)
    tokens = _sessions_for(db, admin, now)
    assert team.end_admin_sessions(db, actor, admin.id, now=now) == 2
    db.commit()
    for token in tokens:
        assert sessions.resolve_session(db, token, now=now, idle_seconds=1800) is None
    result = auth.login(db, email="ada@test.example", password=GOOD_PASSWORD, ip="", user_agent="",
                        now=now + timedelta(minutes=1), absolute_seconds=3600)
    assert result.outcome == auth.LoginOutcome.OK


def test_a_removed_admin_can_be_invited_again_and_starts_fresh(db, actor, now):
    admin = join(db, actor, now, areas=("domains",))
    db.add(Authenticator(user_id=admin.id, type="totp", secret_enc="old-secret", created_at=now))
    db.add(RecoveryCode(user_id=admin.id, code_hash="h" * 64))
    db.commit()
    team.revoke_admin(db, actor, admin.id, now=now)
    db.commit()

    sent = invite(db, actor, now, email="ada@test.example", areas=("support",))
    joined = accept(token_of(sent), now + timedelta(hours=1), password="orchid lantern basalt ninety",
                    phone="+4915177777777")
    db.expire_all()
    again = db.get(User, joined.user_id)
    assert again.id == admin.id and again.is_active
    assert (again.areas, again.phone) == ("support", "+4915177777777")
    assert db.exec(select(Authenticator).where(Authenticator.user_id == admin.id)).all() == []
    assert db.exec(select(RecoveryCode).where(RecoveryCode.user_id == admin.id)).all() == []
    assert verify_password("orchid lantern basalt ninety", again.password_hash)


# --- owner only ---------------------------------------------------------------------------------


def test_an_admin_cannot_call_any_team_function(db, actor, now):
    admin = join(db, actor, now, areas=list(a.value for a in GRANTABLE_AREAS))
    other = join(db, actor, now, email="bob@test.example")
    pending = invite(db, actor, now, email="carl@test.example")
    admin_actor = Actor.for_user(admin)
    before = len(audits(db))

    calls = [
        lambda: team.list_team(db, admin_actor, now=now),
        lambda: invitations.invite_admin(db, admin_actor, email="eve@test.example", areas=["domains"], now=now),
        lambda: team.change_areas(db, admin_actor, other.id, ["domains", "email", "support"], now=now),
        lambda: team.change_areas(db, admin_actor, admin.id, ["domains"], now=now),
        lambda: team.revoke_admin(db, admin_actor, other.id, now=now),
        lambda: team.end_admin_sessions(db, admin_actor, other.id, now=now),
        lambda: invitations.revoke_invitation(db, admin_actor, pending.invitation_id, now=now),
        lambda: invitations.resend_invitation(db, admin_actor, pending.invitation_id, now=now),
    ]
    for call in calls:
        with pytest.raises(team.OwnerOnly):
            call()
    db.rollback()
    assert len(audits(db)) == before
    assert db.get(User, other.id).is_active


def test_an_actor_claiming_the_owner_of_another_account_is_refused(db, actor, owner, make_user, now):
    stranger = db.get(User, make_user(email="stranger@test.example", phone="+4915112345698").id)
    admin = join(db, actor, now)
    forged = Actor(user_id=owner.id, account_id=stranger.account_id, label="owner@test.example")
    with pytest.raises(team.OwnerOnly):
        team.revoke_admin(db, forged, admin.id, now=now)
    # The other account's owner finds nothing of ours.
    stranger_actor = Actor.for_user(stranger)
    assert error(team.revoke_admin, db, stranger_actor, admin.id, now=now)[1] == "team.error.not_found"
    assert error(team.change_areas, db, stranger_actor, owner.id, ["domains"], now=now)[1] == \
        "team.error.not_found"
    assert error(team.revoke_admin, db, actor, owner.id, now=now)[1] == "team.error.not_found"  # owners stay
    for junk in ("1", None, True, 1.0, [admin.id]):
        assert error(team.revoke_admin, db, actor, junk, now=now)[1] == "team.error.not_found"


# --- audit --------------------------------------------------------------------------------------


def test_each_state_changing_call_writes_exactly_one_audit_entry(db, actor, owner, now):
    def step(call, action):
        before = len(audits(db))
        result = call()
        db.commit()
        new = audits(db)[before:]
        assert [(e.action, e.area) for e in new] == [(action, "team")], action
        return result, new[0]

    sent, event = step(
        lambda: invitations.invite_admin(db, actor, email="ada@test.example", areas=["domains"], now=now),
        "admin_invited")
    assert (event.actor_user_id, event.target, json.loads(event.detail)) == (
        owner.id, "ada@test.example", {"areas": "domains"})
    sent, _ = step(lambda: invitations.resend_invitation(db, actor, sent.invitation_id, now=now),
                   "invitation_resent")
    with transaction() as session:
        before = len(audits(db))
        joined = invitations.accept_invitation(session, token_of(sent), name="Ada", password=GOOD_PASSWORD,
                                               phone=PHONE, language="en", now=now)
    new = audits(db)[before:]
    assert [(e.action, e.actor_user_id) for e in new] == [("admin_joined", joined.user_id)]
    _, event = step(lambda: team.change_areas(db, actor, joined.user_id, ["email"], now=now),
                    "admin_areas_changed")
    assert json.loads(event.detail) == {"before": "domains", "after": "email"}
    step(lambda: team.end_admin_sessions(db, actor, joined.user_id, now=now), "admin_sessions_ended")
    step(lambda: team.revoke_admin(db, actor, joined.user_id, now=now), "admin_removed")
    other = invitations.invite_admin(db, actor, email="bob@test.example", areas=["support"], now=now)
    db.commit()
    step(lambda: invitations.revoke_invitation(db, actor, other.invitation_id, now=now), "invitation_revoked")


def test_unchanged_areas_change_and_audit_nothing(db, actor, now):
    admin = join(db, actor, now, areas=("domains", "email"))
    before = len(audits(db))
    team.change_areas(db, actor, admin.id, ["email", "domains"], now=now)
    db.commit()
    assert len(audits(db)) == before


def test_no_token_or_link_ever_reaches_the_audit_log(db, actor, now):
    first = invite(db, actor, now)
    second = invitations.resend_invitation(db, actor, first.invitation_id, now=now)
    db.commit()
    accept(token_of(second), now, password=GOOD_PASSWORD)
    third = invite(db, actor, now, email="bob@test.example")
    invitations.revoke_invitation(db, actor, third.invitation_id, now=now)
    db.commit()

    secrets_ = [token_of(first), token_of(second), token_of(third), GOOD_PASSWORD]
    events = audits(db)
    assert len(events) == 5
    for event in events:
        text = " ".join(str(v) for v in event.model_dump().values())
        for secret in secrets_:
            assert secret not in text
        assert "/invite?" not in text
