"""Read-only queries on the catalog, returning plain immutable facts for recognition and answers."""

import re
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.models import (
    CatalogRevision,
    CreditPathway,
    EmployerEndorsement,
    FaqAnswer,
    FaqTranslation,
    GeneralFact,
    Institution,
    Price,
    Program,
    ProgramStatus,
    Source,
)

_YEAR = re.compile(r"(?<!\d)(19[89]\d|20\d\d)(?!\d)")
# "undated page (stored copy seen 2026-11)": when we read a page is not when its content dates from.
_WHEN_READ = re.compile(r"\b(?:seen|read|retrieved|accessed|stored)\b[^()]*", re.IGNORECASE)
# Kinds that price the same thing: the newest of a family is current, the others are its history.
# Listed in the order an answer gives them: the total first.
PRICE_FAMILIES = {"total": "total", "total_approx": "total", "total_computed": "computed", "per_course": "course",
                  "per_course_range": "course", "personalised": "course", "capstone_or_exam": "exam",
                  "coupon": "coupon"}
FAMILY_ORDER = ("total", "computed", "course", "exam")


def as_of_year(as_of: Optional[str]) -> Optional[int]:
    """The latest year an as-of text names ("c. 2016-2018" -> 2018); None when it names none, or only
    when the page was read ("undated page (stored copy seen 2026-11)")."""
    years = [int(year) for year in _YEAR.findall(_WHEN_READ.sub("", as_of or ""))]
    return max(years) if years else None



@dataclass(frozen=True)
class SourceRef:
    title: str
    url: Optional[str]
    third_party: bool = False  # a review or news site, not the program, its university or edX


@dataclass(frozen=True)
class PriceFact:
    kind: str
    amount: float
    amount_max: Optional[float]
    currency: Optional[str]
    as_of: Optional[str]
    note: Optional[str]
    source: Optional[SourceRef]


@dataclass(frozen=True)
class CreditFact:
    institution: str
    degree: Optional[str]
    credit: Optional[str]
    as_of: Optional[str]
    source: Optional[SourceRef]


@dataclass(frozen=True)
class EmployerFact:
    name: str
    relation: Optional[str]
    as_of: Optional[str]
    source: Optional[SourceRef]


@dataclass(frozen=True)
class GeneralFactText:
    topic: str
    text: str
    as_of: Optional[str]
    source: Optional[SourceRef]


@dataclass(frozen=True)
class FaqFact:
    """A sourced answer beyond the four topics; `program_id` None means it holds for every program.

    `phrasings` holds the ways learners ask it in every language the catalog has (English first, then
    each translation's), for retrieval; `translations` holds (language, answer) pairs, which are never
    phrasings."""

    topic: str
    program_id: Optional[str]
    question: str
    phrasings: Tuple[str, ...]
    answer: str
    as_of: Optional[str]
    source: Optional[SourceRef]
    translations: Tuple[Tuple[str, str], ...] = ()  # (language, answer) beside the English one

    def answer_in(self, language: str) -> Optional[str]:
        """The answer in `language` ("en" is the catalog's own), or None when there is no translation."""
        if language == "en":
            return self.answer
        return next((text for code, text in self.translations if code == language), None)


@dataclass(frozen=True)
class StatusFact:
    """active | retired | moved | unknown, with when, what replaced it and where, and the source."""

    value: str
    since: Optional[str]
    successor: Optional[str]  # the successor's name (the catalog's own name when it is in the catalog)
    successor_page: Optional[SourceRef]
    as_of: Optional[str]
    source: Optional[SourceRef]


@dataclass(frozen=True)
class ProgramFacts:
    id: str
    title: str
    edx_org: str
    institution: str
    program_page: Optional[SourceRef]
    num_courses: Optional[int]
    courses_note: Optional[str]
    admission_guaranteed: bool
    admission_basis: str
    admission_note: Optional[str]
    admission_source: Optional[SourceRef]
    career_outcomes: Optional[str]
    career_source: Optional[SourceRef]
    prices: Tuple[PriceFact, ...]
    price_note: Optional[str]
    credit_pathways: Tuple[CreditFact, ...]
    employers: Tuple[EmployerFact, ...]
    status: Optional[StatusFact] = None  # None: not recorded

    @property
    def name(self) -> str:
        """How answers name the program: "MITx Supply Chain Management"."""
        return f"{self.edx_org} {self.title}"


@dataclass(frozen=True)
class ProgramNames:
    """Everything a learner may call a program by, for recognition."""

    id: str
    title: str
    edx_org: str
    institution_names: Tuple[str, ...]
    aliases: Tuple[str, ...]
    course_codes: Tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.edx_org} {self.title}"


