"""`make bench`: what the panel costs, next to floors measured in the same run.

Starts three servers on this machine, each on one port and one backend worker:
  * echo  - a bare python-socketio server answering every event (bench/echo.py, uvicorn);
  * bare  - a bare Reflex 0.10 app with one trivial handler (bench/bare, `reflex run --env prod`);
  * panel - this project, built and served the same way, on a throwaway SQLite database
            with the demo data, users and sessions made through the real services.
The load generator speaks Reflex's websocket protocol as the browser does (a client token,
the session cookie, hydrate_and_load, events, deltas back). Writes bench/results.md.

    .venv/bin/python bench/run.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TMP = Path(tempfile.mkdtemp(prefix="panel-bench-"))
os.environ.update(
    PANEL_ENV="demo", PANEL_DATABASE_URL=f"sqlite:///{TMP}/bench.db", PANEL_SECRET_KEY_FILE=f"{TMP}/secret.key",
    PANEL_STEPUP_TTL_SECONDS="3600", PANEL_LOG_EVENTS="0", REFLEX_TELEMETRY_ENABLED="false",
    REFLEX_USE_SYSTEM_BUN="1", PATH=f"{ROOT / 'tools' / 'node_modules' / '.bin'}:{os.environ.get('PATH', '')}",
)
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import socketio  # noqa: E402

HYDRATE_AND_LOAD = "reflex___state____state.hydrate_and_load"
# What `make run` sets (Makefile): Uvicorn under gunicorn, two malloc arenas.
MAKE_RUN_ENV = {"REFLEX_USE_GRANIAN": "false", "MALLOC_ARENA_MAX": "2"}
# Per level and server (PANEL_BENCH_MIXED_SECONDS to measure longer: a level of 6 s holds ~300
# events at 500 users, so its p95 is its 16th slowest event).
MIXED_SECONDS = float(os.environ.get("PANEL_BENCH_MIXED_SECONDS", "6"))
IDLE_SECONDS = 5
# Then the panel's memory again once idle tabs' states are packed (PANEL_IDLE_TAB_PACK_SECONDS,
# default 30, without Redis: state/tab_store.py), seconds after the tabs were opened.
PACKED_AFTER_SECONDS = 40
OWNER = ("owner@example.com", "panel-demo-owner")
DOMAIN = "schmidt-webdesign.example"


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:13]) / os.sysconf("SC_CLK_TCK")
            todo += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def rss_bytes(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            todo += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


@dataclass
class Server:
    name: str
    command: list[str]
    cwd: Path
    ready_path: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self, extra_env: dict | None = None) -> None:
        command = [part.replace("{port}", str(self.port)) for part in self.command]
        env = dict(os.environ, PANEL_PUBLIC_URL=self.url, **(extra_env or {}))
        self.log = open(TMP / f"{self.name}.log", "wb")
        self.proc = subprocess.Popen(command, cwd=self.cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait(self, timeout: float = 300) -> float:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: " + (TMP / f"{self.name}.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=2) as answer:
                    if answer.status == 200:
                        return time.time()
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


# --- the client ---------------------------------------------------------------------------


class Tab:
    """One browser tab: a socket with a client token and the session cookie."""

    def __init__(self, url: str, cookie: str | None = None):
        self.url, self.cookie = url, cookie
        self.sio = socketio.AsyncClient(reconnection=False)
        self.waiter: asyncio.Future | None = None
        self.sio.on("event", self._on_event, namespace="/_event")

    async def _on_event(self, data):
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(data)

    async def connect(self) -> Tab:
        headers = {"Origin": self.url}
        if self.cookie:
            headers["Cookie"] = f"panel_session={self.cookie}"
        await self.sio.connect(f"{self.url}?token={uuid.uuid4()}", socketio_path="/_event", namespaces=["/_event"],
                               headers=headers, transports=["websocket"], wait_timeout=30)
        return self

    async def send(self, name: str, payload: dict | None = None, path: str = "/", timeout: float = 15.0) -> float:
        """Send one event; seconds until the first answer (a delta)."""
        self.waiter = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        await self.sio.emit("event", {"name": name, "payload": payload or {},
                                      "router_data": {"pathname": path, "query": {}, "asPath": path}},
                            namespace="/_event")
        await asyncio.wait_for(self.waiter, timeout)
        return time.perf_counter() - started

    async def close(self) -> None:
        await self.sio.disconnect()


from report import mixed_tables, percentile, ratio  # noqa: E402


def redis_pid() -> int | None:
    """redis-server's pid (`INFO server` process_id), when Redis answers on this machine."""
    try:
        import redis

        return int(redis.Redis.from_url(os.environ.get("PANEL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"),
                                        socket_connect_timeout=2).info("server")["process_id"])
    except Exception:  # noqa: BLE001 - no Redis: its column stays empty
        return None


