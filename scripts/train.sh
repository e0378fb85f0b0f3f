#!/usr/bin/env bash
# Train models/micromasters.tar.gz, unless the training data and config are unchanged since the
# last training (a fingerprint of config.yml, domain.yml and data/ is kept beside the model).
set -euo pipefail
cd "$(dirname "$0")/.."
model=models/micromasters.tar.gz
fingerprint=$(cat config.yml domain.yml data/*.yml | sha256sum | cut -d' ' -f1)
if [ -f "$model" ] && [ "$(cat models/.fingerprint 2>/dev/null)" = "$fingerprint" ]; then
  echo "==> model is up to date ($model)"
  exit 0
fi
echo "==> training the model (progress below)"
mkdir -p models
.venv/bin/rasa train --fixed-model-name micromasters --out models
echo "$fingerprint" > models/.fingerprint
