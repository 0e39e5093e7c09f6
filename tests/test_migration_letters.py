"""0007: letters by post and the app a four-eyes request names; up, down and up again on a
database of its own."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic import command

from panel_app import migrate
from panel_app.db import make_engine

CREATED = datetime(2026, 1, 2, 3, 4, 5)


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


def _columns(conn, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(conn).get_columns(table)}


def test_upgrade_adds_letters_and_the_named_app_and_downgrade_removes_them(connection):
    _run(connection, command.upgrade, "0006_authenticator")
    connection.execute(sa.text("INSERT INTO outboxmessage (channel, recipient, subject, text, html, created_at) "
                               "VALUES ('email', 'a@x.example', 's', 't', '', :at)"), {"at": CREATED})
    connection.commit()

    _run(connection, command.upgrade, "0007_letters")
    assert sa.inspect(connection).has_table("postalletter")
    assert {"authenticator_id", "authenticator_fingerprint"} <= _columns(connection, "staffrequest")
    assert {"attachment_name", "attachment"} <= _columns(connection, "outboxmessage")
    # An older message keeps working: no attachment.
    assert connection.execute(sa.text("SELECT attachment_name, attachment FROM outboxmessage")).one() == ("", None)

    _run(connection, command.downgrade, "0006_authenticator")
    assert not sa.inspect(connection).has_table("postalletter")
    assert not {"authenticator_id", "authenticator_fingerprint"} & _columns(connection, "staffrequest")
    assert not {"attachment_name", "attachment"} & _columns(connection, "outboxmessage")
    assert connection.execute(sa.text("SELECT count(*) FROM outboxmessage")).scalar() == 1

    _run(connection, command.upgrade, "head")
    assert sa.inspect(connection).has_table("postalletter")
