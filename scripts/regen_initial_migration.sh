#!/usr/bin/env bash
# Before the first release only: rebuild the single initial migration from models.py.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f panel_app/migrations/versions/0001_initial.py
PANEL_DATABASE_URL="sqlite:///$tmp/empty.db" PANEL_SECRET_KEY_FILE="$tmp/key" .venv/bin/python - <<'PY'
from alembic import command
from panel_app.migrate import alembic_config
command.revision(alembic_config(), message="initial", autogenerate=True, rev_id="0001_initial")
PY
mv panel_app/migrations/versions/0001_initial_initial.py panel_app/migrations/versions/0001_initial.py
rm -rf "$tmp"
