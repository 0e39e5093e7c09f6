"""Production hardening: security headers on every answer, health and readiness with their
dependencies, structured logs without secrets."""

from __future__ import annotations

import base64
import hashlib
import json
import logging

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from panel_app import logs
from panel_app.api import hardening


@pytest.fixture
def client():
    app = Starlette(routes=[*hardening.routes(), Route("/page", lambda _r: PlainTextResponse("hi"))])
    with TestClient(logs.RequestLog(hardening.SecurityHeaders(app)), base_url="http://localhost:3000") as c:
        yield c


def test_every_answer_carries_the_security_headers(client):
    for path in ("/page", "/api/health", "/nowhere"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "base-uri 'none'" in csp
        assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers  # plain http: no HSTS
        assert len(headers["x-request-id"]) == 16


def test_hsts_only_under_tls(monkeypatch):
    from panel_app import settings

    monkeypatch.setenv("PANEL_PUBLIC_URL", "https://panel.example.com")
    settings.get_settings.cache_clear()
    hardening.security_headers.cache_clear()
    try:
        names = dict(hardening.security_headers())
        assert names["Strict-Transport-Security"].startswith("max-age=31536000")
        assert "wss://panel.example.com" in names["Content-Security-Policy"]
    finally:
        settings.get_settings.cache_clear()
        hardening.security_headers.cache_clear()


def test_inline_scripts_of_the_build_are_allowed_by_hash_only(tmp_path):
    (tmp_path / "a.html").write_bytes(b'<html><script>window.x=1</script><script src="/b.js"></script>'
                                      b'<script type="module">import("/c.js")</script></html>')
    digest = "'sha256-" + base64.b64encode(hashlib.sha256(b"window.x=1").digest()).decode() + "'"
    found = hardening.inline_script_hashes(tmp_path)
    assert digest in found and len(found) == 2  # the one with src= is not inline


def test_health_and_readiness_check_the_database(client):
    health = client.get("/api/health")
    assert health.status_code == 200 and health.json()["database"] == "ok"
    ready = client.get("/api/ready")
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok", "schema": "ok"}


def test_a_failing_database_makes_health_503_and_says_which_part(client, monkeypatch):
    monkeypatch.setattr(hardening, "_check_database", lambda: "OperationalError")
    answer = client.get("/api/health")
    assert answer.status_code == 503 and answer.json() == {"status": "fail", "database": "OperationalError"}
    assert client.get("/api/ready").status_code == 503


def test_a_failing_redis_makes_health_503(client, monkeypatch):
    from panel_app import settings

    monkeypatch.setenv("PANEL_REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    settings.get_settings.cache_clear()
    try:
        answer = client.get("/api/health")
        assert answer.status_code == 503 and answer.json()["redis"] != "ok" and answer.json()["database"] == "ok"
    finally:
        settings.get_settings.cache_clear()


def test_production_logs_are_json_lines_with_ids_and_no_query_strings(client, capsys):
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
             for name in ("", "panel", "uvicorn", "uvicorn.error", "granian", "reflex", "panel.events",
                          "panel.http")}
    try:
        logs.configure(production=True)
        client.get("/page?token=SECRET-TOKEN-123&code=654321")
        import time
        logs.event_done("reflex___state____state.panel_app___state___stepup____step_up_state.verify",
                        time.perf_counter(), user_id=7, staff_id=None)
    finally:
        for name, (handlers, propagate) in saved.items():
            logging.getLogger(name).handlers, logging.getLogger(name).propagate = handlers, propagate
        logging.getLogger("uvicorn.access").disabled = False
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    request = next(line for line in lines if line["msg"] == "request")
    assert request["path"] == "/page" and request["status"] == 200 and request["request_id"]
    event = next(line for line in lines if line["msg"] == "event")
    assert event["event"] == "panel_app___state___stepup____step_up_state.verify" and event["user_id"] == 7
    assert "latency_ms" in event and "SECRET-TOKEN" not in str(lines) and "654321" not in str(lines)


def test_the_client_address_comes_from_a_trusted_proxy_only(monkeypatch):
    from panel_app import settings

    async def echo(scope, receive, send):
        body = (scope["client"][0] if scope.get("client") else "").encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    assert hardening.client_address(echo) is echo  # not configured: the peer as it is
    monkeypatch.setenv("PANEL_TRUSTED_PROXIES", "testclient")
    settings.get_settings.cache_clear()
    try:
        c = TestClient(hardening.client_address(echo))
        assert c.get("/", headers={"X-Forwarded-For": "203.0.113.7"}).text == "203.0.113.7"
        monkeypatch.setenv("PANEL_TRUSTED_PROXIES", "10.0.0.1")
        settings.get_settings.cache_clear()
        c = TestClient(hardening.client_address(echo))  # a stranger's header is ignored
        assert c.get("/", headers={"X-Forwarded-For": "203.0.113.7"}).text == "testclient"
    finally:
        settings.get_settings.cache_clear()
