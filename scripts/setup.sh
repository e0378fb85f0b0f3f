#!/usr/bin/env bash
# Create .venv (if missing) and install Rasa 3.6.21, rasa-sdk 3.6.2 and the dev tools.
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

stamp_file=.venv/.requirements.sha256
wanted=$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$wanted" ]; then
  echo "==> environment .venv is up to date"
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
echo "==> installing test and lint tools"
.venv/bin/python -m pip install -c requirements/constraints.txt -r requirements/dev.txt
echo "$wanted" > "$stamp_file"
echo "==> environment ready"