def _ref(source: Optional[Source]) -> Optional[SourceRef]:
    return SourceRef(title=source.title, url=source.url, third_party=bool(source.third_party)) if source else None


def catalog_revision(session: Session) -> Optional[int]:
    return session.execute(select(CatalogRevision.revision)).scalar_one_or_none()


def program_names(session: Session) -> Tuple[ProgramNames, ...]:
    programs = session.execute(
        select(Program)
        .options(
            selectinload(Program.aliases),
            selectinload(Program.course_codes),
            selectinload(Program.institution).selectinload(Institution.short_names),
        )
        .order_by(Program.id)
    ).scalars()
    return tuple(
        ProgramNames(
            id=p.id,
            title=p.title,
            edx_org=p.edx_org,
            institution_names=(p.institution.name, *(n.name for n in p.institution.short_names)),
            aliases=tuple(a.alias for a in p.aliases),
            course_codes=tuple(c.code for c in p.course_codes),
        )
        for p in programs
    )


def _facts_query():
    return select(Program).options(
        selectinload(Program.institution),
        selectinload(Program.program_page),
        selectinload(Program.admission_source),
        selectinload(Program.career_source),
        selectinload(Program.prices).selectinload(Price.source),
        selectinload(Program.credit_pathways).selectinload(CreditPathway.institution),
        selectinload(Program.credit_pathways).selectinload(CreditPathway.source),
        selectinload(Program.employers).selectinload(EmployerEndorsement.source),
        selectinload(Program.status).selectinload(ProgramStatus.source),
        selectinload(Program.status).selectinload(ProgramStatus.successor_page),
        selectinload(Program.status).selectinload(ProgramStatus.successor_program),
    )


def program_facts(session: Session, program_id: str) -> Optional[ProgramFacts]:
    program = session.execute(_facts_query().where(Program.id == program_id)).scalar_one_or_none()
    return _to_facts(program) if program else None


def all_program_facts(session: Session) -> Dict[str, ProgramFacts]:
    """Every program's facts, in a fixed number of queries (one per related table)."""
    return {p.id: _to_facts(p) for p in session.execute(_facts_query()).scalars()}


def _to_facts(program: Program) -> ProgramFacts:
    return ProgramFacts(
        id=program.id,
        title=program.title,
        edx_org=program.edx_org,
        institution=program.institution.name,
        program_page=_ref(program.program_page),
        num_courses=program.num_courses,
        courses_note=program.courses_note,
        admission_guaranteed=program.admission_guaranteed,
        admission_basis=program.admission_basis,
        admission_note=program.admission_note,
        admission_source=_ref(program.admission_source),
        career_outcomes=program.career_outcomes,
        career_source=_ref(program.career_source),
        prices=tuple(
            PriceFact(p.kind, p.amount, p.amount_max, p.currency, p.as_of, p.note, _ref(p.source))
            for p in program.prices
        ),
        price_note=program.price_note,
        credit_pathways=tuple(
            CreditFact(c.institution.name, c.degree, c.credit, c.as_of, _ref(c.source))
            for c in program.credit_pathways
        ),
        employers=tuple(
            EmployerFact(e.name, e.relation, e.as_of, _ref(e.source)) for e in program.employers
        ),
        status=_status(program.status),
    )


def _status(status: Optional[ProgramStatus]) -> Optional[StatusFact]:
    if status is None:
        return None
    successor = status.successor
    if status.successor_program is not None:
        successor = f"{status.successor_program.edx_org} {status.successor_program.title}"
    return StatusFact(status.value, status.since, successor, _ref(status.successor_page), status.as_of,
                      _ref(status.source))


def general_facts(session: Session) -> Dict[str, GeneralFactText]:
    facts = session.execute(select(GeneralFact).options(selectinload(GeneralFact.source))).scalars()
    return {f.topic: GeneralFactText(f.topic, f.text, f.as_of, _ref(f.source)) for f in facts}


def faq_facts(session: Session) -> Tuple[FaqFact, ...]:
    entries = session.execute(
        select(FaqAnswer)
        .options(
            selectinload(FaqAnswer.phrasings),
            selectinload(FaqAnswer.source),
            selectinload(FaqAnswer.translations).selectinload(FaqTranslation.phrasings),
        )
        .order_by(FaqAnswer.position)
    ).scalars()
    return tuple(
        FaqFact(
            f.topic, f.program_id, f.question,
            (*(p.text for p in f.phrasings), *(p.text for t in f.translations for p in t.phrasings)),
            f.answer, f.as_of, _ref(f.source),
            translations=tuple((t.language, t.answer) for t in f.translations),
        )
        for f in entries
    )
