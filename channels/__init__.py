"""Rasa server add-ons (input channels), loaded by the Rasa server from credentials.yml.

Kept apart from `actions/`, which the action server imports wholesale.
"""
