"""Cross-validation of an NLU config on the training data, scored as the learner sees it.

    .venv/bin/python -m bench.crossval [--config config.yml] [--folds 5]

Runs Rasa's own `rasa test nlu --cross-validation` (the real pipeline, FallbackClassifier included)
and scores every fold's predictions of the *questions* (the four topics, their combinations,
`ask_general`, `out_of_scope`) with `bench.scoring`: four-topic accuracy, macro-F1, and the share of
questions outside the four topics that would get a topic answer. This is how the config and its
thresholds are chosen, and where the floors that `make test` enforces come from: never from the
real-question test set.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Tuple

from bench.scoring import Scores, confusion_table, is_question_intent, label_of_intent, score

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RASA = PROJECT_ROOT / ".venv" / "bin" / "rasa"


def fold_predictions(config: Path, folds: int, out: Path) -> List[Tuple[str, str, str]]:
    """(text, gold intent, predicted intent) for every training example, each predicted by a model
    that did not see it."""
    done = subprocess.run(
        [str(RASA), "test", "nlu", "--cross-validation", "--folds", str(folds), "--config", str(config),
         "--nlu", str(PROJECT_ROOT / "data" / "nlu.yml"), "--domain", str(PROJECT_ROOT / "domain.yml"),
         "--out", str(out), "--successes", "--no-plot"],
        cwd=PROJECT_ROOT, capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"rasa test nlu failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    rows = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = out / name
        if path.exists():
            for item in json.loads(path.read_text(encoding="utf-8")):
                rows.append((item["text"], item["intent"], (item.get("intent_prediction") or {}).get("name") or ""))
    return rows


def question_scores(rows: List[Tuple[str, str, str]]) -> Scores:
    return score([(label_of_intent(gold), label_of_intent(predicted))
                  for _, gold, predicted in rows if is_question_intent(gold)])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crossval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "config.yml")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="crossval-") as work:
        rows = fold_predictions(args.config, args.folds, Path(work))
    scores = question_scores(rows)
    accuracy = sum(gold == predicted for _, gold, predicted in rows) / len(rows)
    print(f"{args.folds}-fold cross-validation of {args.config.name} on data/nlu.yml ({len(rows)} examples)")
    print(f"intent accuracy (all intents): {accuracy:.3f}")
    print(f"questions: {scores.examples} ({scores.topic_questions} on the four topics, "
          f"{scores.other_questions} beyond them)")
    print(f"four-topic accuracy: {scores.four_topic_accuracy:.3f}")
    print(f"macro-F1: {scores.macro_f1:.3f}")
    print(f"out-of-scope questions given a topic answer: {scores.oos_topic_share:.3f}")
    print(confusion_table(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
