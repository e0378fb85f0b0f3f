"""The catalog file: its schema, and validation that names the entry and field at fault.

`read_catalog(path)` returns a validated `CatalogFile` or raises `CatalogFileError` listing every
problem as `programs[3] (mitx-finance).prices[0].amount: value is not a valid float`.
Nothing here touches the database.
"""

import math
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import yaml
from pydantic import BaseModel, Extra, StrictBool, ValidationError, validator

from core.languages import DEFAULT as ENGLISH
from core.languages import SUPPORTED

TOPICS = ("credit", "admission", "career", "cost")
FAQ_TOPIC = re.compile(r"[a-z][a-z0-9_]*")
PRICE_KINDS = ("total", "total_approx", "total_computed", "per_course", "per_course_range", "capstone_or_exam",
               "personalised", "coupon")
TOTAL_KINDS = ("total", "total_computed")  # checked against their parts (total_approx is a rounded figure)
# Sources the course-discovery sync writes: their totals are the API's own sums over the courses it lists.
SYNCED_SOURCE_PREFIX = "course-discovery-"
RANGE_KINDS = ("per_course_range", "personalised")  # amount .. amount_max
STATUSES = ("active", "retired", "moved", "unknown")
# The languages an FAQ answer may be translated into: the assistant's, but English (the entry's own answer).
TRANSLATION_LANGUAGES = tuple(code for code in SUPPORTED if code != ENGLISH)


class CatalogFileError(ValueError):
    """A catalog file that cannot be loaded; `problems` holds one line per fault."""

    def __init__(self, path: Union[str, Path], problems: Sequence[str]):
        self.path = str(path)
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{self.path}: {len(self.problems)} problem(s):\n{lines}")


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, (list, tuple)):
        return any(_has_nul(item) for item in value)
    return False


class _Strict(BaseModel):
    class Config:
        extra = Extra.forbid
        anystr_strip_whitespace = True
        min_anystr_length = 1

    @validator("*", pre=True)
    def _no_nul(cls, value, field):
        """A NUL character is valid YAML but no text a learner should see, and PostgreSQL refuses it.
        Only text fields (str, or lists of str) are checked here; entries are checked as themselves."""
        if field.type_ is str and _has_nul(value):
            raise ValueError("must not contain a NUL character")
        return value


class SourceEntry(_Strict):
    id: str
    url: Optional[str]
    title: str
    as_of: Optional[str]
    # A course-review or news site, a blog: not the program, its university or edX. A source cited for a
    # price must say (true or false): a price is only the program's own when its source is.
    third_party: Optional[StrictBool] = None

    @validator("url")
    def _url_is_web_address(cls, value):
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class InstitutionEntry(_Strict):
    id: str
    name: str
    short_names: List[str] = []
    country: Optional[str]


class GeneralFactEntry(_Strict):
    topic: str
    text: str
    as_of: Optional[str]
    source: Optional[str]

    @validator("topic")
    def _known_topic(cls, value):
        if value not in TOPICS:
            raise ValueError(f"must be one of {', '.join(TOPICS)}")
        return value


class AdmissionEntry(_Strict):
    guaranteed: StrictBool
    basis: str
    note: Optional[str]
    source: Optional[str]

    @validator("basis")
    def _known_basis(cls, value):
        if value not in ("program", "edx-wide"):
            raise ValueError("must be 'program' or 'edx-wide'")
        return value


class CareerEntry(_Strict):
    text: str
    source: Optional[str]


class PriceEntry(_Strict):
    kind: str
    amount: float
    amount_max: Optional[float]
    currency: Optional[str]
    as_of: Optional[str]
    note: Optional[str]
    source: Optional[str]

    @validator("kind")
    def _known_kind(cls, value):
        if value not in PRICE_KINDS:
            raise ValueError(f"must be one of {', '.join(PRICE_KINDS)}")
        return value

    @validator("amount", "amount_max")
    def _not_negative(cls, value):
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        if value is not None and value < 0:
            raise ValueError("must not be negative")
        return value

    @validator("amount_max", always=True)
    def _range_has_max(cls, value, values):
        if values.get("kind") in RANGE_KINDS and value is None:
            raise ValueError(f"is required when kind is {values.get('kind')}")
        return value


