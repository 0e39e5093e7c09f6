"""Under faults with two backend workers behind one port (uvicorn --workers 2, as docs/deploy.md
and bench/workers.py start them): Redis restarts while 30 tabs (the kernel spreads their sockets over the
workers) send events. Each worker holds its tabs' states between events under locks in Redis it extends
once a second: early in the outage a tab may be served from them; once those locks would have expired,
every event is answered "try again" (no Reflex error, no traceback in either worker's log), both workers serve again after it without a restart, and every ticket
acknowledged is stored. The figures under the full mixed load are bench/faults.py's.

As tests/browser/test_faults.py: a PostgreSQL and a Redis of its own (tests/private_servers.py),
Reflex's websocket protocol spoken directly (tests/ws.py). Behaviour only, no timings.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from panel_app.models import Ticket
from panel_app.state.support import SupportState
from tests.browser.conftest import server_env
from tests.private_servers import PrivateWorker, missing_binaries, private_servers, run_cli
from tests.ws import RawClient, login_token, run_async

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.environ.get("PANEL_TEST_REDIS_URL"),
                       reason="faults of PostgreSQL and Redis: CI's PostgreSQL + Redis run only"),
]

SUPPORT = SupportState.get_full_name()
TRY_AGAIN = "The panel is briefly unavailable. Try again in a moment."
EMAIL, PASSWORD = "faults-workers@example.com", "a-long-test-password"
TABS = 30
LOCK_SECONDS = 3  # a tab's lock in Redis (a held tab's lock is extended once a second)


def test_two_workers_answer_a_redis_restart_try_again_and_recover():
    if missing := missing_binaries():
        pytest.skip(f"a private PostgreSQL and Redis need {', '.join(missing)}")
    with private_servers("panel-faults-workers-") as stack:
        folder, redis_server, postgres = stack.folder, stack.redis, stack.postgres
        env = server_env("", PANEL_DATABASE_URL=postgres.url, PANEL_REDIS_URL=redis_server.url,
                         REFLEX_REDIS_LOCK_EXPIRATION=str(LOCK_SECONDS * 1000))
        run_cli(env, "migrate")
        run_cli(env, "create-user", "--email", EMAIL, "--password", PASSWORD)
        worker = PrivateWorker(folder, env, workers=2)
        stack.workers.append(worker)
        pids = worker.worker_pids()
        assert len(pids) == 2
        cookies = [login_token(worker.url, EMAIL, PASSWORD) for _ in range(3)]
        acknowledged: list[str] = []
        health: dict[str, tuple[int, dict]] = {}

        async def ticket(tab: RawClient, number: int) -> str:
            subject = f"Workers ticket {number:04d}"
            answer = await tab.call(f"{SUPPORT}.create_ticket",
                                    {"form_data": {"kind": "general", "subject": subject, "body": "x"}}, "/support")
            if subject in answer:
                acknowledged.append(subject)
            return answer

        async def scenario():
            tabs = [RawClient(worker.url, cookies[n % len(cookies)]) for n in range(TABS)]
            await asyncio.gather(*(tab.connect() for tab in tabs))
            try:
                before = await asyncio.gather(*(tab.call(f"{SUPPORT}.load", {}, "/support") for tab in tabs))
                redis_server.stop()
                health["down"] = await asyncio.to_thread(worker.health)
                early = await asyncio.gather(*(ticket(tab, n) for n, tab in enumerate(tabs)))
                await asyncio.sleep(LOCK_SECONDS + 0.5)  # the held tabs' locks would have expired
                during = await asyncio.gather(*(ticket(tab, 50 + n) for n, tab in enumerate(tabs)))
                redis_server.start()
                await asyncio.sleep(1.5)  # each worker's push loop looks once a second
                health["back"] = await asyncio.to_thread(worker.health)
                after = await asyncio.gather(*(tab.call(f"{SUPPORT}.load", {}, "/support") for tab in tabs))
                tickets = await asyncio.gather(*(ticket(tab, 100 + n) for n, tab in enumerate(tabs)))
                return before, early, during, after, tickets
            finally:
                await asyncio.gather(*(tab.sio.disconnect() for tab in tabs), return_exceptions=True)

        before, early, during, after, tickets = run_async(scenario())

        assert all(answer and TRY_AGAIN not in answer for answer in before)
        # Early in the outage: served from the states the worker holds, or "try again"; no error.
        assert all("An error occurred" not in answer and "Traceback" not in answer for answer in early)
        for answer in during:  # every event once the locks would have expired, on either worker
            assert TRY_AGAIN in answer, answer[:500]
            assert "An error occurred" not in answer and "Traceback" not in answer
        assert health["down"][0] == 503 and health["down"][1]["redis"] != "ok"
        assert health["down"][1]["database"] == "ok"
        assert health["back"][0] == 200
        # Both workers serve again, the same processes: every tab is answered, every ticket is taken.
        assert all(answer and TRY_AGAIN not in answer and "An error occurred" not in answer for answer in after)
        assert all(TRY_AGAIN not in answer and "An error occurred" not in answer for answer in tickets)
        assert worker.worker_pids() == pids and worker.proc.poll() is None
        engine = create_engine(postgres.url)
        with Session(engine) as db:
            stored = set(db.exec(select(Ticket.subject)).all())
        engine.dispose()
        assert set(acknowledged) <= stored
        assert {f"Workers ticket {100 + n:04d}" for n in range(TABS)} <= stored
        log = worker.log.read_text()
        assert "Traceback" not in log and "An error occurred" not in log
        assert 1 <= log.count("redis unavailable") <= 2  # one line per worker that saw it, not per event
