"""Rasa server add-ons (input channels), loaded by the Rasa server from credentials.yml.

Kept apart from `actions/`, which the action server imports wholesale. Importing this package also
bounds the Rasa server's wait for the action server (`action_guard`), keeps a new session paused while
staff have the conversation (`session_start`), checks the action server's responses with a schema
validator compiled once (`action_response`), and makes the Rasa server run the model's graph without a
dask scheduler per message (`graph_runner`), build the intent classifier's input without copying every
feature matrix and per-token features only when read (`sentence_features`), give the policies the
conversation's states from a replay kept with the tracker (`dialogue_states`), copy events and states
for debug lines only when they are written (`debug_copies`), ask whether the domain is empty once
(`domain_checks`), and send the action server the conversation's recent events only (`action_request`)
over connections kept open (`endpoint_connections`). RASA_SPEEDUPS=off leaves out all but the bounded
wait and the session start, to measure Rasa as shipped beside them (`make cluster-drill`).
"""

from channels import (
    action_guard,
    action_request,
    action_response,
    debug_copies,
    dialogue_states,
    domain_checks,
    endpoint_connections,
    graph_runner,
    sentence_features,
    session_start,
)
from core import settings

action_guard.install()
session_start.install()
if settings.rasa_speedups():
    action_request.install()
    action_response.install()
    debug_copies.install()
    dialogue_states.install()
    domain_checks.install()
    endpoint_connections.install()
    graph_runner.install()
    sentence_features.install()
