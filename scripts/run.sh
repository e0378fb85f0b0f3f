#!/usr/bin/env bash
# Set up, load the catalog, train if needed, start the action server and the Rasa server.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ -f .env ]; then set -a; . ./.env; set +a; fi   # secrets (Slack) stay out of git
eval "$(.venv/bin/python -m actions.settings)"
echo "==> loading the catalog ($CATALOG_FILE)"
.venv/bin/python -m actions.catalog_cli load
scripts/train.sh

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "==> stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

mkdir -p var
echo "==> starting the action server on port $ACTION_PORT (log: var/actions.log)"
.venv/bin/rasa run actions --port "$ACTION_PORT" >var/actions.log 2>&1 &
pids+=($!)
echo "==> starting the Rasa server on port $RASA_PORT (log: var/rasa.log)"
.venv/bin/rasa run --model models/micromasters.tar.gz --enable-api --port "$RASA_PORT" \
  --credentials credentials.yml --endpoints endpoints.yml --cors "*" >var/rasa.log 2>&1 &
pids+=($!)

echo "==> starting the demo page with the chat widget on port $WEB_PORT (log: var/web.log)"
.venv/bin/python web/serve.py >var/web.log 2>&1 &
pids+=($!)

.venv/bin/python scripts/wait_ready.py --pid "${pids[0]}" --pid "${pids[1]}" --pid "${pids[2]}" \
  "http://127.0.0.1:$ACTION_PORT/health" "http://127.0.0.1:$RASA_PORT/status" "http://127.0.0.1:$WEB_PORT/config.js" \
  || { echo "error: a server did not start; see var/actions.log, var/rasa.log and var/web.log" >&2; exit 1; }
cat <<MSG

The assistant is running.
  Demo page with the chat widget:   http://127.0.0.1:$WEB_PORT/   (open it in a browser)
  Rasa server:   http://127.0.0.1:$RASA_PORT   (REST: POST /webhooks/rest/webhook, socket.io: /socket.io)
  Action server: http://127.0.0.1:$ACTION_PORT
Chat with it from another terminal:   make shell
  or: curl -s -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"me","message":"how much is MITx SCM?"}'
Ctrl-C stops everything.
MSG
wait -n "${pids[@]}" || true
echo "error: a server exited; see var/actions.log, var/rasa.log and var/web.log" >&2
exit 1