class StatusEntry(_Strict):
    """Whether the program is still offered, as the newest source says."""

    value: str
    since: Optional[str]  # when it was retired or moved, as the source says
    successor: Optional[str]  # the successor's name, as a source gives it
    successor_program: Optional[str]  # the successor's id, when it is in this catalog
    successor_page: Optional[str]  # source id of the page it moved to / its successor's page
    as_of: Optional[str]
    source: Optional[str]

    @validator("value")
    def _known_status(cls, value):
        if value not in STATUSES:
            raise ValueError(f"must be one of {', '.join(STATUSES)}")
        return value

    @validator("source", always=True)
    def _sourced(cls, value, values):
        if value is None and values.get("value") not in (None, "unknown"):
            raise ValueError(f"is required for status {values.get('value')}: say which source says so")
        return value


class CreditPathwayEntry(_Strict):
    institution: str
    degree: Optional[str]
    credit: Optional[str]
    as_of: Optional[str]
    source: Optional[str]


class EmployerEntry(_Strict):
    name: str
    relation: Optional[str]
    as_of: Optional[str]
    source: Optional[str]


class ProgramEntry(_Strict):
    id: str
    title: str
    edx_org: str
    institution: str
    unit: Optional[str]
    program_page: Optional[str]
    aliases: List[str] = []
    course_codes: List[str] = []
    launched: Optional[str]
    num_courses: Optional[int]
    courses_note: Optional[str]
    status: Optional[StatusEntry]  # files from before statuses were recorded load as "not recorded"
    admission: AdmissionEntry
    career_outcomes: Optional[CareerEntry]
    prices: List[PriceEntry] = []
    price_note: Optional[str]
    credit_pathways: List[CreditPathwayEntry] = []
    employers: List[EmployerEntry] = []
    sources: List[str] = []

    @validator("num_courses")
    def _positive(cls, value):
        if value is not None and value < 1:
            raise ValueError("must be at least 1")
        return value


class FaqTranslationEntry(_Strict):
    """An FAQ answer in another language: the same facts, and how learners ask it in that language."""

    answer: str
    phrasings: List[str] = []

    @validator("answer", pre=True)
    def _not_empty(cls, value):
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty: give the answer in this language, or leave the language out")
        return value


class FaqEntry(_Strict):
    """A general-FAQ answer beyond the four topics: edX-wide (program null) or one program's own."""

    topic: str
    program: Optional[str]
    question: str
    phrasings: List[str] = []
    answer: str
    as_of: Optional[str]
    source: str
    translations: Dict[str, FaqTranslationEntry] = {}  # language code -> the answer in that language

    @validator("topic")
    def _slug(cls, value):
        if not FAQ_TOPIC.fullmatch(value):
            raise ValueError("must be a lower-case slug: letters, digits and _")
        return value

    @validator("translations", pre=True)
    def _known_languages(cls, value):
        if isinstance(value, dict):
            for code in value:
                if code == ENGLISH:
                    raise ValueError(f"'{ENGLISH}' is the entry's own answer, not a translation")
                if code not in TRANSLATION_LANGUAGES:
                    languages = ", ".join(TRANSLATION_LANGUAGES)
                    raise ValueError(f"unknown language code {code!r}: must be one of {languages}")
        return value


class CatalogFile(_Strict):
    version: int
    sources: List[SourceEntry]
    institutions: List[InstitutionEntry]
    general_facts: List[GeneralFactEntry]
    programs: List[ProgramEntry]
    faq: List[FaqEntry] = []