def postgres_cpu() -> dict[int, float]:
    """CPU seconds per postgres process on this machine (the postmaster's backends included)."""
    total: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    total[int(entry.name)] = sum(int(v) for v in fields[11:13]) / os.sysconf("SC_CLK_TCK")
            except (FileNotFoundError, ProcessLookupError, ValueError, PermissionError):
                continue
    return total


def postgres_cpu_since(before: dict[int, float]) -> float:
    """CPU seconds postgres processes used since ``before`` (a backend that exited meanwhile is lost;
    one that started meanwhile counts from zero)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in postgres_cpu().items())


# --- panel set-up through the real services ----------------------------------------------------


def panel_setup(url: str, sessions_needed: int, totp_users: int):
    """Logged-in sessions of the demo owner with a live grant (the cookie a browser holds)
    and users with an authenticator app (for the verification round trips)."""
    import httpx

    from panel_app.clock import utcnow
    from panel_app.db import transaction
    from panel_app.models import User
    from panel_app.security import sessions, totp
    from panel_app.services import authenticator_setup
    from panel_app.services.methods import authenticator
    from panel_app.services.accounts import create_account_with_owner
    from panel_app.services.audit import Actor

    def login(email, password):
        answer = httpx.post(url + "/api/session/login", data={"email": email, "password": password},
                            headers={"Origin": url}, follow_redirects=False, timeout=30)
        return answer.cookies["panel_session"]

    first = login(*OWNER)
    with transaction() as db:  # more sessions of the owner: the same as more logins, without the hashing
        owner = db.get(User, sessions.find_by_token(db, first).user_id)
        cookies = [first] + [sessions.create_session(db, owner, ip="127.0.0.1", user_agent="bench", now=utcnow(),
                                                     absolute_seconds=12 * 3600)[1]
                             for _ in range(sessions_needed - 1)]
        for cookie in cookies:
            sessions.start_grant(db, sessions.find_by_token(db, cookie), method="email", now=utcnow(),
                                 ttl_seconds=3600)
    verifiers = []
    now = utcnow()
    for number in range(totp_users):
        email = f"bench{number}@example.com"
        with transaction() as db:
            user = create_account_with_owner(db, email=email, password="a-long-bench-password", name="Bench")
            secret, _uri = authenticator_setup.begin_totp_enrollment(db, user, now)
            authenticator_setup.confirm_totp_enrollment(db, user, totp.code_at(secret, now), now,
                                                        Actor.for_user(user))
            app = authenticator.active_row(db, user.id)
            app.confirmed_at = now.replace(year=now.year - 1)
            db.add(app)
            _row, cookie = sessions.create_session(db, user, ip="127.0.0.1", user_agent="bench", now=now,
                                                   absolute_seconds=3600)
        verifiers.append((cookie, secret))
    return cookies, verifiers


def state_names():
    import panel_app.panel_app  # noqa: F401
    from panel_app.state.billing import InvoicesState
    from panel_app.state.dns import DnsState
    from panel_app.state.dns_parts import DnsRecordFormState
    from panel_app.state.reset import ForgotState
    from panel_app.state.security import SecurityState
    from panel_app.state.standard import ServicesState
    from panel_app.state.stepup import StepUpState

    return {"trivial": f"{ForgotState.get_full_name()}.choose_language",
            "guarded": f"{SecurityState.get_full_name()}.hide_recovery_codes",
            "choose": f"{StepUpState.get_full_name()}.choose_method",
            "verify": f"{StepUpState.get_full_name()}.verify",
            "dns_load": f"{DnsState.get_full_name()}.load",
            "dns_save": f"{DnsRecordFormState.get_full_name()}.save_record",
            "dns_edit": f"{DnsRecordFormState.get_full_name()}.start_edit",
            "services": f"{ServicesState.get_full_name()}.load",
            "invoices": f"{InvoicesState.get_full_name()}.load"}


def pickled_tab_size() -> tuple[int, int]:
    """Pickled size of one panel tab's state on /invoices with a grant, and of a bare tab."""

    import reflex as rx

    from panel_app.db import transaction
    from panel_app.models import User
    from panel_app.security import sessions
    from panel_app.state.billing import InvoicesState
    from tests.state_harness import tab_state

    with transaction() as db:
        owner = db.exec(__import__("sqlmodel").select(User).where(User.email == OWNER[0])).one()
        _row, cookie = sessions.create_session(db, owner, ip="127.0.0.1", user_agent="bench",
                                               now=__import__("panel_app.clock", fromlist=["utcnow"]).utcnow(),
                                               absolute_seconds=3600)
        sessions.start_grant(db, _row, method="email", now=_row.created_at, ttl_seconds=3600)
    page = tab_state(InvoicesState, cookie, "/invoices")
    page.load()
    root = page
    while root.parent_state is not None:
        root = root.parent_state

    def size(state) -> int:  # as the Redis state manager stores it: each state on its own
        return len(state._serialize()) + sum(size(sub) for sub in state.substates.values())

    return size(root), size(rx.State(_reflex_internal_init=True))


