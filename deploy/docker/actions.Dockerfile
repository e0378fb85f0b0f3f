# The action server (custom actions, catalog loader, retention) on Rasa's official SDK image, which
# keeps its Python in /opt/venv, works in /app and runs as user 1001.
# Build from the repository root:
#   docker build -f deploy/docker/actions.Dockerfile -t micromasters-actions:<tag> .
# The same image runs the action server (default command), the catalog loader
# (python -m catalog load) and the retention job (python -m privacy purge).

FROM rasa/rasa-sdk:3.6.2
ENV BIND_HOST=0.0.0.0 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# What the actions import beyond rasa-sdk, in the versions the tests run: the project's pins
# (requirements/constraints.txt, requirements/app.txt) and Rasa's ranges (requirements/rasa-deps.txt, extras removed:
# pip refuses extras in a constraints file), e.g. SQLAlchemy 1.4, pydantic 1, spaCy 3.4.
# psycopg2-binary is SQLAlchemy's PostgreSQL driver; spaCy needs no model (spacy.blank("en")).
USER root
COPY requirements/constraints.txt requirements/app.txt requirements/rasa-deps.txt /tmp/requirements/
RUN sed 's/\[[^]]*\]//' /tmp/requirements/rasa-deps.txt > /tmp/requirements/rasa-ranges.txt \
 && pip install --no-cache-dir -c /tmp/requirements/constraints.txt -c /tmp/requirements/app.txt \
      -c /tmp/requirements/rasa-ranges.txt \
      SQLAlchemy psycopg2-binary PyYAML pydantic numpy scikit-learn spacy markdown-it-py slack_sdk \
      requests urllib3 APScheduler \
 && rm -rf /tmp/requirements
USER 1001

# Owned by root and read-only for the server. catalog/: the catalog package and its data file (the
# load Job and the sync CronJob run on this image too); privacy/ and analytics/: the retention CronJob
# (privacy deletes a conversation's analytics rows as well).
COPY actions/ actions/
COPY catalog/ catalog/
COPY core/ core/
COPY privacy/ privacy/
COPY analytics/ analytics/

EXPOSE 5055
ENTRYPOINT []
CMD ["python", "-m", "actions.server", "--port", "5055"]
