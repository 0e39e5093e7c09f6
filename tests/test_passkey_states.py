"""Passkeys through the Reflex states and the real guard: the verification gate (choose the
passkey, answer the browser's prompt) and the Security page (add, rename, remove). The
browser's answers come from the software authenticator (tests/fakes/soft_authenticator.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from panel_app import tasks
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.models import AuditEvent, LoginSession, OutboxMessage, User, WebAuthnChallenge, WebAuthnCredential
from panel_app.security import sessions
from panel_app.services import passkeys
from panel_app.settings import get_settings
from panel_app.state.security import SecurityState
from panel_app.state.stepup import GrantState, StepUpState
from tests.fakes.soft_authenticator import SoftCredential
from tests.state_harness import db_fingerprint, login_token, tab_state

ONE_MEGABYTE = "x" * 1_000_000
HOSTILE = [{"id": "x", "response": {}}, ["a", "b"], None, ONE_MEGABYTE, "{not json", 42, True, ""]
# Rows every event may touch (the session's last use, the tab's record) or any page load writes.
VOLATILE = {"loginsession", "opentab"}


def frontend(state) -> str:
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    return json.dumps(root.dict(), default=str)


def sibling(state, cls):
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    return root.get_substate(cls.get_full_name().split(".")[1:])


def add_passkey(user: User, *, at: datetime | None = None, name: str = "Laptop", synced: bool = False) -> SoftCredential:
    """A passkey registered through the service directly (the arrange step), ``at`` a moment."""
    at = at or utcnow()
    credential = SoftCredential(synced=synced)
    owner = passkeys.Owner(user_id=user.id)
    binding = passkeys.Binding(binding_key=f"arrange-{credential.credential_id.hex()}")
    with transaction() as db:
        options = passkeys.registration_options(db, owner=owner, binding=binding, user_name=user.email,
                                                display_name=user.name, now=at)
    with transaction() as db:
        made = passkeys.finish_registration(db, owner=owner, binding=binding, response=credential.register(options),
                                            name=name, now=at)
    assert made.ok, made
    return credential


def prefer(user: User, method: str) -> None:
    with transaction() as db:
        row = db.get(User, user.id)
        row.preferred_channel = method
        db.add(row)


def settled_moment() -> datetime:
    return utcnow() - timedelta(seconds=get_settings().factor_change_delay_seconds + 3600)


def credentials(user: User) -> list[WebAuthnCredential]:
    with transaction() as db:
        return passkeys.credentials_of(db, passkeys.Owner(user_id=user.id))


def audits(action: str) -> list[AuditEvent]:
    with transaction() as db:
        return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def grant_of(token: str) -> LoginSession:
    with transaction() as db:
        return db.exec(select(LoginSession).where(LoginSession.token_hash == sessions._token_hash(token))).one()


def gate_for(user: User, token: str | None = None, *, supported: bool = True) -> StepUpState:
    gate = tab_state(StepUpState, token or login_token(user), "/invoices")
    if supported:
        gate.set_passkey_supported(True)
    gate.prepare()
    return gate


# --- the gate -----------------------------------------------------------------------------


async def test_the_gate_offers_the_passkey_first_and_makes_options_bound_to_the_session(make_user):
    user = make_user()
    add_passkey(user)
    assert gate_for(user).methods == ["passkey", "email", "whatsapp"]  # offered first
    prefer(user, "passkey")
    token = login_token(user)
    gate = gate_for(user, token)
    assert gate.methods == ["passkey", "email", "whatsapp"] and gate.method == "passkey"
    options = json.loads(gate.passkey_options)
    with transaction() as db:
        row = db.exec(select(WebAuthnChallenge).where(WebAuthnChallenge.challenge == options["challenge"])).one()
        assert row.purpose == passkeys.PURPOSE_STEPUP and row.user_id == user.id
        assert row.session_id == grant_of(token).id
    assert [c["id"] for c in options["allowCredentials"]] == [credentials(user)[0].credential_id]


async def test_asking_again_and_again_keeps_a_few_live_challenges(make_user):
    user = make_user()
    add_passkey(user)
    gate = gate_for(user)
    for _ in range(5):
        gate.choose_method("email")
        gate.choose_method("passkey")
    with transaction() as db:
        live = db.exec(select(WebAuthnChallenge).where(WebAuthnChallenge.used_at.is_(None))).all()
    assert len(live) == passkeys.LIVE_CHALLENGES  # a few tabs may show a prompt at once, no more
    assert json.loads(gate.passkey_options)["challenge"] in [row.challenge for row in live]


async def test_a_user_without_a_passkey_is_not_offered_one(make_user):
    user = make_user()
    gate = gate_for(user)
    assert "passkey" not in gate.methods and gate.method == "email" and gate.passkey_options == ""
    gate.choose_method("passkey")
    assert gate.method == "email" and gate.passkey_options == ""


async def test_a_browser_without_passkeys_is_never_left_on_the_passkey(make_user):
    user = make_user()
    add_passkey(user)
    prefer(user, "passkey")
    gate = gate_for(user, supported=False)
    assert "passkey" not in gate.methods and gate.method == "email" and gate.passkey_options == ""
    gate.choose_method("passkey")  # the browser said it cannot: refused
    assert gate.method == "email" and gate.passkey_options == ""
    gate.set_passkey_supported(True)  # nobody picked a method yet: the default, the passkey
    assert gate.methods[0] == "passkey" and gate.method == "passkey" and gate.passkey_options
    gate.set_passkey_supported(False)
    assert "passkey" not in gate.methods and gate.method == "email" and gate.passkey_options == ""


async def test_a_method_the_user_picked_stays_when_the_browser_reports_support(make_user):
    user = make_user()
    add_passkey(user)
    gate = gate_for(user, supported=False)
    gate.choose_method("whatsapp")
    gate.set_passkey_supported(True)
    assert gate.method == "whatsapp" and "passkey" in gate.methods and gate.passkey_options == ""
    gate.choose_method("passkey")
    assert gate.method == "passkey" and gate.passkey_options
    gate.choose_method("email")
    assert gate.passkey_options == ""


async def test_the_passkey_opens_the_grant_without_a_code(make_user):
    user = make_user()
    credential = add_passkey(user)
    prefer(user, "passkey")
    token = login_token(user)
    gate = gate_for(user, token)
    outcome = gate.verify_passkey(credential.assert_(gate.passkey_options))
    assert gate.grant_active and gate.error == "" and gate.passkey_options == ""
    assert "panelRememberDevice" in json.dumps(outcome.args, default=str)  # this browser becomes known
    assert grant_of(token).grant_method == "passkey"
    [success] = audits("verification_succeeded")
    assert json.loads(success.detail)["method"] == "passkey"
    assert credentials(user)[0].last_used_at is not None


async def test_a_typed_code_is_not_an_answer_while_the_passkey_is_the_method(make_user):
    user = make_user()
    add_passkey(user)
    prefer(user, "passkey")
    gate = gate_for(user)
    gate.verify({"code": "123456"})
    assert not gate.grant_active and audits("verification_failed") == []


async def test_a_wrong_passkey_answer_counts_and_says_why_and_new_options_follow(make_user):
    user = make_user()
    add_passkey(user)
    prefer(user, "passkey")
    stranger = SoftCredential()  # a key this account does not know
    gate = gate_for(user)
    first_options = gate.passkey_options
    gate.verify_passkey(stranger.assert_(first_options))
    assert not gate.grant_active
    assert gate.error.startswith("This passkey does not belong to this account")
    assert gate.passkey_options and gate.passkey_options != first_options  # a challenge answers once
    [failure] = audits("verification_failed")
    assert json.loads(failure.detail)["method"] == "passkey" and json.loads(failure.detail)["failures"] == 1


async def test_five_wrong_passkey_answers_lock_the_gate_even_for_the_right_one(make_user):
    user = make_user()
    credential = add_passkey(user)
    prefer(user, "passkey")
    gate = gate_for(user)
    for _ in range(5):
        gate.verify_passkey(credential.assert_(gate.passkey_options, user_verified=False))
    await tasks.wait_all()
    assert "30 seconds" in gate.error
    gate.verify_passkey(credential.assert_(gate.passkey_options))
    assert not gate.grant_active and "seconds" in gate.error


async def test_a_replayed_passkey_answer_is_refused(make_user):
    user = make_user()
    credential = add_passkey(user)
    prefer(user, "passkey")
    token = login_token(user)
    gate = gate_for(user, token)
    answer = credential.assert_(gate.passkey_options)
    gate.verify_passkey(answer)
    assert gate.grant_active
    sibling(gate, GrantState).end_now()
    gate.prepare()  # the gate appears again
    gate.verify_passkey(answer)
    assert not gate.grant_active and gate.error.startswith("The passkey request expired or was already used")
    assert len(audits("verification_succeeded")) == 1
    assert json.loads(audits("verification_failed")[0].detail)["method"] == "passkey"


async def test_a_passkey_answer_of_another_session_is_refused(make_user):
    user = make_user()
    credential = add_passkey(user)
    prefer(user, "passkey")
    other_gate = gate_for(user)  # the options of another login session (an attacker's relay)
    gate = gate_for(user)
    gate.verify_passkey(credential.assert_(other_gate.passkey_options))
    assert not gate.grant_active and gate.error


async def test_a_cloned_passkey_is_refused_and_announced_everywhere(make_user):
    user = make_user()
    credential = add_passkey(user)
    prefer(user, "passkey")
    gate = gate_for(user)
    gate.verify_passkey(credential.assert_(gate.passkey_options, count=10))
    assert gate.grant_active
    sibling(gate, GrantState).end_now()
    gate.prepare()
    gate.verify_passkey(credential.assert_(gate.passkey_options, count=3))  # the counter went back
    await tasks.wait_all()
    assert not gate.grant_active and gate.error.startswith("This passkey was refused")
    with transaction() as db:
        sent = [m for m in db.exec(select(OutboxMessage)).all() if "copied" in m.subject + m.text]
    assert {m.channel for m in sent} == {"email", "whatsapp"}


async def test_the_prompts_failure_shows_only_known_texts(make_user):
    user = make_user()
    add_passkey(user)
    prefer(user, "passkey")
    gate = gate_for(user)
    options = gate.passkey_options
    gate.passkey_failed("cancelled")
    assert gate.error == "The passkey prompt was closed before it finished."
    assert gate.passkey_options == options  # nothing used: the same prompt can open again
    for junk in ["gate.title", "error.<script>", "../cancelled", None, {"code": "cancelled"}, ["timeout"], 7,
                 ONE_MEGABYTE]:
        gate.error = ""
        gate.passkey_failed(junk)
        assert gate.error == "", junk
    gate.passkey_failed("timeout")
    assert gate.error and gate.passkey_options and gate.passkey_options != options  # it may have run out


@pytest.mark.parametrize("handler", ["verify_passkey", "passkey_failed", "set_passkey_supported", "choose_method"])
async def test_hostile_arguments_to_the_gates_passkey_handlers(make_user, handler):
    user = make_user()
    add_passkey(user)
    prefer(user, "passkey")
    gate = gate_for(user)
    before = db_fingerprint(VOLATILE)
    for junk in HOSTILE:
        getattr(gate, handler)(junk)
        assert not gate.grant_active
        assert gate.error in ("", "The passkey could not be used. Try again or choose another method."), gate.error
        assert ONE_MEGABYTE not in frontend(gate)
    if handler != "set_passkey_supported":  # True is a valid answer there: it may make options
        assert db_fingerprint(VOLATILE) == before


async def test_the_gates_passkey_handlers_need_a_login(make_user):
    user = make_user()
    credential = add_passkey(user)
    gate = tab_state(StepUpState, None, "/invoices")
    for call in (lambda: gate.set_passkey_supported(True), lambda: gate.choose_method("passkey"),
                 lambda: gate.verify_passkey(credential.assert_('{"challenge": "AAAA"}')),
                 lambda: gate.passkey_failed("cancelled")):
        outcome = call()
        assert "/login" in json.dumps(outcome.args, default=str)
    assert gate.passkey_options == "" and gate.error == ""
    with transaction() as db:
        assert db.exec(select(WebAuthnChallenge).where(WebAuthnChallenge.purpose == passkeys.PURPOSE_STEPUP)
                       ).all() == []


# --- the Security page ----------------------------------------------------------------------


def security_page(user: User, grant_method: str | None = "email") -> SecurityState:
    state = tab_state(SecurityState, login_token(user, grant_method=grant_method), "/security")
    state.load()
    return state


def add_through_the_page(state: SecurityState, name: str = "My laptop") -> SoftCredential:
    state.begin_passkey()
    assert state.passkey_options, state.error
    state.set_passkey_name(name)
    credential = SoftCredential()
    state.finish_passkey(credential.register(state.passkey_options))
    return credential


async def test_the_first_passkey_is_added_under_an_email_grant_and_waits(make_user):
    user = make_user()
    state = security_page(user, "email")
    assert state.passkeys == []
    state.begin_passkey()
    assert state.passkey_name == "pytest"  # the browser's description (else "Passkey")
    options = json.loads(state.passkey_options)
    assert options["authenticatorSelection"]["userVerification"] == "required"
    state.set_passkey_name("  My   laptop ")
    assert state.passkey_name == "My laptop"
    state.finish_passkey(SoftCredential().register(state.passkey_options))
    await tasks.wait_all()
    assert state.message == 'The passkey "My laptop" was added.' and state.error == ""
    assert state.passkey_options == ""
    [row] = state.passkeys
    assert row.name == "My laptop" and row.synced == "" and row.last_used
    assert row.new_until  # a new factor: counts only after the waiting period
    assert "passkey" in state.channel_choices
    assert state.preferred_channel == "passkey"  # the first passkey is what the gate offers first
    with transaction() as db:
        notices = db.exec(select(OutboxMessage).where(OutboxMessage.text.contains("My laptop"))).all()
    assert {m.channel for m in notices} == {"email", "whatsapp"}


async def test_a_settled_passkey_says_synced_and_when_it_was_used(make_user):
    user = make_user()
    add_passkey(user, at=settled_moment(), synced=True, name="Phone")
    [row] = security_page(user, "passkey").passkeys
    assert row.name == "Phone" and row.synced == "1" and row.new_until == "" and row.last_used == "never"


async def test_a_second_passkey_is_refused_under_an_email_grant(make_user):
    user = make_user()
    add_passkey(user, at=settled_moment())
    state = security_page(user, "email")
    state.begin_passkey()
    assert state.passkey_options == "" and state.error.startswith("To add or remove a passkey here")
    # Even with options made elsewhere (the page's check was skipped), the service asks again.
    with transaction() as db:
        row = db.get(User, user.id)
        binding = passkeys.Binding(session_id=db.exec(select(LoginSession)).one().id)
        options = passkeys.registration_options(db, owner=passkeys.Owner(user_id=user.id), binding=binding,
                                                user_name=row.email, display_name=row.name, now=utcnow())
    state.passkey_options = options
    state.passkey_name = "Sneaky"
    state.finish_passkey(SoftCredential().register(options))
    assert len(credentials(user)) == 1 and state.error.startswith("To add or remove a passkey here")


async def test_a_second_passkey_is_added_under_a_passkey_grant(make_user):
    user = make_user()
    add_passkey(user, at=settled_moment())
    state = security_page(user, "passkey")
    add_through_the_page(state, "Second")
    assert [row.name for row in state.passkeys] == ["Laptop", "Second"] and state.error == ""


async def test_a_second_add_replaces_the_options(make_user):
    user = make_user()
    state = security_page(user, "email")
    state.begin_passkey()
    first = state.passkey_options
    state.begin_passkey()
    assert state.passkey_options != first
    state.cancel_passkey()
    assert state.passkey_options == ""
    state.finish_passkey(SoftCredential().register(first))  # the form is closed: nothing happens
    assert credentials(user) == []


async def test_a_settled_passkey_cannot_be_removed_with_an_email_grant(make_user):
    user = make_user()
    add_passkey(user, at=settled_moment())
    state = security_page(user, "email")
    state.remove_passkey(state.passkeys[0].id)
    assert len(credentials(user)) == 1 and state.error.startswith("To add or remove a passkey here")
    assert state.grant_active and state.loaded


async def test_a_new_passkey_is_removed_with_any_grant_and_every_grant_ends(make_user):
    user = make_user()
    add_passkey(user, name="Planted")
    state = security_page(user, "email")
    state.remove_passkey(state.passkeys[0].id)
    await tasks.wait_all()
    assert credentials(user) == []
    assert not state.grant_active and not state.loaded and state.passkeys == []
    with transaction() as db:
        assert not any(sessions.grant_is_valid(row, utcnow()) for row in db.exec(select(LoginSession)))
        notices = db.exec(select(OutboxMessage).where(OutboxMessage.text.contains('"Planted" was removed'))).all()
    assert notices
    assert json.loads(audits("passkey_removed")[0].detail)["passkey"] == "Planted"


async def test_a_settled_passkey_is_removed_with_a_passkey_grant(make_user):
    user = make_user()
    add_passkey(user, at=settled_moment())
    state = security_page(user, "passkey")
    state.remove_passkey(state.passkeys[0].id)
    assert credentials(user) == [] and not state.grant_active


async def test_rename_checks_the_name(make_user):
    user = make_user()
    add_passkey(user, at=settled_moment(), name="Old")
    state = security_page(user, "email")
    passkey_id = state.passkeys[0].id
    state.begin_rename_passkey(passkey_id)
    assert state.renaming_passkey == passkey_id
    for bad in ["", "   ", "x" * 61, None, {"a": 1}, ["x"], ONE_MEGABYTE, "tab\there\x00"]:
        state.rename_passkey({"name": bad})
        assert state.error == "Give the passkey a name of 1 to 60 characters.", bad
        assert credentials(user)[0].name == "Old"
    state.rename_passkey("not a form")
    assert credentials(user)[0].name == "Old"
    state.rename_passkey({"name": " Work  laptop "})
    assert credentials(user)[0].name == "Work laptop" and state.renaming_passkey == ""
    assert state.passkeys[0].name == "Work laptop" and state.error == ""
    state.rename_passkey({"name": "Again"})  # no row being renamed: nothing
    assert credentials(user)[0].name == "Work laptop"


async def test_the_name_of_a_new_passkey_is_checked(make_user):
    user = make_user()
    state = security_page(user, "email")
    state.begin_passkey()
    for bad in ["", "x" * 61, None, {"a": 1}, ["x"], ONE_MEGABYTE, 5]:
        state.set_passkey_name(bad)
        assert state.passkey_name == "" and state.passkey_name_error, bad
    state.finish_passkey(SoftCredential().register(state.passkey_options))
    assert credentials(user) == [] and state.error == "Give the passkey a name of 1 to 60 characters."


async def test_hostile_arguments_to_the_security_pages_passkey_handlers(make_user):
    user = make_user()
    victim = make_user(email="victim@test.example", phone="+4915112345699")
    add_passkey(victim, name="Victims")
    add_passkey(user, at=settled_moment(), name="Mine")
    state = security_page(user, "passkey")
    state.begin_passkey()
    before = db_fingerprint(VOLATILE)
    victim_id = str(credentials(victim)[0].id)
    for junk in [*HOSTILE, victim_id, "1 OR 1=1", "-1", 2**63, "99999999999999999999"]:
        state.finish_passkey(junk)
        state.passkey_failed(junk)
        state.begin_rename_passkey(junk)
        state.rename_passkey({"name": junk})
        state.rename_passkey(junk)
        state.remove_passkey(junk)
        assert state.grant_active and ONE_MEGABYTE not in frontend(state)
    assert state.renaming_passkey == ""
    after = db_fingerprint(VOLATILE | {"auditevent", "webauthnchallenge"})
    assert after == {k: v for k, v in before.items() if k in after}
    assert [row.name for row in credentials(victim)] == ["Victims"]
    assert [row.name for row in credentials(user)] == ["Mine"]


@pytest.mark.parametrize("grant", [None, "expired"])
async def test_the_security_pages_passkey_handlers_refuse_without_a_grant(make_user, clock, grant):
    user = make_user()
    add_passkey(user, name="Kept")
    token = login_token(user, clock.now, grant_method="passkey" if grant else None)
    if grant:
        clock.advance(seconds=601)
    state = tab_state(SecurityState, token, "/security")
    passkey_id = str(credentials(user)[0].id)
    state.begin_passkey()
    state.set_passkey_name("Evil")
    state.finish_passkey(SoftCredential().register('{"user": {"id": "AAAA"}, "rp": {"id": "localhost"}, '
                                                   '"challenge": "AAAA"}'))
    state.begin_rename_passkey(passkey_id)
    state.rename_passkey({"name": "Evil"})
    state.remove_passkey(passkey_id)
    state.cancel_passkey()
    state.cancel_rename_passkey()
    state.passkey_failed("cancelled")
    assert [row.name for row in credentials(user)] == ["Kept"]
    assert state.passkeys == [] and state.passkey_options == "" and state.passkey_name == ""
    with transaction() as db:
        assert len(db.exec(select(WebAuthnChallenge)).all()) == 1  # the arrange step's only


# --- demo data ------------------------------------------------------------------------------


def test_the_demo_owners_activity_tells_of_a_passkey_without_a_real_one():
    from panel_app.seed import DEMO_OWNER_EMAIL, seed_demo

    with transaction() as db:
        assert seed_demo(db)
    with transaction() as db:
        owner = db.exec(select(User).where(User.email == DEMO_OWNER_EMAIL)).one()
        events = db.exec(select(AuditEvent).where(AuditEvent.actor_user_id == owner.id)
                         .order_by(AuditEvent.created_at)).all()
        assert db.exec(select(WebAuthnCredential)).all() == []
    story = [(e.action, json.loads(e.detail).get("method")) for e in events if "passkey" in e.detail]
    assert story == [("passkey_added", "email"), ("verification_succeeded", "passkey"),
                     ("verification_succeeded", "passkey"), ("passkey_removed", None)]
