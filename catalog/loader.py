"""Load a validated catalog file into the database (all or nothing) and export it back."""

import hashlib
import json
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import delete, inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, selectinload

from catalog.file import CatalogFile
from catalog.models import (
    Base,
    CatalogRevision,
    CourseCode,
    CreditPathway,
    DiscoverySnapshot,
    EmployerEndorsement,
    FaqAnswer,
    FaqPhrasing,
    FaqTranslation,
    FaqTranslationPhrasing,
    GeneralFact,
    Institution,
    InstitutionName,
    Price,
    Program,
    ProgramAlias,
    ProgramSource,
    ProgramStatus,
    Source,
)
from core.db import schema_lock, session_scope

SCHEMA_LOCK = 0x63617461  # a PostgreSQL advisory lock id for the catalog's schema changes

# Children before parents, so foreign keys hold at every step of the replacement.
_TABLES_IN_DELETE_ORDER = (
    FaqTranslationPhrasing,
    FaqTranslation,
    FaqPhrasing,
    FaqAnswer,
    ProgramSource,
    ProgramStatus,
    EmployerEndorsement,
    CreditPathway,
    Price,
    CourseCode,
    ProgramAlias,
    Program,
    GeneralFact,
    InstitutionName,
    Institution,
    Source,
)


def create_schema(engine: Engine) -> None:
    """Create the catalog's tables if missing, and bring a database made by an earlier release up to date:
    new tables (program statuses, FAQ translations) are created, new columns of old tables are added."""
    with schema_lock(engine, SCHEMA_LOCK) as connection:
        Base.metadata.create_all(connection)
        _upgrade(connection)


# Columns added to a table after its first release: (table, column); each has a server default.
ADDED_COLUMNS = ((Source.__table__, "third_party"),)


def _upgrade(connection: Connection) -> None:
    for table, name in ADDED_COLUMNS:
        present = {column["name"] for column in inspect(connection).get_columns(table.name)}
        if name in present:
            continue
        column = table.c[name]
        sql_type = column.type.compile(dialect=connection.dialect)
        default = connection.dialect.statement_compiler(connection.dialect, None).process(column.server_default.arg)
        connection.exec_driver_sql(
            f"ALTER TABLE {table.name} ADD COLUMN {name} {sql_type} NOT NULL DEFAULT {default}"
        )


