"""Support staff's passkeys and security keys (issue 17, item 3): adding, listing, renaming and
removing them under "My sign-in methods", the console's gate answered with one (same grant,
same budget, same audit as the app code), a cloned one refused and recorded for the staff
admins, customers' and staff's credentials kept apart, and ``PANEL_STAFF_REQUIRE_PASSKEY``:
the app code refused by the server once a passkey exists, and without one an app grant that
opens nothing but the adding of a passkey."""

from __future__ import annotations

import inspect
import json
from datetime import timedelta

import pytest
from sqlmodel import select

from panel_app import settings
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.models import (StaffAuditEvent, StaffSession, StaffUser, Throttle, WebAuthnChallenge,
                              WebAuthnCredential)
from panel_app.security import staff, totp
from panel_app.services import passkeys, staff_passkeys, staff_support
from panel_app.services.methods import passkey as passkey_method
from panel_app.services.methods.base import CodeScope
from panel_app.state.staff import (STAFF_GUARD_MARKER, StaffAdminState, StaffQueueState, StaffSecurityState,
                                   StaffState, StaffTicketState, check_staff_tab)
from tests.fakes.soft_authenticator import SoftCredential
from tests.state_harness import login_token, tab_state
from tests.test_staff import HOSTILE, SECRET, _customer, _staff, _staff_token

import panel_app.pages.registry  # noqa: F401,E402  (every page state exists, as in the app)

COOKIE = staff.COOKIE_NAME


@pytest.fixture
def require_passkey(monkeypatch):
    """``PANEL_STAFF_REQUIRE_PASSKEY=1`` for this test."""
    monkeypatch.setenv("PANEL_STAFF_REQUIRE_PASSKEY", "1")
    settings.get_settings.cache_clear()
    assert settings.get_settings().staff_require_passkey
    yield
    monkeypatch.delenv("PANEL_STAFF_REQUIRE_PASSKEY")
    settings.get_settings.cache_clear()


def _security(token: str) -> StaffSecurityState:
    return tab_state(StaffSecurityState, None, "/staff/security", cookies={COOKIE: token})


def _queue(token: str) -> StaffQueueState:
    return tab_state(StaffQueueState, None, "/staff/tickets", cookies={COOKIE: token})


def _add(page: StaffSecurityState, credential: SoftCredential, name: str = "YubiKey blue") -> None:
    """The "add a passkey" form: a name, then the browser's answer to the options."""
    page.begin_add({"name": name})
    assert page.adding and page.register_options, page.error
    page.finish_add(credential.register(page.register_options))


def _credentials(member: StaffUser) -> list[WebAuthnCredential]:
    with transaction() as db:
        return list(db.exec(select(WebAuthnCredential).where(WebAuthnCredential.staff_id == member.id)).all())


def _audit(action: str) -> list[dict]:
    with transaction() as db:
        return [json.loads(e.detail) for e in db.exec(select(StaffAuditEvent).where(StaffAuditEvent.action == action)
                                                      .order_by(StaffAuditEvent.id)).all()]


def _session_of(token: str) -> StaffSession:
    with transaction() as db:
        return staff.resolve(db, token, now=utcnow(), idle_seconds=900).session


def _locked(token: str) -> StaffQueueState:
    """A staff tab whose session holds no grant: the gate shows, with options when a passkey can answer."""
    with transaction() as db:
        staff.end_grant(db, staff.resolve(db, token, now=utcnow(), idle_seconds=900).session)
    page = _queue(token)
    page.load()
    assert not page.gate_open
    return page


def _member_with_passkey(name: str = "YubiKey blue") -> tuple[StaffUser, str, SoftCredential]:
    member = _staff()
    token = _staff_token(member)
    credential = SoftCredential()
    page = _security(token)
    page.load()
    _add(page, credential, name)
    assert page.error == "" and len(_credentials(member)) == 1
    return member, token, credential


# --- adding, listing, renaming, removing -------------------------------------------------------


