"""Recognising which catalog program a learner means, with spaCy's tokenizer and PhraseMatcher.

Names come from the database (titles, aliases, course codes, edX orgs, institutions), so a program
added to the catalog is recognised as soon as it is loaded (see `catalog_view`). Three strengths
of evidence:

- strong: a title, an alias, a course code, "MITx SCM" (org + alias);
- medium: a title word that belongs to one program only ("manufacturing", "hospitality");
- weak: an institution or edX org ("Columbia", "MITx"), which may offer several programs.

The strongest kind present decides; weaker evidence only narrows a tie ("the columbia AI one").
Typos are mended first: a word close to a catalog word (difflib ratio >= 0.8) is read as that word,
unless it is a word the catalog's FAQ uses in any of its languages ("financiera" is Spanish for
"financial", not a typo for MITx Finance).
"""

import difflib
import importlib
import re
import sys
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from catalog.facts import ProgramNames


def _import_spacy_without_tensorflow():
    """Import spaCy without letting thinc import TensorFlow (which Rasa installs).

    The tokenizer and PhraseMatcher need none of it; skipping it saves the action server about
    4 s of start-up and a few hundred MB. A process that already has TensorFlow keeps it.
    """
    if "tensorflow" in sys.modules:
        return importlib.import_module("spacy")
    sys.modules["tensorflow"] = None  # makes `import tensorflow` raise ImportError
    try:
        return importlib.import_module("spacy")
    finally:
        if sys.modules.get("tensorflow", 0) is None:
            del sys.modules["tensorflow"]


spacy = _import_spacy_without_tensorflow()
from spacy.matcher import PhraseMatcher  # noqa: E402
from spacy.tokens import Doc  # noqa: E402

STRONG, MEDIUM, WEAK = "strong", "medium", "weak"

# Title words too common to name a program on their own.
GENERIC_WORDS = {
    "analysis", "and", "based", "big", "business", "design", "development", "digital",
    "engineering", "essential", "for", "global", "human", "improvement", "in", "innovation",
    "international", "leading", "leadership", "management", "methods", "of", "policy",
    "practice", "principles", "research", "science", "sciences", "technology", "the", "tools",
    "user", "work", "data", "product", "project", "energy", "experience", "social", "to",
}
# Words never corrected towards a catalog word, however close ("data" is not "date").
_COMMON_WORDS = {
    "about", "after", "admission", "cost", "costs", "credit", "credits", "does", "degree",
    "help", "job", "jobs", "much", "price", "program", "programme", "master", "masters",
    "what", "which", "will", "with", "would", "course", "courses", "there", "their", "where",
    "should", "could", "value", "worth", "micromasters", "guarantee", "transfer", "school",
}
_MIN_FUZZY_LENGTH = 4
_FUZZY_CUTOFF = 0.8


@dataclass(frozen=True)
class Resolution:
    """The programs a text names: none, one, or several to choose from."""

    program_ids: Tuple[str, ...]
    evidence: str = ""
    names: Tuple[str, ...] = ()  # the words of the text that named the programs

    def without_names(self, text: str) -> str:
        """The text with the program's names taken out: what is asked about it, not which it is."""
        for name in sorted(self.names, key=len, reverse=True):
            text = re.sub(re.escape(name), " ", text, flags=re.IGNORECASE)
        return text

    @property
    def unique(self) -> Optional[str]:
        return self.program_ids[0] if len(self.program_ids) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.program_ids) > 1


def _variants(title: str) -> Set[str]:
    """'Data, Economics, and Development Policy (DEDP)' -> itself, without the brackets, the acronym."""
    names = {title}
    bracket = re.search(r"\(([^)]+)\)", title)
    if bracket:
        names.add(bracket.group(1))
        title = (title[: bracket.start()] + title[bracket.end():]).strip()
        names.add(title)
    for name in list(names):
        names.add(name.replace("&", "and"))
        names.add(re.sub(r"[,:]", " ", name))
    if ":" in title:
        names.add(title.split(":")[0])
    return {re.sub(r"\s+", " ", n).strip() for n in names if n.strip()}


