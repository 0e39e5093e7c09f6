"""The one place that reads the wall clock. Everything else takes ``now``."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC, as stored in the database (SQLite keeps no time zone)."""
    return datetime.now(UTC).replace(tzinfo=None)
