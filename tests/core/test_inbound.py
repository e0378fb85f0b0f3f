"""What the entry points accept: conversation ids by an allow-list, text normalised and capped."""

import pytest

from core import inbound


@pytest.mark.parametrize("value", ["learner-1", "3f2a9c0e5b7d4e1f8a6b2c9d0e1f2a3b", "a", "u.ser@example.org",
                                   "slack:T01:C02", "x" * inbound.MAX_ID_CHARS])
def test_ordinary_ids_are_accepted(value):
    assert inbound.id_problem(value) is None


@pytest.mark.parametrize("value", ["", None, 5, ["x"], "x\ud800", "x\x00y", "a b", "-starts-with-dash", "émile",
                                   "x" * (inbound.MAX_ID_CHARS + 1), "line\nbreak", "<script>", "a/../b"])
def test_other_ids_are_refused_with_a_reason(value):
    problem = inbound.id_problem(value, "session_id")
    assert problem and '"session_id"' in problem


def test_text_loses_control_characters_and_lone_surrogates_and_keeps_the_rest():
    assert inbound.clean_text("how much\x00 is it?\ud800") == "how much is it?"
    assert inbound.clean_text("line one\nline two\ttab\r\n") == "line one\nline two\ttab\r\n"
    assert inbound.clean_text("¿Cuánto cuesta? 学分 🎓") == "¿Cuánto cuesta? 学分 🎓"
    assert inbound.clean_text("e\u0301") == "é"  # NFC: one code point, as learners' keyboards mostly send it
    assert inbound.clean_text("plain") == "plain"


def test_text_over_the_limit_is_refused_saying_how_long_it_was(monkeypatch):
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "10")
    assert inbound.text_problem("x" * 10) is None
    assert inbound.text_problem("x" * 11) == '"message" must be at most 10 characters (it has 11)'
    assert inbound.text_problem(42) == '"message" must be a string'
    reply = inbound.too_long_reply(12_000)
    assert "12,000" in reply and "10" in reply and "http" in reply


@pytest.mark.parametrize("value", ["0", "-3", "lots"])
def test_a_limit_that_is_not_a_positive_number_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("MAX_MESSAGE_CHARS", value)
    with pytest.raises(ValueError, match="MAX_MESSAGE_CHARS must be a whole number above 0"):
        inbound.text_problem("hi")
