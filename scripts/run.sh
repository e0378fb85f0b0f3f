#!/usr/bin/env bash
# Set up, load the catalog, train if needed, and start the action server, the Rasa server and the demo
# page under supervisord, which restarts a server that dies. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
umask 077  # var/ holds conversations, staff replies and logs: this user's alone
mkdir -p var && chmod 700 var
if [ -f .env ]; then set -a; . ./.env; set +a; fi   # secrets (Slack, tokens) stay out of git
eval "$(.venv/bin/python -m core.settings)"
if [ -z "${ACTION_SERVER_TOKEN:-}" ]; then
  # The shared secret between the Rasa server and the action server: a new one for this run.
  ACTION_SERVER_TOKEN=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
fi
export ACTION_SERVER_TOKEN
if [ -z "${DASHBOARD_SECRET:-}" ]; then
  # Signs the staff dashboard's links and sign-ins (Slack and the dashboard share it): new for this run,
  # so a restart signs everyone out. Set it in .env to keep sign-ins across restarts.
  DASHBOARD_SECRET=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
fi
export DASHBOARD_SECRET
echo "==> loading the catalog ($CATALOG_FILE)"
.venv/bin/python -m catalog load
scripts/train.sh

.venv/bin/python -m ops.commands supervisord >var/supervisord.conf
supervisor_pid=""
stop() {
  trap - INT TERM EXIT
  echo; echo "==> stopping"
  [ -n "$supervisor_pid" ] && kill "$supervisor_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

echo "==> starting the servers under supervisord (logs: var/*.log)"
.venv/bin/supervisord -c var/supervisord.conf &
supervisor_pid=$!

host=$BIND_HOST; [ "$host" = "0.0.0.0" ] && host=127.0.0.1
.venv/bin/python scripts/wait_ready.py --pid "$supervisor_pid" \
  "http://$host:$ACTION_PORT/health" "http://$host:$RASA_PORT/" "http://$host:$WEB_PORT/config.js" \
  "http://$host:$DASHBOARD_PORT/health" \
  || { echo "error: a server did not start; see var/*.log" >&2; exit 1; }
api="off (set RASA_API_TOKEN to turn it on)"
[ -n "${RASA_API_TOKEN:-}" ] && api="on, every call needs ?token=\$RASA_API_TOKEN"
cat <<MSG

The assistant is running (supervisord restarts a server that dies; it says so below).
  Demo page with the chat widget:   http://$host:$WEB_PORT/   (open it in a browser)
  Rasa server:   http://$host:$RASA_PORT   (REST: POST /webhooks/rest/webhook, socket.io: /socket.io)
                 HTTP API: $api
  Action server: http://$host:$ACTION_PORT   (answers only the Rasa server: shared secret)
  Staff dashboard: http://$host:$DASHBOARD_PORT   (sign in with the link \`/assistant dashboard\` gives in the
                 support Slack channel; the analytics feed fills it from the conversations)
Chat with it from another terminal:   make shell
  or: curl -s -XPOST http://$host:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"me","message":"how much is MITx SCM?"}'
Ctrl-C stops everything.

MSG
wait "$supervisor_pid"