# --- measurements -------------------------------------------------------------------------------


async def round_trips(url: str, pid: int, cookie: str | None, name: str, payload: dict, path: str,
                      count: int) -> dict:
    tab = await Tab(url, cookie).connect()
    if cookie:
        await tab.send(HYDRATE_AND_LOAD, {}, path)
    for _ in range(20):  # warm up
        await tab.send(name, payload, path)
    cpu0 = cpu_seconds(pid)
    times = [await tab.send(name, payload, path) for _ in range(count)]
    cpu = cpu_seconds(pid) - cpu0
    await tab.close()
    return {"p50": percentile(times, 50) * 1000, "p95": percentile(times, 95) * 1000,
            "p99": percentile(times, 99) * 1000, "cpu_ms": cpu / count * 1000}


async def verifications(url: str, pid: int, names: dict, verifiers: list) -> dict:
    import pyotp

    tabs = [await Tab(url, cookie).connect() for cookie, _ in verifiers]
    for tab in tabs:
        await tab.send(HYDRATE_AND_LOAD, {}, "/invoices")
        await tab.send(names["choose"], {"method": "totp"}, "/invoices")
    cpu0 = cpu_seconds(pid)
    times = [await tab.send(names["verify"], {"form_data": {"code": pyotp.TOTP(secret).now()}}, "/invoices")
             for tab, (_cookie, secret) in zip(tabs, verifiers, strict=True)]
    cpu = cpu_seconds(pid) - cpu0
    await asyncio.gather(*(tab.close() for tab in tabs))
    return {"p50": percentile(times, 50) * 1000, "p95": percentile(times, 95) * 1000,
            "p99": percentile(times, 99) * 1000, "cpu_ms": cpu / len(times) * 1000}


async def open_tabs(url: str, cookies: list[str | None], count: int, hydrate_path: str | None) -> list[Tab]:
    semaphore = asyncio.Semaphore(200)

    async def one(index):
        async with semaphore:
            tab = await Tab(url, cookies[index % len(cookies)] if cookies else None).connect()
            if hydrate_path:
                await tab.send(HYDRATE_AND_LOAD, {}, hydrate_path, timeout=120)
            return tab

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def mixed(url: str, pid: int, tabs: list[Tab], actions, seconds: float) -> dict:
    """Every tab does one action about every 5 s (random phase) for ``seconds``."""
    latencies, errors = [], 0
    stop = time.perf_counter() + seconds

    async def user(tab: Tab, index: int):
        nonlocal errors
        await asyncio.sleep(random.uniform(0, 5))
        step = index
        while time.perf_counter() < stop:
            name, payload, path = actions(index, step)
            try:
                latencies.append(await tab.send(name, payload, path, timeout=10))
            except (asyncio.TimeoutError, socketio.exceptions.SocketIOError):
                errors += 1
            step += 1
            await asyncio.sleep(5)

    rpid = redis_pid()
    cpu0, redis0, pg0, started = cpu_seconds(pid), rpid and cpu_seconds(rpid), postgres_cpu(), time.perf_counter()
    await asyncio.gather(*(user(tab, i) for i, tab in enumerate(tabs)))
    elapsed = time.perf_counter() - started
    return {"events_s": len(latencies) / elapsed, "p50": percentile(latencies, 50) * 1000,
            "p95": percentile(latencies, 95) * 1000, "p99": percentile(latencies, 99) * 1000, "errors": errors,
            "cpu": (cpu_seconds(pid) - cpu0) / elapsed,
            "redis_cpu": (cpu_seconds(rpid) - redis0) / elapsed if rpid else None,
            "pg_cpu": postgres_cpu_since(pg0) / elapsed}


