"""The one place that reads the wall clock. Everything else takes ``now``."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Aware UTC: stored as UTC, compared as UTC, in every database."""
    return datetime.now(UTC)
