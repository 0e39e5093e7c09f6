"""`make run` serves on Uvicorn with MALLOC_ARENA_MAX=2, not on Reflex's default Granian: an idle
open tab costs about a third of the memory (bench/results.md, "Memory per idle tab").

Reflex 0.10.1 decides in ``reflex.utils.exec.should_use_granian`` and, for Uvicorn, runs
``python -m gunicorn`` (on Linux), which must be installed or the server does not start."""

import importlib.util
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run_recipe_env() -> dict[str, str]:
    """The variables `make run`'s recipe sets in front of `reflex run`, as the shell expands them
    with none of them set by the operator."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    command = recipe.replace("\\\n", " ").replace("\t", " ")
    assert "reflex run --env prod" in command
    prefix = command.split("$(VENV)/bin/reflex", 1)[0]
    env = {k: v for k, v in os.environ.items() if k not in ("REFLEX_USE_GRANIAN", "MALLOC_ARENA_MAX")}
    shown = subprocess.run(["bash", "-c", prefix.replace("$$", "$") + " env"], env=env, check=True,
                           capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in shown.splitlines() if line.startswith(("REFLEX_", "MALLOC_")))


def test_make_run_picks_uvicorn_and_two_malloc_arenas(monkeypatch):
    env = _run_recipe_env()
    assert env.get("MALLOC_ARENA_MAX") == "2"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from reflex.utils.exec import should_use_granian

    assert should_use_granian() is False


def test_an_operator_choice_wins(monkeypatch):
    monkeypatch.setenv("REFLEX_USE_GRANIAN", "true")
    makefile = (ROOT / "Makefile").read_text()
    assert "REFLEX_USE_GRANIAN=$${REFLEX_USE_GRANIAN:-false}" in makefile
    from reflex.utils.exec import should_use_granian

    assert should_use_granian() is True


def test_the_uvicorn_path_has_what_reflex_runs():
    # Reflex 0.10.1 runs `python -m gunicorn --worker-class uvicorn.workers.UvicornH11Worker`.
    assert importlib.util.find_spec("gunicorn") is not None, "gunicorn missing: make install"
    assert importlib.util.find_spec("uvicorn.workers") is not None
    requirements = (ROOT / "requirements.txt").read_text().split()
    assert any(r.startswith("gunicorn==") for r in requirements)
    assert any(r.startswith("uvicorn==") for r in requirements)
