"""When PostgreSQL or Redis is away for a moment (a restart, a failover).

Reflex answers an event whose handler, tab check or state store raised with a toast
"An error occurred. Contact the website administrator." (English only) and logs a full
traceback per event: during a few seconds of a restart, one per event of every open tab.
Here the app's backend exception handler tells the two apart:

- a lost connection to the database or to Redis (``failing_part``): the tab is told, in
  its language, that the panel is briefly unavailable and to try again; the log gets one
  line when the part goes away and one when it is back (``outages``), no traceback;
- anything else: Reflex's own handler, as before (a bug must stay loud).

Nothing is decided here and nothing is cached that a decision reads: the event that
failed changed nothing (its transaction rolled back), the next one is checked against the
database as usual, so no grant or code outlives its time while a part is down.
"""

from __future__ import annotations

import logging
import time

from reflex_base.event import EventSpec

from panel_app.i18n import DEFAULT_LANGUAGE, t

log = logging.getLogger("panel.faults")

DATABASE = "database"
REDIS = "redis"
TOAST_ID = "panel_unavailable"
_CHAIN_DEPTH = 5
# SQLSTATE classes of a connection that went away: 08 connection exception, 57P admin
# shutdown / crash shutdown / cannot connect now (a server starting up).
_CONNECTION_SQLSTATES = ("08", "57P")


def _is_database_connection_error(exc: BaseException) -> bool:
    import psycopg
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig
    if not isinstance(exc, psycopg.OperationalError):
        return False  # SQLite's "database is locked" and the like are not an outage
    sqlstate = getattr(exc, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(_CONNECTION_SQLSTATES)


def _is_redis_connection_error(exc: BaseException) -> bool:
    import redis.exceptions
    from reflex_base.utils.exceptions import LockExpiredError

    # A tab's lock gone with a restarted Redis: the state write is refused, try again.
    return isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, LockExpiredError))


def failing_part(exc: BaseException) -> str | None:
    """``DATABASE`` or ``REDIS`` when ``exc`` (or what caused it) is a lost connection."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < _CHAIN_DEPTH:
        if _is_database_connection_error(current):
            return DATABASE
        if _is_redis_connection_error(current):
            return REDIS
        current = current.__cause__ or current.__context__
        seen += 1
    return None


class Outages:
    """The parts this worker found away: one log line when one goes, one when it is back."""

    def __init__(self) -> None:
        self._down_since: dict[str, float] = {}

    @property
    def any(self) -> bool:
        return bool(self._down_since)

    def is_down(self, part: str) -> bool:
        return part in self._down_since

    def down(self, part: str, exc: BaseException) -> None:
        if part in self._down_since:
            return
        self._down_since[part] = time.monotonic()
        first_line = (str(exc).splitlines() or [""])[0][:200]
        log.error("%s unavailable: events are answered 'try again' until it is back (%s: %s)",
                  part, type(exc).__name__, first_line)

    def up(self, part: str) -> None:
        since = self._down_since.pop(part, None)
        if since is not None:
            log.warning("%s available again after %.1f s", part, time.monotonic() - since)


outages = Outages()


def settle_redis_listeners(app) -> list[str]:
    """After Redis was away: Reflex's Redis listeners (lost and found, socket records, lock
    updates; reflex/utils/tasks.py) give up after 5 failed connects within 60 s, and a task
    that gave up is replaced at its next use without its exception ever being read, so
    asyncio logs a traceback per listener and worker ("Task exception was never retrieved"),
    and closing the state manager at shutdown raises the lock listener's. Read those
    exceptions (the outage was logged once already) and start the lock listener again now.
    Returns the listeners that had given up."""
    from reflex.istate.manager.redis import StateManagerRedis
    from reflex.utils.token_manager import RedisTokenManager

    namespace = app.event_namespace
    tokens = namespace._token_manager if namespace is not None else None
    states = getattr(app, "_state_manager", None)
    owners = []
    if isinstance(tokens, RedisTokenManager):
        owners += [(tokens, "_lost_and_found_task"), (tokens, "_socket_record_task")]
    if isinstance(states, StateManagerRedis):
        owners.append((states, "_lock_task"))
    gave_up = []
    for owner, attribute in owners:
        task = getattr(owner, attribute, None)
        if task is None or not task.done():
            continue
        if not task.cancelled():
            task.exception()  # read: asyncio no longer logs it
        gave_up.append(attribute)
    if "_lock_task" in gave_up:
        states._ensure_lock_task()
    return gave_up


class _TabLanguages:
    """The language each tab last showed, kept in the worker's memory (bounded), so that
    a tab whose state cannot be read (Redis away) is still told in its language."""

    def __init__(self, size: int = 20_000) -> None:
        self._by_token: dict[str, str] = {}
        self._size = size

    def remember(self, token: str, lang: str) -> None:
        if lang == DEFAULT_LANGUAGE:
            self._by_token.pop(token, None)  # the default needs no entry
            return
        if self._by_token.get(token) == lang:
            return
        self._by_token[token] = lang
        if len(self._by_token) > self._size:
            self._by_token.pop(next(iter(self._by_token)))

    def of(self, token: str | None) -> str:
        return self._by_token.get(token or "", DEFAULT_LANGUAGE)


tab_languages = _TabLanguages()


def _event_token() -> str | None:
    from reflex_base.event.context import EventContext

    try:
        return EventContext.get().token
    except LookupError:
        return None


def try_again_toast(lang: str) -> EventSpec:
    import reflex as rx

    return rx.toast.error(t("error.unavailable", lang), id=TOAST_ID, position="top-center",
                          fallback_to_alert=True)


def backend_exception_handler(exception: Exception) -> EventSpec | None:
    """The app's backend exception handler (see the module's docstring)."""
    part = failing_part(exception)
    if part is None:
        from reflex.app import default_backend_exception_handler

        return default_backend_exception_handler(exception)
    outages.down(part, exception)
    return try_again_toast(tab_languages.of(_event_token()))
