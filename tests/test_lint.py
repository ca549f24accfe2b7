"""The linter runs in the test command: ``ruff check .`` from the repository root must pass.

The rules are in ``pyproject.toml`` (``[tool.ruff]``): pycodestyle errors, pyflakes, bugbear,
bandit and Google-style docstrings. Ruff is in the ``dev`` extra; the test uses the ``ruff`` next
to this Python (the virtual environment's), else ``python -m ruff``.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ruff() -> list[str]:
    exe = Path(sys.executable).with_name("ruff")
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("ruff", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "ruff"]


def test_ruff_check_passes():
    """``ruff check .`` finds nothing (no cache written into the working tree)."""
    r = subprocess.run([*_ruff(), "check", ".", "--no-cache", "--output-format", "concise"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"ruff check . failed (exit {r.returncode}):\n{r.stdout}{r.stderr}"
