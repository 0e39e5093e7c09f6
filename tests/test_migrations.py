"""Migrations up, down and up again on a database of their own (SQLite here; the same SQL runs
on PostgreSQL in CI). 0006: the app secrets move from ``user.totp_*`` to ``authenticator`` rows
and back. 0007: letters by post, the ticket of a support-made change, the app a four-eyes
request names."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command

from panel_app import migrate
from panel_app.db import make_engine

ENABLED = datetime(2026, 1, 2, 3, 4, 5)
CREATED = datetime(2025, 6, 1, 0, 0, 0)


@pytest.fixture
def connection(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/migrate.db")
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def _run(conn, action, revision: str) -> None:
    config = migrate.alembic_config()
    config.attributes["connection"] = conn
    action(config, revision)
    conn.commit()


def _users(conn) -> None:
    conn.execute(sa.text("INSERT INTO account (id, customer_number, name, company, street, postal_code, city, "
                         "country, vat_id, is_demo, created_at) VALUES (1, 'K1', 'A', '', '', '', '', 'DE', '', "
                         "FALSE, :created)"), {"created": CREATED})
    insert = sa.text(
        'INSERT INTO "user" (id, account_id, email, name, password_hash, role, areas, preferred_channel, language, '
        "totp_secret_enc, totp_enabled_at, totp_last_step, totp_pending_secret_enc, stepup_failures, is_active, "
        "created_at, password_changed_at, factor_change_pending) VALUES (:id, 1, :email, '', 'h', 'owner', '', "
        "'email', 'en', :secret, :enabled, :step, :pending, 0, TRUE, :created, :created, FALSE)")
    rows = [
        dict(id=1, email="app@x.example", secret="enc-active", enabled=ENABLED, step=12345, pending=None),
        dict(id=2, email="both@x.example", secret="enc-old", enabled=ENABLED, step=None, pending="enc-new"),
        dict(id=3, email="begun@x.example", secret=None, enabled=None, step=None, pending="enc-pending"),
        dict(id=4, email="none@x.example", secret=None, enabled=None, step=None, pending=None),
    ]
    for row in rows:
        conn.execute(insert, {**row, "created": CREATED})
    conn.commit()


def _totp_columns(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sa.text(
        'SELECT id, totp_secret_enc, totp_enabled_at, totp_last_step, totp_pending_secret_enc FROM "user" '
        "ORDER BY id"))]


def test_upgrade_copies_every_app_secret_and_downgrade_restores_them(connection):
    _run(connection, command.upgrade, "0005_staff")
    _users(connection)
    before = _totp_columns(connection)

    _run(connection, command.upgrade, "0006_authenticator")
    user_columns = {c["name"] for c in sa.inspect(connection).get_columns("user")}
    assert not {c for c in user_columns if c.startswith("totp_")}
    rows = [tuple(r) for r in connection.execute(sa.text(
        "SELECT user_id, type, secret_enc, pending_secret_enc, created_at, confirmed_at, last_step "
        "FROM authenticator ORDER BY user_id"))]
    enabled, created = str(ENABLED), str(CREATED)
    assert [(r[0], r[1], r[2], r[3], str(r[4])[:19], r[5] and str(r[5])[:19], r[6]) for r in rows] == [
        (1, "totp", "enc-active", None, enabled, enabled, 12345),
        (2, "totp", "enc-old", "enc-new", enabled, enabled, None),
        (3, "totp", None, "enc-pending", created, None, None),  # a set-up begun, never confirmed
    ]

    _run(connection, command.downgrade, "0005_staff")
    assert not sa.inspect(connection).has_table("authenticator")
    after = _totp_columns(connection)
    assert [(r[0], r[1], r[2] and str(r[2])[:19], r[3], r[4]) for r in after] == \
        [(r[0], r[1], r[2] and str(r[2])[:19], r[3], r[4]) for r in before]

    _run(connection, command.upgrade, "head")  # and up again: the same rows
    assert connection.execute(sa.text("SELECT count(*) FROM authenticator")).scalar() == 3


def test_after_the_upgrade_every_app_still_works_and_no_step_is_accepted_again(connection):
    """The migrated rows through the panel's own code: an app keeps working, its last
    accepted code stays spent (no replay window opens with the move), a set-up begun before
    is confirmed afterwards; and the step claimed after the upgrade goes back down with it."""
    from sqlmodel import Session

    from panel_app.models import User
    from panel_app.security import totp
    from panel_app.services import authenticator_setup, stepup
    from panel_app.services.audit import Actor
    from panel_app.services.methods import CodeScope, authenticator

    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
    active, pending = totp.new_secret(), totp.new_secret()
    _run(connection, command.upgrade, "0005_staff")
    _users(connection)
    connection.execute(sa.text('UPDATE "user" SET totp_secret_enc = :s, totp_last_step = :step WHERE id = 1'),
                       {"s": totp.encrypt_secret(active), "step": totp.time_step(now)})
    connection.execute(sa.text('UPDATE "user" SET totp_pending_secret_enc = :s WHERE id = 3'),
                       {"s": totp.encrypt_secret(pending)})
    connection.commit()
    _run(connection, command.upgrade, "head")  # the panel's code below expects today's schema

    scope = CodeScope(None, "stepup")
    with Session(bind=connection) as db:
        user = db.get(User, 1)
        assert stepup.available_methods(db, user)[0] == "totp"
        spent = authenticator.METHOD.verify(db, user=user, scope=scope, value=totp.code_at(active, now), now=now)
        assert not spent.ok and spent.reason == totp.REASON_REPLAYED
        later = now + timedelta(seconds=totp.STEP_SECONDS)
        fresh = authenticator.METHOD.verify(db, user=user, scope=scope, value=totp.code_at(active, later), now=later)
        assert fresh.ok
        assert not authenticator.METHOD.verify(db, user=user, scope=scope, value=totp.code_at(active, later),
                                               now=later).ok

        begun = db.get(User, 3)
        assert not authenticator.is_enrolled(db, begun)
        confirmed = authenticator_setup.confirm_totp_enrollment(db, begun, totp.code_at(pending, now), now,
                                                                Actor.for_user(begun))
        assert confirmed.ok and authenticator.is_enrolled(db, begun)
        db.commit()

    _run(connection, command.downgrade, "0005_staff")
    steps = dict(connection.execute(sa.text('SELECT id, totp_last_step FROM "user" WHERE id IN (1, 3)')).all())
    assert steps == {1: totp.time_step(later), 3: totp.time_step(now)}


def _columns(conn, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(conn).get_columns(table)}


def test_upgrade_adds_letters_and_the_named_app_and_downgrade_removes_them(connection):
    _run(connection, command.upgrade, "0006_authenticator")
    connection.execute(sa.text("INSERT INTO outboxmessage (channel, recipient, subject, text, html, created_at) "
                               "VALUES ('email', 'a@x.example', 's', 't', '', :at)"), {"at": ENABLED})
    connection.commit()

    _run(connection, command.upgrade, "0007_letters")
    assert sa.inspect(connection).has_table("postalletter")
    assert {"authenticator_id", "authenticator_fingerprint"} <= _columns(connection, "staffrequest")
    assert {"attachment_name", "attachment"} <= _columns(connection, "outboxmessage")
    assert "ticket_id" in _columns(connection, "factorchange")
    # An older message keeps working: no attachment.
    assert connection.execute(sa.text("SELECT attachment_name, attachment FROM outboxmessage")).one() == ("", None)

    _run(connection, command.downgrade, "0006_authenticator")
    assert not sa.inspect(connection).has_table("postalletter")
    assert not {"authenticator_id", "authenticator_fingerprint"} & _columns(connection, "staffrequest")
    assert not {"attachment_name", "attachment"} & _columns(connection, "outboxmessage")
    assert "ticket_id" not in _columns(connection, "factorchange")
    assert connection.execute(sa.text("SELECT count(*) FROM outboxmessage")).scalar() == 1

    _run(connection, command.upgrade, "head")
    assert sa.inspect(connection).has_table("postalletter")
