#!/usr/bin/env bash
# Set up and run every test. The end-to-end tests train the model if needed and start the real
# action server and Rasa server. REQUIRE_POSTGRES=1 makes the PostgreSQL tests fail, not skip,
# when no server answers (CI sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Debian packages the tests use: Chromium (the browser test), HAProxy and openssl (the shipped proxy
# config, run in front of the servers).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian's ${missing[*]} for the tests (apt-get)"
  if [ "$(id -u)" -ne 0 ]; then echo "error: run 'sudo apt-get install -y ${missing[*]}' first" >&2; exit 1; fi
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
# kubectl renders the Kubernetes manifests (tests/deploy/test_manifests.py). Debian's kubernetes-client (1.20)
# is too old for their kustomize fields, so it is not installed from here.
command -v kubectl >/dev/null 2>&1 || { echo "error: kubectl is needed (tests/deploy/test_manifests.py renders deploy/k8s)" >&2; exit 1; }
echo "==> lint (ruff)"
scripts/lint.sh
echo "==> known vulnerabilities (pip-audit, npm audit; skipped with a notice without their databases)"
.venv/bin/python scripts/audit.py
scripts/train.sh
echo "==> tests"
exec .venv/bin/python -m pytest "$@"
