"""Signing in with a passkey on /login (api/passkey.py) and a passkey as the second factor of
a password reset, as a browser and as an attacker meet them. The browser's part is the
software authenticator (tests/fakes/soft_authenticator.py), for the origin of PANEL_PUBLIC_URL."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlmodel import func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from panel_app.api import passkey as passkey_routes
from panel_app.api.paths import DEVICE_ROUTE
from panel_app.api import session as session_routes
from panel_app.api import routes as all_routes
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.models import (AuditEvent, LoginSession, OutboxMessage, StaffUser, User, WebAuthnChallenge,
                              WebAuthnCredential)
from panel_app.security import sessions
from panel_app.services import passkeys, password_reset, stepup
from panel_app.services.audit import Actor
from panel_app.settings import get_settings
from panel_app.state.reset import ResetState
from tests.fakes.soft_authenticator import SoftCredential
from tests.state_harness import tab_state

ORIGIN = get_settings().public_url
EMAIL = "owner@test.example"
OPTIONS = passkey_routes.OPTIONS_PATH
VERIFY = passkey_routes.VERIFY_PATH


def add_passkey(user_id: int | None = None, *, staff_id: int | None = None, name: str = "Laptop",
                age: timedelta = timedelta(0)) -> SoftCredential:
    """A passkey registered through the real ceremony (``age`` ago)."""
    credential = SoftCredential()
    owner = passkeys.Owner(user_id=user_id) if user_id is not None else passkeys.Owner(staff_id=staff_id)
    binding = passkeys.Binding(binding_key="test-setup")
    when = utcnow() - age
    with transaction() as db:
        options = passkeys.registration_options(db, owner=owner, binding=binding, user_name="x", display_name="x",
                                                now=when)
        made = passkeys.finish_registration(db, owner=owner, binding=binding, name=name, now=when,
                                            response=credential.register(options, origin=ORIGIN))
        assert made.ok, made
    return credential


def _client() -> TestClient:
    return TestClient(Starlette(routes=passkey_routes.routes + session_routes.routes), base_url=ORIGIN,
                      headers={"Origin": ORIGIN})


@pytest.fixture
def client(monkeypatch):
    with _client() as test_client:
        yield test_client


_SPAWNED: list = []


@pytest.fixture(autouse=True)
def _notices_held(monkeypatch):
    """The routes' notices (``spawn``) are held and sent when a test reads the outbox."""
    monkeypatch.setattr(passkey_routes, "spawn", _SPAWNED.append)
    yield
    while _SPAWNED:
        _SPAWNED.pop().close()


def options(client: TestClient) -> str:
    answer = client.post(OPTIONS, json={})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    return answer.text


def verify(client: TestClient, response: str | dict, next_path: str = "/invoices", **kwargs):
    body = {"response": json.loads(response) if isinstance(response, str) else response, "next": next_path}
    return client.post(VERIFY, json=body, **kwargs)


def sign_in(client: TestClient, credential: SoftCredential, **assert_kwargs):
    return verify(client, credential.assert_(options(client), origin=ORIGIN, **assert_kwargs))


def count(model) -> int:
    with transaction() as db:
        return db.exec(select(func.count()).select_from(model)).one()


def actions(user_id: int) -> list[str]:
    with transaction() as db:
        return [row.action for row in db.exec(select(AuditEvent).where(AuditEvent.actor_user_id == user_id)
                                              .order_by(AuditEvent.id))]


def audit_details(user_id: int, action: str) -> list[dict]:
    with transaction() as db:
        rows = db.exec(select(AuditEvent).where(AuditEvent.actor_user_id == user_id, AuditEvent.action == action)
                       .order_by(AuditEvent.id)).all()
        return [json.loads(row.detail) if row.detail else {} for row in rows]


def outbox(to: str) -> list[str]:
    while _SPAWNED:
        asyncio.run(_SPAWNED.pop(0))
    with transaction() as db:
        return [m.subject for m in db.exec(select(OutboxMessage).where(OutboxMessage.recipient == to))]


def live_sessions() -> list[LoginSession]:
    with transaction() as db:
        return list(db.exec(select(LoginSession).where(LoginSession.revoked_at.is_(None))).all())


# --- signing in -------------------------------------------------------------------------


