"""Memory diagnostic for bench/tab_memory.py only: never on the panel's own path.

bench/tab_memory.py puts this folder on PYTHONPATH of the server it starts, so every
Python process of that server imports it at start-up. Nothing happens unless
PANEL_BENCH_TRACEMALLOC names a folder: then a thread waits for request files there; the
first one starts tracemalloc (frames per trace from PANEL_BENCH_TRACEMALLOC_FRAMES,
default 1), so only what is allocated from then on is traced. For a file
``request-<label>`` each process writes ``<pid>-<label>.snap`` (a tracemalloc snapshot)
and ``<pid>-<label>.json`` (object counts by type, glibc's malloc figures); for
``request-trim<n>`` it calls glibc's malloc_trim(0) instead. The script removes the
request once every process answered. No socket, no route: only whoever can write that
folder asks, and the panel's own code never imports this module.
"""

import os

_folder = os.environ.get("PANEL_BENCH_TRACEMALLOC")


def _malloc_figures() -> dict:
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
            "keepcost")]

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = MallInfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    return {name: getattr(info, name) for name, _type in MallInfo2._fields_}


def _trim(label: str) -> None:
    """Give glibc's free pages back to the system (what a periodic malloc_trim would win)."""
    import ctypes
    import json

    before = _malloc_figures()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    path = os.path.join(_folder, f"{os.getpid()}-{label}")
    with open(path + ".part", "w") as out:
        json.dump({"pid": os.getpid(), "before": before, "after": _malloc_figures()}, out)
    os.replace(path + ".part", path + ".json")


def _answer(label: str) -> None:
    import collections
    import gc
    import json
    import sys
    import tracemalloc

    if label.startswith("trim"):
        _trim(label)
        return

    if not tracemalloc.is_tracing():  # the first request starts tracing: start-up stays fast
        tracemalloc.start(int(os.environ.get("PANEL_BENCH_TRACEMALLOC_FRAMES", "1")))
    gc.collect()
    pid = os.getpid()
    tracemalloc.take_snapshot().dump(os.path.join(_folder, f"{pid}-{label}.snap"))
    counts = collections.Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())
    figures = {"pid": pid, "argv": sys.argv[:3], "traced": tracemalloc.get_traced_memory()[0],
               "malloc": _malloc_figures(), "types": dict(counts.most_common(60))}
    with open(os.path.join(_folder, f"{pid}-{label}.part"), "w") as out:
        json.dump(figures, out)
    os.replace(os.path.join(_folder, f"{pid}-{label}.part"), os.path.join(_folder, f"{pid}-{label}.json"))


def _watch() -> None:
    import time

    while True:
        for name in sorted(os.listdir(_folder)):
            if name.startswith("request-"):
                label = name.removeprefix("request-")
                if not os.path.exists(os.path.join(_folder, f"{os.getpid()}-{label}.json")):
                    _answer(label)
        time.sleep(0.5)


if _folder and os.path.isdir(_folder):
    import threading

    def _start_watching() -> None:
        threading.Thread(target=_watch, name="bench-memdiag", daemon=True).start()

    _start_watching()
    os.register_at_fork(after_in_child=_start_watching)  # a forked worker keeps no other thread
