"""Attacks on held tabs (panel_app/state/redis_states.py): with Redis, the worker that serves
a tab keeps the tab's states in memory and its lock in Redis between events, and writes them
once a second. Two backend workers, each its own process on its own port behind one public
address (as a load balancer sees them), on a PostgreSQL and a Redis of their own
(tests/private_servers.py); the clients speak Reflex's websocket protocol directly (tests/ws.py).

The attacker holds a client token, or a websocket, or is the user with two tabs on two
workers: a tab held by one worker whose next event reaches the other sees its latest change;
a sign-out, or a grant that ends, empties a held tab whichever worker serves its next event,
in the worker's memory and in Redis; a stranger presenting a held tab's token on the other
worker gets nothing of it; a worker stopped with SIGTERM hands its held tabs' changes over.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import Engine, create_engine
from sqlmodel import Session, select

from panel_app.security import sessions
from panel_app.state.auth import AuthState
from panel_app.state.profile import ProfileState
from panel_app.state.stepup import GrantState
from panel_app.state.support import SupportState
from tests.browser.conftest import server_env
from tests.private_servers import PrivateWorker, missing_binaries, private_servers, run_cli
from tests.ws import HYDRATE, LOADED, RawClient, latest_code, login_token, run_async

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (os.environ.get("PANEL_TEST_DATABASE_URL") and os.environ.get("PANEL_TEST_REDIS_URL")),
                       reason="held tabs across workers: CI's PostgreSQL + Redis run only"),
]

SUPPORT = SupportState.get_full_name()
PROFILE = ProfileState.get_full_name()
AUTH = AuthState.get_full_name()
GRANT = GrantState.get_full_name()
PASSWORD = "a-long-test-password"
PHONE = "+4915112345678"
PHONE_DIGITS = b"15112345678"  # the phone as stored, whatever its formatting
ZONE = "Asia/Tokyo"  # a tab's own setting (kept in its states only): visible in every time shown


@dataclass
class Stack:
    one: PrivateWorker
    two: PrivateWorker
    public: str
    env: dict
    engine: Engine  # the private PostgreSQL, for arranging and reading rows
    redis_url: str
    folder: Path
    extra: list  # workers a test starts (stopped with the others)

    def user(self, email: str, phone: str | None = None) -> str:
        """A new account; a session cookie for it (signed in through the first worker)."""
        args = ["create-user", "--email", email, "--password", PASSWORD] + (["--phone", phone] if phone else [])
        run_cli(self.env, *args)
        return login_token(self.one.url, email, PASSWORD)

    def db(self) -> Session:
        return Session(self.engine)

    def latest_code(self, email: str) -> str:
        return latest_code(self.engine, email)

    def _ask_redis(self, ask):
        client = redis.Redis.from_url(self.redis_url)
        try:
            return ask(client)
        finally:
            client.close()

    def stored(self, token: str) -> bytes:
        """Every state Redis holds for the tab ``token``, as stored (pickles)."""
        return self._ask_redis(lambda client: b"\n".join(
            client.get(key) or b"" for key in client.keys(f"{token}_*")
            if not key.endswith((b"_lock", b"_lock_waiting"))))

    def locked(self, token: str) -> bool:
        """Whether some worker holds the tab ``token``'s lock in Redis."""
        return self._ask_redis(lambda client: bool(client.exists(f"{token}_lock")))

    def socket_recorded(self, token: str) -> bool:
        """Whether Reflex's token manager still records a socket for ``token`` (any worker)."""
        return self._ask_redis(lambda client: bool(client.exists(f"token_manager_socket_record_{token}")))


@pytest.fixture(scope="module")
def stack():
    if missing := missing_binaries():
        pytest.skip(f"a private PostgreSQL and Redis need {', '.join(missing)}")
    with private_servers("panel-held-tabs-") as servers:
        env = server_env("", PANEL_DATABASE_URL=servers.postgres.url, PANEL_REDIS_URL=servers.redis.url,
                         PANEL_STATE_HOLD_SECONDS="30")
        run_cli(env, "migrate")
        folders = [servers.folder / name for name in ("one", "two")]
        for folder in folders:
            folder.mkdir()
        one = PrivateWorker(folders[0], env)
        servers.workers.append(one)
        # The second runs its events' database work on threads (PANEL_DATABASE_THREADS, as for
        # a database on another host): a held tab moves between the two ways.
        two = PrivateWorker(folders[1], {**env, "PANEL_DATABASE_THREADS": "2"}, public_url=one.url)
        servers.workers.append(two)
        engine = create_engine(servers.postgres.url)
        try:
            yield Stack(one, two, one.url, env, engine, servers.redis.url, servers.folder, servers.workers)
        finally:
            engine.dispose()


def tab(stack: Stack, worker: PrivateWorker, cookie: str | None, token: str | None = None) -> RawClient:
    return RawClient(worker.url, cookie, origin=stack.public, token=token)


