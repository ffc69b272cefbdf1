#!/usr/bin/env bash
# make run: set up, load the demo, then run every process in the foreground with one log.
# Ctrl-C stops all of it, PostgreSQL and Redis included; data stays in .var/.
set -euo pipefail
cd "$(dirname "$0")/../.."
step() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
PY=.venv/bin/python

# Stop PostgreSQL and Redis on exit only if this run started them (a second checkout's
# `make test` or an earlier shell may be using them).
state=$(bash backend/scripts/services.sh start)
if [ "$state" = started ]; then
  trap 'bash backend/scripts/services.sh stop' EXIT
fi
# Web Push: unless the environment has a VAPID pair, a development one kept in .var/vapid.env
# (made once; exported to every process below).
if [ -z "${WEB_PUSH_VAPID_PRIVATE_KEY:-}" ]; then
  [ -s .var/vapid.env ] || $PY manage.py webpush_keys --file .var/vapid.env
  set -a
  # shellcheck disable=SC1091
  . .var/vapid.env
  set +a
fi
step "migrating the database"
$PY manage.py migrate --noinput -v 0
$PY manage.py catalog_load
step "loading the demo data"
$PY manage.py demo_load
$PY manage.py collectstatic --noinput -v 0
step "the chatbot: its Python 3.10 virtualenv and model (trained only when its data changed)"
bash backend/scripts/chatbot-train.sh
$PY manage.py chatbot_key --file .var/chatbot/api-key
OPEN311_KEY=$($PY manage.py open311_key create --name demo --channel open311 \
  --key "${OPEN311_DEMO_KEY:-demo-key}")
PORT=${CITY311_PORT:-8000}
cat <<MSG

  city311 is starting on  http://127.0.0.1:${PORT}/
    residents (installable) http://127.0.0.1:${PORT}/            (sign in: resident / resident-dev-password)
    crew app (installable)  http://127.0.0.1:${PORT}/crew/       (crew / crew-dev-password)
    dispatch map            http://127.0.0.1:${PORT}/staff/workorders/  (supervisor / supervisor-dev-password)
    admin                  http://127.0.0.1:${PORT}/admin/      (admin / admin-dev-password)
    API docs               http://127.0.0.1:${PORT}/api/docs/
    catalog                curl http://127.0.0.1:${PORT}/mobile/v1/services
    Open311 GeoReport v2   curl http://127.0.0.1:${PORT}/open311/v2/services.xml
    Open311 API key        ${OPEN311_KEY}   (development only; see README)
    chat assistant         the widget on every page; POST /api/v1/chat/ (docs/chatbot.md)
  Demo users (development passwords, see README): admin, supervisor, crew, resident
  Ctrl-C stops everything; data stays in .var/ for the next run.

MSG
.venv/bin/honcho -f Procfile start
