"""A PostgreSQL cluster, a Redis and the panel's backend workers of their own, for the tests
and benches that stop and start them (tests/browser/test_faults.py, tests/browser/
test_faults_workers.py, bench/faults.py). The machine's shared PostgreSQL and Redis are never
touched: each server here runs from a temporary folder on a free port.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_binary(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return found[-1] if found else shutil.which(name)


def missing_binaries() -> list[str]:
    """What a private PostgreSQL and Redis need and this machine lacks."""
    missing = [name for name in ("redis-server",) if shutil.which(name) is None]
    return missing + [name for name in ("initdb", "pg_ctl") if postgres_binary(name) is None]


def wait_until(condition, message: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(message)


class PrivateRedis:
    """A throw-away redis-server (no persistence: a restart empties it, as a failover may)."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = folder / "redis.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--logfile", str(self.log)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_until(lambda: redis_answers(self.port), "private redis did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def redis_answers(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


class PrivatePostgres:
    """A cluster of its own in ``folder`` (trust authentication, no fsync), run as the
    ``postgres`` user when the tests run as root (PostgreSQL refuses root)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(folder, "postgres")
        subprocess.run(self.as_user + [postgres_binary("initdb"), "-D", str(self.data), "-A", "trust", "-U",
                                       "postgres", "--no-sync"], check=True, capture_output=True)

    def _ctl(self, *args: str) -> None:
        subprocess.run(self.as_user + [postgres_binary("pg_ctl"), "-D", str(self.data), *args], check=True,
                       capture_output=True, timeout=120)

    def start(self) -> None:
        self._ctl("-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c max_connections=200",
                  "-l", str(self.folder / "postgres.log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop")

    def stop_quietly(self) -> None:
        try:
            self.stop("immediate")
        except (subprocess.SubprocessError, OSError):
            pass


def run_cli(env: dict, *command: str) -> None:
    """``python -m panel_app.cli ...`` with ``env`` (migrate, seed-demo, create-user)."""
    subprocess.run([sys.executable, "-m", "panel_app.cli", *command], cwd=ROOT, env=env, check=True,
                   capture_output=True)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


class PrivateWorker:
    """The panel's backend (uvicorn, the Reflex app factory) with ``workers`` worker
    processes behind one port, as bench/workers.py and docs/deploy.md start it; its
    output (every worker's) goes to ``folder/worker.log``. ``public_url``: the address the
    browser sees (another worker's, as behind a load balancer), else its own."""

    def __init__(self, folder: Path, env: dict, workers: int = 1, public_url: str | None = None):
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.log = folder / "worker.log"
        self.workers = workers
        self.env = dict(env, PANEL_PUBLIC_URL=public_url or self.url, REFLEX_ENV_MODE="prod",
                        REFLEX_SKIP_COMPILE="true")
        command = [sys.executable, "-m", "uvicorn", "--factory", "panel_app.panel_app:app", "--host", "127.0.0.1",
                   "--port", str(self.port)]
        if workers > 1:
            command += ["--workers", str(workers)]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text()[-3000:])
            if self._ready() and (workers == 1 or len(self.worker_pids()) >= workers):
                if workers > 1:
                    time.sleep(2 * workers)  # every worker serving, not only the first
                return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError("worker did not start:\n" + self.log.read_text()[-3000:])

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/api/ready", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        """The serving processes: the one process, or the supervisor's workers."""
        if self.workers == 1:
            return [self.proc.pid] if self.proc.poll() is None else []
        return sorted(pid for pid in _children(self.proc.pid) if "resource_tracker" not in _cmdline(pid))

    def health(self) -> tuple[int, dict]:
        import httpx

        answer = httpx.get(self.url + "/api/health", timeout=20)
        return answer.status_code, answer.json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


@dataclass
class PrivateStack:
    folder: Path
    redis: PrivateRedis
    postgres: PrivatePostgres
    workers: list = field(default_factory=list)  # stopped first, before both servers
    keep_folder: bool = False  # e.g. to read a worker's log afterwards


@contextlib.contextmanager
def private_servers(prefix: str):
    """A private Redis and PostgreSQL in a new temporary folder (check missing_binaries() first);
    on the way out the workers added to ``workers`` stop, then both servers, then the folder goes."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    stack = PrivateStack(folder, PrivateRedis(folder), PrivatePostgres(folder))
    stack.redis.start()
    stack.postgres.start()
    try:
        yield stack
    finally:
        for worker in stack.workers:
            worker.stop()
        stack.redis.stop()
        stack.postgres.stop_quietly()
        if not stack.keep_folder:
            shutil.rmtree(folder, ignore_errors=True)
