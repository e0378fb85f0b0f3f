"""Properties, checked with hypothesis, of the catalog file's validation, the catalog load and the answers.

No servers. The catalog examples are mutations of the shipped catalog: whatever is wrong with a file, its
validation either accepts it or raises `CatalogFileError` naming the entry and the field at fault, and a load
that fails leaves the database exactly as it was. Whatever a learner writes, and whatever the conversation's
context holds, a turn returns a reply, and a question beyond the four topics never gets a topic answer.
"""

import copy
import json
import math
import re
from functools import cache
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from actions import answers
from actions.links import markdown_link, plain_link, slack_link
from actions.turns import FAQ_PREFIX, Context, Reply, answer_turn, general_turn
from catalog.cli import main as catalog_cli
from catalog.facts import (
    CreditFact,
    EmployerFact,
    FaqFact,
    GeneralFactText,
    PriceFact,
    ProgramFacts,
    SourceRef,
)
from catalog.file import (
    PRICE_KINDS,
    AdmissionEntry,
    CareerEntry,
    CatalogFileError,
    CreditPathwayEntry,
    EmployerEntry,
    FaqEntry,
    GeneralFactEntry,
    InstitutionEntry,
    PriceEntry,
    ProgramEntry,
    SourceEntry,
    parse_catalog,
)
from catalog.loader import create_schema, export_catalog, load_catalog
from catalog.models import CatalogRevision
from catalog.view import current_view
from core import notices
from core.db import engine_for, session_scope
from tests.conftest import CATALOG_FILE

CATALOG = yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))
SOURCE_IDS = {s["id"] for s in CATALOG["sources"]}
INSTITUTION_IDS = {i["id"] for i in CATALOG["institutions"]}
PROGRAM_IDS = [p["id"] for p in CATALOG["programs"]]
FAQ_TOPICS = sorted({f["topic"] for f in CATALOG["faq"]})
LINKS = (plain_link, markdown_link, slack_link)

FAST = settings(max_examples=80, deadline=None)
WITH_DATABASE = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# ---------------------------------------------------------------------------------------------------------
# Catalog file: mutations of the shipped catalog
# ---------------------------------------------------------------------------------------------------------

SECTION_MODELS = {
    "sources": SourceEntry,
    "institutions": InstitutionEntry,
    "general_facts": GeneralFactEntry,
    "programs": ProgramEntry,
    "faq": FaqEntry,
}
NESTED_MODELS = {
    "admission": AdmissionEntry,
    "career_outcomes": CareerEntry,
    "prices": PriceEntry,
    "credit_pathways": CreditPathwayEntry,
    "employers": EmployerEntry,
}
# Every problem line begins with the entry it is about: `programs[3] (mitx-finance).prices[0].amount: ...`.
ENTRY_PROBLEM = re.compile(r"^(sources|institutions|general_facts|programs|faq)\[\d+\]", re.DOTALL)

WRONG_VALUES = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.none(),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.builds(lambda char, n: char * n, st.characters(blacklist_categories=("Cs",)), st.integers(5_000, 20_000)),
    st.text(alphabet=st.characters(min_codepoint=0x80, blacklist_categories=("Cs",)), min_size=1, max_size=20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.just(""),
    st.just("   "),
)


def _required(model: type[BaseModel]) -> set:
    return {name for name, field in model.__fields__.items() if field.required}


@cache
def _field_paths(section: str, index: int) -> tuple:
    """(path inside the entry, required?) of every field the shipped entry has, nested ones included."""
    entry = CATALOG[section][index]
    model = SECTION_MODELS[section]
    paths = []
    for key, value in entry.items():
        paths.append(((key,), key in _required(model)))
        nested = NESTED_MODELS.get(key) if section == "programs" else None
        if nested is None:
            continue
        if isinstance(value, dict):
            paths += [((key, sub), sub in _required(nested)) for sub in value]
        elif isinstance(value, list):
            for k, item in enumerate(value):
                paths += [((key, k, sub), sub in _required(nested)) for sub in item]
    return tuple(paths)


