"""Failure throttles with growing delays, stored in the database.

Login: per account and per client IP. The first few failures are free, then each
further one locks for a delay that doubles (1 s, 2 s, 4 s ... capped at 15 min).

Every attempt is *reserved* before the password is checked, with one conditional
UPDATE that also sets the resulting lock: parallel requests cannot all slip past
a check-then-record gap. A success then gives the reservation back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, literal, null, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from panel_app.models import Throttle
from panel_app.security.policy import POLICY, Backoff


Policy = Backoff  # a schedule's numbers live in security/policy.py

LOGIN_ACCOUNT_POLICY = POLICY.login_account_backoff
LOGIN_IP_POLICY = POLICY.login_ip_backoff
# "At most once a minute" (e.g. one log line while a script hammers a lock): the first
# reservation passes and locks the key for 60 s.
ONCE_A_MINUTE = POLICY.once_a_minute


def locked_until_after_one_more(failures_column, locked_column, policy: Policy, now: datetime):
    """SQL for the lock that follows one more failure, from the *current* count."""
    column_type = locked_column.type
    upcoming = failures_column + 1
    whens = [(upcoming < policy.free_failures, null())]
    failures = policy.free_failures
    while policy.delay_after(failures) < policy.max_delay_seconds:
        whens.append((upcoming == failures, literal(now + timedelta(seconds=policy.delay_after(failures)),
                                                   column_type)))
        failures += 1
    return case(*whens, else_=literal(now + timedelta(seconds=policy.max_delay_seconds), column_type))


def count_one_more_unless_locked(model, where: tuple, failures_column, locked_column, policy: Policy,
                                 now: datetime, **also):
    """The one conditional UPDATE every schedule reserves with: one more failure, and the
    lock that follows it, only on rows ``where`` no lock is running. Of many parallel tries
    exactly as many pass as the schedule allows (the caller checks ``rowcount``)."""
    return (
        update(model)
        .where(*where, or_(locked_column.is_(None), locked_column <= now))
        .values({failures_column.key: failures_column + 1, **also,
                 locked_column.key: locked_until_after_one_more(failures_column, locked_column, policy, now)})
        .execution_options(synchronize_session=False)
    )


def seconds_left(locked_until: datetime | None, now: datetime) -> int:
    if locked_until is None or locked_until <= now:
        return 0
    return max(1, int((locked_until - now).total_seconds() + 0.999))


def seconds_locked(session: Session, key: str, now: datetime) -> int:
    row = session.get(Throttle, key, populate_existing=True)
    return seconds_left(row.locked_until if row else None, now)


def reserve(db: Session, key: str, policy: Policy, now: datetime) -> int:
    """Count one attempt for ``key``: 0 when it may go ahead, else the seconds to wait
    (and nothing is counted). Atomic across requests and workers."""
    _ensure_row(db, key)
    result = db.execute(count_one_more_unless_locked(
        Throttle, (Throttle.key == key,), Throttle.failures, Throttle.locked_until, policy, now,
        last_failure_at=now))
    return _passed_or_wait(db, key, result, now)


def reserve_all(db: Session, reservations: list[tuple[str, Policy]], now: datetime) -> int:
    """``reserve`` on every key, or on none (the ones taken are given back): 0, or the
    seconds to wait."""
    taken = []
    for key, policy in reservations:
        wait = reserve(db, key, policy, now)
        if wait:
            for earlier in taken:
                give_back(db, earlier)
            return wait
        taken.append(key)
    return 0


def _ensure_row(db: Session, key: str) -> None:
    """The key's row, so that the conditional UPDATE after it has one to count on."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.execute(insert(Throttle).values(key=key, failures=0).on_conflict_do_nothing(index_elements=["key"]))


def _passed_or_wait(db: Session, key: str, result, now: datetime) -> int:
    """0 when the conditional UPDATE counted the attempt, else the seconds to wait."""
    if result.rowcount == 1:
        return 0
    return max(1, seconds_locked(db, key, now))


def give_back(db: Session, key: str) -> None:
    """A reserved attempt turned out fine: it does not count (the lock it set stays)."""
    db.execute(update(Throttle).where(Throttle.key == key, Throttle.failures > 0)
               .values(failures=Throttle.failures - 1).execution_options(synchronize_session=False))


def clear(db: Session, key: str) -> None:
    """Forget every failure of ``key`` (a successful login to the account)."""
    db.execute(Throttle.__table__.delete().where(Throttle.__table__.c.key == key))


def reserve_in_window(db: Session, key: str, limit: int, window_seconds: int, now: datetime) -> int:
    """Count one attempt for ``key`` in a fixed window that starts with the first attempt:
    at most ``limit`` per window. 0 when it may go ahead, else the seconds until the window
    ends (nothing counted). Atomic across requests and workers. ``locked_until`` holds the
    window's end, ``failures`` the attempts in it."""
    _ensure_row(db, key)
    column_type = Throttle.locked_until.type
    window_over = or_(Throttle.locked_until.is_(None), Throttle.locked_until <= now)
    result = db.execute(
        update(Throttle)
        .where(Throttle.key == key, or_(window_over, Throttle.failures < limit))
        .values(failures=case((window_over, 1), else_=Throttle.failures + 1), last_failure_at=now,
                locked_until=case((window_over, literal(now + timedelta(seconds=window_seconds), column_type)),
                                  else_=Throttle.locked_until))
        .execution_options(synchronize_session=False)
    )
    return _passed_or_wait(db, key, result, now)


def window_wait(db: Session, key: str, limit: int, now: datetime) -> int:
    """Seconds until ``reserve_in_window`` would let one more attempt through (0 = now)."""
    row = db.get(Throttle, key, populate_existing=True)
    if row is None or row.failures < limit:
        return 0
    return seconds_left(row.locked_until, now)