def test_sign_in_with_a_passkey_starts_the_session_with_a_grant(client, make_user, clock):
    user = make_user()
    credential = add_passkey(user.id)
    answer = client.post(OPTIONS, json={})
    pre_login = answer.headers["set-cookie"]
    assert "panel_pk=" in pre_login and "HttpOnly" in pre_login and "samesite=strict" in pre_login.lower()
    assert "Max-Age=300" in pre_login and answer.headers["cache-control"] == "no-store"
    response = verify(client, credential.assert_(answer.text, origin=ORIGIN))
    assert response.status_code == 200, response.text
    assert response.json() == {"redirect": "/invoices", "device": DEVICE_ROUTE}
    assert response.headers["cache-control"] == "no-store"
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("panel_session="))
    assert "HttpOnly" in session_cookie and "samesite=strict" in session_cookie.lower() and "Path=/" in session_cookie
    assert any(c.startswith('panel_pk=""') or (c.startswith("panel_pk=") and "Max-Age=0" in c) for c in cookies)
    [row] = live_sessions()
    assert row.user_id == user.id and row.grant_method == "passkey"
    assert sessions.grant_is_valid(row, clock.now)
    token = session_cookie.split(";")[0].split("=", 1)[1]
    with transaction() as db:
        assert sessions.find_by_token(db, token).id == row.id
    assert actions(user.id)[-3:] == ["login", "verification_succeeded", "grant_started"]
    assert audit_details(user.id, "login")[-1]["method"] == "passkey"
    with transaction() as db:
        assert db.exec(select(WebAuthnCredential)).one().last_used_at is not None


def test_a_new_browser_is_announced_and_the_previous_session_replaced(client, make_user):
    user = make_user()
    credential = add_passkey(user.id)
    assert sign_in(client, credential).status_code == 200
    first = live_sessions()
    assert sign_in(client, credential).status_code == 200
    second = live_sessions()
    assert len(first) == len(second) == 1 and first[0].id != second[0].id
    with transaction() as db:
        assert db.get(LoginSession, first[0].id).revoked_at is not None
    assert outbox(EMAIL).count("New sign-in to your Panel account") == 1


def test_an_unsafe_next_is_replaced(client, make_user):
    user = make_user()
    credential = add_passkey(user.id)
    answer = verify(client, credential.assert_(options(client), origin=ORIGIN), next_path="//evil.example/x")
    assert answer.json()["redirect"] == "/dashboard"


def test_the_browser_becomes_a_known_device_as_after_a_verification(client, make_user):
    from panel_app.security import devices

    user = make_user()
    credential = add_passkey(user.id)
    first = sign_in(client, credential)
    assert first.json()["device"] == DEVICE_ROUTE
    assert client.post(DEVICE_ROUTE, headers={"Origin": ORIGIN}).status_code == 204  # what the page does
    assert client.cookies.get(devices.COOKIE_NAME)
    again = sign_in(client, credential)
    assert again.status_code == 200 and "device" not in again.json()
    assert live_sessions()[0].device_id is not None


def test_a_replayed_response_is_refused(client, make_user):
    user = make_user()
    credential = add_passkey(user.id)
    response = credential.assert_(options(client), origin=ORIGIN)
    assert verify(client, response).status_code == 200
    replay = verify(client, response)
    assert replay.status_code == 400 and replay.json() == {"error": "passkey.error.expired"}
    assert len(live_sessions()) == 1


def test_a_challenge_of_another_browser_is_refused(client, make_user):
    user = make_user()
    credential = add_passkey(user.id)
    with _client() as other_browser:
        their_options = options(other_browser)
    options(client)  # this browser has its own pre-login cookie
    answer = verify(client, credential.assert_(their_options, origin=ORIGIN))
    assert answer.status_code == 400 and answer.json() == {"error": "passkey.error.expired"}
    assert live_sessions() == []


def test_without_the_pre_login_cookie_nothing_is_checked(make_user):
    user = make_user()
    credential = add_passkey(user.id)
    with _client() as browser:
        made = options(browser)
        browser.cookies.clear()
        answer = verify(browser, credential.assert_(made, origin=ORIGIN))
    assert answer.status_code == 400 and answer.json() == {"error": "passkey.error.expired"}
    assert live_sessions() == []


