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
# The teaching view's browser test drives Debian's chromium through Playwright (no browser
# download). Install it from the distribution when it is missing and we can (root + apt-get).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  else
    echo "setup: warning: /usr/bin/chromium missing and cannot apt-get it; the browser test will fail" >&2
  fi
fi
echo "setup: done (.venv ready)"
