"""Choose the general-FAQ match threshold by cross-validation on the project's own data.

    .venv/bin/python -m bench.faq_threshold [--catalog catalog/data/catalog.yaml]

Positives: each FAQ phrasing, held out in turn (leave-one-out), must find its own topic.
Negatives: the `out_of_scope` training examples (off-domain messages) must find nothing.
Prints, for each candidate threshold, the share of held-out phrasings answered with the right topic,
and the share of off-domain messages that would get an FAQ answer; suggests the threshold with the
largest difference (Youden's J) for messages the NLU calls `ask_general`, and a stricter one for
messages it calls `out_of_scope` (at most 5% of off-domain messages answered), and the margin by
which the best topic must beat the runner-up (a wrong answer counted twice as bad as none). The
real-question test set is never read here.
"""

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import List, Tuple

import numpy as np

from bench.measure import read_nlu_examples
from catalog.facts import FaqFact, SourceRef
from catalog.faq_index import FaqIndex
from catalog.file import read_catalog

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = np.round(np.arange(0.05, 0.61, 0.01), 2)
OFF_DOMAIN_LIMIT = 0.05
MARGINS = np.round(np.arange(0.0, 0.081, 0.01), 2)
WRONG_ANSWER_COST = 2.0  # a confident wrong answer is worse than "I have no sourced answer"


def faq_facts_of(catalog_path: Path) -> List[FaqFact]:
    catalog = read_catalog(catalog_path)
    return [FaqFact(e.topic, e.program, e.question, tuple(e.phrasings), e.answer, e.as_of, SourceRef(e.source, None))
            for e in catalog.faq]


def held_out_phrasing_scores(facts: List[FaqFact]) -> List[Tuple[str, str, float, float]]:
    """(true topic, best topic, score, lead over the runner-up) for every phrasing, matched against an
    index without it."""
    results = []
    for i, fact in enumerate(facts):
        for j, phrasing in enumerate(fact.phrasings):
            rest = list(facts)
            rest[i] = replace(fact, phrasings=fact.phrasings[:j] + fact.phrasings[j + 1:])
            ranked = sorted(FaqIndex(rest).scores(phrasing).items(), key=lambda item: item[1], reverse=True)
            lead = ranked[0][1] - (ranked[1][1] if len(ranked) > 1 else 0.0)
            results.append((fact.topic, ranked[0][0], ranked[0][1], lead))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faq_threshold", description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, default=PROJECT_ROOT / "catalog" / "data" / "catalog.yaml")
    args = parser.parse_args(argv)
    facts = faq_facts_of(args.catalog)
    positives = held_out_phrasing_scores(facts)
    index = FaqIndex(facts)
    off_domain = [text for text, intent in read_nlu_examples(PROJECT_ROOT / "data" / "nlu.yml")
                  if intent == "out_of_scope"]
    negatives = [max(index.scores(text).values(), default=0.0) for text in off_domain]
    print(f"{len(positives)} held-out FAQ phrasings, {len(negatives)} off-domain training messages")
    print("| threshold | phrasings answered with their topic | off-domain messages given an FAQ answer |")
    print("|---:|---:|---:|")
    best_threshold, best_j = None, -1.0
    for threshold in CANDIDATES:
        recall = np.mean([truth == topic and score >= threshold for truth, topic, score, _ in positives])
        false_rate = np.mean([score >= threshold for score in negatives])
        print(f"| {threshold:.2f} | {recall:.3f} | {false_rate:.3f} |")
        if recall - false_rate > best_j:
            best_threshold, best_j = threshold, recall - false_rate
    print(f"suggested FAQ_MATCH_THRESHOLD (for ask_general): {best_threshold:.2f} (Youden's J {best_j:.3f})")
    strict = next(t for t in CANDIDATES if np.mean([score >= t for score in negatives]) <= OFF_DOMAIN_LIMIT)
    print(f"suggested FAQ_OFF_DOMAIN_THRESHOLD (for out_of_scope): {strict:.2f} (the lowest that gives at most "
          f"{OFF_DOMAIN_LIMIT:.0%} of off-domain messages an FAQ answer)")
    print(f"\nAt {best_threshold:.2f}, by the best topic's lead over the runner-up (a wrong answer counts "
          f"{WRONG_ANSWER_COST:g} times a missing one):")
    print("| margin | right topic | wrong topic | right - cost x wrong |")
    print("|---:|---:|---:|---:|")
    best_margin, best_value = 0.0, -1.0
    for margin in MARGINS:
        kept = [(truth, topic) for truth, topic, score, lead in positives if score >= best_threshold and lead >= margin]
        right = sum(truth == topic for truth, topic in kept) / len(positives)
        wrong = sum(truth != topic for truth, topic in kept) / len(positives)
        value = right - WRONG_ANSWER_COST * wrong
        print(f"| {margin:.2f} | {right:.3f} | {wrong:.3f} | {value:.3f} |")
        if value > best_value:
            best_margin, best_value = margin, value
    print(f"suggested FAQ_MATCH_MARGIN: {best_margin:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
