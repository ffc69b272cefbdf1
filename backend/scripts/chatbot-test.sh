#!/usr/bin/env bash
# make test's share for the assistant, in its own Python 3.10 virtualenv: the model (trained
# only when its data changed), `rasa data validate`, `rasa test` on the test stories, the
# held-out NLU evaluation (both sets, Vietnamese in the second only; at least 90 % of intents
# per language and set) and
# pytest for the actions (the backend faked at HTTP).
# The integration test in tests/chatbot/ then runs the real Rasa with this model.
set -euo pipefail
cd "$(dirname "$0")/../.."
step() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
bash backend/scripts/chatbot-train.sh
export RASA_TELEMETRY_ENABLED=false RASA_CACHE_DIRECTORY=$PWD/.var/chatbot/cache
A=chatbot/assistant
V=.var/chatbot/venv/bin
OUT=.var/chatbot/results
mkdir -p "$OUT"
model=$(cat .var/chatbot/models/current)
quiet() {  # the command's output only when it fails
  local log=$OUT/$1.log; shift
  if ! "$@" >"$log" 2>&1; then tail -n 40 "$log" >&2; echo "failed; log: $log" >&2; return 1; fi
}
step "rasa data validate"
quiet validate $V/rasa data validate --data $A/data --domain $A/domain.yml --config $A/config.yml
step "rasa test: the test stories (every path of the conversation)"
quiet stories $V/rasa test core --e2e --model "$model" --stories $A/tests/test_stories.yml \
  --out "$OUT/stories" --fail-on-prediction-errors
grep -h "Correct:\|Accuracy" "$OUT/stories.log" | head -4 || true
step "NLU on both sets of held-out examples (heldout/, heldout-2/: never trained on)"
quiet nlu $V/python $A/evaluate.py "$model" --out "$OUT/nlu.json" \
  --min-intent-en "${CHATBOT_NLU_MIN_EN:-0.9}" --min-intent-es "${CHATBOT_NLU_MIN_ES:-0.9}" \
  --min-intent-vi "${CHATBOT_NLU_MIN_VI:-0.9}"
grep -v "^\s*$" "$OUT/nlu.log" | grep "intent_accuracy" || true
step "pytest: the assistant's actions (backend faked at HTTP)"
(cd $A && "../../$V/python" -m pytest -q -p no:cacheprovider tests)
