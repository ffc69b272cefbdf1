#!/usr/bin/env bash
# Creates .venv with Python 3.11 and installs city311 with its development tools.
set -euo pipefail
cd "$(dirname "$0")/../.."
step() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
PYTHON=""
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null && \
     "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    PYTHON=$candidate; break
  fi
done
if [ -z "$PYTHON" ]; then
  step "installing Python 3.11"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y -qq python3.11 python3.11-venv >/dev/null
  PYTHON=python3.11
fi
if [ ! -x .venv/bin/python ]; then
  step "creating the virtualenv .venv ($($PYTHON --version))"
  "$PYTHON" -m venv .venv
fi
step "installing Python packages from pyproject.toml (log: .var/log/pip.log)"
mkdir -p .var/log
if ! { .venv/bin/pip install --disable-pip-version-check -U pip setuptools wheel &&
       .venv/bin/pip install --disable-pip-version-check -e '.[dev]'; } >.var/log/pip.log 2>&1; then
  tail -n 30 .var/log/pip.log >&2
  echo "pip failed; the whole log is in .var/log/pip.log" >&2
  exit 1
fi
