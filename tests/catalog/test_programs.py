"""Program recognition from the catalog's names, with spaCy."""

import pytest

from catalog.facts import faq_facts, program_names
from catalog.names import ProgramResolver
from catalog.view import faq_words
from core.db import engine_for, session_scope

SCM = "mitx-supply-chain-management"
MIT_PROGRAMS = {
    "mitx-data-economics-development-policy",
    "mitx-finance",
    "mitx-principles-of-manufacturing",
    "mitx-statistics-and-data-science",
    SCM,
}


@pytest.fixture(scope="module")
def resolver(sqlite_catalog_url):
    with session_scope(engine_for(sqlite_catalog_url)) as session:
        return ProgramResolver(program_names(session))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("how much does MITx Supply Chain Management cost?", SCM),
        ("does Curtin accept the MITx SCM credits?", SCM),
        ("the supply chain one", SCM),
        ("how much is the suply chian managment program", SCM),
        ("SC1x", SCM),
        ("how much is the columbia AI one", "columbiax-artificial-intelligence"),
        ("columbiia business analytics", "columbiax-business-analytics"),
        ("I'm taking 6.431x, does it count?", "mitx-statistics-and-data-science"),
        ("statistics and data science", "mitx-statistics-and-data-science"),
        ("what about DEDP?", "mitx-data-economics-development-policy"),
        ("the UCSD data science micromasters", "ucsandiegox-data-science"),
        ("ux research and design from michigan", "michiganx-ux-research-and-design"),
        ("the hospitality one from PolyU", "hkpolyux-international-hospitality-management"),
        ("RITx cybersecurity", "ritx-cybersecurity"),
        ("the finance one", "mitx-finance"),
        ("Curtin", "curtinx-human-rights"),
        ("price of BU digital product management", "bux-digital-product-management"),
    ],
)
def test_resolves_to_one_program(resolver, text, expected):
    assert resolver.resolve(text).program_ids == (expected,)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("MIT", MIT_PROGRAMS),
        ("the MITx programs", MIT_PROGRAMS),
        ("Columbia", {"columbiax-business-analytics", "columbiax-artificial-intelligence"}),
        ("the one from Queensland", {"uqx-business-leadership", "uqx-leadership-in-global-development",
                                     "uqx-sustainable-energy"}),
    ],
)
def test_institution_alone_is_ambiguous(resolver, text, expected):
    resolution = resolver.resolve(text)
    assert resolution.ambiguous and set(resolution.program_ids) == expected


@pytest.mark.parametrize(
    "text",
    [
        "will this help me get a job in Germany",
        "can I talk to a human",
        "how much does it cost?",
        "",
        "   ",
        "😀😀😀",
        "'; DROP TABLE programs; --",
        "<img src=x onerror=alert(1)>",
        "what is the date today",
    ],
)
def test_names_no_program(resolver, text):
    assert resolver.resolve(text).program_ids == ()


def test_a_very_long_message_is_handled(resolver):
    assert resolver.resolve("supply chain " + "blah " * 5000).program_ids == (SCM,)


def test_a_real_word_of_the_faq_is_never_mended_into_a_program_name(sqlite_catalog_url):
    with session_scope(engine_for(sqlite_catalog_url)) as session:
        names, faq = program_names(session), faq_facts(session)
    question = "¿puedo pedir ayuda financiera para pagar los cursos?"
    assert ProgramResolver(names).resolve(question).unique == "mitx-finance"  # "financiera" reads as a typo
    with_faq = ProgramResolver(names, faq_words(faq))
    assert with_faq.resolve(question).program_ids == ()
    assert with_faq.resolve("how much is the finanse micromasters").unique == "mitx-finance"
