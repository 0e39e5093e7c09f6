"""Part of `make bench`: the mixed workload against 1 and against 2 backend workers behind one
port (uvicorn --workers, the Reflex app factory), on PostgreSQL with Redis as Reflex's state
manager. Run by bench/run.py when both answer; prints its figures as one JSON line.

    PANEL_BENCH_DATABASE_URL  default postgresql+psycopg://postgres@127.0.0.1:5432/panel_bench
    PANEL_BENCH_REDIS_URL     default redis://127.0.0.1:6379/7  (flushed)
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (sets the demo environment; the database is replaced below)

DATABASE = os.environ.get("PANEL_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/panel_bench")
REDIS = os.environ.get("PANEL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
LEVELS = [int(v) for v in os.environ.get("PANEL_BENCH_WORKER_LEVELS", "10,100,500,1000").split(",")]


def available() -> bool:
    """PostgreSQL and Redis answer (the bench database is created when missing)."""
    try:
        import psycopg
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
        server, name = DATABASE.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)
        with psycopg.connect(server + "/postgres", autocommit=True, connect_timeout=3) as connection:
            if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                connection.execute(f'CREATE DATABASE "{name}"')
        return True
    except Exception:  # noqa: BLE001 - anything missing: the part is skipped and said so
        return False


def reset() -> None:
    import psycopg
    import redis

    with psycopg.connect(DATABASE.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    redis.Redis.from_url(REDIS).flushdb()


def start(workers: int, port: int) -> subprocess.Popen:
    env = dict(os.environ, PANEL_PUBLIC_URL=f"http://localhost:{port}", REFLEX_ENV_MODE="prod",
               REFLEX_SKIP_COMPILE="true", MALLOC_ARENA_MAX="2")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "panel_app.panel_app:app", "--host",
                             "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
                            cwd=run.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/api/ready", timeout=2) as answer:
                if answer.status == 200:
                    time.sleep(2 * workers)  # every worker up, not only the first
                    return proc
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("workers did not start")


async def load(url: str, pid: int, names: dict, cookies: list[str]) -> dict:
    """Every level of the mixed workload on one running server (worker, Redis and PostgreSQL CPU)."""
    record = run.dns_record()
    path = f"/domains/{run.DOMAIN}"

    def actions(index, step):
        kind = step % 4
        if kind == 0:
            return names["dns_load"], {}, path
        if kind == 1:
            return names["dns_edit"], {"record_id": str(record.id)}, path
        if kind == 2:
            return names["dns_save"], {"form_data": run.record_form(record, 300 + step % 3000)}, path
        return names["services"], {}, "/services"

    results = {}
    for users in LEVELS:
        run.progress(f"workers: {users} users")
        tabs = await run.open_tabs(url, cookies, users, "/dashboard")
        await run.quiet(pid, limit=30)  # the tabs' first loads worked off, as in run.py
        results[users] = await run.mixed(url, pid, tabs, actions, run.MIXED_SECONDS)
        await asyncio.gather(*(tab.close() for tab in tabs))
        await run.quiet(pid, limit=30)
    return results


def main() -> None:
    os.environ.update(PANEL_DATABASE_URL=DATABASE, PANEL_REDIS_URL=REDIS)
    reset()
    subprocess.run([sys.executable, "-m", "panel_app.cli", "migrate"], cwd=run.ROOT, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "panel_app.cli", "seed-demo"], cwd=run.ROOT, check=True,
                   capture_output=True)
    names = run.state_names()
    results = {}
    for workers in (1, 2):
        port = run.free_port()
        proc = start(workers, port)
        try:
            url = f"http://localhost:{port}"
            cookies, _ = run.panel_setup(url, sessions_needed=max(LEVELS) // 50 + 2, totp_users=0)
            results[workers] = asyncio.run(load(url, proc.pid, names, cookies))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    print(json.dumps({"levels": LEVELS, "results": results}))


if __name__ == "__main__":
    main()
