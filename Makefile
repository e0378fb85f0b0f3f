# The project's vocabulary: run, test, train, bench, shell, lint, catalog.
# cluster: several Rasa servers behind HAProxy on Redis, PostgreSQL and RabbitMQ.
.PHONY: run cluster cluster-drill test test-fast train bench drill shell lint audit abuse-drill catalog catalog-sync setup clean retention erase \
	dashboard analytics review-export digest analytics-bench widget-load

run:            ## set up, load the catalog, train if needed, start both servers (Ctrl-C stops)
	scripts/run.sh

cluster:        ## REPLICAS (2) Rasa servers + action server behind HAProxy on :5080; PostgreSQL, Redis, RabbitMQ
	scripts/cluster.sh

test:           ## set up and run every test (lint, unit, PostgreSQL, Rasa data, end-to-end)
	scripts/test.sh

test-fast:      ## lint and the tests that start no server and need no model, on every core (under 2 minutes)
	scripts/setup.sh >/dev/null
	scripts/lint.sh
	.venv/bin/python -m pytest -q -m "not e2e" -n auto --dist loadfile

train:          ## train the model if config, domain or data changed
	scripts/setup.sh
	scripts/train.sh

bench:          ## project config vs Rasa's default config, side by side
	scripts/setup.sh
	.venv/bin/python -m bench

drill:          ## fault drill: hang, kill and stop each part under load; nothing may be lost (exit 1 if so)
	scripts/setup.sh >/dev/null
	.venv/bin/python -m bench.drill

analytics-bench: ## the analytics feed (RabbitMQ vs the conversation log, SQLite vs PostgreSQL) and the report
	scripts/setup.sh >/dev/null
	.venv/bin/python -m bench.analytics_bench

widget-load:    ## LEARNERS (300) widget learners over socket.io against a running make run (URL=, SERVER_PORTS= for make cluster)
	scripts/setup.sh >/dev/null
	.venv/bin/python -m bench.widget_load --url $${URL:-http://127.0.0.1:$${RASA_PORT:-5005}} --learners $${LEARNERS:-300} \
	  $${SERVER_PORTS:+--server-ports $$SERVER_PORTS}

abuse-drill:    ## hostile input at REST, socket.io and Slack while learners talk (SQLite, PostgreSQL); exit 1 if anything broke
	scripts/setup.sh >/dev/null
	.venv/bin/python -m bench.abuse_drill

cluster-drill:  ## the cluster under load (32/128 conversations, 1 and 2 servers), a server killed, Redis restarted
	scripts/setup.sh >/dev/null
	.venv/bin/python -m bench.cluster_drill

dashboard:      ## the staff dashboard alone on DASHBOARD_PORT (make run starts it too)
	scripts/setup.sh >/dev/null
	.venv/bin/python -m dashboard

analytics:      ## read the conversation events into the analytics tables once (REPLAY=1: all again)
	scripts/setup.sh >/dev/null
	.venv/bin/python -m analytics.feed $${REPLAY:+--replay} $${REPLAY:---once}

review-export:  ## write the reviewed unanswered messages as Rasa nlu.yml into var/review/ (for a person to check)
	scripts/setup.sh >/dev/null
	.venv/bin/python -m analytics.review export

digest:         ## post the last seven days' digest to the support Slack channel now
	scripts/setup.sh >/dev/null
	.venv/bin/python -m analytics.digest --now

shell:          ## chat in the terminal (rasa shell)
	scripts/shell.sh

lint:           ## ruff
	scripts/setup.sh >/dev/null
	scripts/lint.sh

audit:          ## known vulnerabilities: pip-audit and npm audit (skipped with a notice offline)
	scripts/setup.sh >/dev/null
	.venv/bin/python scripts/audit.py

catalog:        ## validate and load catalog/data/catalog.yaml into DATABASE_URL
	scripts/setup.sh >/dev/null
	.venv/bin/python -m catalog load

catalog-sync:   ## lay course-discovery's programs and pathways (DISCOVERY_*) over the catalog file and load
	scripts/setup.sh >/dev/null
	.venv/bin/python -m catalog sync $(if $(DRY_RUN),--dry-run)

setup:          ## create .venv and install everything
	scripts/setup.sh

clean:          ## remove trained models and local databases (not .venv)
	rm -rf models var results

retention:      ## delete conversations idle longer than RETENTION_DAYS (90); DRY_RUN=1 only counts
	scripts/setup.sh >/dev/null
	.venv/bin/python -m privacy purge $${DRY_RUN:+--dry-run}

erase:          ## delete one learner's conversation: make erase SENDER=<conversation id>
	@test -n "$$SENDER" || { echo 'usage: make erase SENDER=<conversation id>' >&2; exit 2; }
	scripts/setup.sh >/dev/null
	.venv/bin/python -m privacy erase --sender "$$SENDER"