async def quiet(pid: int, limit: float = 60) -> None:
    """Wait until the server has worked off what the last phase left (closed tabs emptied)."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        if await idle(pid, 1.0) < 0.05:
            return


async def idle(pid: int, seconds: float) -> float:
    cpu0 = cpu_seconds(pid)
    await asyncio.sleep(seconds)
    return (cpu_seconds(pid) - cpu0) / seconds


def first_load(url: str, path: str, wait_for: str, cookie: str | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        context = browser.new_context()
        if cookie:  # signed in and verified: the gated page shows its data
            context.add_cookies([{"name": "panel_session", "value": cookie, "url": url}])
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url + path)
        page.locator(wait_for).first.wait_for(timeout=30_000)
        content = time.perf_counter() - started
        page.wait_for_load_state("networkidle")
        sizes = page.evaluate("""() => performance.getEntriesByType('resource').concat(
            performance.getEntriesByType('navigation')).reduce((acc, e) => {
              const kind = e.name.endsWith('.css') ? 'css' : (e.name.endsWith('.js') ? 'js' : 'other');
              acc[kind] = (acc[kind] || 0) + (e.encodedBodySize || 0); return acc; }, {})""")
        browser.close()
    return {"content_ms": content * 1000, **{k: v / 1024 for k, v in sizes.items()}}


# --- the run --------------------------------------------------------------------------------


_BEGAN = time.time()


def progress(what: str) -> None:
    """A line on stderr per step (the run takes minutes)."""
    print(f"[{time.time() - _BEGAN:6.1f} s] {what}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer events and users (a smoke run)")
    args = parser.parse_args()
    levels = [10, 100] if args.quick else [10, 100, 500, 1000]
    idle_levels = [200] if args.quick else [1000, 5000]
    trips = 100 if args.quick else 400
    began = time.time()

    subprocess.run([sys.executable, "-m", "panel_app.cli", "migrate"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "panel_app.cli", "seed-demo"], cwd=ROOT, check=True, capture_output=True)
    reflex = str(ROOT / ".venv" / "bin" / "reflex")
    echo = Server("echo", [sys.executable, "-m", "uvicorn", "echo:app", "--port", "{port}", "--log-level", "warning"],
                  ROOT / "bench", "/_event/?EIO=4&transport=polling")
    bare = Server("bare", [reflex, "run", "--env", "prod", "--frontend-port", "{port}", "--backend-port", "{port}",
                           "--loglevel", "warning"], ROOT / "bench" / "bare", "/")
    panel = Server("panel", [reflex, "run", "--env", "prod", "--frontend-port", "{port}", "--backend-port",
                             "{port}", "--loglevel", "warning"], ROOT, "/api/ready")
    servers = [echo, bare, panel]
    try:
        for server in servers:  # bare and panel on the server `make run` uses (Makefile)
            server.start(None if server is echo else MAKE_RUN_ENV)
        for server in servers:
            server.wait()
        progress("servers up")
        names = state_names()
        cookies, verifiers = panel_setup(panel.url, sessions_needed=max(levels + idle_levels) // 50 + 2,
                                         totp_users=40 if args.quick else 100)
        results = asyncio.run(measure(args, echo, bare, panel, names, cookies, verifiers, levels, idle_levels, trips))
        asyncio.run(quiet(panel.proc.pid))
        progress("measured")
        results["pickled"] = pickled_tab_size()
        results["first_load"] = {
            "bare /": first_load(bare.url, "/", "h1"),
            "panel /login": first_load(panel.url, "/login", "#login-submit"),
            "panel /invoices (verified)": first_load(panel.url, "/invoices", "th:has-text('2026-')", cookies[-1]),
        }
    finally:
        for server in servers:
            server.stop()
    progress("first loads")
    results["workers"] = compare_workers(args.quick)
    progress("workers")
    results["breakdown"] = breakdown()
    progress("breakdown")
    results["seconds"] = time.time() - began
    write_results(results, levels, idle_levels)
    shutil.rmtree(TMP, ignore_errors=True)


def breakdown() -> list[str] | None:
    """bench/breakdown.py's per-event breakdown, when that module exists."""
    import importlib
    import importlib.util

    if importlib.util.find_spec("breakdown") is None:
        return None
    try:
        module = importlib.import_module("breakdown")
        return module.markdown(module.measure())
    except Exception as error:  # noqa: BLE001 - the rest of the report stays
        return [f"failed: {type(error).__name__}: {str(error)[:300]}"]


