"""What the parsed-zone cache saves on the DNS page: N loads of the page's data for the demo
zone (the domain's header, the zone with its per-record check, the rows and texts the page
builds from them), each in its own transaction as an event runs, read from the database and
parsed every time (as before the cache) against served from the worker's cache. Prints both
rates and their ratio, measured in one run on a throwaway SQLite file (or PANEL_DATABASE_URL).

    .venv/bin/python bench/zone_cache.py [iterations]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
_tmp = tempfile.mkdtemp(prefix="panel-bench-")
os.environ.setdefault("PANEL_DATABASE_URL", f"sqlite:///{_tmp}/bench.db")
os.environ["PANEL_SECRET_KEY_FILE"] = f"{_tmp}/secret.key"
os.environ.setdefault("PANEL_ENV", "demo")

from sqlmodel import select  # noqa: E402

from panel_app import migrate  # noqa: E402
from panel_app.db import transaction  # noqa: E402
from panel_app.models import Domain, User  # noqa: E402
from panel_app.seed import DEMO_OWNER_EMAIL, seed_demo  # noqa: E402
from panel_app.services import dns_names, dns_zone, dns_zone_cache, domains  # noqa: E402
from panel_app.state.dns import DnsState  # noqa: E402


def _uncached(db, account_id: int, name: str) -> dns_zone.ZoneView:
    """The zone as the page read it before the cache: rows and a parse of each, every time."""
    return dns_zone._read_zone(db, domains.zone_key(db, account_id, name))


def _page_data(read_zone, account_id: int, name: str, lang: str) -> int:
    """What ``DnsState._load`` does for one event, without a tab around it."""
    with transaction() as db:
        domains.get_domain(db, account_id, name)
        zone = read_zone(db, account_id, name)
        origin = dns_names.zone_origin(zone.domain)
        texts = [DnsState._problem_text(problem, lang) for problem in zone.problems]
        DnsState._change_text(zone.last_change, origin, lang)
        return len(texts)


def _rate(read_zone, account_id: int, name: str, iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        _page_data(read_zone, account_id, name, "en")
    return iterations / (time.perf_counter() - start)


def main(iterations: int) -> None:
    migrate.upgrade()
    with transaction() as db:
        seed_demo(db)
    with transaction() as db:
        owner = db.exec(select(User).where(User.email == DEMO_OWNER_EMAIL)).one()
        domain = db.exec(select(Domain).where(Domain.account_id == owner.account_id).order_by(Domain.id)).first()
        account_id, name = owner.account_id, domain.name
    records = _page_data(dns_zone.get_zone, account_id, name, "en")
    for read_zone in (_uncached, dns_zone.get_zone):  # warm both paths
        _rate(read_zone, account_id, name, max(iterations // 10, 1))
    uncached = _rate(_uncached, account_id, name, iterations)
    cached = _rate(dns_zone.get_zone, account_id, name, iterations)
    cache = dns_zone_cache.ZONES
    print(f"demo zone {name}: {records} records, {iterations} page loads each")
    print(f"  read and parsed every time: {uncached:8.0f} loads/s  ({1000 / uncached:.3f} ms each)")
    print(f"  served from the zone cache: {cached:8.0f} loads/s  ({1000 / cached:.3f} ms each)")
    print(f"  ratio: {cached / uncached:.1f}x  (cache: {cache.loads} parse(s), {cache.hits} hits)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