async def move(stack: Stack, client: RawClient, worker: PrivateWorker, cookie: str | None) -> RawClient:
    """The tab's socket closes and the tab comes back, same client token, on ``worker`` (a
    reload, a load balancer that sends it elsewhere) as soon as no worker records it."""
    await client.sio.disconnect()
    for _ in range(200):
        if not stack.socket_recorded(client.token):
            break
        await asyncio.sleep(0.01)
    moved = tab(stack, worker, cookie, client.token)
    await moved.connect()
    return moved


def ticket_time(stack: Stack, subject: str, zone: str | None) -> str:
    """How the ticket ``subject``'s last change reads in a tab of the time zone ``zone``."""
    from panel_app.i18n.formatting import moment
    from panel_app.models import Ticket

    with stack.db() as db:
        ticket = db.exec(select(Ticket).where(Ticket.subject == subject)).one()
    return moment(ticket.updated_at, "en", zone)


async def create_ticket(client: RawClient, subject: str) -> str:
    answer = await client.call(f"{SUPPORT}.create_ticket",
                               {"form_data": {"kind": "general", "subject": subject, "body": "x"}}, "/support")
    assert subject in answer
    return answer


def test_a_held_tab_whose_next_event_reaches_the_other_worker_sees_its_latest_change(stack):
    """The tab's time zone (its own setting, in its states only) is changed on the worker
    holding the tab, then the tab's next event reaches the other worker at once: the other
    worker shows the new zone (the first's change not lost, no stale copy read); and back."""
    cookie = stack.user("held-move@example.com")
    subject = "Held move ticket"

    async def scenario():
        first = tab(stack, stack.one, cookie)
        await first.connect()
        await create_ticket(first, subject)
        await first.call(f"{AUTH}.set_time_zone", {"zone": ZONE}, "/support")
        assert stack.locked(first.token), "held by the first worker"
        second = await move(stack, first, stack.two, cookie)
        on_two = await second.call(f"{SUPPORT}.load", {}, "/support")
        await second.call(f"{AUTH}.set_time_zone", {"zone": "America/New_York"}, "/support")
        back = await move(stack, second, stack.one, cookie)
        on_one = await back.call(f"{SUPPORT}.load", {}, "/support")
        await back.sio.disconnect()
        return on_two, on_one

    on_two, on_one = run_async(scenario())
    assert ticket_time(stack, subject, ZONE) in on_two, on_two[-1500:]
    assert ticket_time(stack, subject, "America/New_York") in on_one, on_one[-1500:]


def test_a_sign_out_in_one_tab_empties_a_held_tab_on_the_other_worker(stack):
    """Two tabs of one sign-in, one on each worker. The tab on the second worker signs out;
    the tab held by the first worker is sent to the login page, and neither the worker's
    copy (what the tab's own socket can ask for) nor Redis's keeps the tickets it showed."""
    email = "held-sign-out@example.com"
    cookie = stack.user(email)
    secret = "Held secret ticket for sign-out"

    async def scenario():
        held = tab(stack, stack.one, cookie)
        other = tab(stack, stack.two, cookie)
        await held.connect()
        await other.connect()
        await create_ticket(held, secret)
        await other.call(f"{SUPPORT}.load", {}, "/support")
        assert stack.locked(held.token), "held by the first worker"
        for _ in range(30):  # written once a second: Redis holds the tickets too
            if secret.encode() in stack.stored(held.token):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the held tab was never written")
        before = len(held.received)
        await other.call(f"{AUTH}.forget_tab", {}, "/support")
        answer = await asyncio.to_thread(
            httpx.post, stack.two.url + "/api/session/logout", cookies={sessions.COOKIE_NAME: cookie},
            headers={"Origin": stack.public}, follow_redirects=False)
        assert answer.status_code == 303
        for _ in range(100):  # each worker's push loop looks once a second
            if any("/login" in text for text in held.received[before:]):
                break
            await asyncio.sleep(0.1)
        pushed = "\n".join(held.received[before:])
        asked = await held.call(HYDRATE, {}, "/support")  # the whole state of the worker's copy
        stored = b""
        for _ in range(30):
            stored = stack.stored(held.token)
            if secret.encode() not in stored:
                break
            await asyncio.sleep(0.1)
        await held.sio.disconnect()
        await other.sio.disconnect()
        return pushed, asked, stored

    pushed, asked, stored = run_async(scenario())
    assert "/login" in pushed
    assert secret not in asked and email not in asked, asked[-1500:]
    assert secret.encode() not in stored and email.encode() not in stored


