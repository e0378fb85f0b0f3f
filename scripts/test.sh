#!/usr/bin/env bash
# Set up and run every test. The end-to-end tests train the model if needed and start the real
# action server and Rasa server. REQUIRE_POSTGRES=1 makes the PostgreSQL tests fail, not skip,
# when no server answers (CI sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian's chromium for the browser test (apt-get)"
  if [ "$(id -u)" -ne 0 ]; then echo "error: run 'sudo apt-get install -y chromium' first" >&2; exit 1; fi
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
echo "==> lint (ruff)"
.venv/bin/ruff check actions channels tests bench scripts web
scripts/train.sh
echo "==> tests"
exec .venv/bin/python -m pytest "$@"
