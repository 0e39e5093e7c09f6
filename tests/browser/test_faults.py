"""Under faults (CI's PostgreSQL + Redis run): Redis restarts, then PostgreSQL, each a few
seconds down, while a worker serves tabs. Until a tab's lock in Redis would have expired, the
worker may serve the tab from the states it holds; every other event that needs the missing
part is told "try again" in its tab's language,
no traceback reaches the browser or the log (one line per outage), `/api/health` names the
part that is down, the worker recovers without a restart, no committed change is lost, and
a grant and a code that end while the database is down are over when it is back.

The shared PostgreSQL and Redis of the machine are never touched: the test starts its own
(a throw-away Redis, a PostgreSQL cluster in a temporary folder) and its own worker on them.
It speaks Reflex's websocket protocol directly (tests/ws.py).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update
from sqlmodel import Session, select

from panel_app.models import LoginSession, Ticket, User, VerificationCode
from panel_app.state.profile import ProfileState
from panel_app.state.stepup import StepUpState
from panel_app.state.support import SupportState
from tests.browser.conftest import server_env
from tests.private_servers import PrivateWorker, missing_binaries, private_servers, run_cli
from tests.ws import LOADED, RawClient, latest_code, login_token, run_async

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.environ.get("PANEL_TEST_REDIS_URL"),
                       reason="faults of PostgreSQL and Redis: CI's PostgreSQL + Redis run only"),
]

PROFILE, SUPPORT, GATE = ProfileState.get_full_name(), SupportState.get_full_name(), StepUpState.get_full_name()
TRY_AGAIN = {"en": "The panel is briefly unavailable. Try again in a moment.",
             "de": "Das Panel ist kurz nicht erreichbar. Bitte versuchen Sie es gleich noch einmal."}
GRANT_SECONDS = 40
LOCK_SECONDS = 3  # a tab's lock in Redis (a held tab's lock is extended once a second)
PASSWORD = "a-long-test-password"
WIPED = re.compile(r'"loaded_rx_state_"\s*:\s*false')


def _worker(folder: Path, database_url: str, redis_url: str, workers: int = 1) -> PrivateWorker:
    """The backend on the private PostgreSQL and Redis, with the two users of the scenario."""
    env = server_env("", PANEL_DATABASE_URL=database_url, PANEL_REDIS_URL=redis_url,
                     PANEL_STEPUP_TTL_SECONDS=str(GRANT_SECONDS),
                     REFLEX_REDIS_LOCK_EXPIRATION=str(LOCK_SECONDS * 1000))
    run_cli(env, "migrate")
    run_cli(env, "create-user", "--email", "faults-de@example.com", "--password", PASSWORD, "--language", "de")
    run_cli(env, "create-user", "--email", "faults-en@example.com", "--password", PASSWORD)
    return PrivateWorker(folder, env, workers)


@pytest.fixture(scope="module")
def private_stack():
    if missing := missing_binaries():
        pytest.skip(f"a private PostgreSQL and Redis need {', '.join(missing)}")
    with private_servers("panel-faults-") as stack:
        worker = _worker(stack.folder, stack.postgres.url, stack.redis.url)
        stack.workers.append(worker)
        yield worker, stack.redis, stack.postgres, create_engine(stack.postgres.url, pool_pre_ping=True)


def _sleep_until(instant: datetime) -> None:
    time.sleep(max(0.0, (instant - datetime.now(UTC)).total_seconds()))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_restarts_of_redis_then_postgres_are_answered_try_again_and_lose_nothing(private_stack):
    worker, redis_server, postgres, engine = private_stack
    german, english = "faults-de@example.com", "faults-en@example.com"
    cookie = login_token(worker.url, german, PASSWORD)
    second_cookie = login_token(worker.url, german, PASSWORD)  # another browser of the same user
    english_cookie = login_token(worker.url, english, PASSWORD)
    acknowledged: list[str] = []
    during_outages: list[str] = []
    early_in_redis_outage: list[str] = []
    health: dict[str, tuple[int, dict]] = {}

    async def ticket(tab: RawClient, number: int) -> str:
        subject = f"Fault ticket {number:03d}"
        answer = await tab.call(f"{SUPPORT}.create_ticket",
                                {"form_data": {"kind": "general", "subject": subject, "body": "x"}}, "/support")
        if subject in answer:
            acknowledged.append(subject)
        return answer

    async def scenario():
        async with (RawClient(worker.url, cookie) as tab, RawClient(worker.url, second_cookie) as other,
                    RawClient(worker.url, english_cookie) as english_tab):
            await tab.call(f"{GATE}.prepare", {}, "/profile")
            await tab.call(f"{GATE}.send_code", {}, "/profile")
            await tab.call(f"{GATE}.verify", {"form_data": {"code": latest_code(engine, german, tries=100)}}, "/profile")
            assert LOADED.search(await tab.call(f"{PROFILE}.load", {}, "/profile"))
            await tab.call(f"{SUPPORT}.load", {}, "/support")
            await english_tab.call(f"{SUPPORT}.load", {}, "/support")
            for number in range(3):
                await ticket(tab, number)

            # Redis goes away for a few seconds. The worker holds each open tab's states
            # between its events, under a lock in Redis it extends once a second: until that
            # lock would have expired, a tab's events need no Redis and may be answered; after,
            # every event is "try again".
            redis_server.stop()
            health["redis down"] = await asyncio.to_thread(worker.health)
            early_in_redis_outage.append(await ticket(tab, 10))
            await asyncio.sleep(LOCK_SECONDS + 0.5)
            during_outages.append(await ticket(tab, 11))
            during_outages.append(await english_tab.call(f"{SUPPORT}.load", {}, "/support"))
            during_outages.append(await tab.call(f"{PROFILE}.load", {}, "/profile"))
            await asyncio.sleep(1)
            redis_server.start()
            await asyncio.sleep(1.5)  # the worker's push loop looks once a second
            health["redis back"] = await asyncio.to_thread(worker.health)
            for number in range(20, 23):
                await ticket(tab, number)
            # The grant (still valid) opens the page again: the tab's state went with Redis.
            assert LOADED.search(await tab.call(f"{PROFILE}.load", {}, "/profile"))

            # A second browser asks for a code; it will end while the database is down.
            await other.call(f"{GATE}.prepare", {}, "/profile")
            await other.call(f"{GATE}.send_code", {}, "/profile")
            code = latest_code(engine, german, tries=100)
            with Session(engine) as db:
                grant_ends = _aware(db.exec(select(LoginSession.grant_expires_at).where(
                    LoginSession.grant_expires_at.is_not(None))).one())
                db.execute(update(VerificationCode).where(VerificationCode.consumed_at.is_(None))
                           .values(expires_at=grant_ends))
                db.commit()
            engine.dispose()
            await asyncio.to_thread(_sleep_until, grant_ends.replace(microsecond=0))

            # PostgreSQL goes away until both the grant and the code have ended.
            await asyncio.to_thread(postgres.stop)
            health["database down"] = await asyncio.to_thread(worker.health)
            during_outages.append(await ticket(tab, 30))
            during_outages.append(await english_tab.call(f"{SUPPORT}.load", {}, "/support"))
            during_outages.append(await tab.call(f"{PROFILE}.load", {}, "/profile"))
            await asyncio.to_thread(_sleep_until, grant_ends)
            await asyncio.sleep(1.5)
            start = len(tab.received)
            await asyncio.to_thread(postgres.start)
            health["database back"] = await asyncio.to_thread(worker.health)

            # The push loop empties the tab whose grant ended while the database was down.
            for _ in range(300):
                if any(WIPED.search(text) for text in tab.received[start:]):
                    break
                await asyncio.sleep(0.1)
            pushed = [text for text in tab.received[start:] if WIPED.search(text)]
            reloaded = await tab.call(f"{PROFILE}.load", {}, "/profile")
            verified = await other.call(f"{GATE}.verify", {"form_data": {"code": code}}, "/profile")
            other_profile = await other.call(f"{PROFILE}.load", {}, "/profile")
            for number in range(40, 43):
                await ticket(tab, number)
            return pushed, reloaded, verified, other_profile

    pushed, reloaded, verified, other_profile = run_async(scenario())

    # Early in the Redis outage: served (a held tab) or "try again", never an error.
    assert "Fault ticket 010" in acknowledged or TRY_AGAIN["de"] in early_in_redis_outage[0]
    assert "An error occurred" not in early_in_redis_outage[0] and "Traceback" not in early_in_redis_outage[0]
    # Every other event of an outage was answered "try again", in the tab's language, no traceback.
    assert len(during_outages) == 6
    for number, answer in enumerate(during_outages):
        expected = TRY_AGAIN["en" if number in (1, 4) else "de"]
        assert expected in answer, answer[:500]
        assert "An error occurred" not in answer and "Traceback" not in answer
    # Health named the failing part while it was down, and recovered.
    assert health["redis down"][0] == 503 and health["redis down"][1]["redis"] != "ok"
    assert health["redis down"][1]["database"] == "ok"
    assert health["database down"][0] == 503 and health["database down"][1]["database"] != "ok"
    assert health["database down"][1]["redis"] == "ok"
    assert health["redis back"][0] == 200 and health["database back"][0] == 200
    # Recovered without a restart: the same worker serves events after each outage.
    assert worker.proc.poll() is None
    assert {f"Fault ticket {n:03d}" for n in (20, 21, 22, 40, 41, 42)} <= set(acknowledged)
    # No committed change lost.
    with Session(engine) as db:
        user = db.exec(select(User).where(User.email == german)).one()
        stored = set(db.exec(select(Ticket.subject).where(Ticket.user_id == user.id)).all())
        granted = db.exec(select(LoginSession).where(LoginSession.user_id == user.id,
                                                     LoginSession.grant_expires_at.is_not(None))).all()
    assert set(acknowledged) <= stored
    # The grant and the code that ended during the outage are over.
    assert pushed, "the tab whose grant ended was not emptied"
    assert not LOADED.search(reloaded) and not LOADED.search(other_profile) and not LOADED.search(verified)
    assert len(granted) == 1  # only the first browser's grant, which ended: the stale code opened none
    # One log line per outage and part, never a traceback.
    log = worker.log.read_text()
    assert "Traceback" not in log
    assert log.count("redis unavailable") == 1 and log.count("database unavailable") == 1
    assert "redis available again" in log and "database available again" in log