def test_an_expired_challenge_is_refused(client, make_user, clock):
    user = make_user()
    credential = add_passkey(user.id)
    made = options(client)
    clock.advance(121)
    answer = verify(client, credential.assert_(made, origin=ORIGIN))
    assert answer.status_code == 400 and answer.json() == {"error": "passkey.error.expired"}
    assert live_sessions() == []


def test_an_answer_without_user_verification_is_refused(client, make_user):
    user = make_user()
    credential = add_passkey(user.id)
    answer = sign_in(client, credential, user_verified=False)
    assert answer.status_code == 400 and answer.json() == {"error": "passkey.error.invalid"}
    assert live_sessions() == []
    assert audit_details(user.id, "login_failed")[-1]["reason"] == passkeys.REASON_NO_USER_VERIFICATION


@pytest.mark.parametrize("bend", [{"origin": "https://evil.example"}, {"rp_id": "evil.example"}])
def test_an_answer_for_another_origin_or_rp_is_refused(client, make_user, bend):
    user = make_user()
    credential = add_passkey(user.id)
    made = options(client)
    answer = verify(client, credential.assert_(made, **{"origin": ORIGIN, **bend}))
    assert answer.status_code == 400 and answer.json() == {"error": "passkey.error.invalid"}
    assert live_sessions() == []


def test_a_counter_that_went_back_is_refused_audited_and_announced(client, make_user):
    user = make_user()
    credential = add_passkey(user.id, name="Old phone")
    assert sign_in(client, credential, count=7).status_code == 200
    client.cookies.delete("panel_session")
    before = len(live_sessions())
    answer = sign_in(client, credential, count=3)
    assert answer.status_code == 400 and answer.json() == {"error": "passkey.error.cloned"}
    assert len(live_sessions()) == before
    assert audit_details(user.id, "passkey_cloned")[-1]["passkey"] == "Old phone"
    assert any("copied" in subject for subject in outbox(EMAIL))


def test_a_removed_passkey_cannot_sign_in(client, make_user):
    user = make_user()
    credential = add_passkey(user.id)
    with transaction() as db:
        passkeys.delete_credential(db, db.exec(select(WebAuthnCredential)).one())
    answer = sign_in(client, credential)
    assert answer.status_code == 400 and answer.json() == {"error": "passkey.error.sign_in_unknown"}
    assert live_sessions() == []


def test_a_staff_passkey_cannot_sign_in_a_customer(client, make_user):
    make_user()
    with transaction() as db:
        staff = StaffUser(email="agent@panel.example", name="Agent")
        db.add(staff)
        db.flush()
        staff_id = staff.id
    credential = add_passkey(staff_id=staff_id)
    answer = sign_in(client, credential)
    assert answer.status_code == 400 and answer.json() == {"error": "passkey.error.sign_in_unknown"}
    assert live_sessions() == []


def test_a_user_handle_of_someone_else_is_refused(client, make_user):
    user = make_user()
    other = make_user(email="other@test.example", phone="+4915112345699")
    credential = add_passkey(user.id)
    handle = passkeys.user_handle(passkeys.Owner(user_id=other.id))
    answer = sign_in(client, credential, user_handle=handle)
    assert answer.status_code == 400 and answer.json() == {"error": "passkey.error.sign_in_unknown"}
    assert live_sessions() == []


def test_an_inactive_user_cannot_sign_in(client, make_user):
    user = make_user()
    credential = add_passkey(user.id)
    with transaction() as db:
        row = db.get(User, user.id)
        row.is_active = False
        db.add(row)
    answer = sign_in(client, credential)
    assert answer.status_code == 400 and answer.json() == {"error": "passkey.error.sign_in_unknown"}
    assert live_sessions() == []
    assert audit_details(user.id, "login_failed")[-1]["reason"] == "user_inactive"


