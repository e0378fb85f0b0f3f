# The Rasa server (NLU, dialogue, the channels in credentials.yml) on Rasa's official image, which
# keeps its Python in /opt/venv, works in /app (HOME) and runs as user 1001 (group 0).
# Build from the repository root:
#   docker build -f deploy/docker/rasa.Dockerfile -t micromasters-rasa:<tag> .
# The model is trained in the first stage, so an image always carries the model of its own
# config.yml, domain.yml and data/; `rasa train` needs no network for this pipeline beyond pip. The
# pipeline's language gate (nlu_components/, core/languages.py) is loaded by name, so training needs it
# and lingua (its models are inside the wheel).
# The same image runs the analytics feed (python -m analytics.feed) and the staff dashboard
# (python -m dashboard): they need what Rasa brings (SQLAlchemy, psycopg2, aio-pika, scikit-learn,
# matplotlib, slack_sdk, aiohttp, PyJWT), which the action server's image does not have.

FROM rasa/rasa:3.6.21 AS train
ENV RASA_TELEMETRY_ENABLED=false
USER root
COPY requirements/app.txt /tmp/requirements/
RUN pip install --no-cache-dir -c /tmp/requirements/app.txt lingua-language-detector && rm -rf /tmp/requirements
USER 1001
COPY core/ core/
COPY nlu_components/ nlu_components/
COPY config.yml domain.yml ./
COPY data/ data/
RUN rasa train --fixed-model-name micromasters --out models

# Chart.js for the dashboard, from web/package-lock.json (npm checks each package's integrity hash);
# only its one file reaches the final image. Node 20, as the project's own `npm ci --prefix web`.
FROM node:20.20.2-bookworm-slim AS web
WORKDIR /build
COPY web/package.json web/package-lock.json web/
RUN npm ci --prefix web --ignore-scripts --no-audit --no-fund

FROM rasa/rasa:3.6.21
ENV RASA_TELEMETRY_ENABLED=false \
    BIND_HOST=0.0.0.0 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# Beyond Rasa's own dependencies: lingua-language-detector (the language gate, core/languages.py), markdown-it-py (core/slack_text.py), cachetools (the tracker store's
# cache of conversations, channels/tracker_store.py), aiolimiter (rate limits, channels/limits.py), the project's pins of python-socketio/engineio
# (5.10 breaks Rasa 3.6's socket.io sessions) and jsonschema (speed), and for the feed and the
# dashboard spaCy (the tokenizer of catalog/names.py, no model; an extra of Rasa, not in its image)
# and the project's pins of numpy, scikit-learn and matplotlib: the versions of requirements/app.txt
# and requirements/constraints.txt, within Rasa's ranges (requirements/rasa-deps.txt, extras removed:
# pip refuses extras in a constraints file). The project's matplotlib (3.7) is newer than Rasa 3.6
# declares (<3.6), as in the tests' environment: pip says so and installs it.
USER root
COPY requirements/constraints.txt requirements/app.txt requirements/rasa-deps.txt /tmp/requirements/
RUN sed 's/\[[^]]*\]//' /tmp/requirements/rasa-deps.txt > /tmp/requirements/rasa-ranges.txt \
 && pip install --no-cache-dir -c /tmp/requirements/constraints.txt -c /tmp/requirements/app.txt \
      -c /tmp/requirements/rasa-ranges.txt \
      lingua-language-detector markdown-it-py cachetools aiolimiter python-socketio python-engineio jsonschema \
      numpy scipy scikit-learn matplotlib spacy \
 && rm -rf /tmp/requirements
USER 1001

# Owned by root and read-only for the servers: they need to read their code, model and settings only.
# domain.yml: the intents staff may label a message with (the dashboard's review).
COPY credentials.yml domain.yml ./
COPY deploy/cluster/endpoints.yml deploy/cluster/endpoints.yml
COPY catalog/ catalog/
COPY analytics/ analytics/
COPY channels/ channels/
COPY rasa_speedups/ rasa_speedups/
COPY core/ core/
COPY dashboard/ dashboard/
COPY nlu_components/ nlu_components/
COPY deploy/docker/rasa-run.sh rasa-run.sh
COPY --from=web /build/web/node_modules/chart.js/dist/chart.umd.js web/node_modules/chart.js/dist/chart.umd.js
COPY --from=train /app/models/micromasters.tar.gz models/micromasters.tar.gz

# 5005: the Rasa server; 8090: the dashboard (DASHBOARD_PORT). The feed listens on no port.
EXPOSE 5005 8090
ENTRYPOINT ["bash", "/app/rasa-run.sh"]
