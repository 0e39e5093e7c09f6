"""What one idle open tab costs the panel server in memory, and where it goes.

Starts the echo floor and the panel as `make bench` does (bench/run.py: a throwaway SQLite
database with the demo data, `reflex run --env prod`, one backend worker; --backend-only
here, the compiled pages are not needed), then for each level opens N tabs on /help
(websocket with a session cookie, hydrate_and_load), waits, and reports the growth of the
server's RSS per tab next to the echo server's per connection. With --trace the panel
runs under tracemalloc (bench/memdiag: opt-in, only for this script) and the top
allocation sites of the growth are printed by file:line (with glibc's malloc figures and
object counts by type); tracing itself costs memory and time, so quote the RSS figures of
an untraced run, and trace a few hundred tabs. Levels run one after the other on one
server: a later level reuses memory an earlier one freed. --idle (default 40 s, longer than
the panel's PANEL_IDLE_TAB_PACK_SECONDS of 30) is how long the loaded tabs then sit idle
before the RSS is read: without Redis the panel packs the states of tabs idle that long
(panel_app/state/tab_store.py); --config make-run-nopack is make-run with that off. --trim also reports the RSS
after malloc_trim(0); --path "" only connects the tabs; --env passes e.g.
MALLOC_ARENA_MAX=2 to the panel. --config runs the same levels once per named server
configuration (CONFIGS below: `make run`'s Uvicorn with MALLOC_ARENA_MAX=2, Reflex's default
Granian, ...), each on a fresh server, and ends with one table of them all. Results:
bench/results.md, "Memory per idle tab, where it goes".

    .venv/bin/python bench/tab_memory.py [--levels 1000 3000] [--trace] [--trim] [--path /help]
                                         [--env NAME=VALUE ...] [--config make-run granian ...]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import run  # noqa: E402  (bench/run.py: sets the environment of the throwaway database)
from run import ROOT, TMP, Server, open_tabs, panel_setup, progress, quiet, rss_bytes

SITES = 25
# How long the tabs sit idle (after the server went quiet) before the RSS is read: longer
# than the panel's default PANEL_IDLE_TAB_PACK_SECONDS (30), so that idle tabs are measured
# as they are held once idle (packed, without Redis), not as they were during their last event.
IDLE_SECONDS = 40.0
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
UVICORN = {"REFLEX_USE_GRANIAN": "false"}  # Reflex 0.10.1: gunicorn --preload + UvicornH11Worker
# The server configurations --config compares (environment of `reflex run --env prod`).
CONFIGS = {
    "make-run": UVICORN | {"MALLOC_ARENA_MAX": "2"},  # what `make run` sets (Makefile)
    # The same without packing idle tabs' states (state/tab_store.py): the figure before it.
    "make-run-nopack": UVICORN | {"MALLOC_ARENA_MAX": "2", "PANEL_IDLE_TAB_PACK_SECONDS": "0"},
    # Reflex 0.10.1's default is Granian (2.8.9) only while gunicorn is not installed: say it.
    "granian": {"REFLEX_USE_GRANIAN": "true"},
    "granian-arena2": {"REFLEX_USE_GRANIAN": "true", "MALLOC_ARENA_MAX": "2"},
    "uvicorn": UVICORN,
    "uvicorn-arena1": UVICORN | {"MALLOC_ARENA_MAX": "1"},
    "uvicorn-trim": UVICORN | {"MALLOC_ARENA_MAX": "2", "MALLOC_TRIM_THRESHOLD_": "131072",
                               "MALLOC_MMAP_THRESHOLD_": "131072"},
    "uvicorn-jemalloc": UVICORN | {"LD_PRELOAD": JEMALLOC},
    "uvicorn-pymalloc-off": UVICORN | {"MALLOC_ARENA_MAX": "2", "PYTHONMALLOC": "malloc"},
}


def tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            todo += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return found


def mappings(pid: int) -> dict[str, int]:
    """RSS of the server's processes by kind of mapping (heap, anonymous, files)."""
    kinds: dict[str, int] = {}
    for current in tree(pid):
        kind = "?"
        try:
            lines = Path(f"/proc/{current}/smaps").read_text().splitlines()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in lines:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:
                name = fields[5] if len(fields) > 5 else ""
                kind = name if name.startswith("[") else ("anonymous" if not name else "files")
            elif fields[0] == "Rss:":
                kinds[kind] = kinds.get(kind, 0) + int(fields[1]) * 1024
    return kinds


