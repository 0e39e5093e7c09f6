"""The backend exception handler tells a lost connection (database, Redis) from a bug: the
one is answered "try again" in the tab's language and logged once per outage, the other
goes to Reflex's handler as before. (The whole story on a real PostgreSQL and Redis:
tests/browser/test_faults.py.)"""

from __future__ import annotations

import logging

import psycopg
import pytest
import redis.exceptions
from reflex_base.utils.exceptions import LockExpiredError
from sqlalchemy.exc import IntegrityError, OperationalError

from panel_app.state import faults


def _database_down() -> OperationalError:
    return OperationalError("SELECT 1", {}, psycopg.OperationalError("connection failed: Connection refused"))


@pytest.mark.parametrize(("exc", "part"), [
    (_database_down(), faults.DATABASE),
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), faults.DATABASE),
    (redis.exceptions.ConnectionError("Error 111 connecting"), faults.REDIS),
    (redis.exceptions.TimeoutError("Timeout reading from socket"), faults.REDIS),
    (LockExpiredError("Lock expired for token"), faults.REDIS),
    (ValueError("a bug"), None),
    (IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key")), None),
    (OperationalError("SELECT 1", {}, psycopg.errors.SerializationFailure("could not serialize")), None),
])
def test_a_lost_connection_names_its_part_and_a_bug_names_none(exc, part):
    assert faults.failing_part(exc) == part


def test_a_lost_connection_behind_another_exception_is_found():
    try:
        try:
            raise redis.exceptions.ConnectionError("Connection reset by peer")
        except redis.exceptions.ConnectionError as inner:
            raise RuntimeError("while saving the state") from inner
    except RuntimeError as outer:
        assert faults.failing_part(outer) == faults.REDIS


def test_one_log_line_when_a_part_goes_and_one_when_it_is_back(caplog):
    outages = faults.Outages()
    with caplog.at_level(logging.WARNING, logger="panel.faults"):
        for _ in range(50):
            outages.down(faults.DATABASE, _database_down())
        assert outages.is_down(faults.DATABASE) and outages.any
        outages.up(faults.DATABASE)
        outages.up(faults.DATABASE)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("database unavailable") and lines[1].startswith("database available again")
    assert not any(record.exc_info for record in caplog.records)


def test_the_answer_is_try_again_in_the_tabs_language(monkeypatch):
    monkeypatch.setattr(faults, "outages", faults.Outages())
    monkeypatch.setattr(faults, "tab_languages", faults._TabLanguages())
    faults.tab_languages.remember("tab-de", "de")
    monkeypatch.setattr(faults, "_event_token", lambda: "tab-de")
    german = str(faults.backend_exception_handler(_database_down()))
    assert "Das Panel ist kurz nicht erreichbar" in german and faults.TOAST_ID in german
    monkeypatch.setattr(faults, "_event_token", lambda: "tab-unknown")
    english = str(faults.backend_exception_handler(redis.exceptions.ConnectionError("down")))
    assert "The panel is briefly unavailable. Try again in a moment." in english
    assert faults.outages.is_down(faults.DATABASE) and faults.outages.is_down(faults.REDIS)


def test_a_bug_still_goes_to_reflexs_handler(monkeypatch):
    monkeypatch.setattr(faults, "outages", faults.Outages())
    answer = str(faults.backend_exception_handler(ValueError("a bug")))
    assert "An error occurred" in answer and not faults.outages.any


def test_the_remembered_languages_stay_bounded():
    languages = faults._TabLanguages(size=3)
    for number in range(10):
        languages.remember(f"tab-{number}", "de")
    assert languages.of("tab-9") == "de" and languages.of("tab-0") == "en"
    languages.remember("tab-9", "en")
    assert languages.of("tab-9") == "en"
