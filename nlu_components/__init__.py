"""NLU components that config.yml names, loaded by Rasa both when it trains and when it serves.

Apart from `channels/`, whose import patches the Rasa server's internals (which training must not get).
"""
