"""Which language a learner writes in, for the NLU pipeline's language gate (language_gate.py).

The detection is lingua's (statistical n-gram models that hold up on short texts), restricted to the
languages edX learners most often write in, so that a Spanish question naming an English program
("¿cuánto cuesta el de supply chain?") is not called Welsh. A message too short to tell ("ok",
"SCM") gets no verdict: the conversation's language sticks. The browser's language, when the widget
sends it, breaks a near-tie between supported languages.

Decision rules (chosen on the project's multilingual dev questions, `make bench`):
- a supported language is taken when lingua gives it at least SUPPORTED_MIN confidence and it is
  the top language, or when the top language is an unsupported one without a clear lead;
- an unsupported language is taken only when it leads with UNSUPPORTED_MIN confidence and beats
  the best supported language by UNSUPPORTED_LEAD (Italian and Portuguese look alike), and, in Latin
  script, only from UNSUPPORTED_MIN_LETTERS letters: n-grams of a short string of made-up letters
  ("zzqx vvbn") look like some language, and a keyboard mash is "not understood", not Turkish.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Optional

from core.languages import SUPPORTED, normalise

SUPPORTED_MIN = 0.2
UNSUPPORTED_MIN = 0.5
UNSUPPORTED_LEAD = 0.2
HINT_BONUS = 0.1
MIN_LETTERS = 6
UNSUPPORTED_MIN_LETTERS = 10
# Only the start of a message is read: a few sentences settle its language, and lingua's time and
# memory grow fast with the length of a word (a 10,000-letter "word" exhausted the memory).
DETECTION_CHARS = 1000
# Names are left out before detection: a Portuguese question naming "MicroMasters" and "MITx" reads as
# English to an n-gram model. Acronyms (MIT, SCM, MITx), words with a capital inside (MicroMasters,
# ColumbiaX, edX) and "micromaster(s)" in any case.
_NAME = re.compile(r"(?i:\bmicro-?masters?\b)|\b[A-Z]{2,}[a-z]?\b|\b[A-Za-z]+[A-Z][a-z]*\b")
# Beyond the four answered: languages edX's learners often write in (lingua's ISO 639-1 names). Each
# Latin-script language adds its models to every Latin-script message's work and about 20 MB of
# memory: 13 languages take about 200 MB in the Rasa server, 20 took 340 MB. A language left out is
# read as its nearest neighbour (Dutch as German), which still gets the "not supported" reply.
_CANDIDATES = ("EN", "ES", "FR", "PT", "DE", "IT", "TR", "AR", "HI", "ZH", "RU", "JA", "KO")
MIN_LETTERS_OTHER_SCRIPTS = 2  # one CJK character is a word; an Arabic or Hindi word is a few letters


@dataclass(frozen=True)
class Detected:
    code: str  # ISO 639-1, lower case

    @property
    def supported(self) -> bool:
        return self.code in SUPPORTED


def _confidences(text: str, hint: Optional[str]) -> Dict[str, float]:
    confidences = {}
    for value in _detector().compute_language_confidence_values(text):
        code = value.language.iso_code_639_1.name.lower()
        confidences[code] = value.value + (HINT_BONUS if code == hint and code in SUPPORTED else 0.0)
    return confidences


@lru_cache(maxsize=1)
def _detector():
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    languages = [getattr(IsoCode639_1, code) for code in _CANDIDATES]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*languages).build()


def detect(text: str, hint: Optional[str] = None) -> Optional[Detected]:
    """The language of `text`, or None when it is too short or too mixed to tell."""
    if not isinstance(text, str) or text.startswith("/"):
        return None
    text = text[:DETECTION_CHARS]
    letters = [character for character in text if character.isalpha()]
    latin = all(character.isascii() or unicodedata.name(character, "").startswith("LATIN") for character in letters)
    if len(letters) < (MIN_LETTERS if latin else MIN_LETTERS_OTHER_SCRIPTS):
        return None
    hint = normalise(hint)
    confidences = _confidences(_NAME.sub(" ", text), hint)
    if not confidences:
        return None
    top = max(confidences, key=confidences.get)
    best_supported = max(SUPPORTED, key=lambda code: confidences.get(code, 0.0))
    supported_confidence = confidences.get(best_supported, 0.0)
    if top not in SUPPORTED and confidences[top] >= UNSUPPORTED_MIN \
            and confidences[top] - supported_confidence >= UNSUPPORTED_LEAD \
            and (not latin or len(letters) >= UNSUPPORTED_MIN_LETTERS):
        return Detected(top)
    if supported_confidence >= SUPPORTED_MIN:
        return Detected(best_supported)
    return None


def warm_up() -> None:
    """Load the models now (a few seconds), not on a learner's first message."""
    detect("warming up the language models")
