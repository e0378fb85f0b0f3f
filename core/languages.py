"""The languages the assistant answers in, and language tags as browsers and Rasa give them.

The assistant answers in English, Spanish, French and Portuguese (`SUPPORTED`); anything else gets an
honest "not supported" reply (core/notices.py). Detecting a message's language is the NLU pipeline's
job (nlu_components/language_detection.py), so that only the Rasa server carries its models.
"""

from typing import Optional

SUPPORTED = ("en", "es", "fr", "pt")
DEFAULT = "en"


def normalise(code: Optional[str]) -> Optional[str]:
    """'es-MX' / 'pt_BR' / 'FR' -> 'es' / 'pt' / 'fr'; anything that is not a language tag -> None."""
    if not isinstance(code, str):
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else None


def answer_language(code: Optional[str]) -> str:
    """The language to answer in: a supported one, else English."""
    code = normalise(code)
    return code if code in SUPPORTED else DEFAULT
