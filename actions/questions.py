"""A learner's message cut into the questions it asks.

Learners write a situation and then a question ("I failed the capstone exam, can I retake it?"), or
two questions at once ("How much is SCM? Can I get financial aid?"). A *part* is one question, with
the situation before it kept as its context (so "can I retake it" still knows it is about the
capstone). Parts are cut at sentence ends and at "and"/"y"/"et"/"e" before a question word; a part
that only points back at the one before ("how much would that cost?") stays with it, because it asks
about the same thing.
"""

import re
from dataclasses import dataclass
from typing import List

# Question words in the four answered languages that start a new question after "and".
_QUESTION_WORDS = (
    "how|what|when|where|which|who|why|can|could|do|does|did|is|are|will|would|should|may|"
    "cuánto|cuanto|cuánta|cuanta|cómo|como|qué|que|cuándo|cuando|dónde|donde|puedo|se puede|hay|es|"
    "combien|comment|quand|où|est-ce|puis-je|peut-on|faut-il|"
    "quanto|quanta|quando|onde|posso|pode|tem|existe"
)
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_AND_QUESTION = re.compile(rf",?\s+(?:and|y|et|e)\s+(?=(?:{_QUESTION_WORDS})\b)", re.IGNORECASE)
# Words that make a short question refer back to the previous one ("how much would THAT cost").
_BACK_REFERENCE = re.compile(r"\b(?:that|it|this|those|eso|esto|ello|lo|ça|cela|ceci|le|isso|isto)\b",
                             re.IGNORECASE)
_SHORT_WORDS = 8
_QUESTION_START = re.compile(rf"^\W*(?:{_QUESTION_WORDS})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Part:
    question: str  # the question itself
    context: str  # the situation and question(s) before it, for matching

    @property
    def with_context(self) -> str:
        return f"{self.context} {self.question}".strip()


def _is_question(text: str) -> bool:
    return "?" in text or bool(_QUESTION_START.search(text))


def _refers_back(text: str) -> bool:
    return len(text.split()) <= _SHORT_WORDS and bool(_BACK_REFERENCE.search(text))


def question_parts(text: str) -> List[Part]:
    """The questions `text` asks, in order; a message with no clear question is one part."""
    pieces = [piece.strip() for sentence in _SENTENCE_END.split(text.strip())
              for piece in _AND_QUESTION.split(sentence) if piece.strip()]
    parts: List[Part] = []
    situation: List[str] = []
    for piece in pieces:
        if not _is_question(piece):
            situation.append(piece)
            continue
        if parts and _refers_back(piece):
            last = parts.pop()
            parts.append(Part(f"{last.question} {piece}", last.context))
            continue
        parts.append(Part(piece, " ".join(situation)))
        situation.append(piece)
    if not parts:
        return [Part(text.strip(), "")]
    return parts
