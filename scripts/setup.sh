#!/usr/bin/env bash
# Set up a fresh checkout: a virtual environment in .venv with the project and its test tools.
# Idempotent; safe to re-run. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
echo "setup: done (.venv ready)"
