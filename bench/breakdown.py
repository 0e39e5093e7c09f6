"""Issue 18 point 1: where one guarded event spends its time, on SQLite (memory state manager)
and on PostgreSQL + Redis (the panel's Redis state manager: the tab held by the worker between
events, and, as `pg_redis_unheld`, not held: two round trips per event), one backend worker each.

The server runs in a bench-only process (`breakdown.py --serve PORT`) that wraps Reflex's state
manager, the tab check, the guard, SQLAlchemy, the Redis client, the push hooks and the delta write
with timers; production code pays nothing. The client sends N sequential guarded events
(SecurityState.hide_recovery_codes on /security, live grant) twice: first untraced (server CPU and
round trips: the figures the ratio is taken from, the timers cost CPU of their own and more of it on
the path with more calls), then after SIGUSR2 has installed the timers (the parts). SIGUSR1 makes the
server write its CPU time and cumulative counters to PANEL_BENCH_TRACE_FILE; the client diffs two
snapshots around each pass.

    flock /tmp/bench.lock .venv/bin/python bench/breakdown.py [--events N]

Prints a markdown table, then the figures as JSON on the last stdout line.
Imported by bench/run.py: `measure() -> dict`, `markdown(result) -> list[str]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import os
import signal
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

EVENTS = int(os.environ.get("PANEL_BENCH_BREAKDOWN_EVENTS", "300"))

# --- server side: the wrappers ------------------------------------------------------------

_count: dict[str, int] = defaultdict(int)
_time: dict[str, float] = defaultdict(float)
_phase: contextvars.ContextVar[str] = contextvars.ContextVar("phase", default="other")


def _add(name: str, seconds: float, n: int = 1) -> None:
    _count[name] += n
    _time[name] += seconds


def _wrap_sync(owner, attr: str, name: str, phase: str | None = None, per_class: bool = False) -> None:
    original = getattr(owner, attr)

    def wrapper(*args, **kwargs):
        token = _phase.set(phase) if phase else None
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            label = f"{name}:{type(args[0]).__name__}" if per_class else name
            _add(label, time.perf_counter() - start)
            if token:
                _phase.reset(token)

    setattr(owner, attr, wrapper)


def _wrap_async(owner, attr: str, name: str, phase: str | None = None) -> None:
    original = getattr(owner, attr)

    async def wrapper(*args, **kwargs):
        token = _phase.set(phase) if phase else None
        start = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            _add(name, time.perf_counter() - start)
            if token:
                _phase.reset(token)

    setattr(owner, attr, wrapper)


def _wrap_acm(owner, attr: str, name: str) -> None:
    """An async context manager: time to enter (acquire) and to exit (release) apart."""
    original = getattr(owner, attr)

    @contextlib.asynccontextmanager
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        manager = original(*args, **kwargs)
        value = await manager.__aenter__()
        _add(f"{name} acquire", time.perf_counter() - start)
        try:
            yield value
        except BaseException:
            start = time.perf_counter()
            if not await manager.__aexit__(*sys.exc_info()):
                raise
            _add(f"{name} release", time.perf_counter() - start)
        else:
            start = time.perf_counter()
            await manager.__aexit__(None, None, None)
            _add(f"{name} release", time.perf_counter() - start)

    setattr(owner, attr, wrapper)


def install() -> None:
    """Wrap everything worth timing (bench-only process)."""
    import redis.asyncio.client as redis_client
    from reflex.app import EventNamespace
    from reflex.istate.manager import memory, redis as redis_manager
    from reflex.state import BaseState
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from panel_app.security import sessions
    from panel_app.state import guard, push, tab_check

    @event.listens_for(Engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    @event.listens_for(Engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        _add(f"sql in {_phase.get()}", time.perf_counter() - conn.info["bench_t0"].pop())

    _wrap_async(tab_check.TabCheck, "preprocess", "tab check (middleware)", phase="tab check")
    _wrap_sync(sessions, "first_row", "session read (driver cursor)")
    _wrap_sync(guard, "evaluate", "guard evaluate", phase="guard")
    for name in ("check_tab", "refresh_tabs_of_session", "sweep_once"):
        _wrap_async(push, name, f"push.{name}", phase="push")
    _wrap_async(EventNamespace, "emit_update", "delta write (emit_update)")
    _wrap_sync(BaseState, "_serialize", "pickle", per_class=True)
    original_deserialize = BaseState._deserialize.__func__

    def deserialize(cls, *args, **kwargs):
        start = time.perf_counter()
        try:
            return original_deserialize(cls, *args, **kwargs)
        finally:
            _add(f"unpickle:{cls.__name__}", time.perf_counter() - start)

    BaseState._deserialize = classmethod(deserialize)

    redis_cls = redis_manager.StateManagerRedis
    _wrap_async(redis_cls, "get_state", "redis manager get_state")
    _wrap_async(redis_cls, "set_state", "redis manager set_state")
    _wrap_acm(redis_cls, "_lock", "redis state lock")
    _wrap_acm(redis_cls, "modify_state", "redis modify_state")
    _wrap_acm(memory.StateManagerMemory, "modify_state", "memory modify_state")

    original_command = redis_client.Redis.execute_command

    async def execute_command(self, *args, **options):
        start = time.perf_counter()
        try:
            return await original_command(self, *args, **options)
        finally:
            _add(f"redis {str(args[0]).upper()}", time.perf_counter() - start)

    redis_client.Redis.execute_command = execute_command
    original_execute = redis_client.Pipeline.execute

    async def pipeline_execute(self, *args, **kwargs):
        size = len(self.command_stack)
        start = time.perf_counter()
        try:
            return await original_execute(self, *args, **kwargs)
        finally:
            _add("redis PIPELINE", time.perf_counter() - start)
            _count["redis commands in pipelines"] += size

    redis_client.Pipeline.execute = pipeline_execute

    def dump(*_):
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        Path(os.environ["PANEL_BENCH_TRACE_FILE"]).write_text(json.dumps(
            {"count": dict(_count), "time": dict(_time), "cpu": usage.ru_utime + usage.ru_stime}))

    signal.signal(signal.SIGUSR1, dump)


def serve(port: int) -> None:
    import uvicorn

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    signal.signal(signal.SIGUSR1, lambda *_: Path(os.environ["PANEL_BENCH_TRACE_FILE"]).write_text(
        json.dumps({"count": {}, "time": {}, "cpu": sum(os.times()[:2])})))
    signal.signal(signal.SIGUSR2, lambda *_: install())  # the timers, from now on
    uvicorn.run("panel_app.panel_app:app", factory=True, host="127.0.0.1", port=port, log_level="warning")


# --- client side ---------------------------------------------------------------------------


def _snapshot(proc, path: Path) -> dict:
    path.unlink(missing_ok=True)
    proc.send_signal(signal.SIGUSR1)
    for _ in range(200):
        if path.exists() and path.stat().st_size:
            time.sleep(0.05)
            return json.loads(path.read_text())
        time.sleep(0.05)
    raise RuntimeError("no trace snapshot")


async def _events(url, proc, cookie, name, trace: Path, count: int) -> dict:
    import run

    tab = await run.Tab(url, cookie).connect()
    await tab.send(run.HYDRATE_AND_LOAD, {}, "/security")

    async def one_pass():
        for _ in range(30):
            await tab.send(name, {}, "/security")
        before = _snapshot(proc, trace)
        times = [await tab.send(name, {}, "/security") for _ in range(count)]
        return before, _snapshot(proc, trace), times

    before, after, times = await one_pass()  # untraced
    proc.send_signal(signal.SIGUSR2)
    traced_before, traced_after, _ = await one_pass()
    await tab.close()
    rows = {}
    for key in traced_after["count"]:
        n = traced_after["count"][key] - traced_before["count"].get(key, 0)
        t = traced_after["time"].get(key, 0) - traced_before["time"].get(key, 0)
        if n:
            rows[key] = {"per_event": n / count, "ms_per_event": t / count * 1000}
    return {"events": count, "p50_ms": run.percentile(times, 50) * 1000, "p95_ms": run.percentile(times, 95) * 1000,
            "cpu_ms": (after["cpu"] - before["cpu"]) / count * 1000,
            "traced_cpu_ms": (traced_after["cpu"] - traced_before["cpu"]) / count * 1000, "rows": rows}


def _configuration(kind: str, count: int) -> dict:
    import subprocess

    import run
    import workers

    env = dict(os.environ)
    if kind in ("pg", "pg_unheld"):
        env.update(PANEL_DATABASE_URL=workers.DATABASE, PANEL_REDIS_URL=workers.REDIS,
                   PANEL_STATE_HOLD_SECONDS="30" if kind == "pg" else "0")
        os.environ.update(PANEL_DATABASE_URL=workers.DATABASE, PANEL_REDIS_URL=workers.REDIS)
        workers.reset()
    else:
        db = run.TMP / "breakdown.db"
        db.unlink(missing_ok=True)
        env.update(PANEL_DATABASE_URL=f"sqlite:///{db}")
        env.pop("PANEL_REDIS_URL", None)
        os.environ.update(PANEL_DATABASE_URL=f"sqlite:///{db}")
        os.environ.pop("PANEL_REDIS_URL", None)
    for command in ("migrate", "seed-demo"):
        subprocess.run([sys.executable, "-m", "panel_app.cli", command], cwd=run.ROOT, env=env, check=True,
                       capture_output=True)
    port = run.free_port()
    trace = run.TMP / f"trace-{kind}.json"
    env.update(PANEL_PUBLIC_URL=f"http://localhost:{port}", REFLEX_ENV_MODE="prod", REFLEX_SKIP_COMPILE="true",
               PANEL_BENCH_TRACE_FILE=str(trace))
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve", str(port)], cwd=run.ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=open(run.TMP / f"breakdown-{kind}.log", "wb"),
                            start_new_session=True)
    try:
        import urllib.request

        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://localhost:{port}/api/ready", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError((run.TMP / f"breakdown-{kind}.log").read_text()[-3000:]) from None
                time.sleep(0.5)
        url = f"http://localhost:{port}"
        cookies, _ = run.panel_setup(url, sessions_needed=1, totp_users=0)
        return asyncio.run(_events(url, proc, cookies[0], run.state_names()["guarded"], trace, count))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def measure(count: int = EVENTS) -> dict:
    """Both configurations, one worker each; the ratio of server CPU per guarded event."""
    import workers

    def one(kind: str) -> dict:  # own process: the database engine is made once per process
        import subprocess

        out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--config", kind, str(count)],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    result = {"sqlite": one("sqlite")}
    if workers.available():
        result["pg_redis"] = one("pg")
        result["pg_redis_unheld"] = one("pg_unheld")
        result["cpu_ratio"] = result["pg_redis"]["cpu_ms"] / result["sqlite"]["cpu_ms"]
        result["cpu_ratio_unheld"] = result["pg_redis_unheld"]["cpu_ms"] / result["sqlite"]["cpu_ms"]
    return result


def markdown(result: dict) -> list[str]:
    configs = [key for key in ("sqlite", "pg_redis", "pg_redis_unheld") if key in result]
    keys = sorted({key for config in configs for key in result[config]["rows"]})
    lines = ["| per guarded event | " + " | ".join(f"{c}: calls | {c}: ms" for c in configs) + " |",
             "|---|" + "---:|---:|" * len(configs)]
    for label, field in (("server CPU (ms), untraced", "cpu_ms"), ("round trip p50 (ms), untraced", "p50_ms"),
                         ("round trip p95 (ms), untraced", "p95_ms"), ("server CPU (ms), traced", "traced_cpu_ms")):
        lines.append(f"| **{label}** | " + " | ".join(f" | {result[c][field]:.2f}" for c in configs) + " |")
    for key in keys:
        cells = []
        for config in configs:
            row = result[config]["rows"].get(key)
            cells.append(f"{row['per_event']:.2f} | {row['ms_per_event']:.3f}" if row else " | ")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    if "cpu_ratio" in result:
        lines.append("")
        lines.append(f"Server CPU per guarded event, PostgreSQL + Redis / SQLite: **{result['cpu_ratio']:.2f}×** "
                     "(target ≤ 1.5×; untraced): the tab is held by the worker of its socket between events "
                     "(`PANEL_STATE_HOLD_SECONDS`, the default), its changes written once a second by the worker's sweep "
                     "(its CPU is in the figure). `pg_redis_unheld` (`PANEL_STATE_HOLD_SECONDS=0`), what an event costs "
                     "on a tab the worker does not hold (its first event there, a push for a tab on another worker): "
                     f"**{result['cpu_ratio_unheld']:.2f}×**. The parts are from the traced pass: times are inclusive "
                     "(a lock acquire includes its Redis commands).")
    return lines


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
        return
    if len(sys.argv) > 3 and sys.argv[1] == "--config":
        print(json.dumps(_configuration(sys.argv[2], int(sys.argv[3]))))
        return
    count = int(sys.argv[sys.argv.index("--events") + 1]) if "--events" in sys.argv else EVENTS
    result = measure(count)
    print("\n".join(markdown(result)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