def _path_text(path: tuple) -> str:
    """('prices', 0, 'amount') -> '.prices[0].amount', as the problem lines spell it."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _parent(node, path):
    for key in path[:-1]:
        node = node[key]
    return node


@st.composite
def entry_fields(draw, required_only=False):
    section = draw(st.sampled_from(sorted(SECTION_MODELS)))
    index = draw(st.integers(0, len(CATALOG[section]) - 1))
    paths = [path for path, required in _field_paths(section, index) if required or not required_only]
    return section, index, draw(st.sampled_from(paths))


def _entry_label(section: str, index: int) -> str:
    """How a reference problem labels an entry: by its id, or a fact's or FAQ answer's topic."""
    entry = CATALOG[section][index]
    return f"{section}[{index}] ({entry.get('id') or entry.get('topic')})"


def _names(problem: str, section: str, index: int, path: tuple) -> bool:
    """Whether a problem line names this entry and this field (a duplicate names the id it repeats)."""
    return f"{section}[{index}]" in problem and (
        _path_text(path) in problem or "duplicate id" in problem or "a second answer" in problem
    )


def _parse_or_error(raw) -> CatalogFileError | None:
    """None when the catalog is valid; its error otherwise. Any other exception fails the test."""
    try:
        parse_catalog(raw)
    except CatalogFileError as error:
        assert error.problems, "an error without a problem"
        assert str(error).startswith("<catalog>: ")
        for problem in error.problems:
            assert problem in str(error)
        return error
    return None


@FAST
@given(where=entry_fields(required_only=True))
def test_a_missing_required_field_is_named_with_its_entry(where):
    section, index, path = where
    raw = copy.deepcopy(CATALOG)
    del _parent(raw[section][index], path)[path[-1]]
    error = _parse_or_error(raw)
    assert error is not None, f"{section}[{index}]{_path_text(path)} deleted, yet the catalog is valid"
    # Validation errors label an entry with its id, when it has one left (general facts and FAQ answers have none).
    entry_id = CATALOG[section][index].get("id")
    label = f"{section}[{index}]" + (f" ({entry_id})" if entry_id and path != ("id",) else "")
    assert f"{label}{_path_text(path)}: required field is missing" in error.problems


@FAST
@given(where=entry_fields(), value=WRONG_VALUES)
def test_a_value_of_the_wrong_type_is_accepted_or_named_with_its_entry(where, value):
    section, index, path = where
    raw = copy.deepcopy(CATALOG)
    _parent(raw[section][index], path)[path[-1]] = value
    error = _parse_or_error(raw)
    event("accepted" if error is None else "refused")
    if error is None:
        return
    assert all(ENTRY_PROBLEM.match(problem) for problem in error.problems), error.problems
    # A new id that is still a string (or coerces to one) is no fault of its own entry: only the entries that
    # referred to the old id are wrong, and they are the ones named.
    renamed_id = path == ("id",) and isinstance(value, (str, int, float))
    if not renamed_id:
        assert any(_names(problem, section, index, path) for problem in error.problems), (path, error.problems)


@FAST
@given(section=st.sampled_from(["sources", "institutions", "programs", "general_facts"]), data=st.data())
def test_a_duplicate_id_is_named_with_both_entries(section, data):
    key = "topic" if section == "general_facts" else "id"
    count = len(CATALOG[section])
    first = data.draw(st.integers(0, count - 2))
    second = data.draw(st.integers(first + 1, count - 1))
    raw = copy.deepcopy(CATALOG)
    how = data.draw(st.sampled_from(["rename", "copy"]))
    if how == "rename":
        raw[section][second][key] = raw[section][first][key]
    else:
        raw[section].append(copy.deepcopy(raw[section][first]))
        second = count
    error = _parse_or_error(raw)
    assert error is not None
    duplicate = raw[section][first][key]
    assert f"{section}[{second}] ({duplicate}): duplicate id, already used by {section}[{first}]" in error.problems


@FAST
@given(first=st.integers(0, len(CATALOG["faq"]) - 1))
def test_a_second_faq_answer_for_the_same_topic_is_named(first):
    raw = copy.deepcopy(CATALOG)
    raw["faq"].append(copy.deepcopy(raw["faq"][first]))
    error = _parse_or_error(raw)
    assert error is not None
    entry = raw["faq"][first]
    owner = f"program {entry['program']}" if entry["program"] else "all programs"
    assert (f"faq[{len(CATALOG['faq'])}] ({entry['topic']}): a second answer for {owner}, "
            f"already given by faq[{first}]") in error.problems


def _reference_paths(section: str, index: int) -> list:
    """(path, kind) of every reference to a source or an institution the shipped entry has."""
    entry = CATALOG[section][index]
    if section in ("general_facts", "faq"):
        return [(("source",), "source")]
    paths = [(("institution",), "institution"), (("program_page",), "source"), (("admission", "source"), "source")]
    if entry.get("career_outcomes"):
        paths.append((("career_outcomes", "source"), "source"))
    for key in ("prices", "credit_pathways", "employers"):
        paths += [((key, k, "source"), "source") for k in range(len(entry.get(key) or []))]
    paths += [(("credit_pathways", k, "institution"), "institution")
              for k in range(len(entry.get("credit_pathways") or []))]
    paths += [(("sources", k), "source") for k in range(len(entry.get("sources") or []))]
    return paths


@FAST
@given(section=st.sampled_from(["general_facts", "faq", "programs"]), data=st.data(),
       unknown=st.text(min_size=1, max_size=30).map(str.strip).filter(lambda t: t and "\x00" not in t))
def test_a_reference_to_an_unknown_source_or_institution_is_named(section, data, unknown):
    index = data.draw(st.integers(0, len(CATALOG[section]) - 1))
    path, kind = data.draw(st.sampled_from(_reference_paths(section, index)))
    assume(unknown not in (SOURCE_IDS if kind == "source" else INSTITUTION_IDS))
    raw = copy.deepcopy(CATALOG)
    _parent(raw[section][index], path)[path[-1]] = unknown
    error = _parse_or_error(raw)
    assert error is not None
    assert f"{_entry_label(section, index)}{_path_text(path)}: unknown {kind} '{unknown}'" in error.problems


@FAST
@given(section=st.sampled_from(sorted(SECTION_MODELS)), data=st.data(),
       value=st.one_of(st.integers(), st.text(max_size=10), st.none(), st.lists(st.integers(), max_size=2)))
def test_an_entry_that_is_not_a_mapping_is_named(section, data, value):
    index = data.draw(st.integers(0, len(CATALOG[section]) - 1))
    raw = copy.deepcopy(CATALOG)
    raw[section][index] = value
    error = _parse_or_error(raw)
    assert error is not None
    # pydantic reads "" and [] as an empty mapping: then the entry's required fields are named as missing.
    assert any(problem.startswith(f"{section}[{index}]") for problem in error.problems), error.problems


@FAST
@given(section=st.sampled_from(["version", *sorted(SECTION_MODELS)]),
       value=st.one_of(st.text(max_size=10), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                       st.lists(st.integers(), min_size=1, max_size=2), st.none()))
def test_a_section_of_the_wrong_type_is_named(section, value):
    raw = copy.deepcopy(CATALOG)
    raw[section] = value
    error = _parse_or_error(raw)
    if error is None:  # e.g. version: "2" is read as the number 2
        assert section == "version"
        return
    assert any(problem.startswith(section) for problem in error.problems), error.problems


@FAST
@given(raw=st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=3)))
def test_a_file_that_is_not_a_mapping_is_refused(raw):
    error = _parse_or_error(raw)
    assert error is not None and "the top level must be a mapping" in error.problems[0]


def test_the_shipped_catalog_is_valid():
    """Positive control for the mutations above: unchanged, the catalog parses."""
    assert _parse_or_error(copy.deepcopy(CATALOG)) is None


def test_a_non_finite_price_is_refused_naming_its_entry(tmp_path):
    """Found by the property tests: `amount: .inf` (or `.nan`) is valid YAML; it used to be accepted and
    stored, and every cost answer for the program then raised in `answers.money`. The file is refused,
    naming programs[0] (...).prices[0].amount."""
    raw = copy.deepcopy(CATALOG)
    raw["programs"][0]["prices"][0]["amount"] = math.inf
    error = _parse_or_error(raw)
    if error is not None:
        assert f"{_entry_label('programs', 0)}.prices[0].amount" in error.problems[0]
        return
    engine = engine_for(f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        load_catalog(engine, parse_catalog(raw))
        reply = answer_turn("how much does it cost?", ["cost"], chosen_program_id=PROGRAM_IDS[0], engine=engine)
        assert reply.messages[0].text
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------------------
# Catalog load: all or nothing
# ---------------------------------------------------------------------------------------------------------

# Faults the file's validation lets through and the database refuses, on every backend ...
ALWAYS_REFUSED = ("unknown_source_row", "course_code_in_two_programs", "course_code_twice_in_one_program")
# ... or on some only (PostgreSQL: varchar lengths). NUL characters and NaN amounts, once here, are now
# refused by the file's validation (test_a_nul_character_..., test_a_non_finite_price_...).
SOMETIMES_REFUSED = ("overlong_id", "overlong_edx_org")
CHANGE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)


def _snapshot(engine) -> str:
    """Everything the catalog tables hold, plus the revision row, as comparable text (NaN compares as text)."""
    create_schema(engine)
    with session_scope(engine) as session:
        stamp = session.get(CatalogRevision, 1)
        revision = None if stamp is None else [stamp.revision, stamp.checksum, str(stamp.loaded_at)]
    return json.dumps({"revision": revision, "catalog": export_catalog(engine)}, sort_keys=True, default=str)


def _revision(snapshot: str):
    return json.loads(snapshot)["revision"]


def _poisoned(raw: dict, fault) -> object:
    """The catalog, validated, with `fault` slipped in before or after validation."""
    if fault == "course_code_twice_in_one_program":
        raw["programs"][0]["course_codes"] = ["DUP1x", "DUP1x"]
    elif fault == "overlong_id":
        old = raw["programs"][2]["id"]
        raw["programs"][2]["id"] = old + "-" + "x" * 200
        for entry in raw["faq"]:
            if entry["program"] == old:
                entry["program"] = raw["programs"][2]["id"]
    elif fault == "overlong_edx_org":
        raw["programs"][3]["edx_org"] = "X" * 61
    catalog = parse_catalog(raw)  # every fault here passes the file's validation
    if fault == "unknown_source_row":
        catalog.general_facts[0].source = "no-such-source"
    elif fault == "course_code_in_two_programs":
        catalog.programs[1].course_codes = ["X1"]
        catalog.programs[2].course_codes = ["X1"]
    return catalog


@WITH_DATABASE
@given(program=st.integers(4, len(PROGRAM_IDS) - 1), title=CHANGE_TEXT.filter(lambda t: t.strip()),
       fault=st.sampled_from([None, *ALWAYS_REFUSED, *SOMETIMES_REFUSED]))
def test_a_failed_load_leaves_the_database_as_it_was(database_url, program, title, fault):
    engine = engine_for(database_url)
    if _revision(_snapshot(engine)) is None:
        load_catalog(engine, parse_catalog(copy.deepcopy(CATALOG)))
    before = _snapshot(engine)
    raw = copy.deepcopy(CATALOG)
    raw["programs"][program]["title"] = title  # the faults touch programs 0-3 only
    catalog = _poisoned(raw, fault)
    try:
        load_catalog(engine, catalog)
    except Exception as error:  # noqa: BLE001 (any failure must roll back, whatever its type)
        event(f"{fault}: refused")
        assert fault is not None, f"a valid catalog failed to load: {error!r}"
        assert _snapshot(engine) == before
        return
    event(f"{fault}: loaded")
    assert fault not in ALWAYS_REFUSED, f"{fault} was loaded"
    after = _snapshot(engine)  # positive control: a load that succeeds does change the database
    assert _revision(after)[0] == _revision(before)[0] + 1
    assert title.strip() in {p["title"] for p in json.loads(after)["catalog"]["programs"]}


def test_a_valid_change_loads_and_a_refused_one_changes_nothing(database_url):
    """The positive control of the property above, spelt out: the same check sees a load, then no load."""
    engine = engine_for(database_url)
    load_catalog(engine, parse_catalog(copy.deepcopy(CATALOG)))
    first = _snapshot(engine)
    changed = copy.deepcopy(CATALOG)
    changed["programs"][0]["title"] = "Supply Chain Management, renamed"
    load_catalog(engine, parse_catalog(changed))
    second = _snapshot(engine)
    assert second != first and _revision(second)[0] == 2
    assert "Supply Chain Management, renamed" in second
    with pytest.raises(Exception):  # noqa: B017 (the database's own error type differs by backend)
        load_catalog(engine, _poisoned(copy.deepcopy(CATALOG), "unknown_source_row"))
    assert _snapshot(engine) == second


def test_a_nul_character_is_refused_by_validation_and_load(database_url, tmp_path, capsys):
    """Found by the property tests: a NUL character is valid YAML ("\\0"); the file's validation accepted it
    and, on PostgreSQL, psycopg2's ValueError made `catalog load` die with a traceback. Now the file is
    refused before anything is written, naming the entry and field."""
    raw = copy.deepcopy(CATALOG)
    raw["programs"][1]["title"] = "Supply\x00Chain"
    path = tmp_path / "nul.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert catalog_cli(["validate", str(path)]) == 1
    assert "programs[1]" in capsys.readouterr().err
    code = catalog_cli(["load", str(path), "--database-url", database_url])
    assert code == 1 and "title: must not contain a NUL character" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------
# Answers and turns
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog(sqlite_catalog_url):
    """The shipped catalog in SQLite, and every answer the assistant can give from it."""
    engine = engine_for(sqlite_catalog_url)
    with session_scope(engine) as session:
        view = current_view(session)
    programs = [None, *view.programs.values()]
    return SimpleNamespace(
        engine=engine,
        view=view,
        topic_answers={answers.answer(topic, program, view.general, link)
                       for topic in answers.TOPICS for program in programs for link in LINKS},
        faq_answers={answers.faq_answer(fact, program, link)
                     for fact in view.faq.facts for program in programs for link in LINKS},
        chosen={answers.program_chosen(program) for program in view.programs.values()},
    )


WORDS = sorted({
    word
    for program in CATALOG["programs"]
    for phrase in (program["title"], program["edx_org"], *program["aliases"], *program["course_codes"])
    for word in phrase.split()
} | {word for entry in CATALOG["faq"] for phrase in entry["phrasings"] for word in phrase.split()}
  | {"how", "much", "cost", "credit", "job", "admission", "columbia", "the", "one", "?", "and", "it"})
LEARNER_TEXT = st.one_of(
    st.text(max_size=150),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=10).map(" ".join),
    st.sampled_from([phrase for entry in CATALOG["faq"] for phrase in entry["phrasings"]]),
)
JUNK = st.one_of(st.text(max_size=30), st.just(""), st.just("faq:"), st.just("cost"))
PROGRAM_ID = st.one_of(st.none(), st.sampled_from(PROGRAM_IDS), JUNK)
TOPIC = st.one_of(
    st.sampled_from(answers.TOPICS),
    st.sampled_from([FAQ_PREFIX + topic for topic in FAQ_TOPICS]),
    st.text(max_size=20).map(lambda t: FAQ_PREFIX + t),  # a general-FAQ topic the catalog does not have (now)
)
CONTEXT = st.builds(Context, program_id=PROGRAM_ID, last_topics=st.lists(TOPIC, max_size=2).map(tuple),
                    pending_topics=st.lists(TOPIC, max_size=2).map(tuple))


@FAST
@given(text=LEARNER_TEXT, topics=st.lists(TOPIC, max_size=3), context=CONTEXT, chosen=PROGRAM_ID,
       link=st.sampled_from(LINKS))
def test_a_turn_always_replies_and_only_topic_questions_get_topic_answers(catalog, text, topics, context, chosen,
                                                                          link):
    reply = answer_turn(text, topics, context, chosen, link, engine=catalog.engine)
    assert isinstance(reply, Reply) and reply.messages
    texts = [message.text for message in reply.messages]
    event(f"last topics: {sorted({t.split(':')[0] for t in reply.last_topics})}")
    assert all(isinstance(t, str) and t.strip() for t in texts)
    assert reply.program_id in {None, context.program_id, *catalog.view.programs}
    if texts == [answers.which_program_prompt()]:
        assert reply.messages[0].buttons
        assert reply.pending_topics == tuple(topics or context.pending_topics or context.last_topics)
    elif texts == [answers.unknown_program(link)]:
        assert reply.program_id == context.program_id
    elif len(texts) == 1 and texts[0] in catalog.chosen:
        assert not topics and reply.program_id in catalog.view.programs
    else:
        assert reply.last_topics and len(texts) == len(reply.last_topics), reply
        for topic, answer_text in zip(reply.last_topics, texts, strict=True):
            if topic in answers.TOPICS:
                assert answer_text in catalog.topic_answers, (topic, answer_text)
            else:  # beyond the four topics: a general-FAQ answer or "no sourced answer", never a topic answer
                assert answer_text not in catalog.topic_answers, (topic, answer_text)
                assert answer_text in catalog.faq_answers or answer_text == answers.no_sourced_answer()


@FAST
@given(text=LEARNER_TEXT, threshold=st.floats(0, 1), margin=st.floats(0, 0.5), context=CONTEXT,
       link=st.sampled_from(LINKS))
def test_a_general_question_gets_a_faq_answer_or_none_never_a_topic_answer(catalog, text, threshold, margin,
                                                                          context, link):
    reply = general_turn(text, threshold, margin, context, link, engine=catalog.engine)
    event("no FAQ answer" if reply is None else "a FAQ answer")
    if reply is None:
        return
    assert len(reply.messages) == 1
    answer_text = reply.messages[0].text
    assert answer_text in catalog.faq_answers and answer_text not in catalog.topic_answers
    assert len(reply.last_topics) == 1 and reply.last_topics[0][len(FAQ_PREFIX):] in FAQ_TOPICS
    assert reply.program_id in {None, context.program_id, *catalog.view.programs}


def test_the_answer_checks_see_answers(catalog):
    """Positive controls for the two properties above: the sets they check against do hold real answers."""
    cost = answer_turn("how much does the MITx SCM cost?", ["cost"], engine=catalog.engine)
    assert cost.messages[0].text.startswith("MITx Supply Chain Management: $1,350")
    assert cost.messages[0].text in catalog.topic_answers
    general = general_turn("how long does a micromasters take", 0.1, engine=catalog.engine)
    assert general is not None and general.messages[0].text in catalog.faq_answers
    assert general.messages[0].text not in catalog.topic_answers
    named = answer_turn("the supply chain one", [], engine=catalog.engine)
    assert named.messages[0].text in catalog.chosen
    faq = answer_turn("the supply chain one", [FAQ_PREFIX + FAQ_TOPICS[0]], engine=catalog.engine)
    assert faq.messages[0].text in catalog.faq_answers


def test_every_catalog_program_gets_every_topic_answer(catalog):
    for program in [None, *catalog.view.programs.values()]:
        for topic in answers.TOPICS:
            for link in LINKS:
                assert answers.answer(topic, program, catalog.view.general, link).strip()


OPTIONAL_TEXT = st.one_of(st.none(), st.text(max_size=60))
SOURCE = st.one_of(st.none(), st.builds(SourceRef, st.text(max_size=20), st.one_of(st.none(), st.text(max_size=30))))
AMOUNT = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)


@st.composite
def prices(draw):
    kind = draw(st.sampled_from(PRICE_KINDS))
    amount = draw(AMOUNT)
    amount_max = draw(AMOUNT) if kind == "per_course_range" else draw(st.one_of(st.none(), AMOUNT))
    return PriceFact(kind, amount, amount_max, draw(st.one_of(st.none(), st.sampled_from(["USD", "EUR"]),
                                                               st.text(max_size=5))),
                     draw(OPTIONAL_TEXT), draw(OPTIONAL_TEXT), draw(SOURCE))


PROGRAM_FACTS = st.builds(
    ProgramFacts,
    id=st.text(max_size=20), title=st.text(max_size=40), edx_org=st.text(max_size=10),
    institution=st.text(max_size=30), program_page=SOURCE, num_courses=st.one_of(st.none(), st.integers(1, 20)),
    courses_note=OPTIONAL_TEXT, admission_guaranteed=st.booleans(),
    admission_basis=st.sampled_from(["program", "edx-wide"]), admission_note=OPTIONAL_TEXT,
    admission_source=SOURCE, career_outcomes=OPTIONAL_TEXT, career_source=SOURCE,
    prices=st.lists(prices(), max_size=3).map(tuple), price_note=OPTIONAL_TEXT,
    credit_pathways=st.lists(st.builds(CreditFact, st.text(max_size=20), OPTIONAL_TEXT, OPTIONAL_TEXT,
                                       OPTIONAL_TEXT, SOURCE), max_size=5).map(tuple),
    employers=st.lists(st.builds(EmployerFact, st.text(max_size=20), OPTIONAL_TEXT, OPTIONAL_TEXT, SOURCE),
                       max_size=3).map(tuple),
)
GENERAL_FACTS = st.dictionaries(
    st.sampled_from(answers.TOPICS),
    st.builds(GeneralFactText, st.sampled_from(answers.TOPICS), st.text(max_size=80), OPTIONAL_TEXT, SOURCE),
)


@FAST
@given(topic=st.sampled_from(answers.TOPICS), program=st.one_of(st.none(), PROGRAM_FACTS), facts=GENERAL_FACTS,
       link=st.sampled_from(LINKS))
def test_answer_wording_never_raises_on_any_facts(topic, program, facts, link):
    text = answers.answer(topic, program, facts, link)
    assert isinstance(text, str) and text.strip()


@FAST
@given(fact=st.builds(FaqFact, st.text(max_size=10), st.one_of(st.none(), st.text(max_size=10)),
                      st.text(max_size=30), st.lists(st.text(max_size=10), max_size=2).map(tuple),
                      st.text(max_size=60), OPTIONAL_TEXT, SOURCE),
       program=st.one_of(st.none(), PROGRAM_FACTS), link=st.sampled_from(LINKS), text=st.text(max_size=80),
       amount=AMOUNT, currency=st.one_of(st.none(), st.text(max_size=5)))
def test_the_small_wording_functions_never_raise(fact, program, link, text, amount, currency):
    assert isinstance(answers.faq_answer(fact, program, link), str)
    assert answers.first_sentence(text).endswith((".", "!", "?"))
    assert answers.money(amount, currency)
    assert notices.offer_support(text) and notices.temporarily_unavailable(text) and notices.handoff_delayed(text)
    assert answers.unknown_program(link)
    assert answers.program_buttons([(text, text)])[0]["title"] == text
    assert [b["payload"] for b in answers.topic_buttons()] == [f"/ask_{t}" for t in answers.TOPICS]
