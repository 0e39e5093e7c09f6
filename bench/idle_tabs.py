"""What idle open pages cost a running panel: N tabs connect as the browser does
(websocket with a session cookie, hydrate_and_load on a sensitive page with a live
grant), then sit idle. Prints the server's CPU and the events the tabs sent during
the idle window, next to the same window with no tabs (the floor, same run).

    .venv/bin/python bench/idle_tabs.py URL SERVER_PID [tabs] [idle_seconds]

URL is a panel started with `reflex run --env prod` (demo data seeded) and SERVER_PID
the pid of its backend process (for /proc/<pid>/stat, children included). The panel's
database settings (PANEL_DATABASE_URL, PANEL_SECRET_KEY_FILE) must be exported too:
the grants are started directly in the database.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

import httpx
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from panel_app.clock import utcnow  # noqa: E402
from panel_app.db import transaction  # noqa: E402
from panel_app.security import sessions, tabs  # noqa: E402

HYDRATE_AND_LOAD = "reflex___state____state.hydrate_and_load"
TABS_PER_LOGIN = tabs.MAX_TABS_PER_SESSION


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its descendants (their reaped and live children)."""
    total = 0.0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
            todo += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def login(url: str) -> str:
    response = httpx.post(url + "/api/session/login", data={"email": "owner@example.com",
                                                            "password": "panel-demo-owner"},
                          headers={"Origin": url}, follow_redirects=False, timeout=30)
    token = response.cookies["panel_session"]
    with transaction() as db:
        sessions.start_grant(db, sessions.find_by_token(db, token), method="email", now=utcnow(),
                             ttl_seconds=3600)
    return token


async def open_tab(url: str, cookie: str, sent: list[int]) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    loaded = asyncio.Event()
    client.on("event", lambda _data: loaded.set(), namespace="/_event")
    await client.connect(f"{url}?token={uuid.uuid4()}", socketio_path="/_event", namespaces=["/_event"],
                         headers={"Cookie": f"panel_session={cookie}", "Origin": url}, transports=["websocket"])
    await client.emit("event", {"name": HYDRATE_AND_LOAD, "payload": {},
                                "router_data": {"pathname": "/invoices", "query": {}, "asPath": "/invoices"}},
                      namespace="/_event")
    sent[0] += 1
    await asyncio.wait_for(loaded.wait(), 30)
    return client


async def measure(url: str, pid: int, count: int, idle: float) -> None:
    start = cpu_seconds(pid)
    await asyncio.sleep(idle)
    floor = (cpu_seconds(pid) - start) / idle

    cookies = [login(url) for _ in range((count + TABS_PER_LOGIN - 1) // TABS_PER_LOGIN)]
    sent = [0]
    clients = []
    for index in range(count):
        clients.append(await open_tab(url, cookies[index // TABS_PER_LOGIN], sent))
    await asyncio.sleep(3)  # the page loads settle
    events_before, start = sent[0], cpu_seconds(pid)
    await asyncio.sleep(idle)
    busy = (cpu_seconds(pid) - start) / idle
    print(f"{count} idle tabs over {idle:.0f} s: server CPU {busy:.4f} cores "
          f"(floor with no tabs {floor:.4f} cores, difference {busy - floor:+.4f}); "
          f"events sent while idle: {sent[0] - events_before}")
    await asyncio.gather(*(client.disconnect() for client in clients))


if __name__ == "__main__":
    target, server_pid = sys.argv[1], int(sys.argv[2])
    tab_count = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    idle_seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0
    started = time.monotonic()
    asyncio.run(measure(target.rstrip("/"), server_pid, tab_count, idle_seconds))
    print(f"(took {time.monotonic() - started:.0f} s)")
