"""What both servers need: settings, database sessions, the handoff state machine, the Slack gateway
(one Slack client for the whole project) and the notices both servers may say to a learner.

The action server (`actions/`) and the Rasa server's add-ons (`channels/`) both import this package;
neither imports the other's.
"""
