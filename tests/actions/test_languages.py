"""The learner's language: detection (lingua), the answers' wording in each language, and the cut of a
message into its questions. Plain functions: no Rasa, no server."""

import re

import pytest

from actions import answers
from actions.questions import question_parts
from catalog.facts import CreditFact, PriceFact, SourceRef
from core import languages, notices
from nlu_components import language_detection
from tests.actions.sample_facts import FAQ, GENERAL, PAGE, make_program

REVIEW_SITE = SourceRef("Class Central", "https://www.classcentral.com/report/mitx-sds", third_party=True)
LINK = re.compile(r"https?://")


@pytest.mark.parametrize("text, code", [
    ("¿cuánto cuesta el micromaster de supply chain?", "es"),
    ("¿el micromasters de data science vale créditos para una maestría?", "es"),
    ("combien coûte le programme?", "fr"),
    ("est-ce que ça compte pour un master?", "fr"),
    ("quanto custa o micromaster?", "pt"),
    ("o certificado conta como crédito no mestrado?", "pt"),
    ("does it count for credit?", "en"),
    ("I failed the capstone exam, can I retake it and how much would that cost?", "en"),
    ("Wie viel kostet das Programm?", "de"),
    ("Quanto costa il programma?", "it"),
    ("كم تكلفة البرنامج", "ar"),
    ("这个项目多少钱", "zh"),
])
def test_the_language_of_a_question(text, code):
    detected = language_detection.detect(text)
    assert detected is not None and detected.code == code
    assert detected.supported == (code in languages.SUPPORTED)


@pytest.mark.parametrize("text", ["ok", "SCM", "hi", "/ask_cost", "👍👍", ""])
def test_too_short_to_tell_gives_no_verdict(text):
    assert language_detection.detect(text) is None


@pytest.mark.parametrize("text", ["zzqx vvbn", "xkcd blorp", "asdfgh jkl"])
def test_a_keyboard_mash_is_never_called_an_unsupported_language(text):
    detected = language_detection.detect(text)
    assert detected is None or detected.supported, detected


def test_browser_tags_and_the_language_answered_in():
    assert languages.normalise("es-MX") == "es" and languages.normalise("pt_BR") == "pt"
    assert languages.normalise("not a tag!") is None and languages.normalise(None) is None
    assert languages.answer_language("fr-CA") == "fr"
    assert languages.answer_language("de") == "en" and languages.answer_language(None) == "en"


def spanish_program():
    return make_program(
        prices=(PriceFact("total", 1350, None, "USD", "2017", None, FAQ),),
        credit_pathways=(CreditFact("Test University", "MSc Widgets", "one semester", "2018", FAQ),),
    )


def test_a_cost_answer_in_spanish_keeps_the_catalogs_figures_and_dates():
    text = answers.answer("cost", spanish_program(), GENERAL, language="es")
    assert text.startswith("TestX Widget Engineering: $1,350 en total, datos de 2017.")
    assert "Fuentes: " in text and "Página del programa: https://example.edu/widgets" in text


def test_a_credit_answer_in_french_and_portuguese():
    french = answers.answer("credit", spanish_program(), GENERAL, language="fr")
    assert french.startswith("Oui : TestX Widget Engineering compte comme crédits dans 1 université")
    assert "- Test University (données de 2018)" in french
    portuguese = answers.answer("credit", spanish_program(), GENERAL, language="pt")
    assert portuguese.startswith("Sim: TestX Widget Engineering vale créditos em 1 universidade")


def test_an_english_catalog_note_is_not_pasted_into_another_languages_answer():
    text = answers.answer("admission", make_program(), GENERAL, language="es")
    assert text.startswith("No. Completar TestX Widget Engineering no garantiza la admisión a una maestría.")
    assert "Credential holders" not in text and "Detalles (en inglés) en la fuente." in text


def test_a_third_party_price_is_labelled_and_never_the_programs_own():
    program = make_program(prices=(PriceFact("per_course", 300, None, "USD", "2025", None, REVIEW_SITE),))
    text = answers.answer("cost", program, GENERAL)
    assert "A third-party site (Class Central) said in 2025: $300 per course, not the program's own price." in text
    assert not text.startswith("TestX Widget Engineering: $300")
    assert "sitio externo (Class Central)" in answers.answer("cost", program, GENERAL, language="es")


def test_at_most_two_links_and_no_home_page_as_a_source():
    home = SourceRef("Test University", "https://example.edu/")
    pathways = tuple(CreditFact(f"School {n}", None, None, "2020", SourceRef(f"S{n}", f"https://e{n}.org/p"))
                     for n in range(6))
    text = answers.answer("credit", make_program(credit_pathways=pathways), GENERAL)
    assert len(LINK.findall(text)) == 2 and PAGE.url in text
    assert "- and 4 more on the program page" in text
    assert answers.sources_line([home], answers.plain_link) == ""


def test_the_honest_reply_in_a_language_not_answered():
    german = notices.language_not_answered("https://support.example.org", "de")
    assert german.startswith("Leider antworte ich nur") and "https://support.example.org" in german
    assert "Sorry, I can only answer in English" in notices.language_not_answered("https://s.example", "nl")


def test_a_situation_then_two_questions_pointing_back_are_one_question_with_its_context():
    parts = question_parts("I finished 3 of the 5 courses but I failed the capstone exam, can I retake it "
                           "and how much would that cost?")
    assert len(parts) == 1
    assert "capstone exam" in parts[0].with_context


def test_two_questions_are_two_parts():
    parts = question_parts("How much does SCM cost? Can I get financial aid?")
    assert [p.question for p in parts] == ["How much does SCM cost?", "Can I get financial aid?"]
    spanish = question_parts("¿Cuánto cuesta el de supply chain y puedo pedir ayuda financiera?")
    assert len(spanish) == 2


def test_a_one_megabyte_message_is_read_from_its_start():
    """lingua's memory grows with the length of a word: the detection reads only the message's start."""
    assert language_detection.detect("how much does it cost " + "a" * 1_000_000) == language_detection.Detected("en")