def test_a_staff_member_adds_lists_renames_and_removes_a_passkey(make_user):
    member = _staff()
    token = _staff_token(member)
    page = _security(token)
    page.load()
    assert page.loaded and page.passkeys == []
    for name in ("", "   ", "x" * 61, "bad\x00name", None, ["YubiKey"]):
        page.begin_add({"name": name})
        assert not page.adding and page.register_options == "" and page.error
    credential = SoftCredential(synced=True)
    _add(page, credential, "  My   phone ")
    assert page.error == "" and not page.adding and page.register_options == ""
    assert [(r.name, r.kind, r.last_used) for r in page.passkeys] == [("My phone", "Synced passkey", "Never")]
    assert page.has_passkey and page.can_remove  # the setting is off: the app remains
    row_id = page.passkeys[0].id
    assert _audit("staff_passkey_added")[0]["passkey"] == "My phone"
    assert _audit("staff_passkey_added")[0]["synced"] is True

    page.rename({"id": row_id, "name": "Pixel"})
    assert [r.name for r in page.passkeys] == ["Pixel"] and _audit("staff_passkey_renamed")[0]["previous"] == "My phone"
    page.rename({"id": row_id, "name": ""})
    assert page.error and [r.name for r in page.passkeys] == ["Pixel"]

    second = SoftCredential()
    _add(page, second, "Security key")
    assert [(r.name, r.kind) for r in page.passkeys] == [("Pixel", "Synced passkey"),
                                                         ("Security key", "Bound to its device or key")]
    page.remove(row_id)
    assert [r.name for r in page.passkeys] == ["Security key"] and _audit("staff_passkey_removed")[0]["passkey"] == "Pixel"
    page.remove(row_id)  # gone already
    assert page.error and len(_credentials(member)) == 1


def test_the_same_authenticator_cannot_be_added_twice_and_a_stale_answer_is_refused(make_user):
    member, token, credential = _member_with_passkey()
    page = _security(token)
    page.load()
    page.begin_add({"name": "Again"})
    answer = credential.register(page.register_options)
    page.finish_add(answer)
    assert page.error and len(_credentials(member)) == 1
    page.finish_add(answer)  # replayed: the challenge is spent and the form closed
    assert page.error and len(_credentials(member)) == 1


def test_a_staff_members_passkey_cannot_be_added_to_another_staff_member(make_user):
    """The registration challenge is bound to the staff session and its owner."""
    member = _staff()
    other = _staff(email="other@test.example", name="Olaf Other")
    page = _security(_staff_token(member))
    page.load()
    page.begin_add({"name": "Mine"})
    answer = SoftCredential().register(page.register_options)
    other_page = _security(_staff_token(other))
    other_page.load()
    other_page.begin_add({"name": "Stolen"})
    other_page.finish_add(answer)
    assert other_page.error and _credentials(other) == [] and _credentials(member) == []


# --- the gate ---------------------------------------------------------------------------------------


def test_the_gate_opens_with_a_passkey_like_with_an_app_code(make_user):
    _customer(make_user)
    member, token, credential = _member_with_passkey()
    page = _locked(token)
    assert page.has_passkey and page.passkey_options
    assert json.loads(page.passkey_options)["allowCredentials"][0]["id"]
    page.verify_passkey(credential.assert_(page.passkey_options))
    assert page.gate_open and page.gate_error == "" and page.passkey_options == ""
    page.load()
    assert page.rows  # the customer's ticket
    assert _session_of(token).grant_method == staff.GRANT_PASSKEY
    verified = _audit("staff_verified")
    assert verified[-1] == {"method": "passkey", "passkey": "YubiKey blue"}
    assert _credentials(member)[0].last_used_at is not None


def test_a_replayed_or_foreign_origin_answer_does_not_open_the_gate(make_user):
    member, token, credential = _member_with_passkey()
    page = _locked(token)
    options = page.passkey_options
    for bent in (dict(origin="https://panel.example.evil"), dict(rp_id="evil.example"), dict(user_verified=False)):
        page.verify_passkey(credential.assert_(page.passkey_options, **bent))
        assert not page.gate_open and page.gate_error
    good = credential.assert_(page.passkey_options)
    page.verify_passkey(good)
    assert page.gate_open
    page.lock_now()
    assert not page.gate_open and page.passkey_options and page.passkey_options != options
    page.verify_passkey(good)  # the same answer again: its challenge is spent
    assert not page.gate_open and page.gate_error