class ProgramResolver:
    def __init__(self, programs: Sequence[ProgramNames], known_words: Iterable[str] = ()):
        """`known_words`: real words (the FAQ's questions, phrasings and answers) never read as typos."""
        self._nlp = spacy.blank("en")
        self._matcher = PhraseMatcher(self._nlp.vocab, attr="LOWER")
        self._owners: Dict[str, Set[str]] = {}  # match key -> program ids
        self._names = {p.id: p.name for p in programs}
        phrases = self._phrases(programs)
        for (strength, text), owners in phrases.items():
            key = f"{strength}|{text}"
            self._owners[key] = owners
            self._matcher.add(key, [self._nlp.make_doc(text)])
        self._vocabulary = sorted(
            {t.lower_ for (_, text) in phrases for t in self._nlp.make_doc(text)
             if len(t) >= _MIN_FUZZY_LENGTH and t.is_alpha}
        )
        self._vocabulary_set = set(self._vocabulary)
        self._real_words = {word.lower() for word in known_words} - self._vocabulary_set

    def _phrases(self, programs: Sequence[ProgramNames]) -> Dict[Tuple[str, str], Set[str]]:
        phrases: Dict[Tuple[str, str], Set[str]] = {}

        def add(strength: str, text: str, program_id: str) -> None:
            text = text.strip().lower()
            if text:
                phrases.setdefault((strength, text), set()).add(program_id)

        word_owners: Dict[str, Set[str]] = {}
        for p in programs:
            for name in _variants(p.title) | set(p.aliases):
                add(STRONG, name, p.id)
                add(STRONG, f"{p.edx_org} {name}", p.id)
            for code in p.course_codes:
                add(STRONG, code, p.id)
            add(WEAK, p.edx_org, p.id)
            for institution in p.institution_names:
                add(WEAK, institution, p.id)
            for name in _variants(p.title) | set(p.aliases):
                for token in self._nlp.make_doc(name.lower()):
                    if token.is_alpha and len(token) > 2 and token.lower_ not in GENERIC_WORDS:
                        word_owners.setdefault(token.lower_, set()).add(p.id)
        for word, owners in word_owners.items():
            if len(owners) == 1:
                add(MEDIUM, word, next(iter(owners)))
        return phrases

    def name_of(self, program_id: str) -> str:
        return self._names[program_id]

    def _mend_typos(self, doc: Doc) -> Doc:
        words = []
        changed = False
        for token in doc:
            word = token.text
            lower = token.lower_
            if (
                token.is_alpha
                and len(lower) >= _MIN_FUZZY_LENGTH
                and lower not in self._vocabulary_set
                and lower not in _COMMON_WORDS
                and lower not in self._real_words
            ):
                close = difflib.get_close_matches(lower, self._vocabulary, n=1, cutoff=_FUZZY_CUTOFF)
                if close:
                    word, changed = close[0], True
            words.append(word)
        if not changed:
            return doc
        return Doc(self._nlp.vocab, words=words, spaces=[bool(t.whitespace_) for t in doc])

    def resolve(self, text: str) -> Resolution:
        if not text or not text.strip():
            return Resolution(())
        doc = self._mend_typos(self._nlp.make_doc(text[:2000]))
        found: Dict[str, List[Set[str]]] = {STRONG: [], MEDIUM: [], WEAK: []}
        evidence: Dict[str, List[str]] = {STRONG: [], MEDIUM: [], WEAK: []}
        spans = [(self._nlp.vocab.strings[m], s, e) for m, s, e in self._matcher(doc)]
        for key, start, end in self._longest_first(spans):
            strength = key.split("|", 1)[0]
            found[strength].append(self._owners[key])
            evidence[strength].append(doc[start:end].text)
        for strength in (STRONG, MEDIUM, WEAK):
            if not found[strength]:
                continue
            candidates = _union(found[strength])
            for weaker in _weaker_than(strength):
                narrowed = candidates & _union(found[weaker]) if found[weaker] else set()
                if narrowed:
                    candidates = narrowed
            return Resolution(tuple(sorted(candidates)), ", ".join(evidence[strength]), tuple(evidence[strength]))
        return Resolution(())

    @staticmethod
    def _longest_first(spans: Iterable[Tuple[str, int, int]]) -> List[Tuple[str, int, int]]:
        """Drop matches inside a longer match ("data science" inside "statistics and data science")."""
        kept: List[Tuple[str, int, int]] = []
        for key, start, end in sorted(spans, key=lambda s: (s[1] - s[2], s[1])):
            if any(start >= s and end <= e and (end - start) < (e - s) for _, s, e in kept):
                continue
            kept.append((key, start, end))
        return kept


def _union(sets: Iterable[Set[str]]) -> Set[str]:
    result: Set[str] = set()
    for s in sets:
        result |= s
    return result


def _weaker_than(strength: str) -> Tuple[str, ...]:
    return {STRONG: (MEDIUM, WEAK), MEDIUM: (WEAK,), WEAK: ()}[strength]
