"""`python -m bench` (`make bench`): the project's config against Rasa's default config, side by side.

Both configs are trained on the same data, served against one shared action server and catalog database,
scored on the same dev NLU set and real-question test set and timed with the same scripted REST conversation.
See bench/__main__.py for the steps and `python -m bench --help` for the flags.
"""
