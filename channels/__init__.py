"""Rasa server add-ons (input channels), loaded by the Rasa server from credentials.yml.

Kept apart from `actions/`, which the action server imports wholesale. Importing this package also
bounds the Rasa server's wait for the action server (`action_guard`) and checks the action server's
responses with a schema validator compiled once (`action_response`), and makes the Rasa server run the
model's graph without a dask scheduler per message (`graph_runner`), build the intent classifier's
input without copying every feature matrix (`sentence_features`) and send the action server the
conversation's recent events only (`action_request`).
"""

from channels import action_guard, action_request, action_response, graph_runner, sentence_features

action_guard.install()
action_request.install()
action_response.install()
graph_runner.install()
sentence_features.install()
