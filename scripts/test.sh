#!/usr/bin/env bash
# Every test: ruff (rules in pyproject.toml; a finding fails the run), the
# unit/state/websocket suite, then the browser suite in its own pytest invocation
# (Playwright's event loop clashes with pytest-asyncio).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:$PATH" REFLEX_USE_SYSTEM_BUN=1 REFLEX_TELEMETRY_ENABLED=false
.venv/bin/ruff check panel_app tests bench scripts rxconfig.py
.venv/bin/python -m pytest -q -m "not browser" tests
.venv/bin/python -m pytest -q -p no:asyncio -m browser tests/browser
