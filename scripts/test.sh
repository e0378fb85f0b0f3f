#!/usr/bin/env bash
# Set up and run every test. The end-to-end tests train the model if needed and start the real
# action server and Rasa server. REQUIRE_POSTGRES=1 makes the PostgreSQL tests fail, not skip,
# when no server answers (CI sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "==> lint (ruff)"
.venv/bin/ruff check actions channels tests bench scripts
scripts/train.sh
echo "==> tests"
exec .venv/bin/python -m pytest "$@"