def request_snapshot(folder: Path, label: str, pid: int, timeout: float = 600) -> list[dict]:
    """Ask every (traced) process of the server for a snapshot; their answers."""
    (folder / f"request-{label}").touch()
    deadline = time.time() + timeout
    while time.time() < deadline and any(not (folder / f"{p}-{label}.json").exists() for p in tree(pid)):
        time.sleep(1)
    (folder / f"request-{label}").unlink()
    return [json.loads(p.read_text()) | {"snap": str(p.with_suffix(".snap"))}
            for p in sorted(folder.glob(f"*-{label}.json"))]


def report_growth(before: list[dict], after: list[dict], tabs: int) -> None:
    by_pid = {answer["pid"]: answer for answer in before}
    for answer in after:
        first = by_pid.get(answer["pid"])
        if first is None:
            continue
        grown = answer["traced"] - first["traced"]
        malloc = {k: answer["malloc"].get(k, 0) - first["malloc"].get(k, 0) for k in ("arena", "uordblks",
                                                                                        "fordblks", "hblkhd")}
        print(f"\npid {answer['pid']} {' '.join(answer['argv'])}: traced +{grown / 2**20:.1f} MiB "
              f"({grown / tabs / 1024:.1f} KiB per tab); malloc in use +{malloc['uordblks'] / 2**20:.1f} MiB, "
              f"free in arenas +{malloc['fordblks'] / 2**20:.1f} MiB, arena +{malloc['arena'] / 2**20:.1f} MiB, "
              f"mmapped +{malloc['hblkhd'] / 2**20:.1f} MiB")
        if grown < 1 << 20:
            continue
        old, new = (tracemalloc.Snapshot.load(first["snap"]), tracemalloc.Snapshot.load(answer["snap"]))
        print(f"  top {SITES} allocation sites of the growth (KiB per tab, objects per tab):")
        for stat in new.compare_to(old, "lineno")[:SITES]:
            frame = stat.traceback[0]
            name = frame.filename.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
            print(f"  {stat.size_diff / tabs / 1024:8.2f} {stat.count_diff / tabs:7.1f}  {name}:{frame.lineno}")
        print("  by file:")
        for stat in new.compare_to(old, "filename")[:12]:
            name = stat.traceback[0].filename.split("site-packages/")[-1]
            print(f"  {stat.size_diff / tabs / 1024:8.2f} {stat.count_diff / tabs:7.1f}  {name}")
        print("  object counts grown (per tab):")
        grown_types = {k: v - first["types"].get(k, 0) for k, v in answer["types"].items()}
        for name, count in sorted(grown_types.items(), key=lambda kv: -kv[1])[:20]:
            if count > 0:
                print(f"  {count / tabs:8.2f}  {name}")