@pytest.mark.parametrize("path", [OPTIONS, VERIFY])
@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"}, {"Origin": "null"}, {"Origin": None},
    {"Origin": None, "Sec-Fetch-Site": "cross-site"},
], ids=["evil", "null", "missing", "missing+cross-site"])
def test_a_foreign_or_missing_origin_is_refused(make_user, path, headers):
    user = make_user()
    credential = add_passkey(user.id)
    with _client() as browser:
        made = options(browser)
        body = {"response": json.loads(credential.assert_(made, origin=ORIGIN)), "next": ""}
        before = count(WebAuthnChallenge)
        if headers.get("Origin") is None:
            del browser.headers["Origin"]
        answer = browser.post(path, json=body, headers={k: v for k, v in headers.items() if v is not None})
    assert answer.status_code == 403 and answer.json() == {"error": "passkey.error.not_allowed"}
    assert "set-cookie" not in answer.headers
    assert live_sessions() == [] and count(WebAuthnChallenge) == before


def test_every_post_route_of_the_app_includes_the_passkey_routes():
    paths = {route.path for route in all_routes.all_routes()}
    assert {OPTIONS, VERIFY} <= paths


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


HOSTILE = {
    "not json": b"this is not json",
    "not utf-8": b"\xff\xfe\x00{",
    "array": b"[]",
    "string": b'"response"',
    "null": b"null",
    "empty object": b"{}",
    "response a string": json.dumps({"response": "{}", "next": "/"}).encode(),
    "response a list": json.dumps({"response": [], "next": "/"}).encode(),
    "next a number": json.dumps({"response": {"id": "x", "response": {"clientDataJSON": "x"}}, "next": 5}).encode(),
    "unknown key": json.dumps({"response": {}, "next": "/", "admin": True}).encode(),
    "nested": ('{"response": ' + _deep(5000)[:-1] + "]}").encode(),
    "nested object": ('{"response": {"id": "a", "response": {"clientDataJSON": "x", "n": ' + _deep(3000)
                      + "}}}").encode(),
    "huge": json.dumps({"response": {"id": "a" * 40_000, "response": {}}}).encode(),
    "id not a string": json.dumps({"response": {"id": 5, "response": {"clientDataJSON": "x"}}}).encode(),
    "junk client data": json.dumps({"response": {"id": "a", "response": {"clientDataJSON": "%%%"}}}).encode(),
    "empty": b"",
}


