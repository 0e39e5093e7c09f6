"""Test set-up: a private database and secret key per test run.

``PANEL_TEST_DATABASE_URL`` (set by CI for the PostgreSQL run) picks the
database; otherwise a SQLite file in a temporary folder. The schema is built by
the real Alembic migrations, and every test starts from empty tables.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime

import pytest

_TMP = tempfile.mkdtemp(prefix="panel-tests-")
os.environ["PANEL_DATABASE_URL"] = os.environ.get("PANEL_TEST_DATABASE_URL") or f"sqlite:///{_TMP}/test.db"
os.environ["PANEL_SECRET_KEY_FILE"] = f"{_TMP}/secret.key"
os.environ["PANEL_ENV"] = "demo"
for _name in ("PANEL_SMTP_URL", "PANEL_WHATSAPP_TOKEN", "PANEL_WHATSAPP_PHONE_NUMBER_ID", "PANEL_REDIS_URL"):
    os.environ.pop(_name, None)

from sqlalchemy import text  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

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
