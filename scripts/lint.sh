#!/usr/bin/env bash
# ruff over every package of the project (make lint, make test, make test-fast).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/ruff check core catalog rasa_speedups nlu_components ops analytics actions channels privacy dashboard \
  bench tests scripts web
