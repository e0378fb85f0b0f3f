"""The action server package: catalog database, program recognition, answers and Rasa actions."""
