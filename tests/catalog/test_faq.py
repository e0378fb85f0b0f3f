"""The general-FAQ retrieval on its own: no database, no Rasa."""

from catalog.facts import FaqFact, SourceRef
from catalog.faq_index import FaqIndex

SOURCE = SourceRef("Help centre", "https://example.org/help")


def fact(topic, *phrasings, program=None):
    return FaqFact(topic, program, phrasings[0], phrasings[1:], f"About {topic}.", "2024", SOURCE)


INDEX = FaqIndex([
    fact("refunds", "Can I get a refund?", "how do I get my money back", "refund policy for the verified track"),
    fact("exams", "Are the exams proctored?", "can I take the final exam from home", "proctoring software"),
    fact("exams", "How does the SCM final exam work?", "SCM comprehensive final exam", program="scm"),
])


def test_the_best_topic_above_the_threshold_is_found():
    match = INDEX.best("can I get my money back after I unenroll?", threshold=0.1)
    assert match is not None and match.topic == "refunds"
    assert INDEX.best("what's the weather like in Paris?", threshold=0.1) is None


def test_two_topics_that_fit_about_as_well_give_no_answer():
    text = "refund for the final exam"
    scores = INDEX.scores(text)
    lead = abs(scores["refunds"] - scores["exams"])
    assert INDEX.best(text, threshold=0.0, margin=0.0) is not None
    assert INDEX.best(text, threshold=0.0, margin=lead + 0.01) is None


def test_the_programs_own_answer_comes_first_then_the_general_one():
    assert INDEX.answer_for("exams", "scm").program_id == "scm"
    assert INDEX.answer_for("exams", "other-program").program_id is None
    assert INDEX.answer_for("refunds", "scm").program_id is None
    assert INDEX.answer_for("enrolment", None) is None


def test_an_empty_index_matches_nothing():
    assert FaqIndex([]).best("refund?", threshold=0.0) is None
