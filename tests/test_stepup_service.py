"""The step-up service as the UI uses it: methods, masking, sending, verifying,
the per-user lockout schedule, grants, recovery codes and app enrollment."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from panel_app.models import AuditEvent, LoginSession, RecoveryCode, User, VerificationCode
from panel_app.security import sessions, totp
from panel_app.security.crypto import decrypt
from panel_app.services import authenticator_setup, recovery_codes, stepup
from panel_app.services.audit import Actor
from panel_app.services.methods import authenticator
from panel_app.services.validation import ValidationError

TTL = 600


@pytest.fixture
def user(db, make_user):
    return db.get(User, make_user().id)


def new_login(db, user, now, hours=12) -> LoginSession:
    row, _token = sessions.create_session(db, user, ip="", user_agent="", now=now,
                                          absolute_seconds=hours * 3600)
    db.commit()
    return row


@pytest.fixture
def login(db, user, now):
    return new_login(db, user, now)


def actor_for(user, login_session=None):
    return Actor.for_user(user, ip="203.0.113.9", session_id=login_session.id if login_session else None)


def actions(db) -> list[str]:
    db.expire_all()
    return [e.action for e in db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


def details(db, action) -> list[dict]:
    db.expire_all()
    rows = db.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()
    return [json.loads(r.detail) if r.detail else {} for r in rows]


def send(db, user, login, now, channel="email"):
    result = stepup.request_stepup_code(db, user=user, login_session=login, channel=channel, now=now,
                                        actor=actor_for(user, login))
    db.commit()
    return result


def verify(db, user, login, method, submitted, now):
    result = stepup.verify_stepup(db, user=user, login_session=login, method=method, submitted=submitted,
                                  now=now, actor=actor_for(user, login), ttl_seconds=TTL)
    db.commit()
    return result


def enroll(db, user, now) -> tuple[str, list[str]]:
    secret, _uri = authenticator_setup.begin_totp_enrollment(db, user, now)
    result = authenticator_setup.confirm_totp_enrollment(db, user, totp.code_at(secret, now), now, actor_for(user))
    db.commit()
    assert result.ok
    return secret, result.recovery_codes


def wrong_digits(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- methods and masking -----------------------------------------------------------------


def test_methods_follow_the_users_factors(db, user, make_user, now):
    assert stepup.available_methods(db, user) == ["email", "whatsapp"]
    assert stepup.default_method(db, user) == "email"
    no_phone = db.get(User, make_user(email="nophone@test.example", phone=None).id)
    assert stepup.available_methods(db, no_phone) == ["email"]
    enroll(db, user, now)
    assert stepup.available_methods(db, user) == ["totp", "email", "whatsapp"]
    assert stepup.default_method(db, user) == "totp"  # setting up the app makes it the preferred method
    stepup.set_preferred_channel(db, user, "whatsapp", actor_for(user), now)
    assert stepup.default_method(db, user) == "whatsapp"
    user.phone = None  # phone removed: fall back to the app
    assert stepup.default_method(db, user) == "totp"


@pytest.mark.parametrize(
    ("channel", "value", "masked"),
    [
        ("email", "jane@example.com", "j•••@example.com"),
        ("email", "j@example.com", "j•••@example.com"),
        ("whatsapp", "+4915112345612", "+49 ••• ••• 12"),
        ("whatsapp", "+12025550187", "+1 ••• ••• 87"),
        ("whatsapp", "+441632960961", "+44 ••• ••• 61"),
    ],
)
def test_mask_destination(channel, value, masked):
    assert stepup.mask_destination(channel, value) == masked


@pytest.mark.parametrize(
    ("channel", "value", "masked"),
    [
        ("email", "jane@example.com", "j***@example.com"),
        ("whatsapp", "+4915112345612", "+49***12"),
        ("email", "not-an-address", "not***ss"),  # malformed: never written out whole
        ("whatsapp", "+4912", "***"),
    ],
)
def test_mask_destination_for_log_lines_is_ascii(channel, value, masked):
    assert stepup.mask_destination(channel, value, for_log=True) == masked


def test_set_preferred_channel_validates(db, user, make_user, now):
    with pytest.raises(ValidationError):
        stepup.set_preferred_channel(db, user, "totp", actor_for(user), now)  # not set up
    for bad in ("sms", "recovery", None, 3, ["email"]):
        with pytest.raises(ValidationError):
            stepup.set_preferred_channel(db, user, bad, actor_for(user), now)
    no_phone = db.get(User, make_user(email="nophone@test.example", phone=None).id)
    with pytest.raises(ValidationError):
        stepup.set_preferred_channel(db, no_phone, "whatsapp", actor_for(no_phone), now)
    stepup.set_preferred_channel(db, user, "whatsapp", actor_for(user), now)
    db.commit()
    assert db.get(User, user.id).preferred_channel == "whatsapp"
    assert details(db, "preferred_channel_changed") == [{"channel": "whatsapp", "previous": "email"}]


# --- sending ----------------------------------------------------------------------------


def test_request_code_masks_and_never_audits_the_code(db, user, login, now):
    result = send(db, user, login, now)
    assert result.ok and result.masked_destination == "o•••@test.example"
    assert re.fullmatch(r"\d{6}", result.code)
    assert result.code not in repr(result)
    wa = send(db, user, login, now + timedelta(seconds=1), channel="whatsapp")
    assert wa.ok and wa.masked_destination == "+49 ••• ••• 12"
    assert details(db, "code_sent") == [
        {"channel": "email", "destination": "o•••@test.example"},
        {"channel": "whatsapp", "destination": "+49 ••• ••• 12"},
    ]
    for event in db.exec(select(AuditEvent)).all():
        assert result.code not in event.detail and wa.code not in event.detail


def test_request_code_throttle_is_audited(db, user, login, now):
    assert send(db, user, login, now).ok
    again = send(db, user, login, now + timedelta(seconds=10))
    assert not again.ok and again.error_key == "stepup.error.resend_cooldown"
    assert again.retry_after_seconds == 50 and again.code is None
    assert details(db, "code_throttled") == [
        {"channel": "email", "reason": "cooldown", "retry_after_seconds": 50}
    ]


def test_request_code_refuses_unavailable_channel_and_foreign_session(db, user, make_user, login, now):
    no_phone = db.get(User, make_user(email="nophone@test.example", phone=None).id)
    their_login = new_login(db, no_phone, now)
    unavailable = "stepup.error.method_unavailable"
    assert send(db, no_phone, their_login, now, channel="whatsapp").error_key == unavailable
    assert send(db, user, login, now, channel="totp").error_key == "stepup.error.method_unavailable"
    assert send(db, user, login, now, channel=None).error_key == "stepup.error.method_unavailable"
    assert send(db, no_phone, login, now).error_key == "stepup.error.session_invalid"
    sessions.revoke_session(db, login, reason="logout", now=now)
    db.commit()
    assert send(db, user, login, now).error_key == "stepup.error.session_invalid"
    assert db.exec(select(VerificationCode)).all() == []


def test_code_status_for_the_didnt_get_it_panel(db, user, login, now):
    assert stepup.code_status(db, user=user, login_session=login, now=now) is None
    sent = send(db, user, login, now, channel="whatsapp")
    status = stepup.code_status(db, user=user, login_session=login, now=now + timedelta(seconds=15))
    assert status.channel == "whatsapp" and status.masked_destination == "+49 ••• ••• 12"
    assert status.delivery_status == "queued" and status.delivery_error == ""
    assert status.sent_at == now and status.expires_at == sent.expires_at and status.is_live
    assert status.resend_in_seconds == 45 and status.sends_left_this_hour == 4
    later = stepup.code_status(db, user=user, login_session=login, now=now + timedelta(minutes=11))
    assert not later.is_live and later.resend_in_seconds == 0


# --- verifying -----------------------------------------------------------------------------


def test_email_code_opens_the_grant(db, user, login, now):
    code = send(db, user, login, now).code
    result = verify(db, user, login, "email", code, now + timedelta(seconds=20))
    assert result.ok and result.method == "email" and not result.used_recovery_code
    db.refresh(login)
    assert sessions.grant_is_valid(login, now + timedelta(seconds=20 + TTL - 1))
    assert not sessions.grant_is_valid(login, now + timedelta(seconds=20 + TTL))
    assert login.grant_method == "email"
    assert actions(db) == ["code_sent", "verification_succeeded", "grant_started"]
    again = verify(db, user, login, "email", code, now + timedelta(seconds=21))
    assert not again.ok and again.error_key == "stepup.error.no_code"


def test_code_sent_by_whatsapp_is_checked_as_whatsapp(db, user, login, now):
    code = send(db, user, login, now, channel="whatsapp").code
    assert verify(db, user, login, "email", code, now).error_key == "stepup.error.no_code"
    assert verify(db, user, login, "whatsapp", code, now).ok


def test_code_of_another_session_does_not_open_this_one(db, user, login, now):
    code = send(db, user, login, now).code
    other_login = new_login(db, user, now)
    result = verify(db, user, other_login, "email", code, now)
    assert not result.ok
    db.refresh(other_login)
    assert other_login.grant_expires_at is None


def test_totp_step_up_and_replay(db, user, login, now):
    secret, _codes = enroll(db, user, now)
    code = totp.code_at(secret, now + timedelta(seconds=30))
    later = now + timedelta(seconds=30)
    assert verify(db, user, login, "totp", code, later).ok
    replay = verify(db, user, new_login(db, user, later), "totp", code, later + timedelta(seconds=5))
    assert not replay.ok and replay.error_key == "stepup.error.totp_replayed"
    assert details(db, "verification_failed")[-1]["reason"] == "replayed"


def test_enrollment_code_cannot_be_reused_for_step_up(db, user, login, now):
    secret, _uri = authenticator_setup.begin_totp_enrollment(db, user, now)
    code = totp.code_at(secret, now)
    assert authenticator_setup.confirm_totp_enrollment(db, user, code, now, actor_for(user)).ok
    db.commit()
    result = verify(db, user, login, "totp", code, now + timedelta(seconds=3))
    assert not result.ok and result.error_key == "stepup.error.totp_replayed"


@pytest.mark.parametrize("submitted", ["", None, "12345", "１２３４５６", "x" * 10_000, 123456, ["1"], "abcdef"])
def test_malformed_input_is_refused_but_not_counted(db, user, login, now, submitted):
    send(db, user, login, now)
    result = verify(db, user, login, "email", submitted, now)
    assert not result.ok
    assert result.error_key in ("stepup.error.code_empty", "stepup.error.code_format")
    assert db.get(User, user.id).stepup_failures == 0
    assert db.exec(select(VerificationCode)).one().attempts == 0
    assert "verification_failed" not in actions(db)


def test_unknown_method_and_foreign_session(db, user, make_user, login, now):
    for method in ("sms", None, 1, "totp", "recovery"):  # totp/recovery: not set up
        assert verify(db, user, login, method, "123456", now).error_key == "stepup.error.method_unavailable"
    other = db.get(User, make_user(email="other@test.example").id)
    assert verify(db, other, login, "email", "123456", now).error_key == "stepup.error.session_invalid"


def test_expired_code_is_a_failure_that_spends_no_try(db, user, login, now):
    code = send(db, user, login, now).code
    result = verify(db, user, login, "email", code, now + timedelta(minutes=10))
    assert not result.ok and result.error_key == "stepup.error.code_expired"
    assert db.get(User, user.id).stepup_failures == 0
    assert details(db, "verification_failed") == [
        {"failures": 0, "known_device": False, "method": "email", "reason": "expired", "retry_after_seconds": 0}
    ]


# --- lockout schedule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 0), (1, 0), (4, 0), (5, 30), (6, 60), (7, 120), (8, 240), (9, 480), (10, 960), (11, 1920),
     (12, 3600), (13, 3600), (100, 3600), (10_000, 3600)],
)
def test_lockout_table(failures, delay):
    assert stepup.delay_after_failures(failures) == delay


def test_lockout_applies_across_methods_and_success_resets(db, user, login, now):
    secret, _codes = enroll(db, user, now)
    email_code = send(db, user, login, now).code
    bad = wrong_digits(email_code)
    # Four wrong email codes and one wrong app code: the fifth failure locks for 30 s.
    for _ in range(4):
        assert verify(db, user, login, "email", bad, now).retry_after_seconds == 0
    app_code = totp.code_at(secret, now + timedelta(seconds=30))
    fifth = verify(db, user, login, "totp", wrong_digits(app_code), now)
    assert not fifth.ok and fifth.retry_after_seconds == 30
    # While locked even the right code is refused without being checked.
    locked = verify(db, user, login, "totp", app_code, now + timedelta(seconds=29))
    assert not locked.ok and locked.error_key == "stepup.error.locked" and locked.retry_after_seconds == 1
    assert db.get(User, user.id).stepup_failures == 5
    assert details(db, "verification_throttled") == [{"method": "totp", "retry_after_seconds": 1}]
    # After the wait the right code works and the count starts again.
    ok = verify(db, user, login, "totp", app_code, now + timedelta(seconds=30))
    assert ok.ok
    fresh = db.get(User, user.id)
    assert fresh.stepup_failures == 0 and fresh.stepup_locked_until is None


def test_wait_doubles_up_to_one_hour(db, user, login, now):
    secret, _codes = enroll(db, user, now)
    clock = now
    waits = []
    for _ in range(14):
        result = verify(db, user, login, "totp", wrong_digits(totp.code_at(secret, clock)), clock)
        assert not result.ok and result.error_key == "stepup.error.code_wrong"
        waits.append(result.retry_after_seconds)
        clock += timedelta(seconds=result.retry_after_seconds)
    assert waits == [0, 0, 0, 0, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


def test_guess_bound_per_day_matches_the_docstring(db, user, now):
    """An attacker trying as fast as allowed from unknown devices gets exactly 25 guesses in
    the first 24 h (the schedule alone would allow 34; the 24-hour window caps it)."""
    secret, _codes = enroll(db, user, now)
    login = new_login(db, user, now, hours=48)
    clock = now
    end = now + timedelta(hours=24)
    guesses = 0
    while clock < end:
        result = verify(db, user, login, "totp", wrong_digits(totp.code_at(secret, clock)), clock)
        assert result.error_key == "stepup.error.code_wrong"
        guesses += 1
        clock += timedelta(seconds=max(result.retry_after_seconds, 0))
    assert guesses == 25
    assert "25\nguesses in the first 24 hours" in stepup.__doc__


def test_parallel_tries_cannot_skip_the_lockout(db, user, login, now, race):
    """Twelve simultaneous wrong tries from zero: only five are compared."""
    secret, _codes = enroll(db, user, now)
    bad = wrong_digits(totp.code_at(secret, now))

    def attempt(session, loaded):
        mine, their_login = loaded
        return stepup.verify_stepup(session, user=mine, login_session=their_login, method="totp",
                                    submitted=bad, now=now, actor=actor_for(mine), ttl_seconds=TTL)

    results = race.in_sessions(12, attempt, load=lambda session, _: (
        session.get(User, user.id), session.get(LoginSession, login.id)))
    assert len(results) == 12
    assert all(isinstance(r, stepup.VerifyResult) and not r.ok for r in results), results
    assert sum(r.error_key == "stepup.error.code_wrong" for r in results) == 5
    assert sum(r.error_key == "stepup.error.locked" for r in results) == 7
    db.expire_all()
    assert db.get(User, user.id).stepup_failures == 5


def test_two_simultaneous_totp_verifications_one_grant(db, user, now, race):
    secret, _codes = enroll(db, user, now)
    later = now + timedelta(seconds=60)
    code = totp.code_at(secret, later)
    logins = [new_login(db, user, now), new_login(db, user, now)]

    def attempt(session, loaded):
        mine, their_login = loaded
        return stepup.verify_stepup(session, user=mine, login_session=their_login, method="totp",
                                    submitted=code, now=later, actor=actor_for(mine), ttl_seconds=TTL)

    results = race.in_sessions(2, attempt, load=lambda session, index: (
        session.get(User, user.id), session.get(LoginSession, logins[index].id)))
    assert sum(isinstance(r, stepup.VerifyResult) and r.ok for r in results) == 1
    db.expire_all()
    granted = [row for row in db.exec(select(LoginSession)).all() if sessions.grant_is_valid(row, later)]
    assert len(granted) == 1


# --- grants ----------------------------------------------------------------------------------


def test_end_grant_is_audited_once(db, user, login, now):
    code = send(db, user, login, now).code
    assert verify(db, user, login, "email", code, now).ok
    assert stepup.end_grant(db, login_session=login, actor=actor_for(user, login), now=now, reason="button")
    db.commit()
    assert not sessions.grant_is_valid(db.get(LoginSession, login.id), now)
    assert not stepup.end_grant(db, login_session=login, actor=actor_for(user, login), now=now,
                                reason="button")
    db.commit()
    assert details(db, "grant_ended") == [{"method": "email", "reason": "button"}]


# --- app enrollment and recovery codes -----------------------------------------------------


def test_enrollment_stores_secrets_encrypted_and_needs_a_correct_code(db, user, login, now):
    code = send(db, user, login, now).code
    assert verify(db, user, login, "email", code, now).ok
    secret, uri = authenticator_setup.begin_totp_enrollment(db, user, now)
    db.commit()
    assert "issuer=Panel" in uri and "owner%40test.example" in uri and secret in uri
    stored = authenticator.row_of(db, user.id)
    assert secret not in stored.pending_secret_enc and decrypt(stored.pending_secret_enc) == secret
    assert stored.secret_enc is None and not authenticator.is_enrolled(db, user)
    assert authenticator_setup.qr_data_uri(uri).startswith("data:image/svg+xml;base64,")

    wrong_code = wrong_digits(totp.code_at(secret, now))
    wrong = authenticator_setup.confirm_totp_enrollment(db, user, wrong_code, now, actor_for(user))
    assert not wrong.ok and wrong.error_key == "stepup.error.code_wrong" and wrong.recovery_codes == []
    bad = authenticator_setup.confirm_totp_enrollment(db, user, "１２３４５６", now, actor_for(user))
    assert not bad.ok and bad.error_key == "stepup.error.code_format"
    db.commit()
    assert not authenticator.is_enrolled(db, db.get(User, user.id))
    assert sessions.grant_is_valid(db.get(LoginSession, login.id), now)  # nothing changed yet

    result = authenticator_setup.confirm_totp_enrollment(db, user, totp.code_at(secret, now), now, actor_for(user))
    db.commit()
    assert result.ok
    active = authenticator.row_of(db, user.id)
    assert authenticator.is_enrolled(db, user) and active.pending_secret_enc is None
    assert decrypt(active.secret_enc) == secret and active.confirmed_at == now
    assert len(result.recovery_codes) == 10 and len(set(result.recovery_codes)) == 10
    for recovery_code in result.recovery_codes:
        assert re.fullmatch(r"[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}", recovery_code)
    stored_hashes = [r.code_hash for r in db.exec(select(RecoveryCode)).all()]
    assert len(stored_hashes) == 10
    assert not any(c.replace("-", "") in h or c in h for c in result.recovery_codes for h in stored_hashes)
    # Factors changed: every grant of the user ended.
    assert not sessions.grant_is_valid(db.get(LoginSession, login.id), now)
    assert authenticator_setup.confirm_totp_enrollment(db, user, totp.code_at(secret, now), now,
                                          actor_for(user)).error_key == "stepup.error.totp_no_pending"
    assert "totp_enabled" in actions(db)


def test_recovery_code_is_a_single_use_step_up(db, user, login, now):
    _secret, recovery_codes = enroll(db, user, now)
    first = recovery_codes[0]
    result = verify(db, user, login, "recovery", first.upper().replace("-", " "), now)
    assert result.ok and result.used_recovery_code and result.recovery_codes_left == 9
    db.refresh(login)
    assert login.grant_method == "recovery"
    assert details(db, "recovery_code_used") == [{"codes_left": 9}]
    again = verify(db, user, new_login(db, user, now), "recovery", first, now)
    assert not again.ok and again.error_key == "stepup.error.recovery_wrong"
    # i, l and 0 are not in the alphabet
    for bad in ("", "abcd-efgh", "abcd-efgh-ijkl", "0000-0000-0000", None, 7):
        res = verify(db, user, login, "recovery", bad, now)
        assert res.error_key in ("stepup.error.code_empty", "stepup.error.recovery_format")
    assert db.get(User, user.id).stepup_failures == 1  # only the reused code counted


def test_recovery_codes_of_another_user_do_not_work(db, user, make_user, now):
    _secret, recovery_codes = enroll(db, user, now)
    other = db.get(User, make_user(email="other@test.example").id)
    enroll(db, other, now)
    other_login = new_login(db, other, now)
    assert verify(db, other, other_login, "recovery", recovery_codes[0], now).error_key == \
        "stepup.error.recovery_wrong"


def test_regenerate_recovery_codes(db, user, now):
    with pytest.raises(ValidationError):
        recovery_codes.regenerate_recovery_codes(db, user, now, actor_for(user))
    _secret, old_codes = enroll(db, user, now)
    new_codes = recovery_codes.regenerate_recovery_codes(db, user, now, actor_for(user))
    db.commit()
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert recovery_codes.recovery_codes_left(db, user) == 10
    login = new_login(db, user, now)
    assert verify(db, user, login, "recovery", old_codes[0], now).error_key == "stepup.error.recovery_wrong"
    assert verify(db, user, login, "recovery", new_codes[0], now).ok


def test_remove_totp(db, user, login, now):
    secret, recovery_codes = enroll(db, user, now)
    code = send(db, user, login, now).code
    assert verify(db, user, login, "email", code, now).ok
    assert authenticator_setup.remove_totp(db, user, now, actor_for(user))
    db.commit()
    removed = db.get(User, user.id)
    assert authenticator.row_of(db, user.id) is None  # secret and set-up instant gone
    assert removed.preferred_channel == "email"
    assert db.exec(select(RecoveryCode)).all() == []
    assert not sessions.grant_is_valid(db.get(LoginSession, login.id), now)
    assert stepup.available_methods(db, removed) == ["email", "whatsapp"]
    later = now + timedelta(seconds=90)
    assert verify(db, user, login, "totp", totp.code_at(secret, later), later).error_key == \
        "stepup.error.method_unavailable"
    assert verify(db, user, login, "recovery", recovery_codes[1], later).error_key == \
        "stepup.error.method_unavailable"
    assert not authenticator_setup.remove_totp(db, user, now, actor_for(user))  # nothing left to remove
    assert details(db, "totp_removed") == [
        {"grants_ended": True, "recovery_codes_deleted": 10, "was_enrolled": True}
    ]


def test_remove_keeps_a_non_totp_preference(db, user, now):
    enroll(db, user, now)
    stepup.set_preferred_channel(db, user, "whatsapp", actor_for(user), now)
    authenticator_setup.remove_totp(db, user, now, actor_for(user))
    db.commit()
    assert db.get(User, user.id).preferred_channel == "whatsapp"


def test_i18n_keys_exist_in_both_languages():
    from panel_app.i18n import CATALOGS
    from panel_app.i18n.catalog import verification
    from panel_app.security import codes, recovery

    assert set(verification.EN) == set(verification.DE)
    keys = {
        value for module in (codes, totp, recovery, stepup, authenticator_setup)
        for name, value in vars(module).items() if name.startswith("ERROR_")
    }
    for key in keys:
        assert key in CATALOGS["en"] and key in CATALOGS["de"], key
