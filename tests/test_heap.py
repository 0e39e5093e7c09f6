"""The worker's garbage collector (panel_app/heap.py): once the app is built, what the build
made is out of the collector's sight and the young generations are collected less often, so
a worker with many open tabs is not stopped for a full collection every few seconds."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from panel_app import heap


@pytest.fixture
def collector():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_each_worker_settles_its_heap_when_it_starts(collector):
    from panel_app.panel_app import app

    assert heap.settle in app.get_lifespan_tasks()
    built = type("Built", (), {})()  # something the build left, alive as long as the worker
    assert any(obj is built for obj in gc.get_objects())
    asyncio.run(heap.settle(app))
    assert gc.get_threshold() == heap.THRESHOLDS
    assert gc.get_freeze_count() > 0
    assert gc.is_tracked(built) and not any(obj is built for obj in gc.get_objects())  # frozen: not scanned


def test_cyclic_garbage_still_goes_after_settling(collector):
    asyncio.run(heap.settle())

    class Node:
        pass

    gone = []
    a, b = Node(), Node()
    a.other, b.other = b, a
    weakref.finalize(a, gone.append, "a")
    del a, b
    gc.collect()
    assert gone == ["a"]
