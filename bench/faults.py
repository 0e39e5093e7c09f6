"""Under faults: the mixed workload of bench/run.py on PostgreSQL + Redis with TWO backend
workers (uvicorn --workers 2 --factory panel_app.panel_app:app, as bench/workers.py starts
them) while Redis, then PostgreSQL, is stopped for a few seconds and started again.

Run by hand (not part of `make bench`; about 3 minutes, wrap it in the bench lock):

    flock /tmp/bench.lock .venv/bin/python bench/faults.py [--users 300] [--seconds 45]

It starts its own PostgreSQL cluster and Redis (tests/private_servers.py; the machine's shared
servers are never touched), migrates and seeds the demo data, starts the two workers and opens
``--users`` tabs of the demo owner on /dashboard. Each user then does one action about every
5 s: opens the DNS page, opens a record's form, saves it with a TTL no other save uses, opens
/services. At ``--redis-at`` s Redis is stopped for ``--down`` s (a restart: its data is gone),
at ``--postgres-at`` s PostgreSQL (pg_ctl stop -m fast, then start). One session's grant is
set to end in the middle of PostgreSQL's outage: its tabs must see no data after that.

Measured per phase (before = the floor of the same run; Redis down; after Redis; PostgreSQL
down; after): events sent, answered, answered "try again" (the panel's toast, id
``panel_unavailable``), Reflex's "An error occurred" toast, timeouts (no answer in 10 s),
socket errors, p50/p95 of the answered; tracebacks in the workers' log (must be 0); the time
from a part being back to the first normal answer and to the last "try again"; /api/health
polled every 0.5 s (what it said of each part). After the run: every save answered "saved"
is in the database (its TTL in the zone's audit rows, one DNS change per audit row), the
ended grant was not extended and its tabs got no data afterwards, the same worker processes
serve (no restart). Prints a markdown table and one JSON line (last line of stdout).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (the demo environment; the database is replaced below)

sys.path.insert(0, str(run.ROOT))
import socketio  # noqa: E402

from tests.private_servers import (  # noqa: E402
    PrivatePostgres, PrivateRedis, PrivateWorker, missing_binaries, private_servers, run_cli)

TOAST_ID = "panel_unavailable"
REFLEX_ERROR = "An error occurred"
PHASES = ("before", "redis down", "after redis", "postgres down", "after")


class FaultTab(run.Tab):
    """run.Tab that keeps every message it receives, with its arrival time."""

    def __init__(self, url: str, cookie: str | None = None):
        self.received: list[tuple[float, str]] = []
        super().__init__(url, cookie)

    async def _on_event(self, data):
        self.received.append((time.perf_counter(), data if isinstance(data, str) else json.dumps(data)))
        await super()._on_event(data)


async def open_tabs(url: str, cookies: list[str], count: int) -> list[FaultTab]:
    semaphore = asyncio.Semaphore(100)

    async def one(index):
        async with semaphore:
            tab = await FaultTab(url, cookies[index % len(cookies)]).connect()
            await tab.send(run.HYDRATE_AND_LOAD, {}, "/dashboard", timeout=120)
            return tab

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def workload(url: str, tabs: list[FaultTab], cookies: list[str], names: dict, record, seconds: float,
                   began: float) -> list[dict]:
    """One action about every 5 s per user; every event with what answered it."""
    path = f"/domains/{run.DOMAIN}"
    events: list[dict] = []
    ttl = iter(range(301, 100_000))  # every save its own TTL: each can be found in the database
    stop = began + seconds

    def action(step):
        kind = step % 4
        if kind == 0:
            return "dns_load", names["dns_load"], {}, path
        if kind == 1:
            return "dns_edit", names["dns_edit"], {"record_id": str(record.id)}, path
        if kind == 2:
            return "dns_save", names["dns_save"], {"form_data": run.record_form(record, next(ttl))}, path
        return "services", names["services"], {}, "/services"

    async def user(index: int, tab: FaultTab):
        await asyncio.sleep(random.uniform(0, 5))
        step = index
        while time.perf_counter() < stop:
            kind, name, payload, where = action(step)
            row = {"user": index, "kind": kind, "sent": time.perf_counter() - began, "latency": None,
                   "outcome": "answered", "ttl": payload.get("form_data", {}).get("ttl")}
            mark = len(tab.received)
            try:
                row["latency"] = await tab.send(name, payload, where, timeout=10)
            except asyncio.TimeoutError:
                row["outcome"] = "timeout"
            except socketio.exceptions.SocketIOError:
                row["outcome"] = "socket error"
            step += 1
            await asyncio.sleep(5)
            answers = tab.received[mark:]
            row["first_at"] = answers[0][0] - began if answers else None
            row["text"] = "\n".join(text for _at, text in answers)
            events.append(row)
            if row["outcome"] == "socket error" or not tab.sio.connected:
                try:  # a browser reconnects: a new socket, same session
                    tab = await FaultTab(url, tab.cookie).connect()
                    row["reconnected"] = True
                except (socketio.exceptions.SocketIOError, OSError):
                    await asyncio.sleep(1)

    await asyncio.gather(*(user(i, tab) for i, tab in enumerate(tabs)))
    return events


async def poll_health(url: str, began: float, stop: float, into: list) -> None:
    import httpx

    async with httpx.AsyncClient(timeout=2) as client:
        while time.perf_counter() < stop:
            at = time.perf_counter() - began
            try:
                answer = await client.get(url + "/api/health")
                body = answer.json()
                into.append({"at": at, "code": answer.status_code,
                             "database": "ok" if body.get("database") == "ok" else "fail",
                             "redis": "ok" if body.get("redis") == "ok" else "fail"})
            except (httpx.HTTPError, ValueError):
                into.append({"at": at, "code": None, "database": "no answer", "redis": "no answer"})
            await asyncio.sleep(0.5)


async def faults(redis_server: PrivateRedis, postgres: PrivatePostgres, args, began: float, marks: dict) -> None:
    for name, server, at in (("redis", redis_server, args.redis_at), ("postgres", postgres, args.postgres_at)):
        await asyncio.sleep(max(0.0, began + at - time.perf_counter()))
        marks[f"{name} stopped"] = time.perf_counter() - began
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(args.down)
        await asyncio.to_thread(server.start)
        marks[f"{name} back"] = time.perf_counter() - began


def phase_of(at: float, marks: dict) -> str:
    if at < marks["redis stopped"]:
        return "before"
    if at < marks["redis back"]:
        return "redis down"
    if at < marks["postgres stopped"]:
        return "after redis"
    if at < marks["postgres back"]:
        return "postgres down"
    return "after"


def summarize(events: list[dict], health: list[dict], marks: dict, saved_texts: tuple[str, ...]) -> dict:
    phases = {}
    for phase in PHASES:
        rows = [e for e in events if phase_of(e["sent"], marks) == phase]
        answered = [e for e in rows if e["latency"] is not None]
        latencies = [e["latency"] for e in answered]
        polled = [h for h in health if phase_of(h["at"], marks) == phase]
        phases[phase] = {
            "sent": len(rows), "answered": len(answered),
            "try_again": sum(TOAST_ID in e["text"] for e in rows),
            "reflex_error": sum(REFLEX_ERROR in e["text"] for e in rows),
            "timeouts": sum(e["outcome"] == "timeout" for e in rows),
            "socket_errors": sum(e["outcome"] == "socket error" for e in rows),
            "saved": sum(e["kind"] == "dns_save" and any(s in e["text"] for s in saved_texts) for e in rows),
            "p50_ms": run.percentile(latencies, 50) * 1000, "p95_ms": run.percentile(latencies, 95) * 1000,
            "health": {part: dict(Counter(h[part] for h in polled)) for part in ("database", "redis")},
        }
    recovery = {}
    for part, stopped, back in (("redis", "redis stopped", "redis back"),
                                ("postgres", "postgres stopped", "postgres back")):
        normal = [e["first_at"] for e in events if e["first_at"] is not None and e["first_at"] >= marks[back]
                  and TOAST_ID not in e["text"] and REFLEX_ERROR not in e["text"]]
        again = [e["first_at"] for e in events if e["first_at"] is not None and TOAST_ID in e["text"]
                 and marks[stopped] <= e["first_at"]]
        again = [at for at in again if at < (marks["postgres stopped"] if part == "redis" else float("inf"))]
        failing = [h["at"] for h in health if marks[stopped] <= h["at"] <= marks[back]
                   and h["redis" if part == "redis" else "database"] != "ok"]
        healthy = [h["at"] for h in health if h["at"] >= marks[back] and h["code"] == 200]
        recovery[part] = {
            "first_normal_answer_after_back_s": (min(normal) - marks[back]) if normal else None,
            "last_try_again_after_back_s": (max(again) - marks[back]) if again else None,
            "health_failing_after_stop_s": (min(failing) - marks[stopped]) if failing else None,
            "health_ok_after_back_s": (min(healthy) - marks[back]) if healthy else None,
        }
    return {"phases": phases, "recovery": recovery}


def database_checks(database_url: str, events: list[dict], saved_texts: tuple[str, ...], ended: dict) -> dict:
    """Every confirmed save in the audit rows; one DNS change per audit row; the ended grant."""
    from sqlalchemy import create_engine
    from sqlmodel import Session, func, select

    from panel_app.models import AuditEvent, DnsChange, Domain, LoginSession

    engine = create_engine(database_url)
    with Session(engine) as db:
        domain = db.exec(select(Domain).where(Domain.name == run.DOMAIN)).one()
        audits = db.exec(select(AuditEvent.detail).where(
            AuditEvent.action.in_(["dns_record_updated", "dns_record_added"]),
            AuditEvent.target == run.DOMAIN)).all()
        changes = db.exec(select(func.count()).select_from(DnsChange).where(DnsChange.domain_id == domain.id)).one()
        grant = db.exec(select(LoginSession.grant_expires_at).where(LoginSession.id == ended["session_id"])).one()
    engine.dispose()
    stored = {str(json.loads(detail)["ttl"]) for detail in audits}
    confirmed = [e["ttl"] for e in events if e["kind"] == "dns_save" and any(s in e["text"] for s in saved_texts)]
    grant = grant.replace(tzinfo=None) if grant is not None else None
    late = [e for e in events if e["user"] in ended["users"] and e["sent"] > ended["at"] + 0.5]
    return {
        "saves_confirmed": len(confirmed), "saves_stored": len(audits), "dns_changes": changes,
        "confirmed_but_missing": sorted(set(confirmed) - stored),
        "ended_grant_extended": grant is not None and grant > ended["expires"].replace(tzinfo=None),
        "ended_grant_events_after": len(late),
        "ended_grant_events_with_data": sum('"loaded_rx_state_":true' in e["text"].replace(" ", "")
                                            or any(s in e["text"] for s in saved_texts) for e in late),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=45)
    parser.add_argument("--redis-at", type=float, default=10)
    parser.add_argument("--postgres-at", type=float, default=25)
    parser.add_argument("--down", type=float, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if missing := missing_binaries():
        sys.exit(f"a private PostgreSQL and Redis need {', '.join(missing)}")
    with private_servers("panel-faults-bench-") as stack:
        folder, redis_server, postgres = stack.folder, stack.redis, stack.postgres
        os.environ.update(PANEL_DATABASE_URL=postgres.url, PANEL_REDIS_URL=redis_server.url)
        env = dict(os.environ)
        run_cli(env, "migrate")
        run_cli(env, "seed-demo")
        worker = PrivateWorker(folder, env, workers=args.workers)
        stack.workers.append(worker)
        pids = worker.worker_pids()
        run.progress(f"{args.workers} workers up: {pids}")
        names = run.state_names()
        cookies, _ = run.panel_setup(worker.url, sessions_needed=args.users // 50 + 2, totp_users=0)
        record = run.dns_record()
        result = asyncio.run(measure(args, worker, redis_server, postgres, names, cookies, record))
        run.progress("measured")
        events, health, marks, ended = result
        from panel_app.i18n import t

        saved_texts = (t("dnsui.updated", "en"), t("dnsui.added", "en"))
        summary = summarize(events, health, marks, saved_texts)
        summary["database"] = database_checks(postgres.url, events, saved_texts, ended)
        log = worker.log.read_text(errors="replace")
        summary["log"] = {"tracebacks": log.count("Traceback"),
                          "redis_unavailable_lines": log.count("redis unavailable"),
                          "database_unavailable_lines": log.count("database unavailable"),
                          "available_again_lines": log.count("available again")}
        summary["workers"] = {"before": pids, "after": worker.worker_pids(),
                              "restarted": worker.worker_pids() != pids or worker.proc.poll() is not None}
        summary["marks"] = marks
        summary["settings"] = vars(args)
        stack.keep_folder = summary["log"]["tracebacks"] > 0  # the worker log, to read
    report(summary)
    if stack.keep_folder:
        run.progress(f"worker log kept: {worker.log}")


async def measure(args, worker, redis_server, postgres, names, cookies, record):
    from sqlalchemy import update

    from panel_app.clock import utcnow
    from panel_app.db import transaction
    from panel_app.models import LoginSession
    from panel_app.security import sessions

    tabs = await open_tabs(worker.url, cookies, args.users)
    run.progress(f"{len(tabs)} tabs open")
    began = time.perf_counter()
    # The last session's grant ends in the middle of PostgreSQL's outage.
    ends_at = args.postgres_at + args.down / 2
    expires = utcnow() + __import__("datetime").timedelta(seconds=ends_at)
    with transaction() as db:
        row = sessions.find_by_token(db, cookies[-1])
        db.execute(update(LoginSession).where(LoginSession.id == row.id).values(grant_expires_at=expires))
        ended = {"session_id": row.id, "expires": expires, "at": ends_at,
                 "users": {i for i in range(len(tabs)) if i % len(cookies) == len(cookies) - 1}}
    from panel_app.db import get_engine

    get_engine().dispose()  # this process's connections would not outlive PostgreSQL's restart
    health: list[dict] = []
    marks: dict[str, float] = {}
    stop = began + args.seconds
    results = await asyncio.gather(workload(worker.url, tabs, cookies, names, record, args.seconds, began),
                                   poll_health(worker.url, began, stop + 5, health),
                                   faults(redis_server, postgres, args, began, marks))
    await asyncio.gather(*(tab.close() for tab in tabs), return_exceptions=True)
    return results[0], health, marks, ended


def report(summary: dict) -> None:
    phases, marks = summary["phases"], summary["marks"]
    lines = [f"{summary['settings']['workers']} workers, {summary['settings']['users']} users, "
             f"{summary['settings']['seconds']:.0f} s; Redis stopped at {marks['redis stopped']:.1f} s, back at "
             f"{marks['redis back']:.1f} s; PostgreSQL stopped at {marks['postgres stopped']:.1f} s, back at "
             f"{marks['postgres back']:.1f} s.", "",
             "| phase (by send time) | sent | answered | \"try again\" | Reflex error | timeouts | socket errors | "
             "saves confirmed | p50 ms | p95 ms | p95 vs before | /api/health database | /api/health redis |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    floor = phases["before"]["p95_ms"]
    for name in PHASES:
        row = phases[name]
        lines.append(f"| {name} | {row['sent']} | {row['answered']} | {row['try_again']} | {row['reflex_error']} | "
                     f"{row['timeouts']} | {row['socket_errors']} | {row['saved']} | {row['p50_ms']:.0f} | "
                     f"{row['p95_ms']:.0f} | {run.ratio(row['p95_ms'], floor)} | "
                     f"{_counts(row['health']['database'])} | {_counts(row['health']['redis'])} |")
    lines += ["", "| part | health failing after stop s | health ok after back s | first normal answer after back s | "
                  "last \"try again\" after back s |", "|---|---|---|---|---|"]
    for part, row in summary["recovery"].items():
        lines.append(f"| {part} | {_s(row['health_failing_after_stop_s'])} | {_s(row['health_ok_after_back_s'])} | "
                     f"{_s(row['first_normal_answer_after_back_s'])} | {_s(row['last_try_again_after_back_s'])} |")
    db, log, workers = summary["database"], summary["log"], summary["workers"]
    lines += ["", f"Tracebacks in the workers' log: {log['tracebacks']} (outage lines: redis "
                  f"{log['redis_unavailable_lines']}, database {log['database_unavailable_lines']}, available "
                  f"again {log['available_again_lines']}). Saves confirmed: {db['saves_confirmed']}, stored: "
                  f"{db['saves_stored']} audit rows / {db['dns_changes']} DNS changes; confirmed but missing: "
                  f"{len(db['confirmed_but_missing'])}. Grant ended during the outage: extended "
                  f"{db['ended_grant_extended']}, {db['ended_grant_events_with_data']} of "
                  f"{db['ended_grant_events_after']} later events of its tabs got data. Workers restarted: "
                  f"{workers['restarted']} (pids {workers['before']} → {workers['after']})."]
    print("\n".join(lines))
    print(json.dumps(summary, default=str))


def _counts(counter: dict) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(counter.items())) or "—"


def _s(value) -> str:
    return "—" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    main()
