"""Rasa server add-ons (input channels), loaded by the Rasa server from credentials.yml.

Kept apart from `actions/`, which the action server imports wholesale. Importing this package also
bounds the Rasa server's wait for the action server (see `action_guard`).
"""

from channels import action_guard

action_guard.install()
