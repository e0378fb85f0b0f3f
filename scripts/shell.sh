#!/usr/bin/env bash
# Chat in the terminal with `rasa shell`. Uses the action server of a running `make run`,
# or starts one for the session.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
if [ -f .env ]; then set -a; . ./.env; set +a; fi
eval "$(.venv/bin/python -m actions.settings)"
scripts/train.sh
started=""
if ! curl -sf "http://127.0.0.1:$ACTION_PORT/health" >/dev/null 2>&1; then
  .venv/bin/python -m actions.catalog_cli status >/dev/null 2>&1 || .venv/bin/python -m actions.catalog_cli load
  mkdir -p var
  .venv/bin/rasa run actions --port "$ACTION_PORT" >var/actions-shell.log 2>&1 &
  started=$!
  trap 'kill $started 2>/dev/null || true' EXIT
  .venv/bin/python scripts/wait_ready.py --pid "$started" "http://127.0.0.1:$ACTION_PORT/health"
fi
# A port of its own, so that it runs beside `make run`.
.venv/bin/rasa shell --model models/micromasters.tar.gz --endpoints endpoints.yml --port "$((RASA_PORT + 1))"
