"""The tab check's read pool (db.get_read_engine: pinged only after 1 s idle) across a
PostgreSQL restart: a read on a connection the restart killed fails once (no ping within the
second) and the pool is then replaced, so the next read answers; the tab check's reads
(db.read_outside_transaction) try that next one themselves, so none fails. A private
PostgreSQL (skipped without)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from panel_app.db import first_row, make_engine, read_outside_transaction
from tests.private_servers import missing_binaries, private_servers

pytestmark = pytest.mark.skipif(bool(missing_binaries()), reason="needs redis-server and PostgreSQL")

STATEMENT = sa.select(sa.literal_column("1").label("one")).where(sa.bindparam("x", type_=sa.String) != "")


def test_after_a_restart_at_most_one_read_fails_then_reads_answer():
    with private_servers("panel-read-pool-") as servers:
        engine = make_engine(servers.postgres.url, autocommit_reads=True)
        connections = [engine.connect() for _ in range(3)]  # three pooled connections
        for conn in connections:
            assert first_row(conn, STATEMENT, {"x": "a"}) == (1,)
            conn.close()
        servers.postgres.stop("fast")
        servers.postgres.start()
        failures = 0
        for _ in range(5):
            try:
                with engine.connect() as conn:
                    assert first_row(conn, STATEMENT, {"x": "a"}) == (1,)
            except sa.exc.DBAPIError:
                failures += 1
        assert failures <= 1, "a dead pooled connection went on failing"
        engine.dispose()


def test_after_a_restart_the_tab_checks_reads_all_answer():
    with private_servers("panel-read-pool-") as servers:
        engine = make_engine(servers.postgres.url, autocommit_reads=True)
        connections = [engine.connect() for _ in range(3)]
        for conn in connections:
            assert first_row(conn, STATEMENT, {"x": "a"}) == (1,)
            conn.close()
        servers.postgres.stop("fast")
        servers.postgres.start()
        answers = [read_outside_transaction(lambda conn: first_row(conn, STATEMENT, {"x": "a"}), engine)
                   for _ in range(5)]
        assert answers == [(1,)] * 5
        engine.dispose()
