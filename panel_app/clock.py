"""The one place that reads the wall clock. Everything else takes ``now``.

``read`` is the seam tests move time through (the ``clock`` fixture replaces it): every
``utcnow()`` call, column defaults included, then answers the test's time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def wall_clock() -> datetime:
    return datetime.now(UTC)


read: Callable[[], datetime] = wall_clock


def utcnow() -> datetime:
    """Aware UTC: stored as UTC, compared as UTC, in every database."""
    return read()
