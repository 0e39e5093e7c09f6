"""/dev/outbox over the websocket: the outbox and the demo controls answer only a socket
from this machine's loopback interface, whatever the client claims in its headers."""

from __future__ import annotations

import pytest
from reflex.istate.data import RouterData

import panel_app.pages.registry  # noqa: F401  (every page state exists, as in the app)
from panel_app.db import transaction
from panel_app.delivery import demo_fault_choices, get_demo_faults
from panel_app.services import demo
from panel_app.state.demo import DemoState
from tests.state_harness import tab_state

CLAIMS = {"x-forwarded-for": "127.0.0.1", "x-real-ip": "127.0.0.1", "forwarded": "for=127.0.0.1",
          "host": "127.0.0.1"}


def _outbox_tab(ip: str):
    page = tab_state(DemoState, None, "/dev/outbox", ip=ip)
    root = page
    while root.parent_state is not None:
        root = root.parent_state
    root.router = RouterData.from_router_data({"headers": {"user-agent": "pytest", **CLAIMS}, "ip": ip,
                                               "pathname": "/dev/outbox", "asPath": "/dev/outbox", "query": {}})
    return page


def _ttl_and_faults() -> tuple[int, dict]:
    with transaction() as db:
        return demo.effective_ttl_seconds(db), get_demo_faults(db)


@pytest.mark.parametrize("ip", ["192.0.2.9", "10.0.0.5", "::ffff:192.0.2.9", "", "localhost", "0.0.0.0"])
def test_another_address_gets_no_outbox_and_no_control(ip):
    before = _ttl_and_faults()
    page = _outbox_tab(ip)
    page.load()
    page.refresh()
    assert not page.available and page.messages == [] and page.armed == {}
    page.set_ttl("10")
    page.arm_fault("email", demo_fault_choices("email")[0][0])
    assert _ttl_and_faults() == before and page.demo_message == ""


@pytest.mark.parametrize("ip", ["127.0.0.1", "::1"])
def test_this_machine_gets_the_outbox_and_invalid_values_are_told(ip):
    page = _outbox_tab(ip)
    page.load()
    assert page.available  # positive control: the same calls from loopback answer
    page.set_ttl("5")
    assert page.demo_message and _ttl_and_faults()[0] != 5
