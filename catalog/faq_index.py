"""Which general-FAQ answer a question asks for: a retrieval over the catalog's FAQ phrasings.

The NLU model only decides that a message is *not* one of the four topics (`ask_general`,
`out_of_scope`); which FAQ answer fits is found here, by TF-IDF cosine similarity between the
message and one document per FAQ topic: the questions, phrasings and answers of all its entries
(words and character n-grams, so typos still match). One document per topic, rather than the best
single phrasing, matched a held-out phrasing's topic 82% of the time instead of 67%
(`python -m bench.faq_threshold`). The phrasings live in the database, so staff add or reword an
FAQ answer with a catalog load, without retraining. Below `threshold` nothing matches and the
assistant says it has no sourced answer (`python -m bench.faq_threshold` chooses the default by
cross-validation).
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from catalog.facts import FaqFact


@dataclass(frozen=True)
class FaqMatch:
    topic: str
    score: float


def _documents(facts: Sequence[FaqFact]) -> Tuple[List[str], List[str]]:
    """One text per FAQ topic, and the topics in the same order."""
    parts: Dict[str, List[str]] = {}
    for fact in facts:
        parts.setdefault(fact.topic, []).extend((fact.question, *fact.phrasings, fact.answer))
    return [" ".join(texts) for texts in parts.values()], list(parts)


class FaqIndex:
    """The FAQ answers of one catalog revision, and a retrieval over their phrasings."""

    def __init__(self, facts: Sequence[FaqFact]):
        self.facts = tuple(facts)
        self._answers: Dict[Tuple[str, Optional[str]], FaqFact] = {(f.topic, f.program_id): f for f in self.facts}
        self._texts, self._topics = _documents(self.facts)
        self._vectorizers = []
        self._matrices = []
        if self._texts:
            for vectorizer in (
                TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, stop_words="english"),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
            ):
                try:
                    self._matrices.append(vectorizer.fit_transform(self._texts))
                except ValueError:  # every phrasing is stop words: no vocabulary
                    continue
                self._vectorizers.append(vectorizer)

    def scores(self, text: str) -> Dict[str, float]:
        """Each FAQ topic's similarity to `text`, averaged over word and character features."""
        if not self._vectorizers or not text.strip():
            return {}
        similarity = np.zeros(len(self._texts))
        for vectorizer, matrix in zip(self._vectorizers, self._matrices, strict=True):
            similarity += (matrix @ vectorizer.transform([text]).T).toarray().ravel()
        similarity /= len(self._vectorizers)
        return {topic: float(value) for topic, value in zip(self._topics, similarity, strict=True)}

    def best(self, text: str, threshold: float, margin: float = 0.0) -> Optional[FaqMatch]:
        """The FAQ topic that fits `text`, if it scores at least `threshold` and beats the runner-up by
        `margin` (two topics that fit about as well are a guess, and a wrong answer is worse than none)."""
        ranked = sorted(self.scores(text).items(), key=lambda item: item[1], reverse=True)
        if not ranked or ranked[0][1] < threshold:
            return None
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        return FaqMatch(*ranked[0]) if ranked[0][1] - runner_up >= margin else None

    def answer_for(self, topic: str, program_id: Optional[str]) -> Optional[FaqFact]:
        """The program's own answer when its source is per program, else the edX-wide one."""
        if program_id and (topic, program_id) in self._answers:
            return self._answers[(topic, program_id)]
        return self._answers.get((topic, None))
