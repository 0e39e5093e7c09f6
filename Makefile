# Panel: `make run` serves the demo on http://localhost:3000, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := tools
BUN_BIN := $(CURDIR)/$(TOOLS)/node_modules/.bin
export PATH := $(BUN_BIN):$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_TELEMETRY_ENABLED := false
export PANEL_ENV ?= demo

.PHONY: run dev test install install-dev tools chromium migrate seed clean bench translations

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

$(TOOLS)/node_modules/.installed: $(TOOLS)/package.json
	cd $(TOOLS) && npm install --no-audit --no-fund
	# bun ships its binary in a platform package; its postinstall puts it in place
	# (run again here in case npm skipped install scripts).
	cd $(TOOLS)/node_modules/bun && node install.js
	$(BUN_BIN)/bun --version
	touch $@

install: $(VENV)/.runtime tools
install-dev: $(VENV)/.dev tools
tools: $(TOOLS)/node_modules/.installed

chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

migrate: install
	$(PY) -m panel_app.cli migrate

seed: migrate
	@if [ "$(PANEL_ENV)" = "demo" ]; then $(PY) -m panel_app.cli seed-demo; fi

# One worker on Uvicorn (Reflex 0.10.1 runs gunicorn --preload with UvicornH11Worker) rather than
# Reflex's default Granian: an idle open tab costs a third of the memory (bench/results.md,
# "Memory per idle tab"); MALLOC_ARENA_MAX=2 keeps glibc's free lists from growing per thread.
# Both only set defaults: an operator's own environment wins.
run: seed
	REFLEX_USE_GRANIAN=$${REFLEX_USE_GRANIAN:-false} MALLOC_ARENA_MAX=$${MALLOC_ARENA_MAX:-2} \
		$(VENV)/bin/reflex run --env prod

dev: seed
	PANEL_FRONTEND_URL=http://localhost:3000 $(VENV)/bin/reflex run --env dev

test: install-dev chromium
	bash scripts/test.sh

# Not part of `make test`: measures this machine (writes bench/results.md, about 8 minutes).
bench: install-dev chromium
	PATH=$(CURDIR)/tools/node_modules/.bin:$$PATH REFLEX_USE_SYSTEM_BUN=1 REFLEX_TELEMETRY_ENABLED=false \
		$(VENV)/bin/python bench/run.py

# After editing a catalog (README: Translations): compile the .po files; commit both.
translations: install
	$(VENV)/bin/pybabel compile -d panel_app/i18n/locale -D messages --statistics

clean:
	rm -rf .web .states data/panel.db