def test_a_passkey_of_another_staff_session_cannot_answer(make_user):
    """The gate's challenge is bound to the staff session that asked."""
    member, token, credential = _member_with_passkey()
    first = _locked(token)
    answer = credential.assert_(first.passkey_options)
    second_token = _staff_token(member, grant=False)
    second = _queue(second_token)
    second.load()
    second.verify_passkey(answer)
    assert not second.gate_open and second.gate_error


def test_another_staff_members_passkey_cannot_answer(make_user):
    member, token, _credential = _member_with_passkey()
    other = _staff(email="other@test.example", name="Olaf Other", secret="3XCNYJWXPYMCPQBD6B6N6X3GAAXIZ2WF")
    other_page = _security(_staff_token(other, secret="3XCNYJWXPYMCPQBD6B6N6X3GAAXIZ2WF"))
    other_page.load()
    others_key = SoftCredential()
    _add(other_page, others_key, "Olaf's key")
    assert len(_credentials(other)) == 1
    page = _locked(token)
    page.verify_passkey(others_key.assert_(page.passkey_options))
    assert not page.gate_open and _session_of(token).grant_expires_at is None


def test_a_cloned_passkey_is_refused_and_the_staff_admins_see_it(make_user):
    member, token, credential = _member_with_passkey()
    page = _locked(token)
    page.verify_passkey(credential.assert_(page.passkey_options, count=5))
    assert page.gate_open
    page.lock_now()
    page.verify_passkey(credential.assert_(page.passkey_options, count=3))  # the counter went back
    assert not page.gate_open and "copy" in page.gate_error
    assert _audit("staff_passkey_cloned") == [{"passkey": "YubiKey blue"}]
    with transaction() as db:
        shown = [(r.action, r.staff) for r in staff_support.staff_audit(db)]
    assert ("staff_passkey_cloned", "Support (Maria)") in shown
    admin = _staff(email="admin@test.example", name="Stefan Wolf", admin=True,
                   secret="3XCNYJWXPYMCPQBD6B6N6X3GAAXIZ2WF")
    admin_page = tab_state(StaffAdminState, None, "/staff/admin",
                           cookies={COOKIE: _staff_token(admin, secret="3XCNYJWXPYMCPQBD6B6N6X3GAAXIZ2WF")})
    admin_page.load()
    assert "staff_passkey_cloned" in [r.action for r in admin_page.audit_rows]


def test_passkey_failures_count_in_the_gates_budget_with_app_codes(make_user):
    member, token, credential = _member_with_passkey()
    page = _locked(token)
    page.verify({"code": "000000"})
    page.verify({"code": "000001"})
    for _ in range(3):
        page.verify_passkey(credential.assert_(page.passkey_options, origin="https://evil.example"))
        assert not page.gate_open
    # The sixth failure locks: the right answer is refused until the lock passes.
    page.verify_passkey(credential.assert_(page.passkey_options, rp_id="evil.example"))
    page.verify_passkey(credential.assert_(page.passkey_options))
    assert not page.gate_open and "Too many failed attempts" in page.gate_error
    assert _audit("staff_verification_failed")[-1]["method"] == "passkey"
    # A malformed answer is not a guess, and opens nothing.
    with transaction() as db:
        before = db.exec(select(Throttle)).all()
        before = [(r.key, r.failures) for r in before]
    page.verify_passkey("{not json")
    with transaction() as db:
        after = [(r.key, r.failures) for r in db.exec(select(Throttle)).all()]
    assert before == after and not page.gate_open


