"""The worker's garbage collector, set for a server that holds many open tabs.

With a thousand open tabs a worker holds a few million Python objects (each tab's
Reflex state tree, its socket). CPython's default thresholds make a full collection
(every object scanned, the event loop stopped: 150-600 ms measured at 1,000 tabs,
bench/results.md) start every few seconds under load, so every tab of the worker
waits that long now and then. Instead, once the app is built, what it built (modules,
pages, components: about 700,000 objects that live as long as the worker) is moved out
of the collector's sight, and the young generations are collected less often, so
short-lived objects of an event die before they are promoted: full collections become
rare (none in a 20 s run of the mixed workload at 1,000 users) and cyclic garbage
still goes (the collector keeps running, less often).
"""

from __future__ import annotations

import gc

# gen0 every 50,000 allocations (default 700): an event allocates thousands of objects,
# most dead when it ends; gen1 every 20 gen0 passes; gen2 considered after 100 gen1
# passes (CPython also waits until a quarter of the long-lived objects are new).
THRESHOLDS = (50_000, 20, 100)


async def settle(_app=None) -> None:
    """Lifespan task of each worker: collect once, freeze what the build left, retune."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
