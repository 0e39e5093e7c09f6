"""Known devices and the self-service password reset (issue 9), as an attacker with the
password and the mailbox meets them: through the services, the states and the HTTP routes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from panel_app import tasks
from panel_app.api import session as session_routes
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.delivery.base import BULLETS
from panel_app.models import FactorChange, KnownDevice, LoginSession, OutboxMessage, PasswordReset, User
from panel_app.security import codes, devices, sessions, totp
from panel_app.security.passwords import verify_password
from panel_app.services import auth, authenticator_setup, factor_changes, password_reset, stepup
from panel_app.services.audit import Actor
from panel_app.services.validation import ValidationError
from panel_app.state.reset import ResetState
from panel_app.state.stepup import StepUpState
from tests.state_harness import login_token, tab_state

PASSWORD = "correct horse battery"
EMAIL = "owner@test.example"


def _device(user: User, now=None) -> tuple[int, str]:
    """A known device of ``user``: (id, cookie value)."""
    now = now or utcnow()
    with transaction() as db:
        row, _ = sessions.create_session(db, db.get(User, user.id), ip="198.51.100.7", user_agent="pytest",
                                         now=now, absolute_seconds=3600)
        device, token = devices.remember(db, row, user_agent="Mozilla/5.0 Firefox/128.0", ip="198.51.100.7",
                                         now=now)
        return device.id, token


def _guess(user: User, device_id: int | None, now) -> bool:
    with transaction() as db:
        return stepup.reserve_guess(db, db.get(User, user.id), now, device_id) == 0


def _succeed(user: User, device_id: int | None, now) -> None:
    with transaction() as db:
        fresh = db.get(User, user.id)
        assert stepup.reserve_guess(db, fresh, now, device_id) == 0
        stepup.guess_succeeded(db, fresh, device_id)


def _outbox(to: str) -> list[str]:
    with transaction() as db:
        return [m.subject + "\n" + m.text for m in db.exec(select(OutboxMessage).where(OutboxMessage.recipient == to)
                                                          .order_by(OutboxMessage.id))]


# --- the guess bound -------------------------------------------------------------------


def _guesses_in_a_day(user: User, *, owner_success_every: int | None) -> int:
    """An attacker on unknown devices guessing whenever allowed for 24 h; the owner, also
    on an unknown device, succeeding every ``owner_success_every`` seconds when allowed."""
    start = utcnow()
    day = timedelta(hours=24)
    attacker_at, owner_at = start, start + timedelta(seconds=owner_success_every or 10 ** 9)
    made = 0
    while attacker_at < start + day:
        if owner_at <= attacker_at:
            with transaction() as db:
                free = stepup.guess_wait_seconds(db, db.get(User, user.id), None, owner_at) == 0
            if free:
                _succeed(user, None, owner_at)
            owner_at += timedelta(seconds=owner_success_every)
            continue
        with transaction() as db:
            wait = stepup.guess_wait_seconds(db, db.get(User, user.id), None, attacker_at)
        if wait:
            attacker_at += timedelta(seconds=wait)
            continue
        assert _guess(user, None, attacker_at)
        made += 1
    return made


@pytest.mark.parametrize("owner_success_every, at_most", [
    (None, 34),  # the schedule alone: 5 at once, then 30 s, 60 s, ... up to one an hour
    (600, 50),  # the owner succeeding every 10 minutes restarts the schedule: the 24 h cap holds
    (60, 50),
])
def test_unknown_devices_get_at_most_50_guesses_a_day(make_user, owner_success_every, at_most):
    user = make_user()
    made = _guesses_in_a_day(user, owner_success_every=owner_success_every)
    assert made <= at_most
    assert made >= min(at_most, 25)  # and the bound is not met by refusing everything


def test_the_owner_on_a_known_device_verifies_while_unknown_ones_wait(make_user):
    user = make_user()
    device_id, _ = _device(user)
    now = utcnow()
    for _ in range(5):
        assert _guess(user, None, now)
    assert not _guess(user, None, now)  # the unknown budget waits now
    _succeed(user, device_id, now)  # the owner's browser has its own
    assert not _guess(user, None, now)  # and the owner's success gives the attacker nothing


async def test_step_up_from_a_known_device_is_not_delayed_by_an_attacker(make_user):
    user = make_user()
    device_id, _ = _device(user)
    attacker = tab_state(StepUpState, login_token(user), "/invoices")
    attacker.prepare()
    attacker.choose_method("whatsapp")
    attacker.send_code()
    for _ in range(6):
        attacker.verify({"code": "000000"})
    assert "wait" in attacker.error.lower()
    await tasks.wait_all()
    warned = [text for text in _outbox(EMAIL) if "Someone has your password" in text]
    assert len(warned) == 1  # once, on every channel (the WhatsApp copy is checked in test_notifications)
    owner = tab_state(StepUpState, login_token(user, device_id=device_id), "/invoices")
    owner.prepare()
    owner.send_code()  # email: the attacker used the unknown devices' sends, not the owner's
    await tasks.wait_all()
    code = re.search(r"\b(\d{6})\b", _outbox(EMAIL)[-1]).group(1)
    owner.verify({"code": code})
    assert owner.grant_active and not owner.error


def test_unknown_devices_cannot_use_up_the_owners_code_sends(make_user):
    user = make_user()
    device_id, _ = _device(user)
    now = utcnow()
    with transaction() as db:
        fresh = db.get(User, user.id)
        for minute in range(5):
            assert codes.issue_code(db, user=fresh, session_id=None, purpose="stepup", channel="whatsapp",
                                    destination=fresh.phone, now=now + timedelta(minutes=minute)).ok
        later = now + timedelta(minutes=6)
        refused = codes.issue_code(db, user=fresh, session_id=None, purpose="stepup", channel="whatsapp",
                                   destination=fresh.phone, now=later)
        assert not refused.ok and refused.reason == codes.REASON_HOURLY_LIMIT
        assert codes.issue_code(db, user=fresh, session_id=None, purpose="stepup", channel="whatsapp",
                                destination=fresh.phone, now=later, device_id=device_id).ok


# --- sign-in budgets -------------------------------------------------------------------


def _login(db, password, *, device_token=None, ip="203.0.113.9"):
    return auth.login(db, email=EMAIL, password=password, ip=ip, user_agent="pytest", now=utcnow(),
                      absolute_seconds=3600, device_token=device_token)


def test_an_attacker_locking_the_address_does_not_lock_the_owners_known_browser(make_user):
    user = make_user()
    _device_id, cookie = _device(user)
    with transaction() as db:
        outcomes = [_login(db, "wrong guess").outcome for _ in range(8)]
        assert auth.LoginOutcome.THROTTLED in outcomes
        assert _login(db, PASSWORD).outcome is auth.LoginOutcome.THROTTLED  # unknown browsers: locked
        known = _login(db, PASSWORD, device_token=cookie)
        assert known.outcome is auth.LoginOutcome.OK
        assert db.exec(select(LoginSession).where(LoginSession.token_hash == sessions._token_hash(known.token))
                       ).one().device_id == _device_id


def test_a_device_cookie_of_another_user_counts_as_unknown(make_user):
    user = make_user()
    other = make_user(email="other@test.example", phone="+4915112345699")
    _id, cookie = _device(other)
    with transaction() as db:
        for _ in range(8):
            _login(db, "wrong guess", device_token=cookie)
        assert _login(db, PASSWORD, device_token=cookie).outcome is auth.LoginOutcome.THROTTLED
    assert user.id != other.id


# --- the device route ------------------------------------------------------------------


@pytest.fixture
def client():
    app = Starlette(routes=session_routes.routes)
    # A browser sends Origin on every POST; the routes refuse a request without it.
    with TestClient(app, base_url="http://localhost:3000", headers={"Origin": "http://localhost:3000"}) as test_client:
        yield test_client


def _signed_in(client, **grant) -> str:
    response = client.post("/api/session/login", data={"email": EMAIL, "password": PASSWORD},
                           follow_redirects=False)
    token = response.cookies.get(sessions.COOKIE_NAME) or client.cookies.get(sessions.COOKIE_NAME)
    if grant:
        with transaction() as db:
            row = sessions.find_by_token(db, token)
            sessions.start_grant(db, row, method="email", now=grant["at"], ttl_seconds=600)
    return token


def test_the_device_cookie_comes_only_right_after_a_step_up(client, make_user):
    user = make_user()
    _signed_in(client)
    assert "set-cookie" not in client.post(session_routes.DEVICE_ROUTE).headers  # no grant
    _signed_in(client, at=utcnow() - timedelta(minutes=5))
    assert "set-cookie" not in client.post(session_routes.DEVICE_ROUTE).headers  # an old grant
    token = _signed_in(client, at=utcnow())
    refused = client.post(session_routes.DEVICE_ROUTE, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    response = client.post(session_routes.DEVICE_ROUTE)
    cookie = response.headers["set-cookie"]
    assert response.status_code == 204 and response.content == b""
    assert f"{devices.COOKIE_NAME}=" in cookie and "HttpOnly" in cookie and "strict" in cookie.lower()
    value = response.cookies[devices.COOKIE_NAME]
    with transaction() as db:
        device = db.exec(select(KnownDevice).where(KnownDevice.user_id == user.id)).one()
        assert device.token_hash != value and value not in device.token_hash  # only a keyed hash is kept
        assert sessions.find_by_token(db, token).device_id == device.id
    # Asked again from the same browser: the same device, no second row.
    assert "set-cookie" not in client.post(session_routes.DEVICE_ROUTE).headers
    with transaction() as db:
        assert len(devices.listed(db, user.id)) == 1


def test_a_removed_device_counts_as_unknown_again(make_user):
    user = make_user()
    device_id, cookie = _device(user)
    with transaction() as db:
        assert devices.forget(db, user.id, device_id)
        assert devices.find(db, cookie) is None
        assert not db.exec(select(LoginSession).where(LoginSession.device_id == device_id)).all()


# --- password reset ---------------------------------------------------------------------


def _request(email=EMAIL, ip="203.0.113.20", now=None):
    with transaction() as db:
        return password_reset.request_link(db, email=email, ip=ip, now=now or utcnow())


def _actor(user):
    return Actor(user.id, user.account_id, user.email, "203.0.113.20", "pytest")


def test_the_forgot_route_answers_the_same_for_any_address(client, make_user):
    make_user()
    answers = [client.post("/api/session/forgot", data={"email": address}, follow_redirects=False)
               for address in (EMAIL, "nobody@test.example", "not an address")]
    assert {(a.status_code, a.headers["location"]) for a in answers} == {(303, "/forgot?sent=1")}
    assert client.post("/api/session/forgot", data={"email": EMAIL}, follow_redirects=False,
                       headers={"Origin": "https://evil.example"}).status_code == 403


def test_reset_links_are_throttled_per_address_and_per_ip(make_user):
    make_user()
    assert all(_request(ip="203.0.113.1") for _ in range(3))
    assert _request(ip="203.0.113.1") is None  # a fourth for the address from one IP within the hour
    assert _request(ip="203.0.113.2") is not None  # the owner elsewhere still gets one
    for i in range(10):
        _request(email=f"nobody{i}@test.example", ip="198.51.100.1")
    assert _request(email="someone@test.example", ip="198.51.100.1") is None
    assert all(_request(ip=f"192.0.2.{i}") for i in range(16))  # 20 an hour for the address in all
    assert _request(ip="192.0.2.99") is None


def test_a_flood_of_reset_requests_writes_one_log_line_a_minute(make_user):
    from panel_app.models import AuditEvent

    make_user()
    now = utcnow()
    for _ in range(50):
        _request(ip="203.0.113.77", now=now)
    with transaction() as db:
        logged = db.exec(select(AuditEvent).where(AuditEvent.action == "password_reset_throttled")).all()
    assert len(logged) == 1


def test_the_mailbox_alone_cannot_reset_the_password(make_user):
    user = make_user()
    _user_id, token = _request()
    now = utcnow()
    with transaction() as db:
        opened = password_reset.open_link(db, token, now)
        assert stepup.METHOD_EMAIL not in password_reset.methods_for(db, opened.user, now)
        refused = password_reset.verify_factor(db, opened, method="email", submitted="123456", now=now,
                                               actor=_actor(user), device_id=None)
        assert not refused.ok
        with pytest.raises(ValidationError):
            password_reset.complete(db, opened, new_password="a-brand-new-password-9", now=now, actor=_actor(user))
        with pytest.raises(ValidationError):  # nor scheduled while a second factor exists
            password_reset.schedule(db, opened, new_password="a-brand-new-password-9", now=now,
                                    actor=_actor(user), delay_seconds=60)
    with transaction() as db:
        assert verify_password(PASSWORD, db.get(User, user.id).password_hash)


def test_reset_with_whatsapp_ends_every_session_and_forgets_every_device(make_user):
    user = make_user()
    _device(user)
    old_session = login_token(user, grant_method="email")
    _user_id, token = _request()
    now = utcnow()
    with transaction() as db:
        opened = password_reset.open_link(db, token, now)
        sent = password_reset.send_whatsapp_code(db, opened, now=now, device_id=None)
        assert sent.ok
        wrong = f"{(int(sent.code) + 1) % 1_000_000:06d}"
        assert not password_reset.verify_factor(db, opened, method="whatsapp", submitted=wrong, now=now,
                                                actor=_actor(user), device_id=None).ok
        assert password_reset.verify_factor(db, opened, method="whatsapp", submitted=sent.code, now=now,
                                            actor=_actor(user), device_id=None).ok
    with transaction() as db:
        opened = password_reset.open_link(db, token, now)
        assert opened.verified
        with pytest.raises(ValidationError):  # a weak password is refused, the link stays usable
            password_reset.complete(db, opened, new_password="short", now=now, actor=_actor(user))
        assert password_reset.complete(db, opened, new_password="a-brand-new-password-9", now=now,
                                       actor=_actor(user)) >= 2
    with transaction() as db:
        fresh = db.get(User, user.id)
        assert verify_password("a-brand-new-password-9", fresh.password_hash)
        assert sessions.resolve_session(db, old_session, now=now, idle_seconds=3600) is None
        assert devices.listed(db, user.id) == []
        assert password_reset.open_link(db, token, now) is None  # single use


def test_a_reset_link_expires_after_30_minutes_and_a_newer_one_replaces_it(make_user):
    make_user()
    now = utcnow()
    _id, first = _request(now=now)
    _id, second = _request(now=now)
    with transaction() as db:
        assert password_reset.open_link(db, first, now) is None
        assert password_reset.open_link(db, second, now + timedelta(minutes=29)) is not None
        assert password_reset.open_link(db, second, now + timedelta(minutes=30)) is None
        assert db.exec(select(PasswordReset)).first().token_hash not in (first, second)


def test_a_recovery_code_or_the_app_proves_the_second_factor(make_user):
    user = make_user(phone=None)
    now = utcnow()
    set_up = now - timedelta(days=4)  # longer ago than the waiting period
    with transaction() as db:
        fresh = db.get(User, user.id)
        secret, _ = authenticator_setup.begin_totp_enrollment(db, fresh, set_up)
        recovery_codes = authenticator_setup.confirm_totp_enrollment(db, fresh, totp.code_at(secret, set_up), set_up,
                                                        _actor(fresh)).recovery_codes
    _id, token = _request()
    with transaction() as db:
        opened = password_reset.open_link(db, token, now)
        assert password_reset.methods_for(db, opened.user, now) == ["totp", "recovery"]
        assert password_reset.verify_factor(db, opened, method="recovery", submitted=recovery_codes[0], now=now,
                                            actor=_actor(user), device_id=None).ok


def test_without_a_second_factor_the_reset_is_scheduled_and_announced(make_user):
    user = make_user(phone=None)
    _id, token = _request()
    now = utcnow()
    with transaction() as db:
        opened = password_reset.open_link(db, token, now)
        change = password_reset.schedule(db, opened, new_password="a-brand-new-password-9", now=now,
                                         actor=_actor(user), delay_seconds=72 * 3600)
        assert change.kind == "password" and change.masked == BULLETS
        assert "a-brand-new-password-9" not in db.exec(select(FactorChange)).one().new_value_enc
    with transaction() as db:  # nothing changes before the waiting period is over
        assert factor_changes.apply_due(db, now=now + timedelta(hours=71)) == []
        assert verify_password(PASSWORD, db.get(User, user.id).password_hash)
    session = login_token(user)
    with transaction() as db:
        assert len(factor_changes.apply_due(db, now=now + timedelta(hours=72))) == 1
        assert verify_password("a-brand-new-password-9", db.get(User, user.id).password_hash)
        assert sessions.resolve_session(db, session, now=now, idle_seconds=3600) is None


def test_a_scheduled_reset_can_be_cancelled_by_a_verified_session(make_user):
    user = make_user(phone=None)
    _id, token = _request()
    now = utcnow()
    with transaction() as db:
        opened = password_reset.open_link(db, token, now)
        change = password_reset.schedule(db, opened, new_password="a-brand-new-password-9", now=now,
                                         actor=_actor(user), delay_seconds=60)
        factor_changes.cancel(db, _actor(user), db.get(User, user.id), str(change.id), now=now, by="email")
        assert factor_changes.apply_due(db, now=now + timedelta(minutes=5)) == []
        assert verify_password(PASSWORD, db.get(User, user.id).password_hash)


async def test_the_reset_page_end_to_end_through_the_state(make_user):
    user = make_user()
    _id, token = _request()
    page = tab_state(ResetState, None, "/reset", query={"token": token})
    page.open_reset()
    assert page.step == "factor" and page.methods == ["whatsapp"] and page.masked_phone.endswith("12")
    page.verify({"code": "123456"})  # no code sent yet: refused, nothing proven
    assert page.error and page.step == "factor"
    page.send_code()
    await tasks.wait_all()
    with transaction() as db:
        texts = [m.text for m in db.exec(select(OutboxMessage).where(OutboxMessage.channel == "whatsapp"))]
    code = re.search(r"\b(\d{6})\b", texts[-1]).group(1)
    page.verify({"code": code})
    assert page.step == "password"
    page.set_password({"new_password": "a-brand-new-password-9"})
    assert page.step == "done"
    await tasks.wait_all()
    assert any("password was reset" in text for text in _outbox(EMAIL))
    again = tab_state(ResetState, None, "/reset", query={"token": token})
    again.open_reset()
    assert again.step == "invalid"
    with transaction() as db:
        assert verify_password("a-brand-new-password-9", db.get(User, user.id).password_hash)


def test_a_wrong_or_junk_token_shows_nothing(make_user):
    make_user()
    for junk in ["", "x" * 5000, "ä" * 40, "a" * 43]:
        page = tab_state(ResetState, None, "/reset", query={"token": junk})
        page.open_reset()
        assert page.step == "invalid" and page.methods == [] and page.masked_phone == ""
        page.set_password({"new_password": "a-brand-new-password-9"})
        page.send_code()
        assert page.step == "invalid"


def test_changing_the_password_cancels_a_scheduled_reset(make_user):
    from panel_app.services import accounts

    user = make_user(phone=None)
    _id, token = _request()
    now = utcnow()
    with transaction() as db:
        opened = password_reset.open_link(db, token, now)
        password_reset.schedule(db, opened, new_password="the-attackers-password-1", now=now, actor=_actor(user),
                                delay_seconds=60)
        accounts.change_password(db, _actor(user), db.get(User, user.id), current=PASSWORD,
                                 new="the-owners-new-password-2", now=now)
        assert factor_changes.pending(db, user.id) == []
        assert factor_changes.apply_due(db, now=now + timedelta(minutes=5)) == []
        assert verify_password("the-owners-new-password-2", db.get(User, user.id).password_hash)


# --- attacks with the password and the mailbox (found by an outside review) ------------------


def _email_grant_and_device(user, now) -> tuple[int, int]:
    """The attacker passes step-up with an email code and makes the browser known."""
    with transaction() as db:
        row, _ = sessions.create_session(db, db.get(User, user.id), ip="203.0.113.66", user_agent="attacker",
                                         now=now, absolute_seconds=12 * 3600)
        sessions.start_grant(db, row, method="email", now=now, ttl_seconds=600)
        device, _cookie = devices.remember(db, row, user_agent="attacker", ip="203.0.113.66", now=now)
        return row.id, device.id


def test_a_browser_made_known_with_the_mailbox_gets_at_most_25_app_guesses_a_day(make_user):
    """Each email code resets the device's schedule, but app and recovery guesses share one
    cap of the user across all devices."""
    user = make_user(phone=None)
    start = utcnow()
    secret, _codes = _settled_app(user, start)
    made = 0
    device_ids = [_email_grant_and_device(user, start)[1] for _ in range(3)]
    for device_id in device_ids:
        for minute in range(0, 24 * 60, 2):
            now = start + timedelta(minutes=minute)
            with transaction() as db:
                fresh = db.get(User, user.id)
                if (stepup.failures_so_far(db, fresh, device_id) >= 5
                        and stepup.reserve_guess(db, fresh, now, device_id, "email") == 0):
                    # The attacker's own email code: a success that resets the schedule.
                    stepup.guess_succeeded(db, fresh, device_id, "email")
            made += _guess_as(user, device_id, now, "totp")
    assert made == stepup.FAILURES_PER_WINDOW


def _settled_app(user, now):
    set_up = now - timedelta(days=30)
    with transaction() as db:
        fresh = db.get(User, user.id)
        secret, _ = authenticator_setup.begin_totp_enrollment(db, fresh, set_up)
        return secret, authenticator_setup.confirm_totp_enrollment(db, fresh, totp.code_at(secret, set_up), set_up,
                                                      _actor(fresh)).recovery_codes


def _guess_as(user, device_id, now, method) -> bool:
    with transaction() as db:
        return stepup.reserve_guess(db, db.get(User, user.id), now, device_id, method) == 0


def test_the_owners_known_browser_is_never_pushed_out_by_new_ones(make_user):
    user = make_user(phone=None)
    owner_device, owner_cookie = _device(user, utcnow() - timedelta(days=10))
    now = utcnow()
    for _ in range(devices.MAX_DEVICES_PER_USER + 5):
        with transaction() as db:
            row, _ = sessions.create_session(db, db.get(User, user.id), ip="203.0.113.66", user_agent="attacker",
                                             now=now, absolute_seconds=3600)
            devices.remember(db, row, user_agent="attacker", ip="203.0.113.66", now=now)
    with transaction() as db:
        assert devices.find(db, owner_cookie, user_id=user.id).id == owner_device
        assert len(devices.listed(db, user.id)) == devices.MAX_DEVICES_PER_USER


def test_device_ids_are_never_reused(make_user):
    user = make_user()
    first, _ = _device(user)
    with transaction() as db:
        devices.forget(db, user.id, first)
    second, _ = _device(user)
    assert second != first


def test_an_app_added_with_the_mailbox_is_no_second_factor_for_a_reset(make_user):
    """The attacker adds an app with an email code, then asks for a reset: the fresh app
    does not count, so the reset can only be scheduled (announced, cancellable)."""
    user = make_user(phone=None)
    now = utcnow()
    with transaction() as db:
        fresh = db.get(User, user.id)
        secret, _ = authenticator_setup.begin_totp_enrollment(db, fresh, now)
        assert authenticator_setup.confirm_totp_enrollment(db, fresh, totp.code_at(secret, now), now, _actor(fresh)).ok
    _id, token = _request()
    later = now + timedelta(seconds=31)
    with transaction() as db:
        opened = password_reset.open_link(db, token, later)
        assert password_reset.methods_for(db, opened.user, later) == []
        refused = password_reset.verify_factor(db, opened, method="totp", submitted=totp.code_at(secret, later),
                                               now=later, actor=_actor(user), device_id=None)
        assert not refused.ok
        change = password_reset.schedule(db, opened, new_password="attacker-wants-it-1", now=later,
                                         actor=_actor(user), delay_seconds=72 * 3600)
        assert change.kind == "password"


def test_a_number_added_moments_ago_is_no_second_factor_for_a_reset(make_user):
    user = make_user()
    with transaction() as db:
        fresh = db.get(User, user.id)
        fresh.phone_changed_at = utcnow() - timedelta(hours=1)
        db.add(fresh)
    _id, token = _request()
    with transaction() as db:
        opened = password_reset.open_link(db, token, utcnow())
        assert password_reset.methods_for(db, opened.user, utcnow()) == []
        assert not password_reset.send_whatsapp_code(db, opened, now=utcnow(), device_id=None).ok
