"""The push loop's side of a tab (state/push.py), on a real in-memory state manager: what a
tab keeps once its socket closed."""

from __future__ import annotations

from reflex.istate.data import RouterData
from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import BaseStateToken
from sqlmodel import select

import panel_app.pages.registry  # noqa: F401  (every page state exists, as in the app)
from panel_app.db import transaction
from panel_app.models import OpenTab
from panel_app.security import staff, tabs
from panel_app.state import push
from panel_app.state.auth import AuthState
from panel_app.state.billing import InvoicesState
from panel_app.state.staff import StaffQueueState, StaffState
from tests.state_harness import login_token
from tests.test_staff import _customer, _staff, _staff_token

CLIENT_TOKEN = "push-loop-tab-0001"


class _TokenManager:
    def __init__(self):
        self.token_to_socket = {}


class _Namespace:
    def __init__(self):
        self._token_manager = _TokenManager()


class _App:
    def __init__(self):
        self.event_namespace = _Namespace()
        self.state_manager = StateManagerMemory()


async def _open_tab(app, path: str, cookie: str, page_cls):
    async with app.state_manager.modify_state_with_links(BaseStateToken(ident=CLIENT_TOKEN, cls=AuthState)) as root:
        root.router = RouterData.from_router_data({"headers": {"cookie": cookie, "user-agent": "pytest"},
                                                   "ip": "192.0.2.50", "pathname": path, "asPath": path,
                                                   "query": {}, "token": CLIENT_TOKEN})
        page = await root.get_state(page_cls)
        page.load()
        return page


async def test_a_closed_staff_tab_keeps_no_customer_data(make_user):
    """The console's ticket queue (customers' names and subjects) goes when the socket
    closes, as a customer page does: the state store (Redis) must not keep it for an hour."""
    _user, _ticket = _customer(make_user)
    token = _staff_token(_staff())
    app = _App()
    queue = await _open_tab(app, "/staff/tickets", f"{staff.COOKIE_NAME}={token}", StaffQueueState)
    assert queue.rows, "positive control: the queue was loaded"
    await push._forget_on_disconnect(app, CLIENT_TOKEN, "sid-1")
    async with app.state_manager.modify_state_with_links(BaseStateToken(ident=CLIENT_TOKEN, cls=AuthState)) as root:
        queue = await root.get_state(StaffQueueState)
        staff_state = await root.get_state(StaffState)
        assert queue.rows == [] and not queue.loaded
        assert staff_state._staff_session_id is None and staff_state.staff_name == ""


async def test_a_closed_tab_forgets_its_row_while_it_still_holds_the_tab(make_user, monkeypatch):
    """The open-tab row is deleted under the tab's lock: a socket taking the token over as soon
    as the lock is free registers a row the push loop will find."""
    owner = make_user()
    app = _App()
    invoices = await _open_tab(app, "/invoices", f"panel_session={login_token(owner, grant_method='email')}",
                               InvoicesState)
    assert invoices.loaded
    with transaction() as db:
        assert db.exec(select(OpenTab).where(OpenTab.client_token == CLIENT_TOKEN)).first() is not None
    locked_at_forget = []
    forget = tabs.forget

    def spy_forget(db, token):
        locked_at_forget.append(app.state_manager._states_locks[token].locked())
        forget(db, token)

    monkeypatch.setattr(tabs, "forget", spy_forget)
    await push._forget_on_disconnect(app, CLIENT_TOKEN, "sid-1")
    assert locked_at_forget == [True]
    with transaction() as db:
        assert db.exec(select(OpenTab).where(OpenTab.client_token == CLIENT_TOKEN)).first() is None


async def test_a_closed_invitation_or_outbox_tab_keeps_no_personal_data(make_user):
    """Pages without a login (so without a bound session) hold personal data too: who
    invited whom (and the name and phone typed), every code in the demo outbox."""
    from urllib.parse import parse_qs, urlencode, urlparse

    from panel_app.clock import utcnow
    from panel_app.models import OutboxMessage, User
    from panel_app.services import invitations
    from panel_app.services.audit import Actor
    from panel_app.state.demo import DemoState
    from panel_app.state.invite import InviteState

    owner = make_user()
    with transaction() as db:
        sent = invitations.invite_admin(db, Actor.for_user(db.get(User, owner.id)), email="ada@test.example",
                                        name="Ada Admin", areas=["domains"], now=utcnow())
        db.add(OutboxMessage(channel="email", recipient="ada@test.example", subject="Your code",
                             text="Your code is 424242"))
    (token,) = parse_qs(urlparse(sent.link).query)["token"]
    for path, query, cls, field, secret in (("/invite", {"token": token}, InviteState, "invite_email",
                                             "ada@test.example"),
                                            ("/dev/outbox", {}, DemoState, "messages", "424242")):
        app = _App()
        async with app.state_manager.modify_state_with_links(BaseStateToken(ident=CLIENT_TOKEN, cls=AuthState)) as root:
            root.router = RouterData.from_router_data({"headers": {"user-agent": "pytest"}, "ip": "127.0.0.1",
                                                       "pathname": path, "query": query,
                                                       "asPath": path + ("?" + urlencode(query) if query else ""),
                                                       "token": CLIENT_TOKEN})
            page = await root.get_state(cls)
            (page.open_invite if cls is InviteState else page.load)()
            assert secret in repr(getattr(page, field)), f"positive control: {cls.__name__} showed it"
        await push._forget_on_disconnect(app, CLIENT_TOKEN, "sid-1")
        async with app.state_manager.modify_state_with_links(BaseStateToken(ident=CLIENT_TOKEN, cls=AuthState)) as root:
            assert secret not in repr((await root.get_state(cls)).dict()), cls.__name__
