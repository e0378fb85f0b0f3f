#!/bin/bash
# Starts the Rasa server inside the container with the flags of ops/commands.py's
# rasa_server_command (tests/deploy/test_manifests.py runs this script against that function):
# bound to BIND_HOST (0.0.0.0 in the image), CORS for WEBCHAT_ALLOWED_ORIGINS only, and Rasa's HTTP
# API off unless RASA_API_TOKEN is set. The endpoints are the multi-replica ones (deploy/cluster/).
set -euo pipefail
: "${BIND_HOST:?set BIND_HOST (the image sets 0.0.0.0)}"
: "${WEBCHAT_ALLOWED_ORIGINS:?set WEBCHAT_ALLOWED_ORIGINS to the web origin(s) allowed to open the chat}"

strip() {
  local value="$1"
  value="${value#"${value%%[![:space:]]*}"}"
  printf '%s' "${value%"${value##*[![:space:]]}"}"
}

# This replica's name starts its engine.io session ids, for a proxy that routes a session by its id
# (deploy/docker/haproxy.cfg): the compose service's hostname unless set.
export SOCKETIO_SERVER_NAME="${SOCKETIO_SERVER_NAME:-${HOSTNAME%%.*}}"

args=(run --model models/micromasters.tar.gz --port 5005 --interface "$BIND_HOST"
      --credentials credentials.yml --endpoints deploy/cluster/endpoints.yml)
origins=()
IFS=, read -r -a listed <<< "$WEBCHAT_ALLOWED_ORIGINS"
for origin in "${listed[@]}"; do
  origin=$(strip "$origin")
  if [ -n "$origin" ]; then origins+=("$origin"); fi
done
if [ ${#origins[@]} -gt 0 ]; then args+=(--cors "${origins[@]}"); fi
if [ -n "${RASA_API_TOKEN:-}" ]; then args+=(--enable-api "--auth-token=$RASA_API_TOKEN"); fi
exec rasa "${args[@]}"
