#!/usr/bin/env bash
# One of the assistant's two processes, on loopback only (Procfile: chatbot, actions):
#   chatbot-run.sh rasa      Rasa with the REST channel only (no --enable-api), serving the
#                            model named in .var/chatbot/models/current
#   chatbot-run.sh actions   the rasa-sdk action server; it files through Open311 with the
#                            key in .var/chatbot/api-key (manage.py chatbot_key)
# Ports: CHATBOT_RASA_PORT (5005), CHATBOT_ACTIONS_PORT (5055); the site the actions call:
# CHATBOT_BACKEND_URL (http://127.0.0.1:${CITY311_PORT:-8000}).
# Conversations (Rasa's trackers) live in Redis, so a half-finished report survives a restart
# of Rasa: CHATBOT_TRACKER_REDIS_URL (redis://127.0.0.1:${CITY311_REDIS_PORT:-63799}/3, the
# project's Redis, a database of its own; keys city311chat:tracker:<conversation>, expiring
# CHATBOT_TRACKER_EXPIRY_SECONDS (86400) after the last message). "memory" keeps them in
# Rasa's memory instead (lost on restart), as does a Redis that does not answer at start.
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
    tracker_url=${CHATBOT_TRACKER_REDIS_URL:-redis://127.0.0.1:${CITY311_REDIS_PORT:-63799}/3}
    if [ "$tracker_url" != memory ]; then
      # The tracker store's lines of the endpoints file (RedisTrackerStore's arguments), or
      # nothing when that Redis does not answer.
      if ! .var/chatbot/venv/bin/python - "$tracker_url" "${CHATBOT_TRACKER_EXPIRY_SECONDS:-86400}" \
          >>"$endpoints" <<'PY'; then
import sys
from urllib.parse import unquote, urlsplit

import redis

url, expiry = urlsplit(sys.argv[1]), int(sys.argv[2])
db = int(url.path.strip("/") or 0)
password = unquote(url.password) if url.password else None
try:
    redis.Redis(host=url.hostname, port=url.port or 6379, db=db, password=password,
                ssl=url.scheme == "rediss", socket_connect_timeout=2).ping()
except redis.RedisError as exc:
    sys.exit(f"{type(exc).__name__}: {exc}")
lines = ["tracker_store:", "  type: redis", f"  url: {url.hostname}", f"  port: {url.port or 6379}",
         f"  db: {db}", "  key_prefix: city311chat", f"  record_exp: {expiry}"]
if password:
    lines.append(f"  password: \"{password}\"")
if url.scheme == "rediss":
    lines.append("  use_ssl: true")
print("\n".join(lines))
PY
        echo "chatbot-run.sh: Redis at $tracker_url does not answer: conversations are kept in" \
             "Rasa's memory and lost when it restarts." >&2
      fi
    fi
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