def test_a_customers_passkey_cannot_answer_the_staff_gate_nor_a_staff_passkey_the_customers(make_user):
    user = make_user()
    member, token, staff_credential = _member_with_passkey()
    customer_credential = SoftCredential()
    now = utcnow()
    login = login_token(user, grant_method="totp")
    with transaction() as db:
        from panel_app.security import sessions
        session = sessions.resolve_session(db, login, now=now, idle_seconds=900).login_session
        options = passkeys.registration_options(db, owner=passkeys.Owner(user_id=user.id),
                                                binding=passkeys.Binding(session_id=session.id), user_name=user.email,
                                                display_name=user.name, now=now)
        assert passkeys.finish_registration(db, owner=passkeys.Owner(user_id=user.id),
                                            binding=passkeys.Binding(session_id=session.id),
                                            response=customer_credential.register(options), name="Customer's",
                                            now=now).ok
    # The customer's passkey at the staff gate (the staff options, signed by the customer's key).
    page = _locked(token)
    page.verify_passkey(customer_credential.assert_(page.passkey_options,
                                                    user_handle=staff_credential.user_handle))
    assert not page.gate_open and page.gate_error
    page.verify_passkey(customer_credential.assert_(page.passkey_options))
    assert not page.gate_open
    # The staff member's passkey at the customer's gate.
    with transaction() as db:
        customer = db.get(type(user), user.id)
        scope = CodeScope(session.id, "stepup")
        options = passkey_method.METHOD.options_for(db, user=customer, scope=scope, now=now)
        check = passkey_method.METHOD.verify(db, user=customer, scope=scope,
                                             value=staff_credential.assert_(options), now=now)
        assert not check.ok and check.reason == passkeys.REASON_UNKNOWN_CREDENTIAL
    assert not page.gate_open and _session_of(token).grant_expires_at is None


# --- PANEL_STAFF_REQUIRE_PASSKEY ---------------------------------------------------------------------


def test_the_setting_reads_as_a_flag(monkeypatch):
    assert settings.load_settings({}).staff_require_passkey is False
    assert settings.load_settings({"PANEL_STAFF_REQUIRE_PASSKEY": "1"}).staff_require_passkey is True
    assert settings.load_settings({"PANEL_STAFF_REQUIRE_PASSKEY": "0"}).staff_require_passkey is False
    with pytest.raises(settings.SettingsError):
        settings.load_settings({"PANEL_STAFF_REQUIRE_PASSKEY": "maybe"})


def test_with_passkeys_required_the_app_code_is_refused_by_the_server(make_user, require_passkey):
    _customer(make_user)
    member, token, credential = _member_with_passkey()
    page = _locked(token)
    assert page.require_passkey and page.has_passkey
    page.verify({"code": totp.code_at(SECRET, utcnow())})  # the right code, sent by hand
    assert not page.gate_open and "only passkeys" in page.gate_error
    assert _session_of(token).grant_expires_at is None and _audit("staff_app_refused")
    page.load()
    assert page.rows == []
    page.verify_passkey(credential.assert_(page.passkey_options))
    assert page.gate_open
    page.load()
    assert page.rows


def test_an_app_grant_from_before_the_setting_opens_nothing(make_user, monkeypatch):
    """A grant the app opened while the setting was off: once it is on (a restart), that grant
    no longer opens the console, and what the tab holds goes."""
    _customer(make_user)
    member, token, _credential = _member_with_passkey()
    with transaction() as db:
        resolved = staff.resolve(db, token, now=utcnow(), idle_seconds=900)
        staff.end_grant(db, resolved.session)
        assert staff.verify(db, resolved, totp.code_at(SECRET, utcnow() + timedelta(seconds=30)),
                            now=utcnow() + timedelta(seconds=30)).ok
    page = _queue(token)
    page.load()
    assert page.rows
    monkeypatch.setenv("PANEL_STAFF_REQUIRE_PASSKEY", "1")
    settings.get_settings.cache_clear()
    try:
        import asyncio
        asyncio.run(check_staff_tab(page))
        assert page.rows == [] and not page.gate_open
        page.load()
        assert page.rows == [] and not page.gate_open and page.passkey_options
    finally:
        monkeypatch.delenv("PANEL_STAFF_REQUIRE_PASSKEY")
        settings.get_settings.cache_clear()


