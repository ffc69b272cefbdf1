#!/usr/bin/env bash
# The assistant's Python 3.10 virtualenv (.var/chatbot/venv) with Rasa 3.6, from
# chatbot/assistant/requirements.txt; reinstalled only when that file changes (stamp file).
set -euo pipefail
cd "$(dirname "$0")/../.."
step() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
VENV=.var/chatbot/venv
REQ=chatbot/assistant/requirements.txt
STAMP=$VENV/.requirements.sha256
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi
PYTHON=""
for candidate in "env PYENV_VERSION=3.10.13 python3.10" python3.10; do
  if $candidate -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
    PYTHON=$candidate; break
  fi
done
if [ -z "$PYTHON" ]; then
  echo "Rasa 3.6 needs Python 3.10: install it (pyenv install 3.10.13, or apt-get install" \
       "python3.10 python3.10-venv) and run make again." >&2
  exit 1
fi
mkdir -p .var/chatbot
if [ ! -x "$VENV/bin/python" ]; then
  step "creating the assistant's virtualenv $VENV ($($PYTHON --version))"
  $PYTHON -m venv "$VENV"
fi
step "installing Rasa from $REQ (log: .var/chatbot/pip.log; a few minutes the first time)"
if ! { "$VENV/bin/pip" install --disable-pip-version-check -q -U pip wheel &&
       "$VENV/bin/pip" install --disable-pip-version-check -r "$REQ"; } >.var/chatbot/pip.log 2>&1; then
  tail -n 30 .var/chatbot/pip.log >&2
  echo "pip failed; the whole log is in .var/chatbot/pip.log" >&2
  exit 1
fi
echo "$want" >"$STAMP"
