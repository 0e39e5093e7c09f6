"""Failure throttles with growing delays, stored in the database.

Login: per account and per client IP, the first few failures are free, then each
further one locks for a delay that doubles (1 s, 2 s, 4 s ... capped at 15 min).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from panel_app.models import Throttle


@dataclass(frozen=True)
class Policy:
    free_failures: int
    base_delay_seconds: int
    max_delay_seconds: int

    def delay_after(self, failures: int) -> int:
        """Seconds to wait after ``failures`` consecutive failures (0 = none)."""
        excess = failures - self.free_failures
        if excess < 0:
            return 0
        return min(self.base_delay_seconds * (2 ** min(excess, 40)), self.max_delay_seconds)


LOGIN_ACCOUNT_POLICY = Policy(free_failures=5, base_delay_seconds=1, max_delay_seconds=15 * 60)
LOGIN_IP_POLICY = Policy(free_failures=20, base_delay_seconds=1, max_delay_seconds=15 * 60)


def seconds_locked(session: Session, key: str, now: datetime) -> int:
    row = session.get(Throttle, key)
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0
    return max(1, int((row.locked_until - now).total_seconds() + 0.999))


def record_failure(session: Session, key: str, policy: Policy, now: datetime) -> int:
    row = session.get(Throttle, key, with_for_update=True)
    if row is None:
        row = Throttle(key=key)
        session.add(row)
    row.failures += 1
    row.last_failure_at = now
    delay = policy.delay_after(row.failures)
    row.locked_until = now + timedelta(seconds=delay) if delay else None
    session.flush()
    return delay


def record_success(session: Session, key: str) -> None:
    row = session.get(Throttle, key)
    if row is not None:
        session.delete(row)
        session.flush()
