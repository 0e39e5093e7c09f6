"""Test set-up: a private database and secret key per test run.

``PANEL_TEST_DATABASE_URL`` (set by CI for the PostgreSQL run) picks the
database; otherwise a SQLite file in a temporary folder. The schema is built by
the real Alembic migrations, and every test starts from empty tables.

Time and concurrency have one seam each: the ``clock`` fixture moves the time every
``utcnow()`` answers, and the ``race`` fixture starts callers at the same instant.
Speaking Reflex's event protocol is ``tests/ws.py``; a tab's states, ``tests/state_harness.py``.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

_TMP = tempfile.mkdtemp(prefix="panel-tests-")
os.environ["PANEL_DATABASE_URL"] = os.environ.get("PANEL_TEST_DATABASE_URL") or f"sqlite:///{_TMP}/test.db"
os.environ["PANEL_SECRET_KEY_FILE"] = f"{_TMP}/secret.key"
os.environ["PANEL_ENV"] = "demo"
for _name in ("PANEL_SMTP_URL", "PANEL_WHATSAPP_TOKEN", "PANEL_WHATSAPP_PHONE_NUMBER_ID", "PANEL_REDIS_URL"):
    os.environ.pop(_name, None)

from sqlalchemy import text  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

from panel_app import clock as panel_clock  # noqa: E402
from panel_app import migrate  # noqa: E402
from panel_app.db import get_engine, transaction  # noqa: E402

# Shared fixtures from the fakes: smtp_server, smtp_settings.
pytest_plugins = ["tests.fakes.smtp"]


@pytest.fixture(scope="session", autouse=True)
def _schema():
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade()
    yield


def _empty_all_tables() -> None:
    import panel_app.models  # noqa: F401

    with get_engine().begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_tables():
    yield
    _empty_all_tables()


@pytest.fixture
def db():
    """A session for arranging and inspecting data (commit explicitly)."""
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


class Clock:
    """The time every module reads through ``panel_app.clock.utcnow`` during a test:
    it stands still until the test moves it."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        """Move forward by ``seconds`` (or ``minutes=``, ``hours=``, ``days=``); the new time."""
        self.now += timedelta(seconds=seconds, **delta)
        return self.now


@pytest.fixture
def clock(monkeypatch, now) -> Clock:
    """The one time seam for tests: every ``utcnow()`` (panel code, column defaults, the
    state harness and the tests' own helpers) answers ``clock.now``, starting at ``now``."""
    fake = Clock(now)
    monkeypatch.setattr(panel_clock, "read", fake)
    return fake


class Race:
    """Start several callers at the same instant (a barrier) and collect what each returned
    or raised, in runner order. Each runner is a thread: the database decides the winner."""

    JOIN_TIMEOUT_SECONDS = 60

    def times(self, runners: int, attempt: Callable[[int], Any]) -> list[Any]:
        """Run ``attempt(index)`` for ``runners`` runners at once."""

        def body(index: int, start: Callable[[], Any]) -> Any:
            start()
            return attempt(index)

        return self._run(runners, body)

    def in_sessions(self, runners: int, attempt: Callable[[Session, Any], Any],
                    load: Callable[[Session, int], Any] = lambda session, index: None) -> list[Any]:
        """Each runner in its own database session: ``load(session, index)`` reads its rows
        before the start, ``attempt(session, loaded)`` runs after it; the session is committed
        when the attempt returns and rolled back when it raises (a lost race must not look
        like a success: the exception is the runner's result)."""

        def body(index: int, start: Callable[[], Any]) -> Any:
            with Session(get_engine(), expire_on_commit=False) as session:
                loaded = load(session, index)
                start()
                try:
                    result = attempt(session, loaded)
                    session.commit()
                except Exception:
                    session.rollback()
                    raise
                return result

        return self._run(runners, body)

    def _run(self, runners: int, body: Callable[[int, Callable[[], Any]], Any]) -> list[Any]:
        barrier = threading.Barrier(runners)
        results: dict[int, Any] = {}
        lock = threading.Lock()

        def runner(index: int) -> None:
            try:
                result = body(index, barrier.wait)
            except Exception as exc:  # reported to the test as this runner's result
                result = exc
                barrier.abort()  # a runner that failed before the start must not hold the others
            with lock:
                results[index] = result

        threads = [threading.Thread(target=runner, args=(index,)) for index in range(runners)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=self.JOIN_TIMEOUT_SECONDS)
        assert not any(thread.is_alive() for thread in threads), "a racer did not finish"
        return [results[index] for index in sorted(results)]


@pytest.fixture
def race() -> Race:
    """The race harness: see ``Race``."""
    return Race()


@pytest.fixture
def make_user():
    """Create an account with an owner (or an admin) directly, as the CLI does."""
    from panel_app.services.accounts import create_account_with_owner

    def _make(email="owner@test.example", password="correct horse battery", phone="+4915112345612",
              name="Test Owner", **extra):
        with transaction() as session:
            user = create_account_with_owner(session, email=email, password=password, phone=phone,
                                             name=name, **extra)
        return user

    return _make
