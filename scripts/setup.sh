#!/usr/bin/env bash
# Create .venv (if missing) and install Rasa 3.6.21, rasa-sdk 3.6.2, the dev tools and the chat widget.
# Rasa declares Requires-Python <3.11; on 3.11 we install its resolved dependency list first and
# then Rasa itself without dependency resolution (see requirements/README.md). Re-running is cheap:
# a stamp of the requirement files skips the install when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

pick_python() {
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
  for candidate in python3.11 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return
    fi
  done
  echo "error: Python 3.10 or 3.11 is required (set PYTHON=/path/to/python)" >&2
  exit 1
}

install_web() {
  # The chat widget (rasa-webchat from the npm registry), served by web/serve.py.
  local stamp=web/node_modules/.lock.sha256 wanted
  wanted=$(sha256sum web/package-lock.json | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    echo "==> chat widget is up to date"
    return
  fi
  command -v npm >/dev/null 2>&1 || { echo "error: npm (Node.js) is needed for the chat widget" >&2; exit 1; }
  echo "==> installing the chat widget (npm ci --prefix web)"
  npm ci --prefix web --no-audit --no-fund
  echo "$wanted" > "$stamp"
}

stamp_file=.venv/.requirements.sha256
wanted=$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$wanted" ]; then
  echo "==> Python environment .venv is up to date"
  install_web
  exit 0
fi

if [ ! -x .venv/bin/python ]; then
  py=$(pick_python)
  echo "==> creating .venv with $($py --version)"
  "$py" -m venv .venv
fi
echo "==> installing Rasa's dependencies (TensorFlow is large: a few minutes on a cold pip cache)"
.venv/bin/python -m pip install --progress-bar on -c requirements/constraints.txt -r requirements/rasa-deps.txt
echo "==> installing rasa 3.6.21 and rasa-sdk 3.6.2"
.venv/bin/python -m pip install --no-deps --ignore-requires-python rasa==3.6.21 rasa-sdk==3.6.2
echo "==> installing the project's own dependencies"
.venv/bin/python -m pip install -c requirements/constraints.txt -r requirements/app.txt
echo "==> installing test and lint tools"
.venv/bin/python -m pip install -c requirements/constraints.txt -r requirements/dev.txt
echo "==> installing pip-audit in .venv-audit (scripts/audit.py)"
if [ ! -x .venv-audit/bin/python ]; then .venv/bin/python -m venv .venv-audit; fi
.venv-audit/bin/python -m pip install -q -r requirements/audit.txt \
  || echo "notice: pip-audit could not be installed; scripts/audit.py will skip the Python audit"
echo "$wanted" > "$stamp_file"
install_web
echo "==> environment ready"
