# The Rasa server (NLU, dialogue, the channels in credentials.yml) on Rasa's official image, which
# keeps its Python in /opt/venv, works in /app (HOME) and runs as user 1001 (group 0).
# Build from the repository root:
#   docker build -f deploy/docker/rasa.Dockerfile -t micromasters-rasa:<tag> .
# The model is trained in the first stage, so an image always carries the model of its own
# config.yml, domain.yml and data/; `rasa train` needs no network for this pipeline.

FROM rasa/rasa:3.6.21 AS train
ENV RASA_TELEMETRY_ENABLED=false
COPY config.yml domain.yml ./
COPY data/ data/
RUN rasa train --fixed-model-name micromasters --out models

FROM rasa/rasa:3.6.21
ENV RASA_TELEMETRY_ENABLED=false \
    BIND_HOST=0.0.0.0 \
    PYTHONDONTWRITEBYTECODE=1

# Beyond Rasa's own dependencies: markdown-it-py (core/slack_text.py), cachetools (the tracker store's
# cache of conversations, channels/tracker_store.py), and the project's pins of
# python-socketio/engineio (5.10 breaks Rasa 3.6's socket.io sessions) and jsonschema (speed), in
# the versions of requirements/app.txt and requirements/constraints.txt.
USER root
COPY requirements/constraints.txt requirements/app.txt /tmp/requirements/
RUN pip install --no-cache-dir -c /tmp/requirements/constraints.txt -c /tmp/requirements/app.txt \
      markdown-it-py cachetools python-socketio python-engineio jsonschema \
 && rm -rf /tmp/requirements
USER 1001

# Owned by root and read-only for the server: it needs to read its code, model and settings only.
COPY credentials.yml ./
COPY deploy/cluster/endpoints.yml deploy/cluster/endpoints.yml
COPY channels/ channels/
COPY core/ core/
COPY deploy/docker/rasa-run.sh rasa-run.sh
COPY --from=train /app/models/micromasters.tar.gz models/micromasters.tar.gz

EXPOSE 5005
ENTRYPOINT ["bash", "/app/rasa-run.sh"]
