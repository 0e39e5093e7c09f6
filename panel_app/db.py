"""Database engine and transactions.

Services take a ``Session`` and never commit themselves; callers wrap a unit of
work in ``transaction()`` so a change and its audit entry commit together.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator

from sqlalchemy import Connection, Select, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlmodel import Session, create_engine

from panel_app.settings import get_settings


def make_engine(url: str, *, autocommit_reads: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - driver glue
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            # Under WAL: a commit survives a crash of the process (a killed worker), not a
            # power cut of the host; the embedded database no longer waits for the disk on
            # every commit while every tab of the worker waits with it.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # A server that does not answer fails the event in seconds, not minutes. The most recently
    # used connection is taken first (use_lifo), so under load the same few stay busy.
    # The reads' pool: one connection per database thread (tasks.off_loop) may be busy at once.
    pool = {"pool_size": 2, "max_overflow": max(2, get_settings().database_threads - 2),
            "isolation_level": "AUTOCOMMIT"} if autocommit_reads else {"pool_size": 10, "max_overflow": 10}
    engine = create_engine(url, pool_use_lifo=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}, **pool)
    _ping_when_idle(engine)
    return engine


CONNECT_TIMEOUT_SECONDS = 5
# A pooled connection that sat unused this long is pinged before use, so one that a restarted
# server dropped is replaced unseen. One used more recently is not: a ping is a round trip that
# blocks the worker's event loop, once per event (the tab check's read is one query). Should the
# server restart within this time, the first event on such a connection fails with "try again"
# (faults.py), and SQLAlchemy replaces every connection of the pool older than that failure.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _idle_since(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)  # SQLAlchemy's pre-ping: one round trip
        except Exception as error:  # the pool connects again (up to three times) or fails
            raise DisconnectionError(str(error)) from error


@functools.lru_cache(maxsize=4)
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    return make_engine(url)


def get_engine() -> Engine:
    return _engine_for(get_settings().database_url)


@functools.lru_cache(maxsize=4)
def _read_engine_for(url: str) -> Engine:
    return _engine_for(url) if url.startswith("sqlite") else make_engine(url, autocommit_reads=True)


def read_outside_transaction(read, engine: Engine | None = None):
    """``read(conn)`` on the read pool (``get_read_engine``). Once more on a new connection when
    the server had dropped the pooled one (a restart within PING_AFTER_IDLE_SECONDS, so it was
    not pinged): SQLAlchemy has replaced the pool's connections by then, and the event that
    happened to come first answers normally instead of "try again"."""
    engine = engine or get_read_engine()
    try:
        with engine.connect() as conn:
            return read(conn)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with engine.connect() as conn:
        return read(conn)


def get_read_engine() -> Engine:
    """For the check in front of every event: reads outside a transaction (no BEGIN and COMMIT
    round trips), on a small pool of its own whose connections are in autocommit mode from the
    start (switching a pooled connection there and back costs more than the query). SQLite has
    no round trips to save: its one engine."""
    return _read_engine_for(get_settings().database_url)


@functools.lru_cache(maxsize=16)
def _driver_form(statement: Select, dialect) -> tuple[str, tuple[str, ...] | None, tuple]:
    """``statement`` as the driver takes it: its SQL, the order of its parameters (None:
    by name) and each column's conversion of the driver's value (None: none)."""
    compiled = statement.compile(dialect=dialect)
    if any(bind.type._cached_bind_processor(dialect) is not None for bind in compiled.binds.values()):
        raise ValueError("first_row takes only parameters the driver takes as they are")
    converters = tuple(column.type._cached_result_processor(dialect, None) for column in statement.selected_columns)
    return str(compiled), compiled.positiontup, converters


def first_row(conn: Connection, statement: Select, params: dict) -> tuple | None:
    """The first row of a SELECT built once (module level), as ``conn.execute(statement,
    params).first()`` answers it, run on the driver's cursor: SQLAlchemy's result machinery
    (a description and a converter per column, per execution) is most of what one query costs
    the worker on PostgreSQL, and the check in front of every event runs one. A driver error
    runs the statement again through SQLAlchemy, which raises it as it always does and
    replaces a connection the server dropped."""
    sql, order, converters = _driver_form(statement, conn.dialect)
    try:
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql, params if order is None else tuple(params[name] for name in order))
            row = cursor.fetchone()
        finally:
            cursor.close()
    except conn.dialect.loaded_dbapi.Error:
        found = conn.execute(statement, params).first()
        return None if found is None else tuple(found)
    if row is None:
        return None
    return tuple(value if convert is None else convert(value) for value, convert in zip(row, converters))


@contextlib.contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class OnDemand:
    """A ``transaction()`` begun only when something asks for its session (most guarded
    events read nothing beyond what the tab check read): call it for the session."""

    def __init__(self) -> None:
        self._session: Session | None = None

    @property
    def begun(self) -> bool:
        return self._session is not None

    def __call__(self) -> Session:
        if self._session is None:
            self._session = Session(get_engine(), expire_on_commit=False)
        return self._session

    def __enter__(self) -> OnDemand:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        with session:
            if exc_type is None:
                session.commit()
            else:
                session.rollback()


def attached(db: Session, row):
    """The session's own instance of ``row`` (callers may hand in a detached copy)."""
    if row is None or row in db:
        return row
    return db.get(type(row), row.id)
