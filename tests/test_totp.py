"""TOTP: RFC 6238 vectors, the production 6-digit path, the window, replay (also
from two simultaneous requests), malformed input, provisioning URI and QR code."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from panel_app.models import Authenticator, User
from panel_app.security import totp
from panel_app.services.methods import authenticator
from panel_app.security.crypto import decrypt, encrypt

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()  # RFC 6238 SHA1 seed
RFC_VECTORS = [  # (unix time, 8-digit TOTP) from RFC 6238 appendix B, SHA1 column
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


def at(unix_time: int) -> datetime:
    return datetime.fromtimestamp(unix_time, UTC)


@pytest.mark.parametrize(("unix_time", "expected"), RFC_VECTORS)
def test_rfc6238_vectors_generate(unix_time, expected):
    assert totp.code_at(RFC_SECRET, at(unix_time), digits=8) == expected
    # Cross-check against pyotp's own TOTP object (the library the app builds on).
    assert pyotp.TOTP(RFC_SECRET, digits=8).at(unix_time) == expected


@pytest.mark.parametrize(("unix_time", "expected"), RFC_VECTORS)
def test_rfc6238_vectors_verify(unix_time, expected):
    step = unix_time // 30
    assert totp.matching_step(RFC_SECRET, expected, at(unix_time), digits=8) == step
    assert totp.matching_step(RFC_SECRET, expected, at(unix_time), digits=8, window=0) == step
    # One digit off never matches.
    wrong = expected[:-1] + str((int(expected[-1]) + 1) % 10)
    assert totp.matching_step(RFC_SECRET, wrong, at(unix_time), digits=8) is None


@pytest.mark.parametrize(("unix_time", "expected"), RFC_VECTORS)
def test_six_digit_production_path(unix_time, expected):
    # Dynamic truncation mod 10^6 is the last six digits of the mod 10^8 value.
    six = expected[-6:]
    assert totp.code_at(RFC_SECRET, at(unix_time)) == six
    assert totp.matching_step(RFC_SECRET, six, at(unix_time)) == unix_time // 30
    assert totp.matching_step(RFC_SECRET, expected, at(unix_time)) is None  # 8 digits are not 6


def test_window_is_one_step_each_side():
    now = at(1_800_000_000)  # on a step boundary
    secret = totp.new_secret()
    step = totp.time_step(now)
    for offset in (-1, 0, 1):
        code = totp.code_at(secret, now, step_offset=offset)
        assert totp.matching_step(secret, code, now) == step + offset
    for offset in (-2, 2):
        code = totp.code_at(secret, now, step_offset=offset)
        if all(code != totp.code_at(secret, now, step_offset=o) for o in (-1, 0, 1)):
            assert totp.matching_step(secret, code, now) is None


def test_new_secret_is_160_bit_base32():
    secret = totp.new_secret()
    assert len(secret) == 32
    assert len(base64.b32decode(secret)) == 20
    assert secret != totp.new_secret()


def test_provisioning_uri_and_qr():
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "jane@example.com")
    assert uri.startswith("otpauth://totp/Panel:jane%40example.com?")
    parsed = pyotp.parse_uri(uri)
    assert parsed.issuer == "Panel" and parsed.name == "jane@example.com"
    assert parsed.digits == 6 and parsed.interval == 30
    now = at(1_800_000_000)
    assert parsed.at(now) == totp.code_at(secret, now)  # what the app will show

    data_uri = totp.qr_data_uri(uri)
    prefix = "data:image/svg+xml;base64,"
    assert data_uri.startswith(prefix)
    svg = base64.b64decode(data_uri[len(prefix):]).decode()
    assert "<svg" in svg and "<path" in svg
    assert totp.qr_data_uri(totp.provisioning_uri(totp.new_secret(), "jane@example.com")) != data_uri


# --- with the database ---------------------------------------------------------------


@pytest.fixture
def enrolled(db, make_user, now):
    """A user with an active app secret; returns (the user's app row, plaintext secret)."""
    user = db.get(User, make_user().id)
    secret = totp.new_secret()
    app = Authenticator(user_id=user.id, type="totp", secret_enc=encrypt(secret), created_at=now, confirmed_at=now)
    db.add(app)
    db.commit()
    return app, secret


def test_secret_is_stored_encrypted(db, enrolled):
    app, secret = enrolled
    stored = db.get(Authenticator, app.id).secret_enc
    assert secret not in stored
    assert decrypt(stored) == secret


def test_same_code_is_accepted_once(db, enrolled, now):
    app, secret = enrolled
    code = totp.code_at(secret, now)
    first = authenticator.check_code(db, app, code, now)
    db.commit()
    assert first.ok and first.step == totp.time_step(now)
    again = authenticator.check_code(db, app, code, now + timedelta(seconds=5))
    assert not again.ok and again.error_key == "stepup.error.totp_replayed"
    # Still inside the window 30 s later (previous step): still refused.
    later = authenticator.check_code(db, app, code, now + timedelta(seconds=31))
    assert not later.ok and later.reason == "replayed"


def test_older_step_refused_after_newer_one(db, enrolled, now):
    app, secret = enrolled
    assert authenticator.check_code(db, app, totp.code_at(secret, now, step_offset=1), now).ok
    previous = totp.code_at(secret, now)
    if previous != totp.code_at(secret, now, step_offset=1):
        result = authenticator.check_code(db, app, previous, now)
        assert not result.ok and result.reason == "replayed"
    # The next step's code, when it comes, is accepted.
    assert authenticator.check_code(db, app, totp.code_at(secret, now, step_offset=2), now + timedelta(seconds=60)).ok
    assert db.get(Authenticator, app.id).last_step == totp.time_step(now) + 2


def test_wrong_and_not_enrolled(db, enrolled, make_user, now):
    app, secret = enrolled
    code = totp.code_at(secret, now)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    result = authenticator.check_code(db, app, wrong, now)
    assert not result.ok and result.error_key == "stepup.error.code_wrong"
    other = db.get(User, make_user(email="other@test.example").id)
    begun = Authenticator(user_id=other.id, type="totp", pending_secret_enc=encrypt(secret), created_at=now)
    db.add(begun)
    db.commit()
    result = authenticator.check_code(db, begun, code, now)  # a set-up begun is no app yet
    assert not result.ok and result.error_key == "stepup.error.totp_not_enrolled"


BAD_INPUTS = [
    ("abcdef", "malformed"),
    ("12345", "malformed"),
    ("1234567", "malformed"),
    ("１２３４５６", "malformed"),  # full-width digits
    ("١٢٣٤٥٦", "malformed"),  # Arabic-Indic digits
    ("12345a", "malformed"),
    ("", "empty"),
    ("   ", "empty"),
    ("1" * 10_000, "malformed"),
    (None, "empty"),
    (123456, "malformed"),
    (["123456"], "malformed"),
    ({"code": "123456"}, "malformed"),
    ("123456\x00", "malformed"),
]


@pytest.mark.parametrize(("submitted", "reason"), BAD_INPUTS)
def test_bad_input_is_refused_without_touching_the_step(db, enrolled, now, submitted, reason):
    app, _secret = enrolled
    result = authenticator.check_code(db, app, submitted, now)
    assert not result.ok and result.reason == reason
    expected_key = "stepup.error.code_empty" if reason == "empty" else "stepup.error.code_format"
    assert result.error_key == expected_key
    assert not result.was_guess
    db.refresh(app)
    assert app.last_step is None


def test_spaces_and_hyphens_are_ignored(db, enrolled, now):
    app, secret = enrolled
    code = totp.code_at(secret, now)
    assert authenticator.check_code(db, app, f" {code[:3]}-{code[3:]} ", now).ok


def test_two_simultaneous_requests_exactly_one_wins(enrolled, now, race):
    app, secret = enrolled
    code = totp.code_at(secret, now)
    results = race.in_sessions(2, lambda session, mine: authenticator.check_code(session, mine, code, now),
                               load=lambda session, _: session.get(Authenticator, app.id))
    assert len(results) == 2
    winners = [r for r in results if isinstance(r, totp.TotpCheck) and r.ok]
    assert len(winners) == 1
    loser = next(r for r in results if r is not winners[0])
    assert isinstance(loser, totp.TotpCheck) and loser.reason == "replayed"


def test_a_code_of_the_replaced_app_checked_meanwhile_claims_nothing(db, enrolled, now):
    """A check of the old app's code that read the row just before the owner confirmed a new
    app (another request, another worker): the step is claimed only while the secret it was
    compared with is still the active one, so the old app opens nothing after the swap."""
    from sqlmodel import Session

    from panel_app.db import get_engine
    from panel_app.services import authenticator_setup
    from panel_app.services.audit import Actor

    app, old_secret = enrolled
    db.expire_all()
    stale = db.get(Authenticator, app.id)  # the check read the row (and the old secret) here
    assert stale.secret_enc
    with Session(get_engine()) as other:  # meanwhile: the owner confirms a new app
        user = other.get(User, app.user_id)
        new_secret, _uri = authenticator_setup.begin_totp_enrollment(other, user, now)
        later = now + timedelta(seconds=totp.STEP_SECONDS)
        assert authenticator_setup.confirm_totp_enrollment(other, user, totp.code_at(new_secret, now), now,
                                                           Actor.for_user(user)).ok
        other.commit()
    result = authenticator.check_code(db, stale, totp.code_at(old_secret, later), later)
    assert not result.ok
    db.commit()
    assert db.get(Authenticator, app.id).last_step == totp.time_step(now)
