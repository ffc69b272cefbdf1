#!/usr/bin/env bash
# Trains the assistant only when its training data changed: the model is named by the
# SHA-256 of config.yml, domain.yml and data/ and cached in .var/chatbot/models/.
# Prints nothing on a cache hit; .var/chatbot/models/current names the model to serve.
#   CHATBOT_CONFIG=config-diet.yml  trains another pipeline (chatbot/reports/).
set -euo pipefail
cd "$(dirname "$0")/../.."
step() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
bash backend/scripts/chatbot-venv.sh
export RASA_TELEMETRY_ENABLED=false RASA_CACHE_DIRECTORY=.var/chatbot/cache
A=chatbot/assistant
CONFIG=${CHATBOT_CONFIG:-config.yml}
MODELS=.var/chatbot/models
# folding.py is the tokenizer config.yml names: a change to it is a new model too.
hash=$( { cat "$A/$CONFIG" "$A/domain.yml" "$A/folding.py";
          find "$A/data" -type f -name '*.yml' | LC_ALL=C sort | xargs cat; } |
        sha256sum | cut -c1-16)
name="${CONFIG%.yml}-$hash"
mkdir -p "$MODELS"
if [ ! -f "$MODELS/$name.tar.gz" ]; then
  step "training the assistant ($CONFIG; log: .var/chatbot/train.log)"
  start=$(date +%s)
  if ! .var/chatbot/venv/bin/rasa train \
        --config "$A/$CONFIG" --domain "$A/domain.yml" --data "$A/data" \
        --out "$MODELS" --fixed-model-name "$name" >.var/chatbot/train.log 2>&1; then
    tail -n 30 .var/chatbot/train.log >&2
    echo "rasa train failed; the whole log is in .var/chatbot/train.log" >&2
    exit 1
  fi
  echo "$(( $(date +%s) - start ))" >"$MODELS/$name.seconds"
  # Older models of this configuration are not needed any more.
  find "$MODELS" -regextype posix-extended -regex ".*/${CONFIG%.yml}-[0-9a-f]{16}\.(tar\.gz|seconds)" \
    ! -name "$name.*" -delete
fi
if [ "$CONFIG" = config.yml ]; then
  echo "$MODELS/$name.tar.gz" >"$MODELS/current"
fi
