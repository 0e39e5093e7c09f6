"""Browser tests: a real panel server (production build) and Debian's Chromium.

The server runs `reflex run --env prod` on a free port with its own database
(SQLite file, or PostgreSQL + Redis when CI sets PANEL_TEST_DATABASE_URL and
PANEL_TEST_REDIS_URL), migrated and seeded with the demo data once.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
AXE_JS = ROOT / "tools" / "node_modules" / "axe-core" / "axe.min.js"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _clean_tables():
    """Browser tests share one seeded server database: do not empty it."""
    yield


def server_env(tmp: str, **extra: str) -> dict:
    env = dict(os.environ)
    env.update(
        PANEL_ENV="demo",
        PANEL_DATABASE_URL=os.environ["PANEL_DATABASE_URL"],
        PANEL_SECRET_KEY_FILE=os.environ["PANEL_SECRET_KEY_FILE"],
        PANEL_STEPUP_TTL_SECONDS="600",
        PANEL_LOG_EVENTS="1",  # every event and request in the log: tests/browser/test_zz_logs.py greps it
        PATH=f"{ROOT / 'tools' / 'node_modules' / '.bin'}:{env.get('PATH', '')}",
        REFLEX_USE_SYSTEM_BUN="1",
        REFLEX_TELEMETRY_ENABLED="false",
    )
    if os.environ.get("PANEL_TEST_REDIS_URL"):
        env["PANEL_REDIS_URL"] = os.environ["PANEL_TEST_REDIS_URL"]
    env.update(extra)
    return env


class PanelServer:
    """`reflex run --env prod` on a free port, from ``cwd`` (the project, or a copy of it)."""

    def __init__(self, cwd: Path, **extra_env: str):
        self.tmp = Path(tempfile.mkdtemp(prefix="panel-browser-"))
        self.port = _free_port()
        self.url = f"http://localhost:{self.port}"
        self.log_path = self.tmp / "server.log"
        env = server_env(str(self.tmp), PANEL_PUBLIC_URL=self.url, **extra_env)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "reflex"), "run", "--env", "prod", "--frontend-port", str(self.port),
                 "--backend-port", str(self.port), "--loglevel", "info"],
                cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.time() + 300
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("panel server exited:\n" + self.log_path.read_text()[-4000:])
            try:
                with urllib.request.urlopen(self.url + "/login", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(1)
        self.stop()
        raise RuntimeError("panel server did not start:\n" + self.log_path.read_text()[-4000:])

    def stop(self) -> None:
        os.killpg(self.proc.pid, 15)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)


@pytest.fixture(scope="session")
def panel_server(_schema):
    subprocess.run([sys.executable, "-m", "panel_app.cli", "seed-demo"], cwd=ROOT, env=server_env(""), check=True)
    server = PanelServer(ROOT)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def panel_url(panel_server):
    return panel_server.url


@pytest.fixture(scope="session")
def server_log(panel_server) -> Path:
    return panel_server.log_path


@contextmanager
def server_on_a_copy(prefix: str, **extra_env: str) -> Iterator[PanelServer]:
    """A second server with settings of its own (``PANEL_*`` in ``extra_env``). It runs from
    a copy of the project, built frontend included, since the build names its own port."""
    copy = Path(tempfile.mkdtemp(prefix=prefix)) / "panel"
    top_level_skip = {".venv", ".git", "data", "tools", ".states"}
    shutil.copytree(ROOT, copy, symlinks=True,
                    ignore=lambda folder, names: top_level_skip & set(names) if Path(folder) == ROOT else [])
    (copy / "tools").symlink_to(ROOT / "tools")
    server = PanelServer(copy, **extra_env)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(copy.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def short_idle_url(panel_server):
    """A second server whose sessions end after 20 s without a user action."""
    with server_on_a_copy("panel-idle-", PANEL_SESSION_IDLE_SECONDS="20") as server:
        yield server.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture
def axe():
    source = AXE_JS.read_text()

    def audit(page) -> list[dict]:
        # Through the debugging protocol, as the page's own CSP forbids inline scripts.
        page.evaluate("() => {" + source + "\n}")
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]

    return audit
