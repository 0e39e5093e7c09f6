"""Events' database work off the event loop (tasks.off_loop, PANEL_DATABASE_THREADS): on a
database server a query is a round trip the loop would wait for while no other tab's event
runs. What must hold: the same answers as on the loop, the event's context inside, its
background work started only after the work (its transaction) has ended, and a cancelled
event never leaves the work changing a tab's state behind its back."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from reflex.istate.manager.memory import StateManagerMemory
from reflex.utils.token_manager import LocalTokenManager
from reflex_base.event.processor.base_state_processor import BaseStateEventProcessor

import panel_app.panel_app as panel  # registers every state and installs TabCheck
from panel_app import settings, tasks
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.models import User
from panel_app.state import guard, push
from panel_app.state.auth import AuthState
from tests.state_harness import login_token, tab_state
from tests.ws import event, router_data

_probe: contextvars.ContextVar[str] = contextvars.ContextVar("off_loop_probe", default="unset")


@pytest.fixture
def threads(monkeypatch):
    def use(count: int) -> None:
        monkeypatch.setattr(tasks, "off_loop_threads", lambda: count)

    return use


async def test_work_runs_on_a_database_thread_with_the_events_context(threads):
    threads(2)
    _probe.set("the event's")

    def work():
        seen = threading.current_thread().name, _probe.get()
        _probe.set("changed inside")
        return seen

    name, probe = await tasks.off_loop(work)
    assert name.startswith("panel-db") and probe == "the event's"
    assert _probe.get() == "the event's", "what the work set leaked into the event"


async def test_without_threads_the_work_runs_inline(threads):
    threads(0)
    assert await tasks.off_loop(lambda: threading.current_thread()) is threading.current_thread()


@pytest.mark.parametrize("url, threads", [
    ("sqlite:///x.db", 0),
    ("postgresql://postgres@127.0.0.1:5432/panel", 0),  # this machine's server: round trips of µs
    ("postgresql://postgres@localhost/panel", 0),
    ("postgresql://postgres@[::1]:5432/panel", 0),
    ("postgresql:///panel?host=/run/postgresql", 0),  # its Unix socket
    ("postgresql://panel@db.internal:5432/panel", 4),  # another host: each round trip a wait
    ("postgresql+psycopg://panel@10.0.0.7/panel", 4),
])
def test_database_threads_by_default_only_for_a_database_on_another_host(url, threads):
    assert settings.load_settings({"PANEL_DATABASE_URL": url}).database_threads == threads


def test_database_threads_can_be_set_within_bounds():
    remote = {"PANEL_DATABASE_URL": "postgresql://panel@db.internal/panel"}
    assert settings.load_settings({**remote, "PANEL_DATABASE_THREADS": "0"}).database_threads == 0
    assert settings.load_settings({"PANEL_DATABASE_THREADS": "2"}).database_threads == 2
    for wrong in ("64", "-1", "four"):
        with pytest.raises(settings.SettingsError):
            settings.load_settings({"PANEL_DATABASE_THREADS": wrong})


async def test_background_work_starts_only_once_the_work_has_ended(threads):
    """A mail spawned by a handler must not go out before the handler's transaction ended."""
    threads(2)
    ran = []

    async def mail():
        ran.append("sent")

    def work():
        tasks.spawn(mail())
        return list(ran)  # what had run by the time the work (and its commit) ended

    assert await tasks.off_loop(work) == []
    await tasks.wait_all()
    assert ran == ["sent"]


async def test_a_cancelled_event_waits_for_its_work_to_end(threads):
    """Cancelled (a worker shutting down), the event gives up the tab's lock only once the
    work that may still change the tab's state has ended."""
    threads(2)
    started, release = threading.Event(), threading.Event()
    finished = []

    def work():
        started.set()
        release.wait(10)
        finished.append(True)

    task = asyncio.ensure_future(tasks.off_loop(work))
    while not started.is_set():
        await asyncio.sleep(0.001)
    task.cancel()
    for _ in range(20):
        await asyncio.sleep(0)
    assert not task.done(), "the event ended while its work still ran"
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished == [True]


# --- through Reflex's real event processor ------------------------------------------------

class _Socket:
    def __init__(self):
        self.updates = []

    async def emit_update(self, update, token):
        self.updates.append(update)


async def _run(cookie: str, client_token: str, *events: tuple[str, dict]) -> list[dict]:
    socket = _Socket()
    processor = BaseStateEventProcessor(middleware=panel.app, backend_exception_handler=None)
    async with processor.configure(state_manager=StateManagerMemory(), event_namespace=socket):
        for name, payload in events:
            router = router_data("/dashboard", headers={"cookie": cookie, "user-agent": "pytest"},
                                 ip="192.0.2.9", token=client_token, sid="sid-" + client_token)
            await processor.enqueue(client_token, event(AuthState, name, payload, router=router))
            await asyncio.sleep(0.05)
            await processor.join(timeout=10)
    return [update.delta for update in socket.updates if update.delta]