def test_without_a_passkey_the_app_code_opens_only_the_adding_of_one(make_user, require_passkey):
    _user, ticket = _customer(make_user)
    member = _staff()
    token = _staff_token(member, grant=False)
    queue = _queue(token)
    queue.load()
    assert not queue.gate_open and not queue.passkey_setup_only and queue.passkey_options == ""
    result = queue.verify({"code": totp.code_at(SECRET, utcnow())})
    assert queue.passkey_setup_only and not queue.gate_open
    assert result is not None  # the page's load follows: it shows the "add a passkey" step
    queue.load()
    assert queue.rows == [] and not queue.gate_open and queue.passkey_setup_only
    ticket_page = tab_state(StaffTicketState, None, f"/staff/tickets/{ticket.id}", query={"ticket": str(ticket.id)},
                            cookies={COOKIE: token})
    ticket_page.load()
    ticket_page.reply({"body": "Hello", "close": ""})
    assert ticket_page.subject == "" and not ticket_page.loaded
    with transaction() as db:
        assert not [e for e in db.exec(select(StaffAuditEvent)).all() if e.ticket_id == ticket.id]

    page = _security(token)
    page.load()
    assert page.loaded and page.passkey_setup_only
    page.rename({"id": "1", "name": "x"})  # managing needs a grant that opens the console
    page.remove("1")
    credential = SoftCredential()
    other_tab = _security(token)
    other_tab.load()
    other_tab.begin_add({"name": "Second"})
    stale_options = other_tab.register_options
    page.begin_add({"name": "Key"})  # both tabs began before a passkey existed
    page.finish_add(credential.register(page.register_options))
    assert len(_credentials(member)) == 1
    # The app's grant added one passkey: now it opens nothing; the gate asks for the passkey.
    assert not page.gate_open and not page.passkey_setup_only and page.passkey_options
    assert "confirm with it" in page.gate_notice and not page.loaded
    other_tab.finish_add(SoftCredential().register(stale_options))
    assert len(_credentials(member)) == 1 and not other_tab.gate_open
    page.begin_add({"name": "Third"})
    assert not page.adding and page.register_options == ""
    queue.load()
    assert queue.rows == [] and not queue.gate_open
    assert _audit("staff_passkey_added")[0]["grant"] == "totp"

    # The queue's load showed its gate last: the passkey answers the queue's prompt.
    assert queue.passkey_options and queue.passkey_options != page.passkey_options
    queue.verify_passkey(credential.assert_(queue.passkey_options))
    assert queue.gate_open and queue.gate_notice == ""
    queue.load()
    assert queue.rows


def test_the_service_refuses_a_second_passkey_on_the_apps_grant(make_user, require_passkey):
    """Below the guard too: with passkeys required, the app's grant adds one passkey, no more
    (an answer to options made before the first was added is refused by the rule itself)."""
    member = _staff()
    token = _staff_token(member)
    now = utcnow()
    with transaction() as db:
        fresh, session = db.get(StaffUser, member.id), _session_of(token)
        second_options = passkeys.registration_options(  # begun before the first is finished
            db, owner=passkeys.Owner(staff_id=member.id), binding=passkeys.Binding(staff_session_id=session.id),
            user_name=fresh.email, display_name=fresh.name, now=now)
    actor = staff_support.StaffActor.of(member, "192.0.2.9")
    with transaction() as db:
        fresh, session = db.get(StaffUser, member.id), _session_of(token)
        first = staff_passkeys.begin_add(db, fresh, session, "One", now=now)
        assert staff_passkeys.finish_add(db, actor, fresh, session, response=SoftCredential().register(first.options),
                                         name="One", now=now).ok
    with transaction() as db:
        fresh, session = db.get(StaffUser, member.id), _session_of(token)
        refused = staff_passkeys.finish_add(db, actor, fresh, session, name="Two", now=now,
                                            response=SoftCredential().register(second_options))
        assert not refused.ok and refused.error_key == staff_passkeys.ERROR_NOT_ALLOWED
        assert not staff_passkeys.begin_add(db, fresh, session, "Three", now=now).ok
    assert [r.name for r in _credentials(member)] == ["One"]