@pytest.mark.parametrize("body", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_bodies_get_a_clear_error_and_store_nothing(client, make_user, body, caplog):
    user = make_user()
    add_passkey(user.id)
    options(client)
    challenges = count(WebAuthnChallenge)
    answer = client.post(VERIFY, content=body, headers={"Content-Type": "application/json"})
    assert 400 <= answer.status_code < 500
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"].startswith("passkey.error.")
    assert "Traceback" not in caplog.text and "Traceback" not in answer.text
    assert live_sessions() == [] and count(WebAuthnChallenge) == challenges


def test_the_response_must_be_an_object_not_a_string(client, make_user):
    """The route takes the browser library's object only; the same answer as a JSON string is
    refused before anything is checked (its challenge stays unspent)."""
    user = make_user()
    credential = add_passkey(user.id)
    response = credential.assert_(options(client), origin=ORIGIN)
    refused = client.post(VERIFY, json={"response": response, "next": "/"})
    assert refused.status_code == 400 and refused.json() == {"error": "passkey.error.failed"}
    assert live_sessions() == []
    assert verify(client, response).status_code == 200


def test_a_body_larger_than_it_says_or_unannounced_is_not_read(client, make_user):
    make_user()
    options(client)

    def chunks():
        yield b'{"response": {"id": "'
        yield b"a" * 100_000
        yield b'"}}'

    answer = client.post(VERIFY, content=chunks(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json() == {"error": "passkey.error.failed"}
    big_options = client.post(OPTIONS, content=b"{" + b" " * 5000 + b"}")
    assert big_options.status_code == 400


def test_failed_answers_are_throttled_per_ip(client, make_user):
    """Answers naming no known passkey: the sign-in budget of the client IP (20 free)."""
    make_user()
    stranger = SoftCredential(user_handle=b"x" * 32)
    answers = [sign_in(client, stranger).status_code for _ in range(21)]
    assert answers[:20] == [400] * 20 and answers[20] == 429
    locked = sign_in(client, stranger)
    assert locked.status_code == 429 and locked.json() == {"error": "passkey.error.throttled"}
    assert int(locked.headers["retry-after"]) >= 1


def test_the_ip_budget_is_the_password_logins_budget(client, make_user):
    """Passkey failures and password failures from one IP count together: switching does not
    buy more guesses."""

    user = make_user()
    credential = add_passkey(user.id)
    stranger = SoftCredential(user_handle=b"x" * 32)
    for _ in range(20):
        assert sign_in(client, stranger).status_code == 400
    with TestClient(Starlette(routes=session_routes.routes), base_url=ORIGIN, headers={"Origin": ORIGIN}) as forms:
        refused = forms.post("/api/session/login", data={"email": "nobody@test.example", "password": "x"},
                             follow_redirects=False)
    assert "error=throttled" in refused.headers["location"]
    assert sign_in(client, credential).status_code == 429  # even the right passkey waits now


def test_failures_of_a_known_passkey_count_in_its_users_guess_budget(client, make_user, clock):
    user = make_user()
    credential = add_passkey(user.id)
    for _ in range(stepup.STEPUP_POLICY.free_failures):
        assert sign_in(client, credential, user_verified=False).status_code == 400
        clock.advance(1)
    with transaction() as db:
        fresh = db.get(User, user.id)
        assert fresh.stepup_failures == stepup.STEPUP_POLICY.free_failures
        assert stepup.guess_wait_seconds(db, fresh, None, clock.now, "passkey") > 0
    locked = sign_in(client, credential)  # the user's budget waits: not even compared
    assert locked.status_code == 429 and locked.json() == {"error": "passkey.error.throttled"}
    assert live_sessions() == []
    clock.advance(hours=2)
    assert sign_in(client, credential).status_code == 200
    with transaction() as db:
        assert db.get(User, user.id).stepup_failures == 0  # a success resets the schedule


def test_options_are_bounded_per_ip_and_expired_challenges_are_swept(client, make_user, clock):
    from panel_app.security.policy import POLICY
    from panel_app.state.push import expired_challenges_once

    make_user()
    for _ in range(passkeys.LIVE_CHALLENGES + 2):
        client.post(OPTIONS, json={})
    # One browser asking again and again: its newest challenges replace the oldest.
    assert count(WebAuthnChallenge) == passkeys.LIVE_CHALLENGES
    for _ in range(POLICY.passkey_options_per_ip - passkeys.LIVE_CHALLENGES - 2):
        client.cookies.clear()  # a new browser each time: a row each
        assert client.post(OPTIONS, json={}).status_code == 200
    refused = client.post(OPTIONS, json={})
    assert refused.status_code == 429 and refused.json() == {"error": "passkey.error.throttled"}
    assert count(WebAuthnChallenge) == POLICY.passkey_options_per_ip - 2
    clock.advance(passkeys.CHALLENGE_SECONDS + 1)
    assert expired_challenges_once() == POLICY.passkey_options_per_ip - 2
    assert count(WebAuthnChallenge) == 0
    clock.advance(POLICY.passkey_options_window_seconds)
    assert client.post(OPTIONS, json={}).status_code == 200


def test_the_pre_login_cookie_is_reused(client, make_user):
    make_user()
    client.post(OPTIONS, json={})
    first = client.cookies.get("panel_pk")
    client.post(OPTIONS, json={})
    assert client.cookies.get("panel_pk") == first and len(first) == 43


# --- a passkey as the second factor of a password reset --------------------------------


def _reset_link() -> str:
    with transaction() as db:
        return password_reset.request_link(db, email=EMAIL, ip="203.0.113.20", now=utcnow())[1]


def _actor(user) -> Actor:
    return Actor(user.id, user.account_id, user.email, "203.0.113.20", "pytest")


def test_a_passkey_proves_a_reset_only_once_settled(make_user, clock):
    user = make_user(phone=None)
    add_passkey(user.id, age=timedelta(seconds=get_settings().factor_change_delay_seconds - 60))
    token = _reset_link()
    with transaction() as db:
        opened = password_reset.open_link(db, token, clock.now)
        assert password_reset.methods_for(db, opened.user, clock.now) == []
        assert password_reset.passkey_options(db, opened, now=clock.now) is None
    clock.advance(120)
    with transaction() as db:
        opened = password_reset.open_link(db, token, clock.now)
        assert password_reset.methods_for(db, opened.user, clock.now) == ["passkey"]
        assert password_reset.passkey_options(db, opened, now=clock.now)


def test_the_reset_page_verifies_with_a_passkey(make_user):
    user = make_user(phone=None)
    credential = add_passkey(user.id, age=timedelta(days=30))
    token = _reset_link()
    page = tab_state(ResetState, None, "/reset", query={"token": token})
    page.open_reset()
    assert page.step == "factor" and page.method == "passkey" and page.passkey_options
    made = page.passkey_options
    page.verify({"code": "123456"})  # the code form is not the passkey's way
    assert page.step == "factor" and page.passkey_options == made and page.error == ""
    page.verify_passkey(credential.assert_(made, origin=ORIGIN))
    assert page.step == "password" and page.error == "" and page.passkey_options == ""
    assert "password_reset_factor_verified" in actions(user.id)
    page.set_password({"new_password": "a-brand-new-password-9"})
    assert page.step == "done"


def test_a_failed_passkey_try_counts_and_makes_new_options(make_user):
    user = make_user(phone=None)
    credential = add_passkey(user.id, age=timedelta(days=30))
    token = _reset_link()
    page = tab_state(ResetState, None, "/reset", query={"token": token})
    page.open_reset()
    first = page.passkey_options
    page.verify_passkey(credential.assert_(first, origin=ORIGIN, user_verified=False))
    assert page.step == "factor" and page.error and page.passkey_options and page.passkey_options != first
    with transaction() as db:
        assert db.get(User, user.id).stepup_failures == 1
    page.verify_passkey(credential.assert_(first, origin=ORIGIN))  # the spent challenge: refused, counted
    assert page.step == "factor"
    with transaction() as db:
        assert db.get(User, user.id).stepup_failures == 2
    for junk in (None, 5, {"id": "x"}, "x" * 20_000, "[]"):
        page.verify_passkey(junk)  # malformed: refused, not a guess
    assert page.step == "factor"
    with transaction() as db:
        assert db.get(User, user.id).stepup_failures == 2
    page.verify_passkey(credential.assert_(page.passkey_options, origin=ORIGIN))
    assert page.step == "password"


def test_a_locked_budget_refuses_the_reset_passkey(make_user, clock):
    user = make_user(phone=None)
    credential = add_passkey(user.id, age=timedelta(days=30))
    with transaction() as db:
        fresh = db.get(User, user.id)
        for _ in range(stepup.STEPUP_POLICY.free_failures):
            assert stepup.reserve_guess(db, fresh, clock.now) == 0
    token = _reset_link()
    page = tab_state(ResetState, None, "/reset", query={"token": token})
    page.open_reset()
    page.verify_passkey(credential.assert_(page.passkey_options, origin=ORIGIN))
    assert page.step == "factor" and page.error


def test_a_cloned_passkey_on_the_reset_page_is_audited_and_announced(make_user):
    user = make_user(phone=None)
    credential = add_passkey(user.id, age=timedelta(days=30), name="Tablet")
    with transaction() as db:
        row = db.exec(select(WebAuthnCredential)).one()
        row.sign_count = 50
        db.add(row)
    token = _reset_link()
    page = tab_state(ResetState, None, "/reset", query={"token": token})
    page.open_reset()
    page.verify_passkey(credential.assert_(page.passkey_options, origin=ORIGIN, count=10))
    assert page.step == "factor" and "copy" in page.error
    assert audit_details(user.id, "passkey_cloned")[-1]["passkey"] == "Tablet"
    assert any("copied" in subject for subject in outbox(EMAIL))


def test_the_reset_passkey_handlers_refuse_other_methods_and_junk(make_user):
    user = make_user()  # a settled phone, and a passkey too young to count
    add_passkey(user.id)
    token = _reset_link()
    page = tab_state(ResetState, None, "/reset", query={"token": token})
    page.open_reset()
    assert page.methods == ["whatsapp"] and page.passkey_options == ""
    page.choose_method("passkey")
    assert page.method == "whatsapp" and page.passkey_options == ""
    page.verify_passkey('{"id": "a", "response": {"clientDataJSON": "x"}}')
    page.passkey_failed("cancelled")
    assert page.error == "" and page.step == "factor"
    with transaction() as db:
        assert db.get(User, user.id).stepup_failures == 0
        assert db.exec(select(func.count()).select_from(WebAuthnChallenge)
                       .where(WebAuthnChallenge.purpose == passkeys.PURPOSE_RESET)).one() == 0