async def level(echo: Server, panel: Server, cookies: list[str], count: int, folder: Path | None,
                trace: bool, path: str, idle: float = 0) -> dict:
    base_echo = rss_bytes(echo.proc.pid)
    echo_tabs = await open_tabs(echo.url, [], count, None)
    await asyncio.sleep(2)
    echo_mem = rss_bytes(echo.proc.pid) - base_echo
    await asyncio.gather(*(t.close() for t in echo_tabs))

    before = request_snapshot(folder, f"before{count}", panel.proc.pid) if trace else []
    base_panel, base_maps = rss_bytes(panel.proc.pid), mappings(panel.proc.pid)
    panel_tabs = await open_tabs(panel.url, cookies, count, path or None)
    await asyncio.sleep(2)
    await quiet(panel.proc.pid, 30)
    if idle:  # the tabs sit idle as an open tab does: the server packs idle tabs' states
        await asyncio.sleep(idle)
        await quiet(panel.proc.pid, 30)
    panel_mem = rss_bytes(panel.proc.pid) - base_panel
    grown_maps = {k: v - base_maps.get(k, 0) for k, v in mappings(panel.proc.pid).items()}
    print("   RSS grown by mapping (KiB per tab): " + ", ".join(
        f"{k} {v / count / 1024:.1f}" for k, v in sorted(grown_maps.items(), key=lambda kv: -kv[1]) if v), flush=True)
    after = request_snapshot(folder, f"after{count}", panel.proc.pid) if trace else []
    if folder:  # what glibc holds free: malloc_trim gives it back
        request_snapshot(folder, f"trim{count}", panel.proc.pid)
        trimmed = rss_bytes(panel.proc.pid) - base_panel
        print(f"   after malloc_trim(0): panel +{trimmed / 2**20:.1f} MiB = {trimmed / count / 1024:.1f} KiB per tab",
              flush=True)
    print(f"\n== {count} tabs on {path or '(connected only)'}: panel +{panel_mem / 2**20:.1f} MiB = {panel_mem / count / 1024:.1f} KiB per tab;"
          f" echo +{echo_mem / 2**20:.1f} MiB = {echo_mem / count / 1024:.1f} KiB per connection"
          f" ({panel_mem / max(echo_mem, 1):.1f}×)", flush=True)
    if trace:
        report_growth(before, after, count)
    await asyncio.gather(*(t.close() for t in panel_tabs))
    await quiet(panel.proc.pid)
    closed = rss_bytes(panel.proc.pid) - base_panel
    print(f"   after closing them: panel +{closed / 2**20:.1f} MiB over the level's start", flush=True)
    return {"tabs": count, "panel_kib": panel_mem / count / 1024, "echo_kib": echo_mem / count / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", type=int, nargs="+", default=[1000, 3000])
    parser.add_argument("--trace", action="store_true", help="tracemalloc in the panel: allocation sites")
    parser.add_argument("--frames", type=int, default=1)
    parser.add_argument("--path", default="/help", help='the page the tabs load ("" to connect only)')
    parser.add_argument("--idle", type=float, default=IDLE_SECONDS,
                        help="seconds the tabs sit idle after loading, before the RSS is read")
    parser.add_argument("--trim", action="store_true", help="also the RSS after malloc_trim(0) in the panel")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the panel (e.g. MALLOC_ARENA_MAX=2)")
    parser.add_argument("--config", nargs="+", choices=sorted(CONFIGS), default=[],
                        help="named server configurations to compare, one fresh server each")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "panel_app.cli", "migrate"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "panel_app.cli", "seed-demo"], cwd=ROOT, check=True, capture_output=True)
    extra = dict(item.split("=", 1) for item in args.env)
    try:
        if not args.config:
            print(json.dumps(measure_server(args, extra)))
            return
        table = []
        for name in args.config:
            progress(f"configuration {name}: {' '.join(f'{k}={v}' for k, v in CONFIGS[name].items()) or 'default'}")
            table += [(name, row) for row in measure_server(args, CONFIGS[name] | extra)]
        print("\n| server configuration | tabs | panel KiB per tab | echo KiB per connection | ratio |")
        print("|---|---|---|---|---|")
        for name, row in table:
            print(f"| {name} | {row['tabs']} | {row['panel_kib']:.1f} | {row['echo_kib']:.1f} "
                  f"| {row['panel_kib'] / row['echo_kib']:.1f}× |")
    finally:
        run.shutil.rmtree(TMP, ignore_errors=True)


def measure_server(args, extra: dict) -> list[dict]:
    """One fresh panel (and echo floor) with ``extra`` in its environment; a row per level."""
    if extra.get("REFLEX_USE_GRANIAN") == "false" and importlib.util.find_spec("gunicorn") is None:
        sys.exit("REFLEX_USE_GRANIAN=false: Reflex 0.10.1 runs gunicorn, which is not installed (make install)")
    folder = TMP / "memdiag" if args.trace or args.trim else None
    if folder:
        run.shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        extra = extra | {"PYTHONPATH": str(ROOT / "bench" / "memdiag"), "PANEL_BENCH_TRACEMALLOC": str(folder),
                         "PANEL_BENCH_TRACEMALLOC_FRAMES": str(args.frames)}
    reflex = str(ROOT / ".venv" / "bin" / "reflex")
    echo = Server("echo", [sys.executable, "-m", "uvicorn", "echo:app", "--port", "{port}", "--log-level", "warning"],
                  ROOT / "bench", "/_event/?EIO=4&transport=polling")
    panel = Server("panel", [reflex, "run", "--env", "prod", "--backend-only", "--backend-port", "{port}",
                             "--loglevel", "warning"], ROOT, "/api/ready")
    try:
        echo.start()
        panel.start(extra)
        echo.wait()
        panel.wait()
        progress(f"servers up ({' '.join(f'{k}={v}' for k, v in extra.items()) or 'default environment'}"
                 f"{', traced' if args.trace else ''})")
        cookies, _ = panel_setup(panel.url, sessions_needed=max(args.levels) // 50 + 2, totp_users=0)

        async def measure():
            warm = await open_tabs(panel.url, cookies, 200, "/help")  # imports, caches, first allocations
            await asyncio.gather(*(t.close() for t in warm))
            await quiet(panel.proc.pid)
            return [await level(echo, panel, cookies, count, folder, args.trace, args.path, args.idle)
                    for count in args.levels]

        return asyncio.run(measure())
    finally:
        echo.stop()
        panel.stop()

if __name__ == "__main__":
    main()
