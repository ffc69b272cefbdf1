#!/usr/bin/env bash
# make test: the same set-up as make run without demo data, then ruff, mypy, the import
# contracts (lint-imports) and pytest against the real PostGIS and Redis. Stops the services
# afterwards if it started them.
set -euo pipefail
cd "$(dirname "$0")/../.."
step() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
# Chromium for the web pages' end-to-end browser test (installed only when missing).
WITH_CHROMIUM=1 bash backend/scripts/system-deps.sh
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
step "pytest"
.venv/bin/pytest "$@"
