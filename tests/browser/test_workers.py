"""Two backend workers on one PostgreSQL and one Redis (CI's second run): what one worker
decides, the other honours; a push reaches a tab on the other worker; the guess and replay
limits hold across both; a worker killed with SIGKILL loses no committed change.

Each worker is its own backend process (uvicorn, the Reflex app factory, the panel's push
loop in its lifespan) on its own port, as a load balancer would see them. The clients speak
Reflex's websocket protocol directly (tests/ws.py's RawClient).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlmodel import func, select

from panel_app.clock import utcnow
from panel_app.db import get_engine, transaction
from panel_app.models import AuditEvent, LoginSession, Ticket, User
from panel_app.security import totp
from panel_app.services import authenticator_setup, stepup
from panel_app.services.audit import Actor
from panel_app.state.profile import ProfileState
from panel_app.state.support import SupportState
from tests.browser.conftest import ROOT, _free_port, server_env
from tests.browser.helpers import create_user
from tests.ws import LOADED, RawClient, latest_code, login_token, run_async

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (os.environ.get("PANEL_TEST_REDIS_URL")
                            and os.environ.get("PANEL_DATABASE_URL", "").startswith("postgresql")),
                       reason="several workers need PostgreSQL and Redis (CI's second run)"),
]

PROFILE = ProfileState.get_full_name()
SUPPORT = SupportState.get_full_name()


class Worker:
    def __init__(self, public_url: str, port: int, database_threads: int = 0):
        self.port = port
        self.url = f"http://localhost:{port}"
        self.log = Path(tempfile.mkdtemp(prefix="panel-worker-")) / "worker.log"
        env = server_env("", PANEL_PUBLIC_URL=public_url, REFLEX_ENV_MODE="prod", REFLEX_SKIP_COMPILE="true",
                         PANEL_DATABASE_THREADS=str(database_threads))
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "panel_app.panel_app:app", "--host", "127.0.0.1",
                 "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text()[-3000:])
            try:
                with urllib.request.urlopen(self.url + "/api/ready", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("worker did not start:\n" + self.log.read_text()[-3000:])

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def workers(panel_server):
    """Two workers behind one public address (the origin both accept)."""
    first, second = _free_port(), _free_port()
    public = f"http://localhost:{first}"
    # The second runs its events' database work on threads (PANEL_DATABASE_THREADS, as for a
    # database on another host): every test below races the two ways against each other.
    started = [Worker(public, first), Worker(public, second, database_threads=2)]
    yield started
    for worker in started:
        worker.kill()


class Client(RawClient):
    """A tab on one worker; the Origin is the public address, as behind a load balancer."""

    def __init__(self, worker: Worker, cookie: str | None, public: str):
        super().__init__(worker.url, cookie, origin=public)


def _user(email: str, *, app: bool = False) -> tuple[User, str | None]:
    create_user(email, phone=None)
    with transaction() as db:
        user = db.exec(select(User).where(User.email == email)).one()
        secret = None
        if app:  # set up long ago: a settled app
            then = utcnow() - timedelta(days=10)
            secret, _uri = authenticator_setup.begin_totp_enrollment(db, user, then)
            assert authenticator_setup.confirm_totp_enrollment(db, user, totp.code_at(secret, then), then,
                                                  Actor.for_user(user)).ok
        return user, secret


def test_a_grant_made_through_one_worker_is_honoured_by_the_other(workers):
    one, two = workers
    email = "two-workers-grant@example.com"
    _user(email)
    cookie = login_token(one.url, email, "a-long-test-password")

    async def scenario():
        async with Client(one, cookie, one.url) as tab:
            await tab.verify_with_sent_code(lambda: latest_code(get_engine(), email))
        async with Client(two, cookie, one.url) as other:
            return await other.call(f"{PROFILE}.load", {}, "/profile")

    assert LOADED.search(run_async(scenario()))


def test_a_sign_out_through_one_worker_reaches_a_tab_on_the_other(workers):
    one, two = workers
    email = "two-workers-push@example.com"
    _user(email)
    cookie = login_token(one.url, email, "a-long-test-password")

    async def scenario():
        async with Client(two, cookie, one.url) as tab:
            await tab.call(f"{SUPPORT}.load", {}, "/support")
            before = len(tab.received)
            answer = httpx.post(one.url + "/api/session/logout", cookies={"panel_session": cookie},
                                headers={"Origin": one.url}, follow_redirects=False)
            assert answer.status_code == 303
            for _ in range(100):  # the push loop looks once a second
                if any("/login" in text for text in tab.received[before:]):
                    return True
                await asyncio.sleep(0.1)
            return False

    assert run_async(scenario())


def test_wrong_codes_spread_over_both_workers_stay_within_the_limit(workers):
    one, two = workers
    email = "two-workers-guesses@example.com"
    user, secret = _user(email, app=True)
    cookie = login_token(one.url, email, "a-long-test-password")
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 500_000) % 1_000_000:06d}"

    async def guess(worker):
        async with Client(worker, cookie, one.url) as tab:
            await tab.verify_with_app(wrong)

    async def scenario():
        await asyncio.gather(*(guess(one if i % 2 else two) for i in range(16)))

    run_async(scenario())
    with transaction() as db:
        compared = db.exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.actor_user_id == user.id, AuditEvent.action == "verification_failed")).one()
    assert 1 <= compared <= stepup.STEPUP_POLICY.free_failures


def test_one_app_code_sent_to_both_workers_at_once_opens_one_grant(workers):
    one, two = workers
    email = "two-workers-replay@example.com"
    user, secret = _user(email, app=True)
    cookies = [login_token(one.url, email, "a-long-test-password") for _ in range(2)]

    async def verify(worker, cookie, code):
        async with Client(worker, cookie, one.url) as tab:
            await tab.verify_with_app(code)

    async def scenario():
        code = pyotp.TOTP(secret).now()
        await asyncio.gather(verify(one, cookies[0], code), verify(two, cookies[1], code))

    run_async(scenario())
    with transaction() as db:
        granted = db.exec(select(func.count()).select_from(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.grant_expires_at.is_not(None))).one()
    assert granted == 1


def test_a_worker_killed_mid_load_loses_no_committed_change(workers):
    one, two = workers
    email = "two-workers-kill@example.com"
    user, _secret = _user(email)
    cookie = login_token(one.url, email, "a-long-test-password")
    acknowledged: list[str] = []

    async def load():
        async with Client(two, cookie, one.url) as tab:
            await tab.call(f"{SUPPORT}.load", {}, "/support")
            for number in range(1000):
                subject = f"Load ticket {number:04d}"
                answer = await tab.call(f"{SUPPORT}.create_ticket",
                                        {"form_data": {"kind": "general", "subject": subject, "body": "x"}},
                                        "/support")
                if subject in answer:
                    acknowledged.append(subject)
                if len(acknowledged) >= 5:
                    two.kill()  # in the middle of the load, without warning
                if not tab.sio.connected or two.proc.poll() is not None:
                    return

    try:
        run_async(load())
    except Exception:  # noqa: BLE001 - the socket dies with the worker
        pass
    assert len(acknowledged) >= 5
    with transaction() as db:
        stored = set(db.exec(select(Ticket.subject).where(Ticket.user_id == user.id)).all())
    assert set(acknowledged) <= stored
    # The other worker keeps serving.
    assert httpx.get(one.url + "/api/health").status_code == 200

    async def still_serving():
        async with Client(one, cookie, one.url) as tab:
            return await tab.call(f"{SUPPORT}.load", {}, "/support")

    assert "Load ticket" in run_async(still_serving())
