"""The Rasa server's add-ons that Rasa loads by name from credentials.yml and endpoints.yml: input
channels (`rest`, `socketio`, `slack`, `health`), the tracker store, the lock store and the event broker.

Kept apart from `actions/`, which the action server imports wholesale. Importing this package also
bounds the Rasa server's wait for the action server (`action_guard`), keeps a new session paused while
staff have the conversation (`session_start`), lets Sanic 21.12's websockets receive on Python 3.11
(`websocket_receive`), keeps conversation ids out of log lines (`core.log_refs`), and installs the
speed-ups that replace pieces of Rasa's own code (`rasa_speedups`, all left out with RASA_SPEEDUPS=off).
"""

import rasa_speedups
from channels import action_guard, session_start, websocket_receive
from core import log_refs

action_guard.install()
session_start.install()
websocket_receive.install()
rasa_speedups.install()
log_refs.install()