def test_with_passkeys_required_the_last_one_stays(make_user, require_passkey):
    member, token, credential = _member_with_passkey()
    # The app code opened the page to add the first (added with an app grant, setting on): confirm with it.
    page = _locked(token)
    page.verify_passkey(credential.assert_(page.passkey_options))
    security = _security(token)
    security.load()
    assert security.loaded and not security.can_remove
    only = security.passkeys[0].id
    security.remove(only)
    assert "last" in security.error and len(_credentials(member)) == 1
    assert _audit("staff_passkey_remove_refused")
    _add(security, SoftCredential(), "Backup key")
    assert security.can_remove and len(security.passkeys) == 2
    security.remove(only)
    assert [r.name for r in security.passkeys] == ["Backup key"] and not security.can_remove


def test_a_staff_tab_in_the_add_a_passkey_step_keeps_only_that_page(make_user, require_passkey):
    import asyncio

    _customer(make_user)
    member = _staff()
    token = _staff_token(member)  # an app grant; no passkey; setting on
    page = _security(token)
    page.load()
    assert page.loaded and page.passkey_setup_only
    queue = asyncio.run(page.get_state(StaffQueueState))
    queue.rows = ["left over"]
    asyncio.run(check_staff_tab(page))
    assert page.loaded and queue.rows == []


# --- handlers: guarded, and hostile arguments -----------------------------------------------------

NEW_HANDLERS = [(StaffState, "verify_passkey"), (StaffState, "passkey_failed"),
                *[(StaffSecurityState, name) for name in ("load", "begin_add", "finish_add", "add_failed",
                                                          "cancel_add", "rename", "remove")]]


def test_every_new_handler_is_guarded():
    for cls, name in NEW_HANDLERS:
        assert getattr(cls.event_handlers[name].fn, STAFF_GUARD_MARKER, None) is not None, name
    # only these two need no live grant: they answer the gate
    assert StaffState.event_handlers["verify_passkey"].fn._panel_staff_guard == (False, False, False)
    assert StaffSecurityState.event_handlers["rename"].fn._panel_staff_guard == (False, True, False)
    assert StaffSecurityState.event_handlers["remove"].fn._panel_staff_guard == (False, True, False)


def _args(cls, name, value):
    fn = cls.event_handlers[name].fn
    return fn, [value] * (len(inspect.signature(fn).parameters) - 1)


@pytest.mark.parametrize("cls, name", NEW_HANDLERS, ids=lambda v: getattr(v, "__name__", v))
def test_new_handlers_do_nothing_without_a_staff_session(make_user, cls, name):
    user = make_user()
    member, token, credential = _member_with_passkey()
    with transaction() as db:
        options = staff_passkeys.gate_options(db, db.get(StaffUser, member.id), _session_of(token), now=utcnow())
    answer = credential.assert_(options)
    for cookies in ({}, {"panel_session": login_token(user, grant_method="totp")}, {COOKIE: "x" * 40}):
        page = tab_state(cls, None, "/staff/security", cookies=cookies)
        fn, args = _args(cls, name, answer if name == "verify_passkey" else {"name": "Evil", "id": "1"})
        result = fn(page, *args)
        assert not page.staff_signed_in and not page.gate_open
        assert "staff/login" in str(result)
    assert len(_credentials(member)) == 1 and _credentials(member)[0].name == "YubiKey blue"


@pytest.mark.parametrize("cls, name", [h for h in NEW_HANDLERS if h[0] is StaffSecurityState],
                         ids=lambda v: getattr(v, "__name__", v))