def compare_workers(quick: bool) -> dict | str:
    """1 vs 2 workers on PostgreSQL + Redis (bench/workers.py), when both answer."""
    import workers

    if not workers.available():
        return "skipped: PostgreSQL or Redis did not answer (PANEL_BENCH_DATABASE_URL, PANEL_BENCH_REDIS_URL)"
    env = dict(os.environ, PANEL_BENCH_WORKER_LEVELS="10,100" if quick else "10,100,500,1000")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "workers.py")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        return "failed: " + done.stderr[-500:].replace("\n", " ")
    return __import__("json").loads(done.stdout.strip().splitlines()[-1])


async def measure(args, echo, bare, panel, names, cookies, verifiers, levels, idle_levels, trips) -> dict:
    bare_bump = "reflex___state____state.bare___bare____bare_state.bump"
    results = {"rtt": {}, "mixed": {}, "idle": {}}
    results["rtt"]["echo (python-socketio)"] = await round_trips(echo.url, echo.proc.pid, None, "echo", {}, "/",
                                                                trips)
    results["rtt"]["bare Reflex: trivial handler"] = await round_trips(bare.url, bare.proc.pid, None, bare_bump, {},
                                                                      "/", trips)
    results["rtt"]["panel: trivial unguarded handler"] = await round_trips(
        panel.url, panel.proc.pid, None, names["trivial"], {"lang": "en"}, "/forgot", trips)
    results["rtt"]["panel: guarded handler, live grant"] = await round_trips(
        panel.url, panel.proc.pid, cookies[0], names["guarded"], {}, "/security", trips)
    results["rtt"]["panel: code verification (app)"] = await verifications(panel.url, panel.proc.pid, names,
                                                                           verifiers)
    dns_path = f"/domains/{DOMAIN}"
    record = dns_record()
    results["rtt"]["panel: DNS record change"] = await round_trips_dns(panel, names, cookies[1], dns_path,
                                                                      trips // 2, record)

    def panel_actions(index, step):
        kind = step % 4
        if kind == 0:  # opens a gated page
            return names["dns_load"], {}, dns_path
        if kind == 1:  # edits a DNS record there: opens the form ...
            return names["dns_edit"], {"record_id": str(record.id)}, dns_path
        if kind == 2:  # ... and saves a new TTL (the zone keeps its size, as in real use)
            return names["dns_save"], {"form_data": record_form(record, 300 + step % 3000)}, dns_path
        return names["services"], {}, "/services"  # opens a standard page

    progress("round trips done")
    for level in levels:
        progress(f"mixed {level}")
        tabs = await open_tabs(bare.url, [], level, "/")
        await quiet(bare.proc.pid)  # the steady state: what the tabs' first loads left is worked off
        floor = await mixed(bare.url, bare.proc.pid, tabs, lambda i, s: (bare_bump, {}, "/"), MIXED_SECONDS)
        await asyncio.gather(*(t.close() for t in tabs))
        tabs = await open_tabs(panel.url, cookies, level, "/dashboard")
        await quiet(panel.proc.pid)
        busy = await mixed(panel.url, panel.proc.pid, tabs, panel_actions, MIXED_SECONDS)
        await asyncio.gather(*(t.close() for t in tabs))
        await quiet(panel.proc.pid)
        results["mixed"][level] = (busy, floor)

    for count in idle_levels:
        progress(f"idle {count}")
        base_echo, base_panel = rss_bytes(echo.proc.pid), rss_bytes(panel.proc.pid)
        echo_tabs = await open_tabs(echo.url, [], count, None)
        echo_cpu = await idle(echo.proc.pid, IDLE_SECONDS)
        echo_mem = rss_bytes(echo.proc.pid) - base_echo
        await asyncio.gather(*(t.close() for t in echo_tabs))
        panel_tabs = await open_tabs(panel.url, cookies, count, "/help")
        await asyncio.sleep(2)
        panel_cpu = await idle(panel.proc.pid, IDLE_SECONDS)
        panel_mem = rss_bytes(panel.proc.pid) - base_panel
        await asyncio.sleep(PACKED_AFTER_SECONDS - 2 - IDLE_SECONDS)
        panel_mem_packed = rss_bytes(panel.proc.pid) - base_panel
        await asyncio.gather(*(t.close() for t in panel_tabs))
        await quiet(panel.proc.pid)
        results["idle"][count] = {"panel_cpu": panel_cpu, "echo_cpu": echo_cpu, "panel_mem": panel_mem,
                                  "panel_mem_packed": panel_mem_packed, "echo_mem": echo_mem}
    return results


def dns_record():
    """The demo zone's www record: every DNS change of the run edits it (a new TTL)."""
    from sqlmodel import select

    from panel_app.db import transaction
    from panel_app.models import DnsRecord, Domain

    with transaction() as db:
        domain = db.exec(select(Domain).where(Domain.name == DOMAIN)).one()
        return db.exec(select(DnsRecord).where(DnsRecord.domain_id == domain.id, DnsRecord.rtype == "A")
                       .order_by(DnsRecord.id)).first()


def record_form(record, ttl: int) -> dict:
    return {"rtype": record.rtype, "name": record.name, "ttl": str(ttl), "value": record.value}


async def round_trips_dns(panel, names, cookie, path, count, record) -> dict:
    tab = await Tab(panel.url, cookie).connect()
    await tab.send(HYDRATE_AND_LOAD, {}, path)
    await tab.send(names["dns_load"], {}, path)
    await tab.send(names["dns_edit"], {"record_id": str(record.id)}, path)
    cpu0 = cpu_seconds(panel.proc.pid)
    times = []
    for number in range(count):
        times.append(await tab.send(names["dns_save"], {"form_data": record_form(record, 300 + number)}, path))
    cpu = cpu_seconds(panel.proc.pid) - cpu0
    await tab.close()
    return {"p50": percentile(times, 50) * 1000, "p95": percentile(times, 95) * 1000,
            "p99": percentile(times, 99) * 1000, "cpu_ms": cpu / count * 1000}


def write_results(results: dict, levels, idle_levels) -> None:
    import reflex

    rtt = results["rtt"]
    floor = rtt["bare Reflex: trivial handler"]
    echo = rtt["echo (python-socketio)"]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC} in "
        f"{results['seconds']:.0f} s. Machine: {platform.node()}, {os.cpu_count()} cores, "
        f"{platform.platform()}, Python {platform.python_version()}, Reflex {reflex.__version__ if hasattr(reflex, '__version__') else '0.10'}. "
        "One backend worker each, SQLite; the load generator runs on the same machine (shared, noisy: "
        "read ratios, not absolutes). Floors: a bare python-socketio echo server and a bare Reflex app with "
        "one trivial handler, both measured in this run.",
        "",
        "## Round trips (sequential events on one socket)",
        "",
        "| event | p50 ms | p95 ms | p99 ms | server CPU per event ms | CPU vs bare Reflex | p50 vs echo | "
        "events/s one worker (1 core) can serve |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rtt.items():
        lines.append(f"| {name} | {row['p50']:.2f} | {row['p95']:.2f} | {row['p99']:.2f} | {row['cpu_ms']:.2f} | "
                     f"{ratio(row['cpu_ms'], floor['cpu_ms'])} | {ratio(row['p50'], echo['p50'])} | "
                     f"{1000 / row['cpu_ms']:.0f} |")
    configs = {"SQLite, 1 worker": {level: results["mixed"][level][0] for level in levels}}
    compared = results["workers"]
    if not isinstance(compared, str):
        for count, label in (("1", "PostgreSQL + Redis, 1 worker"), ("2", "PostgreSQL + Redis, 2 workers")):
            configs[label] = {int(k): v for k, v in compared["results"][count].items()}
    floors = {level: results["mixed"][level][1] for level in levels}
    lines += ["", "## Mixed workload per configuration", "",
              "Each user opens the DNS page, edits a record's TTL, opens a standard page: one action about every "
              f"5 s, {MIXED_SECONDS} s per level (short: the whole run stays near 10 minutes; at 10 users a level "
              "holds a dozen events, read its percentiles as rough). Each level starts once the tabs' first page loads are worked off (the steady state, not the tail of 1,000 tabs opening at once). The floor of every ratio is a bare Reflex app "
              "(one trivial handler, one worker) under the same number of users in this run. Worker CPU: the panel's "
              "server process tree. Redis CPU: redis-server (its pid from `INFO server`). PostgreSQL CPU: every "
              "postgres process on the machine (postmaster, backends, background writers), used only by this run "
              "while it measures, except that other sessions on this shared machine may use the same servers "
              "(their share is included, so read these two columns as upper bounds). The SQLite rows show them "
              "for reference (near zero). The load generator runs on the same 2 cores.",
              "", "Bare Reflex floor: " + ", ".join(f"{level} users p95 {floors[level]['p95']:.1f} ms, "
                                                   f"{floors[level]['cpu']:.3f} cores" for level in levels) + "."]
    if isinstance(compared, str):
        lines += ["", "PostgreSQL + Redis: " + compared]
    lines += mixed_tables(configs, floors, levels)
    lines += ["", "## Per-event breakdown (PostgreSQL + Redis next to SQLite)", ""]
    lines += results.get("breakdown") or ["not measured"]
    lines += ["", f"## Idle open tabs (connected and loaded, then no input for {IDLE_SECONDS} s)", "",
              "| tabs | panel CPU cores | echo CPU cores | panel memory MiB | echo memory MiB | "
              "panel memory per tab KiB | echo per connection KiB | panel per tab KiB after "
              f"{PACKED_AFTER_SECONDS} s (idle tabs packed) |", "|---|---|---|---|---|---|---|---|"]
    for count in idle_levels:
        row = results["idle"][count]
        lines.append(f"| {count} | {row['panel_cpu']:.4f} | {row['echo_cpu']:.4f} | "
                     f"{row['panel_mem'] / 2**20:.1f} | {row['echo_mem'] / 2**20:.1f} | "
                     f"{row['panel_mem'] / count / 1024:.1f} | {row['echo_mem'] / count / 1024:.1f} | "
                     f"{row['panel_mem_packed'] / count / 1024:.1f} |")
    lines += ["", "The levels run one after the other on the server of the mixed workload: a level reuses memory "
              "the levels before it freed (bench/tab_memory.py measures fresh servers)."]
    panel_size, bare_size = results["pickled"]
    lines += ["", f"Pickled state of one tab on /invoices with a grant: {panel_size / 1024:.1f} KiB "
              f"(a bare Reflex tab: {bare_size / 1024:.1f} KiB, {ratio(panel_size, bare_size)}).", "",
              "## First load (Chromium, empty cache)", "",
              "| page | time to content ms | JS KiB | CSS KiB | other KiB |", "|---|---|---|---|---|"]
    for name, row in results["first_load"].items():
        lines.append(f"| {name} | {row['content_ms']:.0f} | {row.get('js', 0):.0f} | {row.get('css', 0):.0f} | "
                     f"{row.get('other', 0):.0f} |")
    target = ROOT / "bench" / "results.md"
    kept = target.read_text().partition(TAB_MEMORY_HEADING)[1:] if target.exists() else ("", "")
    if kept[0]:  # measured by bench/tab_memory.py, not by this run: kept as it was
        lines += ["", kept[0] + kept[1].rstrip("\n")]
    target.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


TAB_MEMORY_HEADING = "## Memory per idle tab, where it goes"


if __name__ == "__main__":
    main()