# libyaml's safe loader when PyYAML has it (its wheels do): the same documents, about ten times faster than
# the pure-Python one, which took 0.6 s of every `make catalog` and sync on the shipped file.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_catalog(path: Union[str, Path]) -> CatalogFile:
    """Parse and validate a catalog file; raise `CatalogFileError` naming every fault."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)  # noqa: S506 - a safe loader
    except OSError as error:
        raise CatalogFileError(path, [f"cannot read the file: {error.strerror}"]) from error
    except yaml.YAMLError as error:
        raise CatalogFileError(path, [f"not valid YAML: {error}"]) from error
    return parse_catalog(raw, path)


def parse_catalog(raw: object, path: Union[str, Path] = "<catalog>") -> CatalogFile:
    if not isinstance(raw, dict):
        raise CatalogFileError(
            path, ["the top level must be a mapping of version, sources, institutions, general_facts, programs"]
        )
    try:
        catalog = CatalogFile.parse_obj(raw)
    except ValidationError as error:
        raise CatalogFileError(path, [_describe(raw, e) for e in error.errors()]) from error
    problems = _reference_problems(catalog)
    if problems:
        raise CatalogFileError(path, problems)
    return catalog


def _describe(raw: dict, error: dict) -> str:
    """`programs[3] (mitx-finance).prices[0].amount: value is not a valid float`."""
    parts: List[str] = []
    node: object = raw
    for key in error["loc"]:
        if isinstance(key, int):
            label = f"[{key}]"
            node = node[key] if isinstance(node, list) and key < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                label += f" ({node['id']})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(key))
            node = node.get(key) if isinstance(node, dict) else None
    message = error["msg"]
    if error["type"] == "value_error.missing":
        message = "required field is missing"
    elif error["type"] == "value_error.extra":
        message = "unknown field"
    return f"{''.join(parts)}: {message}"


def _duplicates(label: str, items: Sequence[Tuple[int, str]]) -> List[str]:
    seen: Dict[str, int] = {}
    problems = []
    for index, key in items:
        if key in seen:
            problems.append(f"{label}[{index}] ({key}): duplicate id, already used by {label}[{seen[key]}]")
        else:
            seen[key] = index
    return problems


def _reference_problems(catalog: CatalogFile) -> List[str]:
    problems: List[str] = []
    problems += _duplicates("sources", list(enumerate(s.id for s in catalog.sources)))
    problems += _duplicates("institutions", list(enumerate(i.id for i in catalog.institutions)))
    problems += _duplicates("programs", list(enumerate(p.id for p in catalog.programs)))
    problems += _duplicates("general_facts", list(enumerate(f.topic for f in catalog.general_facts)))
    source_ids = {s.id for s in catalog.sources}
    institution_ids = {i.id for i in catalog.institutions}

    def check(where: str, field: str, value: Optional[str], known: set, kind: str) -> None:
        if value is not None and value not in known:
            problems.append(f"{where}.{field}: unknown {kind} '{value}'")

    for index, fact in enumerate(catalog.general_facts):
        check(f"general_facts[{index}] ({fact.topic})", "source", fact.source, source_ids, "source")
    codes: Dict[str, str] = {}
    program_ids = {p.id for p in catalog.programs}
    for index, program in enumerate(catalog.programs):
        where = f"programs[{index}] ({program.id})"
        if program.status:
            check(where, "status.source", program.status.source, source_ids, "source")
            check(where, "status.successor_page", program.status.successor_page, source_ids, "source")
            check(where, "status.successor_program", program.status.successor_program, program_ids, "program")
        check(where, "institution", program.institution, institution_ids, "institution")
        check(where, "program_page", program.program_page, source_ids, "source")
        check(where, "admission.source", program.admission.source, source_ids, "source")
        if program.career_outcomes:
            check(where, "career_outcomes.source", program.career_outcomes.source, source_ids, "source")
        for k, price in enumerate(program.prices):
            check(where, f"prices[{k}].source", price.source, source_ids, "source")
        for k, pathway in enumerate(program.credit_pathways):
            check(where, f"credit_pathways[{k}].institution", pathway.institution, institution_ids, "institution")
            check(where, f"credit_pathways[{k}].source", pathway.source, source_ids, "source")
        for k, employer in enumerate(program.employers):
            check(where, f"employers[{k}].source", employer.source, source_ids, "source")
        for k, source in enumerate(program.sources):
            check(where, f"sources[{k}]", source, source_ids, "source")
        if len(set(program.sources)) != len(program.sources):
            problems.append(f"{where}.sources: lists a source twice")
        for k, code in enumerate(program.course_codes):
            owner = codes.setdefault(code.lower(), program.id)
            if owner != program.id:
                problems.append(f"{where}.course_codes[{k}]: '{code}' is already a course of {owner}")
    problems += _faq_problems(catalog, source_ids)
    problems += _sourcing_problems(catalog)
    return problems


def _sourcing_problems(catalog: CatalogFile) -> List[str]:
    """Facts the assistant would state without a source, prices whose source does not say whether it is
    the program's own, and totals that disagree with the parts of the same date."""
    problems: List[str] = []
    third_party = {s.id: s.third_party for s in catalog.sources}
    for index, fact in enumerate(catalog.general_facts):
        if fact.source is None:
            problems.append(f"general_facts[{index}] ({fact.topic}).source: a fact without a source")
    for index, program in enumerate(catalog.programs):
        where = f"programs[{index}] ({program.id})"
        unsourced = [f"{name}.source" for name, entry in (("admission", program.admission),
                                                          ("career_outcomes", program.career_outcomes))
                     if entry is not None and entry.source is None
                     and not (name == "admission" and entry.basis == "edx-wide")]
        for field, entries in (("prices", program.prices), ("credit_pathways", program.credit_pathways),
                               ("employers", program.employers)):
            unsourced += [f"{field}[{k}].source" for k, entry in enumerate(entries) if entry.source is None]
        problems += [f"{where}.{field}: a fact without a source" for field in unsourced]
        for k, price in enumerate(program.prices):
            if price.source is not None and price.source in third_party and third_party[price.source] is None:
                problems.append(f"{where}.prices[{k}].source: '{price.source}' is cited for a price but does not "
                                "say whether it is third-party (set third_party: true or false on the source)")
        problems += [f"{where}.prices[{k}]: {fault}" for k, fault in _total_faults(program)]
    return problems


