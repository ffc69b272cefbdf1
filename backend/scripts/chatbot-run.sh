#!/usr/bin/env bash
# One of the assistant's two processes, on loopback only (Procfile: chatbot, actions):
#   chatbot-run.sh rasa      Rasa with the REST channel only (no --enable-api), serving the
#                            model named in .var/chatbot/models/current
#   chatbot-run.sh actions   the rasa-sdk action server; it files through Open311 with the
#                            key in .var/chatbot/api-key (manage.py chatbot_key)
# Ports: CHATBOT_RASA_PORT (5005), CHATBOT_ACTIONS_PORT (5055); the site the actions call:
# CHATBOT_BACKEND_URL (http://127.0.0.1:${CITY311_PORT:-8000}).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RASA_PORT=${CHATBOT_RASA_PORT:-5005}
ACTIONS_PORT=${CHATBOT_ACTIONS_PORT:-5055}
export RASA_TELEMETRY_ENABLED=false RASA_CACHE_DIRECTORY=$ROOT/.var/chatbot/cache
export SANIC_HOST=127.0.0.1  # the action server's interface (rasa_sdk reads it)
case "${1:-}" in
  rasa)
    model=$(cat .var/chatbot/models/current 2>/dev/null || true)
    if [ -z "$model" ] || [ ! -f "$model" ]; then
      echo "No trained assistant: run bash backend/scripts/chatbot-train.sh" >&2
      exit 1
    fi
    mkdir -p .var/chatbot/run
    endpoints=.var/chatbot/run/endpoints-$RASA_PORT.yml
    printf 'action_endpoint:\n  url: "http://127.0.0.1:%s/webhook"\n' "$ACTIONS_PORT" >"$endpoints"
    exec .var/chatbot/venv/bin/rasa run --interface 127.0.0.1 --port "$RASA_PORT" \
      --model "$model" --endpoints "$endpoints" --credentials chatbot/assistant/credentials.yml \
      --response-timeout 30
    ;;
  actions)
    export CHATBOT_API_KEY_FILE=${CHATBOT_API_KEY_FILE:-$ROOT/.var/chatbot/api-key}
    export CHATBOT_BACKEND_URL=${CHATBOT_BACKEND_URL:-http://127.0.0.1:${CITY311_PORT:-8000}}
    cd chatbot/assistant
    exec "$ROOT/.var/chatbot/venv/bin/python" -m rasa_sdk --actions actions --port "$ACTIONS_PORT"
    ;;
  *)
    echo "usage: $0 rasa|actions" >&2
    exit 2
    ;;
esac