def checksum(catalog: CatalogFile) -> str:
    canonical = json.dumps(catalog.dict(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_catalog(engine: Engine, catalog: CatalogFile, snapshot: Optional[DiscoverySnapshot] = None) -> int:
    """Replace the database's catalog with `catalog` in one transaction; return the new revision.

    `snapshot`, from a sync, replaces the stored course-discovery answer in the same transaction.
    Any failure (a constraint, a lost connection) rolls the whole load back, leaving the previous
    catalog exactly as it was.
    """
    create_schema(engine)
    with session_scope(engine) as session:
        if snapshot is not None:
            session.merge(snapshot)
        previous = session.get(CatalogRevision, 1)
        for model in _TABLES_IN_DELETE_ORDER:
            session.execute(delete(model))
        session.flush()
        _insert(session, catalog)
        revision = (previous.revision + 1) if previous else 1
        stamp = CatalogRevision(
            id=1, revision=revision, loaded_at=datetime.now(timezone.utc), checksum=checksum(catalog)
        )
        session.merge(stamp)
    return revision


def _insert(session: Session, catalog: CatalogFile) -> None:
    session.add_all(Source(id=s.id, url=s.url, title=s.title, as_of=s.as_of, third_party=bool(s.third_party))
                    for s in catalog.sources)
    for entry in catalog.institutions:
        institution = Institution(id=entry.id, name=entry.name, country=entry.country)
        institution.short_names = [
            InstitutionName(position=i, name=name) for i, name in enumerate(entry.short_names)
        ]
        session.add(institution)
    session.add_all(
        GeneralFact(topic=f.topic, text=f.text, as_of=f.as_of, source_id=f.source)
        for f in catalog.general_facts
    )
    session.flush()
    for entry in catalog.programs:
        session.add(_program(entry))
    session.flush()
    for entry in catalog.programs:  # after every program exists: a status may name a successor program
        if entry.status:
            status = entry.status
            session.add(ProgramStatus(program_id=entry.id, value=status.value, since=status.since,
                                      successor=status.successor, successor_program_id=status.successor_program,
                                      successor_page_id=status.successor_page, as_of=status.as_of,
                                      source_id=status.source))
    session.flush()
    for position, entry in enumerate(catalog.faq):
        faq = FaqAnswer(position=position, topic=entry.topic, program_id=entry.program, question=entry.question,
                        answer=entry.answer, as_of=entry.as_of, source_id=entry.source)
        faq.phrasings = [FaqPhrasing(position=i, text=text) for i, text in enumerate(entry.phrasings)]
        faq.translations = [_translation(i, language, t) for i, (language, t) in enumerate(entry.translations.items())]
        session.add(faq)


def _translation(position: int, language: str, entry) -> FaqTranslation:
    translation = FaqTranslation(position=position, language=language, answer=entry.answer)
    translation.phrasings = [FaqTranslationPhrasing(position=i, text=text) for i, text in enumerate(entry.phrasings)]
    return translation


def _program(entry) -> Program:
    career = entry.career_outcomes
    program = Program(
        id=entry.id,
        title=entry.title,
        edx_org=entry.edx_org,
        institution_id=entry.institution,
        unit=entry.unit,
        program_page_id=entry.program_page,
        launched=entry.launched,
        num_courses=entry.num_courses,
        courses_note=entry.courses_note,
        admission_guaranteed=entry.admission.guaranteed,
        admission_basis=entry.admission.basis,
        admission_note=entry.admission.note,
        admission_source_id=entry.admission.source,
        career_outcomes=career.text if career else None,
        career_source_id=career.source if career else None,
        price_note=entry.price_note,
    )
    program.aliases = [ProgramAlias(position=i, alias=a) for i, a in enumerate(entry.aliases)]
    program.course_codes = [CourseCode(position=i, code=c) for i, c in enumerate(entry.course_codes)]
    program.prices = [
        Price(position=i, kind=p.kind, amount=p.amount, amount_max=p.amount_max, currency=p.currency,
              as_of=p.as_of, note=p.note, source_id=p.source)
        for i, p in enumerate(entry.prices)
    ]
    program.credit_pathways = [
        CreditPathway(position=i, institution_id=c.institution, degree=c.degree, credit=c.credit,
                      as_of=c.as_of, source_id=c.source)
        for i, c in enumerate(entry.credit_pathways)
    ]
    program.employers = [
        EmployerEndorsement(position=i, name=e.name, relation=e.relation, as_of=e.as_of, source_id=e.source)
        for i, e in enumerate(entry.employers)
    ]
    program.sources = [ProgramSource(position=i, source_id=s) for i, s in enumerate(entry.sources)]
    return program


def export_catalog(engine: Engine) -> dict:
    """The database's catalog as a dict in the catalog file's format (the loader's inverse)."""
    with session_scope(engine) as session:
        sources = session.execute(select(Source).order_by(Source.id)).scalars().all()
        institutions = session.execute(
            select(Institution).options(selectinload(Institution.short_names)).order_by(Institution.id)
        ).scalars().all()
        facts = session.execute(select(GeneralFact).order_by(GeneralFact.topic)).scalars().all()
        programs = session.execute(
            select(Program).options(
                selectinload(Program.aliases), selectinload(Program.course_codes),
                selectinload(Program.prices), selectinload(Program.credit_pathways),
                selectinload(Program.employers), selectinload(Program.sources), selectinload(Program.status),
            ).order_by(Program.id)
        ).scalars().all()
        faq = session.execute(
            select(FaqAnswer).options(
                selectinload(FaqAnswer.phrasings),
                selectinload(FaqAnswer.translations).selectinload(FaqTranslation.phrasings),
            ).order_by(FaqAnswer.position)
        ).scalars().all()
        price_sources = {price.source_id for program in programs for price in program.prices}
        return {
            "version": 1,
            "sources": [
                {"id": s.id, "url": s.url, "title": s.title, "as_of": s.as_of,
                 **({"third_party": bool(s.third_party)} if s.third_party or s.id in price_sources else {})}
                for s in sources
            ],
            "institutions": [
                {"id": i.id, "name": i.name, "short_names": [n.name for n in i.short_names], "country": i.country}
                for i in institutions
            ],
            "general_facts": [
                {"topic": f.topic, "text": f.text, "as_of": f.as_of, "source": f.source_id} for f in facts
            ],
            "programs": [_program_dict(p) for p in programs],
            "faq": [
                {"topic": f.topic, "program": f.program_id, "question": f.question,
                 "phrasings": [p.text for p in f.phrasings], "answer": f.answer, "as_of": f.as_of,
                 "source": f.source_id, **_translations_dict(f)}
                for f in faq
            ],
        }


def _translations_dict(faq: FaqAnswer) -> dict:
    """{"translations": {language: {answer, phrasings}}}, or nothing when the answer has none."""
    if not faq.translations:
        return {}
    return {"translations": {t.language: {"answer": t.answer, "phrasings": [p.text for p in t.phrasings]}
                             for t in faq.translations}}


def _status_dict(status) -> dict | None:
    if status is None:
        return None
    return {"value": status.value, "since": status.since, "successor": status.successor,
            "successor_program": status.successor_program_id, "successor_page": status.successor_page_id,
            "as_of": status.as_of, "source": status.source_id}


def _program_dict(p: Program) -> dict:
    return {
        "id": p.id,
        "title": p.title,
        "edx_org": p.edx_org,
        "institution": p.institution_id,
        "unit": p.unit,
        "program_page": p.program_page_id,
        "aliases": [a.alias for a in p.aliases],
        "course_codes": [c.code for c in p.course_codes],
        "launched": p.launched,
        "num_courses": p.num_courses,
        "courses_note": p.courses_note,
        **({"status": _status_dict(p.status)} if p.status else {}),
        "admission": {
            "guaranteed": p.admission_guaranteed,
            "basis": p.admission_basis,
            "note": p.admission_note,
            "source": p.admission_source_id,
        },
        "career_outcomes": (
            {"text": p.career_outcomes, "source": p.career_source_id} if p.career_outcomes else None
        ),
        "prices": [
            {"kind": x.kind, "amount": x.amount, "amount_max": x.amount_max, "currency": x.currency,
             "as_of": x.as_of, "note": x.note, "source": x.source_id}
            for x in p.prices
        ],
        "price_note": p.price_note,
        "credit_pathways": [
            {"institution": c.institution_id, "degree": c.degree, "credit": c.credit, "as_of": c.as_of,
             "source": c.source_id}
            for c in p.credit_pathways
        ],
        "employers": [
            {"name": e.name, "relation": e.relation, "as_of": e.as_of, "source": e.source_id}
            for e in p.employers
        ],
        "sources": [s.source_id for s in p.sources],
    }


def stored_snapshot(engine: Engine) -> Optional[DiscoverySnapshot]:
    """The course-discovery answer the last sync loaded, if any."""
    create_schema(engine)
    with session_scope(engine) as session:
        row = session.get(DiscoverySnapshot, 1)
        if row is not None:
            session.expunge(row)
        return row


def loaded_checksum(engine: Engine) -> Optional[str]:
    create_schema(engine)
    with session_scope(engine) as session:
        stamp = session.get(CatalogRevision, 1)
        return stamp.checksum if stamp else None