def _total_faults(program: ProgramEntry) -> List[Tuple[int, str]]:
    """A total must equal its parts of the same as-of date and currency: the course fees (the exam counted
    as one of `num_courses`, or beside them) plus the exam fee. Parts of other dates are never added."""
    if not program.num_courses:
        return []
    faults = []
    for k, total in enumerate(program.prices):
        if total.kind not in TOTAL_KINDS or (total.source or "").startswith(SYNCED_SOURCE_PREFIX):
            continue
        same = [p for p in program.prices if p.as_of == total.as_of and p.currency == total.currency]
        courses = [p.amount for p in same if p.kind == "per_course"]
        exams = [p.amount for p in same if p.kind == "capstone_or_exam"]
        if not courses:
            continue
        n = program.num_courses
        counts = (n, n - 1) if exams else (n,)  # the exam may be one of the program's courses
        sums = {m * c + e for c in courses for e in (exams or [0]) for m in counts}
        if all(abs(total.amount - expected) > 0.5 for expected in sums):
            parts = f"{n} courses x {courses[0]:g}" + (f" + exam {exams[0]:g}" if exams else "")
            faults.append((k, f"the total {total.amount:g} disagrees with its parts of the same date ({parts})"))
    return faults


def _faq_problems(catalog: CatalogFile, source_ids: set) -> List[str]:
    problems: List[str] = []
    program_ids = {p.id for p in catalog.programs}
    seen: Dict[Tuple[str, Optional[str]], int] = {}
    for index, entry in enumerate(catalog.faq):
        where = f"faq[{index}] ({entry.topic})"
        if entry.source not in source_ids:
            problems.append(f"{where}.source: unknown source '{entry.source}'")
        if entry.program is not None and entry.program not in program_ids:
            problems.append(f"{where}.program: unknown program '{entry.program}'")
        key = (entry.topic, entry.program)
        if key in seen:
            owner = f"program {entry.program}" if entry.program else "all programs"
            problems.append(f"{where}: a second answer for {owner}, already given by faq[{seen[key]}]")
        else:
            seen[key] = index
    return problems
