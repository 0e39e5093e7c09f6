"""Structured logs in production: one JSON object per line on stderr.

Each websocket event is logged once when its answer leaves (``event``: the handler's
name, ``event_id``, ``user_id`` or ``staff_id`` when signed in, ``latency_ms``), and each
HTTP request (``request_id``, method, path *without* its query string, status,
``latency_ms``). Never a code, secret, password, token or card number: only names, ids
and timings are logged, payloads never (tests/browser/test_zz_logs.py greps the whole
log of a browser run for every secret the run used).
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from datetime import datetime, timezone

from panel_app.asgi import on_response_start

log = logging.getLogger("panel.events")
http_log = logging.getLogger("panel.http")
FIELDS = ("event", "event_id", "user_id", "staff_id", "latency_ms", "request_id", "method", "path", "status")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(*, production: bool, events: bool = True) -> None:
    """Production: JSON lines for the panel's and the servers' loggers. ``events``: the
    per-event and per-request lines too (PANEL_LOG_EVENTS; on in production, off in the
    demo unless asked for)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    if events:
        for name in ("panel.events", "panel.http"):
            logging.getLogger(name).handlers = [handler]
            logging.getLogger(name).propagate = False
            logging.getLogger(name).setLevel(logging.INFO)
    if not production:
        return
    for name in ("", "panel", "uvicorn", "uvicorn.error", "granian", "reflex"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False if name else logger.propagate
    logging.getLogger("panel").setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").disabled = True  # it logs query strings: see RequestLog


def event_done(name: str, started: float, *, user_id: int | None, staff_id: int | None) -> None:
    if not log.isEnabledFor(logging.INFO):  # the hot path costs nothing when the log is off
        return
    log.info("event", extra={"event": _short(name), "event_id": uuid.uuid4().hex[:16],
                             "user_id": user_id, "staff_id": staff_id,
                             "latency_ms": round((time.perf_counter() - started) * 1000, 1)})


def _short(name: str) -> str:
    """``state_path.handler`` → the last state's name and the handler (readable, no token)."""
    path, _, handler = name.rpartition(".")
    return f"{path.rpartition('.')[2]}.{handler}"


class RequestLog:
    """ASGI middleware: one line per HTTP request, and an ``X-Request-ID`` on the answer."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        status = {"code": 500}

        def note_start(message) -> None:
            status["code"] = message["status"]
            message.setdefault("headers", [])
            message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]

        try:
            await self.app(scope, receive, on_response_start(send, note_start))
        finally:
            http_log.info("request", extra={"request_id": request_id, "method": scope.get("method"),
                                            "path": scope.get("path", "")[:200], "status": status["code"],
                                            "latency_ms": round((time.perf_counter() - started) * 1000, 1)})
