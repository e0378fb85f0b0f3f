#!/usr/bin/env bash
# make cluster: REPLICAS Rasa servers (default 2) and the action server behind HAProxy on
# BIND_HOST:CLUSTER_PORT (default 127.0.0.1:5080), sharing PostgreSQL (conversations, catalog, handoffs),
# Redis (Rasa's lock store, socket.io across servers, the handoff loop's lease) and RabbitMQ (every
# conversation event, through Rasa's Pika event broker). See ops/cluster.py. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if ! command -v haproxy >/dev/null; then
  echo "==> installing HAProxy (Debian's package)"
  apt-get install -y -qq haproxy >/dev/null
fi
if [ -f .env ]; then set -a; . ./.env; set +a; fi
eval "$(.venv/bin/python -m core.settings)"
eval "$(.venv/bin/python -m ops.cluster environment)"
eval "$(.venv/bin/python -m core.settings)"   # again: the defaults that follow from the cluster's settings
if [ -z "${ACTION_SERVER_TOKEN:-}" ]; then
  ACTION_SERVER_TOKEN=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
fi
export ACTION_SERVER_TOKEN
if [ -z "${DASHBOARD_SECRET:-}" ]; then
  DASHBOARD_SECRET=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
fi
export DASHBOARD_SECRET
config=$(.venv/bin/python -m ops.cluster prepare)
echo "==> loading the catalog ($CATALOG_FILE) into $DATABASE_URL"
.venv/bin/python -m catalog load
scripts/train.sh

supervisor_pid=""
stop() {
  trap - INT TERM EXIT
  echo; echo "==> stopping"
  [ -n "$supervisor_pid" ] && kill "$supervisor_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT
echo "==> starting $REPLICAS Rasa servers, the action server, HAProxy and the demo page (logs: var/cluster/)"
.venv/bin/supervisord -c "$config" &
supervisor_pid=$!

host=$BIND_HOST; [ "$host" = "0.0.0.0" ] && host=127.0.0.1
# shellcheck disable=SC2046
.venv/bin/python scripts/wait_ready.py --pid "$supervisor_pid" $(.venv/bin/python -m ops.cluster ready-urls) \
  "http://$host:$CLUSTER_PORT/webhooks/health/ready" \
  "http://$host:$WEB_PORT/config.js" \
  || { echo "error: a server did not start; see var/cluster/*.log" >&2; exit 1; }
cat <<MSG

The cluster is running: $REPLICAS Rasa servers behind HAProxy (supervisord restarts any that dies).
  Through HAProxy:  http://$host:$CLUSTER_PORT   (REST: POST /webhooks/rest/webhook, socket.io: /socket.io)
  Demo page:        http://$host:$WEB_PORT/   (its widget talks to HAProxy)
  Shared:           PostgreSQL $DATABASE_URL, Redis $REDIS_HOST:$REDIS_PORT/$REDIS_DB,
                    RabbitMQ $RABBITMQ_HOST:$RABBITMQ_PORT (queue $RABBITMQ_QUEUE)
  curl -s -XPOST http://$host:$CLUSTER_PORT/webhooks/rest/webhook -d '{"sender":"me","message":"how much is MITx SCM?"}'
Ctrl-C stops everything.

MSG
wait "$supervisor_pid"