def test_the_sign_in_methods_page_is_refused_without_a_grant(make_user, cls, name):
    member, token, credential = _member_with_passkey()
    locked = _locked(token)
    assert locked.passkey_options
    page = _security(token)
    fn, args = _args(cls, name, {"name": "Evil", "id": str(_credentials(member)[0].id)})
    if name == "finish_add":
        args = [SoftCredential().register(json.dumps({"challenge": "AAAA", "rp": {"id": "localhost"},
                                                      "user": {"id": "AAAA"}}))]
    if name == "remove":
        args = [str(_credentials(member)[0].id)]
    fn(page, *args)
    assert not page.loaded and page.passkeys == [] and page.register_options == "" and not page.gate_open
    rows = _credentials(member)
    assert len(rows) == 1 and rows[0].name == "YubiKey blue"
    with transaction() as db:
        assert not db.exec(select(WebAuthnChallenge).where(WebAuthnChallenge.purpose
                                                           == passkeys.PURPOSE_STAFF_REGISTER,
                                                           WebAuthnChallenge.used_at.is_(None))).all()


HOSTILE_RESPONSES = [*HOSTILE, "{}", '{"id": "x", "response": {}}', '{"id": 1, "response": {"clientDataJSON": 1}}',
                     json.dumps({"id": "A" * 2000, "response": {"clientDataJSON": "e30"}}),
                     json.dumps({"id": "AAAA", "type": "public-key", "response": {"clientDataJSON": "%%%",
                                                                                  "attestationObject": "%%%"}}),
                     "[" * 5000 + "]" * 5000, {"id": "AAAA", "response": {"clientDataJSON": ["x"]}}]


@pytest.mark.parametrize("cls, name", [h for h in NEW_HANDLERS if h[1] != "load" and h[1] != "cancel_add"],
                         ids=lambda v: getattr(v, "__name__", v))
def test_new_handlers_refuse_hostile_arguments_cleanly(make_user, cls, name):
    member, token, _credential = _member_with_passkey()
    page = tab_state(StaffQueueState if cls is StaffState else cls, None, "/staff/security", cookies={COOKIE: token})
    if cls is StaffSecurityState:
        page.load()
        page.begin_add({"name": "Pending"})  # a live registration: hostile answers reach the ceremony
    else:
        with transaction() as db:
            staff.end_grant(db, _session_of(token))
        page.load()
        assert page.passkey_options  # a live gate challenge: hostile answers reach the check
    for value in HOSTILE_RESPONSES:
        fn, args = _args(cls, name, value)
        fn(page, *args)
        if cls is StaffSecurityState and name == "finish_add":
            page.begin_add({"name": "Pending"})
    rows = _credentials(member)
    assert [r.name for r in rows] == ["YubiKey blue"] and rows[0].sign_count == 0
    session = _session_of(token)
    assert cls is StaffSecurityState or session.grant_expires_at is None
    assert not _audit("staff_passkey_added")[1:] and not _audit("staff_verified")[1:]
    if name == "passkey_failed":
        assert page.gate_error == "The passkey could not be used. Try again or choose another method."


def test_removing_the_demo_takes_the_demo_staffs_passkeys_along():
    from panel_app.seed import _remove_demo_staff, seed_demo_staff

    with transaction() as db:
        seed_demo_staff(db)
        agent = db.exec(select(StaffUser).where(StaffUser.email == "agent@example.com")).one()
        options = passkeys.registration_options(db, owner=passkeys.Owner(staff_id=agent.id),
                                                binding=passkeys.Binding(staff_session_id=None), user_name=agent.email,
                                                display_name=agent.name, now=utcnow())
        assert passkeys.finish_registration(db, owner=passkeys.Owner(staff_id=agent.id), binding=passkeys.Binding(),
                                            response=SoftCredential().register(options), name="Demo key",
                                            now=utcnow()).ok
        passkeys.authentication_options(db, purpose=passkeys.PURPOSE_STAFF_STEPUP, binding=passkeys.Binding(),
                                        now=utcnow(), owner=passkeys.Owner(staff_id=agent.id))
    with transaction() as db:
        _remove_demo_staff(db)
    with transaction() as db:
        assert db.exec(select(StaffUser)).all() == []
        assert db.exec(select(WebAuthnCredential)).all() == [] and db.exec(select(WebAuthnChallenge)).all() == []
