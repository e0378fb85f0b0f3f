#!/usr/bin/env bash
# Chat in the terminal with `rasa shell`. Starts an action server of its own (port ACTION_PORT+1, its
# own shared secret) so that it runs beside `make run` without knowing that run's secret.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
if [ -f .env ]; then set -a; . ./.env; set +a; fi
eval "$(.venv/bin/python -m core.settings)"
scripts/train.sh
.venv/bin/python -m catalog status >/dev/null 2>&1 || .venv/bin/python -m catalog load
ACTION_PORT=$((ACTION_PORT + 1))
ACTION_ENDPOINT_URL="http://127.0.0.1:$ACTION_PORT/webhook"
ACTION_SERVER_TOKEN=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
export ACTION_PORT ACTION_ENDPOINT_URL ACTION_SERVER_TOKEN
mkdir -p var
.venv/bin/python -m actions.server --port "$ACTION_PORT" >var/actions-shell.log 2>&1 &
started=$!
trap 'kill $started 2>/dev/null || true' EXIT
.venv/bin/python scripts/wait_ready.py --pid "$started" "http://127.0.0.1:$ACTION_PORT/health"
# A port of its own, so that it runs beside `make run`.
.venv/bin/rasa shell --model models/micromasters.tar.gz --endpoints endpoints.yml --port "$((RASA_PORT + 1))" \
  --interface "$BIND_HOST"
