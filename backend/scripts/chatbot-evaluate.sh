#!/usr/bin/env bash
# The measurement behind the assistant's NLU choices (docs/adr/0013-chatbot-rasa.md), on the
# two sets of held-out examples (chatbot/assistant/heldout/ and heldout-2/, never trained
# on; keys en, es and en-2, es-2, vi-2 in the report: Vietnamese is in the second set only). Writes
# chatbot/reports/nlu-evaluation.json; takes ~10 minutes on 2 cores (DIET's training).
#   1. pipelines: config.yml (scikit-learn) vs config-diet.yml (DIET), intent per service
#   2. design: an intent per service vs one intent with the service as an entity
#   3. one model for both languages vs a model per language
set -euo pipefail
cd "$(dirname "$0")/../.."
step() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
export RASA_TELEMETRY_ENABLED=false RASA_CACHE_DIRECTORY=$PWD/.var/chatbot/cache
A=chatbot/assistant
V=.var/chatbot/venv/bin
W=.var/chatbot/evaluate
mkdir -p "$W"
bash backend/scripts/chatbot-venv.sh
train_nlu() {  # name, config, nlu files...: an NLU-only model, timed, with an empty cache
  local name=$1 config=$2; shift 2
  step "training $name"
  local start; start=$(date +%s)
  RASA_CACHE_DIRECTORY=$W/cache-$name $V/rasa train nlu --config "$config" --nlu "$@" \
    --out "$W" --fixed-model-name "$name" >"$W/$name.log" 2>&1
  echo "$(( $(date +%s) - start ))" >"$W/$name.seconds"
  rm -rf "$W/cache-$name"
}
rm -rf "$W"/*
$V/python $A/design_variant.py "$W/variant"
train_nlu scikit-learn $A/config.yml $A/data/nlu
train_nlu diet $A/config-diet.yml $A/data/nlu
train_nlu entity-design "$W/variant/config.yml" "$W/variant/nlu.yml"
train_nlu english-only $A/config.yml $A/data/nlu/en.yml
train_nlu spanish-only $A/config.yml $A/data/nlu/es.yml
step "evaluating on the held-out examples"
R=chatbot/reports
$V/python $A/evaluate.py "$W/scikit-learn.tar.gz" "$W/diet.tar.gz" --out "$W/pipelines.json" 2>>"$W/evaluate.log" | grep accuracy
# The entity design's annotations (design_variant.py) know English and Spanish words only.
$V/python $A/evaluate.py "$W/entity-design.tar.gz" --design entity --languages en,es \
  --out "$W/design.json" 2>>"$W/evaluate.log" | grep accuracy
$V/python $A/evaluate.py "$W/english-only.tar.gz" --languages en --out "$W/en.json" 2>>"$W/evaluate.log" | grep accuracy
$V/python $A/evaluate.py "$W/spanish-only.tar.gz" --languages es --out "$W/es.json" 2>>"$W/evaluate.log" | grep accuracy
$V/python - "$W" "$R/nlu-evaluation.json" <<'PY'
import json, sys, pathlib
w = pathlib.Path(sys.argv[1])
report = {
    "heldout": {
        "en, es": "chatbot/assistant/heldout/ (never trained on; its scores were seen while "
        "the training data was written)",
        "en-2, es-2": "chatbot/assistant/heldout-2/ (never trained on, written before the "
        "training data was extended, not looked at until the final measurement)",
        "vi-2": "chatbot/assistant/heldout-2/vi.yml (never trained on, written before the "
        "Vietnamese training data, half of it without diacritics)",
    },
    "loadavg": open("/proc/loadavg").read().split()[:3],
    "pipelines": json.loads((w / "pipelines.json").read_text()),
    "design_one_intent_with_service_entity": json.loads((w / "design.json").read_text()),
    "model_per_language": {
        **json.loads((w / "en.json").read_text()),
        **json.loads((w / "es.json").read_text()),
    },
}
pathlib.Path(sys.argv[2]).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
PY
echo "written: $R/nlu-evaluation.json"
