"""bench/report.py: the report's pure helpers (percentile, ratio, the per-configuration tables)."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("bench_report", Path(__file__).resolve().parents[1] / "bench" / "report.py")
report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report)


def _row(events, p95, cpu, **extra):
    return {"events_s": events, "p50": p95 / 2, "p95": p95, "p99": p95 * 2, "errors": 0, "cpu": cpu, **extra}


def test_percentile_picks_the_nearest_rank():
    assert report.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert report.percentile(list(range(101)), 95) == 95
    assert report.percentile([], 95) != report.percentile([], 95)  # nan


def test_ratio_without_a_floor_is_a_dash():
    assert report.ratio(3.0, 1.5) == "2.0×"
    assert report.ratio(3.0, 0) == "—"


def test_one_table_per_configuration_with_ratios_to_the_floor_and_2_vs_1():
    configs = {"SQLite, 1 worker": {10: _row(2.0, 20.0, 0.1)},
               "PostgreSQL + Redis, 1 worker": {"10": _row(2.0, 40.0, 0.2, redis_cpu=0.01, pg_cpu=0.05)},
               "PostgreSQL + Redis, 2 workers": {10: _row(3.0, 20.0, 0.3, redis_cpu=0.02, pg_cpu=0.06)}}
    lines = report.mixed_tables(configs, {10: {"p95": 10.0, "cpu": 0.05}}, [10])
    text = "\n".join(lines)
    assert "### SQLite, 1 worker" in text and "### PostgreSQL + Redis, 2 workers" in text
    assert "| 10 | 2.0 | 10.0 | 20.0 | 40.0 | 0 | 0.100 | — | — | 2.0× | 2.0× |" in lines
    assert "| 10 | 2.0 | 20.0 | 40.0 | 80.0 | 0 | 0.200 | 0.010 | 0.050 | 4.0× | 4.0× |" in lines
    assert "| 10 | 1.5× | 0.5× | 1.5× |" in lines
