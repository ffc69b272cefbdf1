#!/usr/bin/env bash
# make test: the same set-up as make run without demo data, then ruff, mypy, the import
# contracts (lint-imports) and pytest against the real PostGIS and Redis. Stops the services
# afterwards if it started them.
set -euo pipefail
cd "$(dirname "$0")/../.."
step() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
# Chromium for the web pages' end-to-end browser test, HAProxy and PgBouncer for the
# scale-out rehearsal (tests/faults/test_scaleout.py); installed only when missing.
WITH_CHROMIUM=1 WITH_SCALEOUT=1 bash backend/scripts/system-deps.sh
# axe-core from npm for the accessibility checks of the browser tests (tests/web/a11y.py),
# exactly the version in the lock file; again only when the lock file changed.
if [ ! -f tests/web/axe/node_modules/.installed ] \
   || [ tests/web/axe/package-lock.json -nt tests/web/axe/node_modules/.installed ]; then
  step "installing axe-core (npm ci in tests/web/axe)"
  npm ci --prefix tests/web/axe --no-audit --no-fund --loglevel=error >/dev/null
  touch tests/web/axe/node_modules/.installed
fi
state=$(bash backend/scripts/services.sh start)
if [ "$state" = started ]; then
  trap 'bash backend/scripts/services.sh stop' EXIT
fi
step "migrating the database"
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py catalog_load
step "ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
step "mypy"
.venv/bin/mypy .
# The layers of docs/architecture.md (pyproject.toml, [tool.importlinter]; ADR 0020).
step "import contracts"
.venv/bin/lint-imports
# The assistant (chatbot/assistant, its own Python 3.10 virtualenv): model, rasa data
# validate, rasa test, held-out NLU, the actions' pytest. tests/chatbot/ then needs the model.
bash backend/scripts/chatbot-test.sh
# Known vulnerabilities in the packages this project installs (.venv, and the assistant's
# Rasa virtualenv), from PyPI's advisory data. Printed, never fatal: an advisory published
# tomorrow must not fail make test with no code change. Bounded: without an answer from PyPI
# it says so and goes on.
pip_audit() {  # $1: what is audited, $2: its site-packages
  step "pip-audit: $1 (findings are printed, not fatal)"
  if [ ! -d "$2" ]; then
    echo "pip-audit: $2 is not there; skipped"
    return
  fi
  local out rc=0 skipped
  out=$(timeout 120 .venv/bin/pip-audit --path "$2" --skip-editable --progress-spinner off \
    2>&1) || rc=$?
  if printf '%s\n' "$out" | grep -q '^Traceback'; then
    echo "pip-audit: failed ($(printf '%s\n' "$out" | tail -n 1 | cut -c1-200)); going on"
    return
  fi
  skipped=$(printf '%s\n' "$out" | grep -c 'could not be audited' || true)
  # pip-audit says "No known vulnerabilities found" even when it could check nothing: only
  # say it when every package was checked.
  if [ "$skipped" -gt 0 ]; then
    printf '%s\n' "$out" | grep -v -e 'could not be audited' -e '^No known vulnerabilities found' \
      || true
  else
    printf '%s\n' "$out"
  fi
  if [ "$rc" = 124 ]; then
    echo "pip-audit: no answer within 120 s (is PyPI reachable?); going on"
  fi
  if [ "$skipped" -gt 0 ]; then
    echo "pip-audit: $skipped packages could not be audited (no advisory data from PyPI for" \
      "them): the audit above is incomplete"
  fi
  echo "pip-audit: exit status $rc; findings above are printed, not fatal"
}
pip_audit "the project's .venv" .venv/lib/python3.11/site-packages
pip_audit "the assistant's Rasa virtualenv" "$(echo .var/chatbot/venv/lib/python3.*/site-packages)"
step "pytest"
.venv/bin/pytest "$@"
