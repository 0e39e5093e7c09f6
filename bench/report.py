"""Pure helpers of `make bench`'s report (no environment side effects: unit-tested)."""

from __future__ import annotations


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:.1f}×" if floor and floor == floor and floor > 0 else "—"


def _cores(row: dict, key: str) -> str:
    value = row.get(key)
    return "—" if value is None else f"{value:.3f}"


def mixed_tables(configs: dict[str, dict], floors: dict, levels: list) -> list[str]:
    """One table per configuration (rows: users), each with ratios to the bare-Reflex floor of the
    same level; then 2 workers vs 1 when both PostgreSQL + Redis configurations were measured.
    ``configs``: name -> {level: row}; a row holds events_s, p50, p95, p99, errors, cpu (the panel
    worker processes), and optionally redis_cpu, pg_cpu (cores)."""
    lines: list[str] = []
    for name, rows in configs.items():
        lines += ["", f"### {name}", "",
                  "| users | events/s | p50 ms | p95 ms | p99 ms | errors | worker CPU cores | Redis CPU cores | "
                  "PostgreSQL CPU cores | p95 vs bare | worker CPU vs bare |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for level in levels:
            row = rows.get(level) or rows.get(str(level))
            if row is None:
                continue
            floor = floors.get(level) or floors.get(str(level)) or {}
            lines.append(f"| {level} | {row['events_s']:.1f} | {row['p50']:.1f} | {row['p95']:.1f} | "
                         f"{row['p99']:.1f} | {row['errors']} | {row['cpu']:.3f} | {_cores(row, 'redis_cpu')} | "
                         f"{_cores(row, 'pg_cpu')} | {ratio(row['p95'], floor.get('p95', 0))} | "
                         f"{ratio(row['cpu'], floor.get('cpu', 0))} |")
    one = next((rows for name, rows in configs.items() if name.endswith("1 worker")
                and "PostgreSQL" in name), None)
    two = next((rows for name, rows in configs.items() if name.endswith("2 workers")), None)
    if one and two:
        lines += ["", "### PostgreSQL + Redis: 2 workers vs 1", "",
                  "| users | events/s 2 vs 1 | p95 2 vs 1 | worker CPU 2 vs 1 |", "|---|---|---|---|"]
        for level in levels:
            a, b = one.get(level) or one.get(str(level)), two.get(level) or two.get(str(level))
            if a and b:
                lines.append(f"| {level} | {ratio(b['events_s'], a['events_s'])} | {ratio(b['p95'], a['p95'])} | "
                             f"{ratio(b['cpu'], a['cpu'])} |")
    return lines
