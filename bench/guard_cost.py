"""What the per-event guard costs: resolving the session cookie, the permission
and the step-up grant in the database, against the cheapest possible database
round trip (a transaction running SELECT 1). Prints both rates and their ratio,
measured in one run on a throwaway SQLite file (or PANEL_DATABASE_URL).

    .venv/bin/python bench/guard_cost.py [iterations]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
_tmp = tempfile.mkdtemp(prefix="panel-bench-")
os.environ.setdefault("PANEL_DATABASE_URL", f"sqlite:///{_tmp}/bench.db")
os.environ["PANEL_SECRET_KEY_FILE"] = f"{_tmp}/secret.key"

from sqlalchemy import text  # noqa: E402

from panel_app import migrate  # noqa: E402
from panel_app.clock import utcnow  # noqa: E402
from panel_app.db import OnDemand, transaction  # noqa: E402
from panel_app.security import sessions  # noqa: E402
from panel_app.security.permissions import Area  # noqa: E402
from panel_app.services import auth  # noqa: E402
from panel_app.services.accounts import create_account_with_owner  # noqa: E402
from panel_app.state import guard  # noqa: E402


class _Router:
    def __init__(self, cookie: str):
        self.headers = type("H", (), {"cookie": cookie, "user_agent": "bench"})()
        self.session = type("S", (), {"client_ip": "127.0.0.1"})()


class _State:
    def __init__(self, cookie: str):
        self.router = _Router(cookie)


def main(iterations: int) -> None:
    migrate.upgrade()
    now = utcnow()
    with transaction() as db:
        create_account_with_owner(db, email="bench@example.com", password="bench-password-123")
    with transaction() as db:
        token = auth.login(db, email="bench@example.com", password="bench-password-123", ip="127.0.0.1",
                           user_agent="bench", now=now, absolute_seconds=3600).token
        sessions.start_grant(db, sessions.find_by_token(db, token), method="email", now=now, ttl_seconds=3600)
    state = _State(f"{sessions.COOKIE_NAME}={token}")

    start = time.perf_counter()
    for _ in range(iterations):
        with transaction() as db:
            db.execute(text("SELECT 1"))
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    for _ in range(iterations):
        with OnDemand() as open_db:
            verdict = guard.evaluate(state, open_db, Area.DOMAINS, True, utcnow())
            assert isinstance(verdict, guard.GuardContext)
    guarded = time.perf_counter() - start

    print(f"database: {os.environ['PANEL_DATABASE_URL'].split(':')[0]}, iterations: {iterations}")
    print(f"bare transaction (SELECT 1): {iterations / baseline:10.0f} events/s")
    print(f"guard (session+permission+grant): {iterations / guarded:10.0f} events/s")
    print(f"ratio guard/bare: {guarded / baseline:.2f}x the time of the cheapest round trip")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
