"""The answer-level grading of `make bench` (bench/answer_eval.py): plain functions, no server."""

import pytest

from bench.answer_eval import (
    ACCEPTABLE,
    DECLINED,
    OTHER_LANGUAGE,
    WRONG,
    acceptable_keys,
    grade,
    tally,
    turn_of,
)
from bench.scoring import RealQuestion, read_real_questions

SUBJECTS = frozenset({"refunds", "exams", "exam_retakes", "financial_assistance"})


def question(label="other", faq=None, language="en", accept=()):
    return RealQuestion("a question", "https://example.org/q", label, faq, language, tuple(accept))


@pytest.mark.parametrize("asked, answered, languages, verdict", [
    (question("cost"), ["cost"], ["en"], ACCEPTABLE),
    (question("cost"), [], [], DECLINED),
    (question("cost"), ["credit"], ["en"], WRONG),
    (question("cost+credit"), ["cost"], ["en"], ACCEPTABLE),
    (question("other", "financial_assistance"), ["cost"], ["en"], WRONG),
    (question("other", "financial_assistance"), ["faq:financial_assistance"], ["en"], ACCEPTABLE),
    (question("other", "exams"), ["faq:exam_retakes"], ["en"], ACCEPTABLE),
    (question("other", None), [], [], ACCEPTABLE),
    (question("other", None), ["faq:refunds"], ["en"], WRONG),
    (question("cost", language="es"), ["cost"], ["es"], ACCEPTABLE),
    (question("cost", language="es"), ["cost"], ["en"], OTHER_LANGUAGE),
    (question("cost", language="de"), [], [], ACCEPTABLE),
    (question("cost", language="de"), ["cost"], ["en"], WRONG),
    (question("other", "refunds", accept=["cost"]), ["cost"], ["en"], ACCEPTABLE),
    (question("other", "no_such_subject"), [], [], ACCEPTABLE),
])
def test_a_question_is_graded_by_what_it_got(asked, answered, languages, verdict):
    assert grade(asked, answered, languages, SUBJECTS) == verdict


def test_the_turn_is_read_from_the_last_user_message_on():
    events = [
        {"event": "user", "text": "first"},
        {"event": "bot", "text": "old", "metadata": {"answer": {"topic": "credit", "language": "en"}}},
        {"event": "user", "text": "how much?"},
        {"event": "action", "name": "action_answer_question"},
        {"event": "bot", "text": "MITx SCM: $1,350 https://a.example https://b.example",
         "metadata": {"answer": {"topic": "cost", "language": "es"}}},
        {"event": "bot", "text": "Anything else?", "metadata": {}},
    ]
    turn = turn_of(events)
    assert turn.answered == ("cost",) and turn.languages == ("es",)
    assert turn.texts == ("MITx SCM: $1,350 https://a.example https://b.example", "Anything else?")


def test_the_tally_counts_shares_per_language_group_words_and_links():
    events = [{"event": "user", "text": "q"},
              {"event": "bot", "text": "one two three https://a.example", "metadata": {"answer": {"topic": "cost"}}}]
    turn = turn_of(events)
    graded = [(question("cost"), turn, ACCEPTABLE), (question("credit", language="fr"), turn, WRONG)]
    level = tally(graded, SUBJECTS)
    assert level.overall.questions == 2 and level.overall.share(ACCEPTABLE) == 0.5
    assert level.groups["Spanish, French, Portuguese"].share(WRONG) == 1.0
    assert level.words == [4, 4] and level.links == [1, 1]
    assert [error[0] for error in level.errors] == [WRONG]


def test_every_dev_question_has_a_known_language_and_keys_that_exist():
    questions = read_real_questions()
    assert len(questions) >= 330
    for asked in questions:
        assert len(asked.language) == 2, asked
        assert all(key in ("credit", "admission", "career", "cost") or key.startswith("faq:")
                   for key in acceptable_keys(asked, SUBJECTS)), asked