def test_a_grant_that_ends_empties_held_tabs_on_their_next_event_on_either_worker(stack):
    """Two tabs of one sign-in show the profile under a grant, held by the first worker. The
    grant ends (a third tab, on the second worker, locks now): the tab whose next event is its
    own is refused and emptied, the other is emptied by the push (whichever worker's push loop
    claims it), and Redis keeps the profile of neither."""
    email = "held-grant@example.com"
    cookie = stack.user(email, PHONE)
    marker = f'"email_rx_state_": "{email}"'  # the profile's contact data (the shell's is user_email)

    async def scenario():
        first, second = tab(stack, stack.one, cookie), tab(stack, stack.one, cookie)
        locker = tab(stack, stack.two, cookie)
        for client in (first, second, locker):
            await client.connect()
        await first.verify_with_sent_code(lambda: stack.latest_code(email))
        shown = [await client.call(f"{PROFILE}.load", {}, "/profile") for client in (first, second)]
        assert stack.locked(first.token) and stack.locked(second.token), "held by the first worker"
        before = len(second.received)
        await locker.call(f"{GRANT}.end_now", {}, "/profile")
        next_event = await first.call(f"{PROFILE}.load", {}, "/profile")
        for _ in range(100):  # the push loop looks once a second
            if any('"loaded_rx_state_": false' in text for text in second.received[before:]):
                break
            await asyncio.sleep(0.1)
        pushed = "\n".join(second.received[before:])
        asked = [await client.call(HYDRATE, {}, "/profile") for client in (first, second)]
        stored = [b"", b""]
        for _ in range(30):
            stored = [stack.stored(client.token) for client in (first, second)]
            if not any(PHONE_DIGITS in copy for copy in stored):
                break
            await asyncio.sleep(0.1)
        for client in (first, second, locker):
            await client.sio.disconnect()
        return shown, next_event, pushed, asked, stored

    shown, next_event, pushed, asked, stored = run_async(scenario())
    assert all(marker in answer and LOADED.search(answer) for answer in shown)
    assert marker not in next_event and not LOADED.search(next_event), next_event[-1500:]
    assert '"loaded_rx_state_": false' in pushed, pushed[-1500:]
    for answer in asked:
        assert marker not in answer and PHONE not in answer, answer[-1500:]
    assert not any(PHONE_DIGITS in copy for copy in stored)


def test_a_stranger_with_a_held_tabs_token_gets_nothing_of_it_on_the_other_worker(stack):
    """The victim's tab is held by the first worker with a ticket shown. A stranger presents
    its client token on the second worker's socket, with no cookie or with another account's,
    while the tab is open and again the moment it closes (racing the worker that held it):
    nothing of the victim in any answer, and nothing of it left in Redis."""
    email = "held-victim@example.com"
    cookie = stack.user(email)
    other_cookie = stack.user("held-intruder@example.com")
    secret = "Held secret ticket of the victim"

    async def stranger_sees(token: str, with_cookie: str | None) -> str:
        client = tab(stack, stack.two, with_cookie, token)
        await client.connect()
        try:
            return "\n".join([await client.call(HYDRATE, {}, "/support"),
                              await client.call(f"{SUPPORT}.load", {}, "/support")])
        finally:
            await client.sio.disconnect()

    async def scenario():
        victim = tab(stack, stack.one, cookie)
        await victim.connect()
        await create_ticket(victim, secret)
        assert stack.locked(victim.token), "held by the first worker"
        seen = [await stranger_sees(victim.token, None), await stranger_sees(victim.token, other_cookie)]
        still = await victim.call(f"{SUPPORT}.load", {}, "/support")
        racer = await move(stack, victim, stack.two, None)  # the victim's tab closed
        seen.append("\n".join([await racer.call(HYDRATE, {}, "/support"),
                               await racer.call(f"{SUPPORT}.load", {}, "/support")]))
        await racer.sio.disconnect()
        seen.append(await stranger_sees(victim.token, other_cookie))
        await asyncio.sleep(1.5)  # whatever a worker still held is written by now
        return seen, still, stack.stored(victim.token)

    seen, still, stored = run_async(scenario())
    assert secret in still, "the victim's own tab is untouched"
    for answer in seen:
        assert answer, "every stranger was answered"
        assert secret not in answer and email not in answer, answer[-1500:]
    assert secret.encode() not in stored and email.encode() not in stored


def test_a_worker_stopped_with_sigterm_hands_its_held_tabs_over_with_their_changes(stack):
    """A third worker holds a tab whose last change (its time zone) it may not have written yet
    (that happens once a second), and is stopped (SIGTERM, as a deploy does): it writes the
    tab and frees its lock on the way out,
    so the tab, back on another worker, is answered at once (not after the lock's expiry)
    with that change."""
    folder = stack.folder / "three"
    folder.mkdir()
    third = PrivateWorker(folder, stack.env, public_url=stack.public)
    stack.extra.append(third)
    cookie = stack.user("held-sigterm@example.com")
    subject = "Held SIGTERM ticket"

    async def scenario():
        client = tab(stack, third, cookie)
        await client.connect()
        await create_ticket(client, subject)
        await client.call(f"{AUTH}.set_time_zone", {"zone": ZONE}, "/support")
        assert stack.locked(client.token), "held by the third worker"
        await asyncio.to_thread(third.stop)
        locked = stack.locked(client.token)
        back = await move(stack, client, stack.one, cookie)
        answer = await back.call(f"{SUPPORT}.load", {}, "/support")
        await back.sio.disconnect()
        return locked, answer

    locked, answer = run_async(scenario())
    assert third.proc.returncode is not None
    assert not locked, "the stopping worker freed the tab's lock"
    assert ticket_time(stack, subject, ZONE) in answer, answer[-1500:]
    log = third.log.read_text()
    assert "Traceback" not in log and "was lost" not in log, log[-3000:]