async def test_a_guarded_event_answers_the_same_off_the_loop(make_user, threads, monkeypatch):
    """The guard, the handler and its transaction run on a database thread for the event
    Reflex dispatches, and the browser gets the same updates as from the loop."""
    events = [("check_login", {}), ("set_language", {"lang": "de"}), ("tick", {})]
    answers, guarded_on = {}, []
    evaluate = guard.evaluate

    def spy(*args, **kwargs):
        guarded_on.append(threading.current_thread().name)
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(guard, "evaluate", spy)
    for count in (0, 2):
        threads(count)
        owner = make_user(email=f"off-loop-{count}@test.example")
        guarded_on.clear()
        answers[count] = await _run(f"panel_session={login_token(owner)}", f"off-loop-tab-{count}", *events)
        assert len(guarded_on) >= len(events)  # and the page reloads set_language asks for
        assert all(name.startswith("panel-db") == (count > 0) for name in guarded_on), guarded_on
        with transaction() as db:
            assert db.get(User, owner.id).language == "de"
        assert guard._this_event.get() is None

    def shape(deltas):  # the vars each update carries (their values differ: cookie, e-mail, times)
        return [{state: sorted(values) for state, values in delta.items()} for delta in deltas]

    assert answers[2] and shape(answers[2]) == shape(answers[0])
    languages = [values["lang_rx_state_"] for delta in answers[2] for values in delta.values()
                 if "lang_rx_state_" in values]
    assert languages[-1] == "de"


async def test_a_guarded_handler_called_by_code_answers_as_a_function(make_user, threads):
    """Only the call Reflex dispatches goes off the loop: a handler called directly (by
    another handler or a test) changes the state before it returns, as a function does."""
    threads(2)
    guard.dispatching(None)
    state = tab_state(AuthState, login_token(make_user()), "/dashboard")
    outcome = state.set_language("de")
    assert not inspect.isasyncgen(outcome) and state.lang == "de"


class _Namespace:
    """Reflex's event namespace as far as push._hook_socket and the processor use it: a
    token manager, and the answers sent, with the socket each went to."""

    def __init__(self):
        self._token_manager = LocalTokenManager()
        self.sent: list[tuple[str, object]] = []

    async def on_connect(self, sid, environ, auth=None):
        pass

    async def on_event(self, sid, data=None):
        pass

    def on_disconnect(self, sid):
        pass

    async def emit_update(self, update, token):
        record = self._token_manager.token_to_socket.get(token)
        if record is not None:
            self.sent.append((record.sid, update))


@pytest.mark.parametrize("taken_over", [False, True])
async def test_an_events_answer_goes_only_to_the_socket_that_sent_it(make_user, threads, monkeypatch, taken_over):
    """The owner's socket closes while its event's guarded handler runs on a database thread,
    and someone holding only the tab's token connects before it ends: the answer (a revealed
    secret, in the real attack) must not go to that socket, which no check has seen yet."""
    threads(2)
    slow_now, started, release = threading.Event(), threading.Event(), threading.Event()
    evaluate = guard.evaluate

    def slow(*args, **kwargs):  # a slow database: the handler still runs when the socket changes
        if slow_now.is_set():
            started.set()
            release.wait(10)
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(guard, "evaluate", slow)
    namespace = _Namespace()
    push._hook_socket(SimpleNamespace(event_namespace=namespace))
    manager, client_token = namespace._token_manager, f"taken-over-{taken_over}"
    await manager.link_token_to_sid(client_token, "sid-owner")
    cookie = f"panel_session={login_token(make_user())}"
    processor = BaseStateEventProcessor(middleware=panel.app, backend_exception_handler=None)
    async with processor.configure(state_manager=StateManagerMemory(), event_namespace=namespace):
        router = router_data("/dashboard", headers={"cookie": cookie, "user-agent": "pytest"},
                             ip="192.0.2.9", token=client_token, sid="sid-owner")
        await processor.enqueue(client_token, event(AuthState, "check_login", {}, router=router))
        await asyncio.sleep(0.05)
        await processor.join(timeout=10)
        slow_now.set()
        answered = await processor.enqueue(client_token, event(AuthState, "set_language", {"lang": "de"},
                                                               router=router))
        while not started.is_set():
            await asyncio.sleep(0.01)
        before = len(namespace.sent)
        if taken_over:
            await manager.disconnect_token(client_token, "sid-owner")
            assert await manager.link_token_to_sid(client_token, "sid-stranger") is None
        release.set()
        await asyncio.wait_for(answered, timeout=10)
    sockets = {sid for sid, update in namespace.sent[before:] if update.delta or update.events}
    assert sockets == (set() if taken_over else {"sid-owner"})


async def test_a_handler_starting_late_asks_the_database_again(make_user, threads):
    """The tab check's answer is adopted only while fresh: a handler that waited for a free
    database thread decides on the session as it is then, not as it was (a sign-out in the
    meantime must not let one more reveal through)."""
    threads(2)
    token = login_token(make_user())
    state = tab_state(AuthState, token, "/dashboard")
    # The tab check's answer, a second old, said "signed out"; the database says signed in.
    guard.remember_resolution(token, None, utcnow() - timedelta(seconds=1))
    state.set_language("de")
    assert state.lang == "de", "the handler decided on the stale answer"
