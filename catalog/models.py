"""The catalog's tables (SQLAlchemy 1.4 declarative, used in 2.0 style).

One row per fact, each fact with its as-of text and the source it comes from; a missing fact
is a missing row (or a NULL column), never a made-up value.
"""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

SOURCE_FK = "sources.id"


class CatalogRevision(Base):
    """A single row whose number changes on every load, so readers can tell the catalog changed."""

    __tablename__ = "catalog_revision"
    id = Column(Integer, primary_key=True)
    revision = Column(Integer, nullable=False)
    loaded_at = Column(DateTime(timezone=True), nullable=False)
    checksum = Column(String(64), nullable=False)


class Source(Base):
    __tablename__ = "sources"
    id = Column(String(120), primary_key=True)
    url = Column(Text)
    title = Column(Text, nullable=False)
    as_of = Column(Text)
    # A course-review or news site, a blog: not the program, its university or edX. Added after the first
    # release: `catalog_loader.create_schema` adds the column to an older database's table.
    third_party = Column(Boolean, nullable=False, default=False, server_default=false())


class Institution(Base):
    __tablename__ = "institutions"
    id = Column(String(120), primary_key=True)
    name = Column(Text, nullable=False)
    country = Column(Text)
    short_names = relationship(
        "InstitutionName", order_by="InstitutionName.position", cascade="all, delete-orphan"
    )


class InstitutionName(Base):
    __tablename__ = "institution_names"
    id = Column(Integer, primary_key=True)
    institution_id = Column(ForeignKey("institutions.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    name = Column(Text, nullable=False)


class GeneralFact(Base):
    """An edX-wide fact for general answers: one per topic (credit, admission, career, cost)."""

    __tablename__ = "general_facts"
    topic = Column(String(20), primary_key=True)
    text = Column(Text, nullable=False)
    as_of = Column(Text)
    source_id = Column(ForeignKey(SOURCE_FK))
    source = relationship(Source)


class Program(Base):
    __tablename__ = "programs"
    id = Column(String(120), primary_key=True)
    title = Column(Text, nullable=False)
    edx_org = Column(String(60), nullable=False)
    institution_id = Column(ForeignKey("institutions.id"), nullable=False)
    unit = Column(Text)
    program_page_id = Column(ForeignKey(SOURCE_FK))
    launched = Column(Text)
    num_courses = Column(Integer)
    courses_note = Column(Text)
    admission_guaranteed = Column(Boolean, nullable=False)
    admission_basis = Column(String(20), nullable=False)
    admission_note = Column(Text)
    admission_source_id = Column(ForeignKey(SOURCE_FK))
    career_outcomes = Column(Text)
    career_source_id = Column(ForeignKey(SOURCE_FK))
    price_note = Column(Text)

    institution = relationship(Institution)
    program_page = relationship(Source, foreign_keys=[program_page_id])
    admission_source = relationship(Source, foreign_keys=[admission_source_id])
    career_source = relationship(Source, foreign_keys=[career_source_id])
    aliases = relationship("ProgramAlias", order_by="ProgramAlias.position", cascade="all, delete-orphan")
    course_codes = relationship("CourseCode", order_by="CourseCode.position", cascade="all, delete-orphan")
    prices = relationship("Price", order_by="Price.position", cascade="all, delete-orphan")
    credit_pathways = relationship(
        "CreditPathway", order_by="CreditPathway.position", cascade="all, delete-orphan"
    )
    employers = relationship(
        "EmployerEndorsement", order_by="EmployerEndorsement.position", cascade="all, delete-orphan"
    )
    sources = relationship("ProgramSource", order_by="ProgramSource.position", cascade="all, delete-orphan")
    status = relationship("ProgramStatus", uselist=False, cascade="all, delete-orphan",
                          foreign_keys="ProgramStatus.program_id")


class ProgramStatus(Base):
    """Whether a program is still offered (a table of its own: older databases gain it on the next load)."""

    __tablename__ = "program_statuses"
    program_id = Column(ForeignKey("programs.id"), primary_key=True)
    value = Column(String(20), nullable=False)
    since = Column(Text)
    successor = Column(Text)
    successor_program_id = Column(ForeignKey("programs.id"))
    successor_page_id = Column(ForeignKey(SOURCE_FK))
    as_of = Column(Text)
    source_id = Column(ForeignKey(SOURCE_FK))
    successor_program = relationship("Program", foreign_keys=[successor_program_id])
    successor_page = relationship(Source, foreign_keys=[successor_page_id])
    source = relationship(Source, foreign_keys=[source_id])


class ProgramAlias(Base):
    __tablename__ = "program_aliases"
    id = Column(Integer, primary_key=True)
    program_id = Column(ForeignKey("programs.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    alias = Column(Text, nullable=False)


class CourseCode(Base):
    __tablename__ = "course_codes"
    id = Column(Integer, primary_key=True)
    program_id = Column(ForeignKey("programs.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    code = Column(String(60), nullable=False, unique=True)


class Price(Base):
    __tablename__ = "prices"
    id = Column(Integer, primary_key=True)
    program_id = Column(ForeignKey("programs.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    kind = Column(String(30), nullable=False)
    amount = Column(Float, nullable=False)
    amount_max = Column(Float)
    currency = Column(String(10))
    as_of = Column(Text)
    note = Column(Text)
    source_id = Column(ForeignKey(SOURCE_FK))
    source = relationship(Source)


class CreditPathway(Base):
    __tablename__ = "credit_pathways"
    id = Column(Integer, primary_key=True)
    program_id = Column(ForeignKey("programs.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    institution_id = Column(ForeignKey("institutions.id"), nullable=False)
    degree = Column(Text)
    credit = Column(Text)
    as_of = Column(Text)
    source_id = Column(ForeignKey(SOURCE_FK))
    institution = relationship(Institution)
    source = relationship(Source)


class EmployerEndorsement(Base):
    __tablename__ = "employer_endorsements"
    id = Column(Integer, primary_key=True)
    program_id = Column(ForeignKey("programs.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    name = Column(Text, nullable=False)
    relation = Column(Text)
    as_of = Column(Text)
    source_id = Column(ForeignKey(SOURCE_FK))
    source = relationship(Source)


class ProgramSource(Base):
    __tablename__ = "program_sources"
    __table_args__ = (UniqueConstraint("program_id", "source_id"),)
    id = Column(Integer, primary_key=True)
    program_id = Column(ForeignKey("programs.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    source_id = Column(ForeignKey(SOURCE_FK), nullable=False)
    source = relationship(Source)


class FaqAnswer(Base):
    """A sourced answer to a question beyond the four topics; program NULL means edX-wide."""

    __tablename__ = "faq_answers"
    id = Column(Integer, primary_key=True)
    position = Column(Integer, nullable=False)
    topic = Column(String(60), nullable=False, index=True)
    program_id = Column(ForeignKey("programs.id"))
    question = Column(Text, nullable=False)
    answer = Column(Text, nullable=False)
    as_of = Column(Text)
    source_id = Column(ForeignKey(SOURCE_FK), nullable=False)
    source = relationship(Source)
    phrasings = relationship("FaqPhrasing", order_by="FaqPhrasing.position", cascade="all, delete-orphan")
    translations = relationship("FaqTranslation", order_by="FaqTranslation.position", cascade="all, delete-orphan")


class FaqPhrasing(Base):
    """Ways learners ask an FAQ answer's question: what retrieval matches a message against."""

    __tablename__ = "faq_phrasings"
    id = Column(Integer, primary_key=True)
    faq_id = Column(ForeignKey("faq_answers.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    text = Column(Text, nullable=False)


class FaqTranslation(Base):
    """An FAQ answer in another language (es, fr, pt): a table of its own, so older databases gain it on the
    next load."""

    __tablename__ = "faq_translations"
    __table_args__ = (UniqueConstraint("faq_id", "language"),)
    id = Column(Integer, primary_key=True)
    faq_id = Column(ForeignKey("faq_answers.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    language = Column(String(8), nullable=False)
    answer = Column(Text, nullable=False)
    phrasings = relationship(
        "FaqTranslationPhrasing", order_by="FaqTranslationPhrasing.position", cascade="all, delete-orphan"
    )


class FaqTranslationPhrasing(Base):
    """Ways learners ask an FAQ answer's question in the translation's language."""

    __tablename__ = "faq_translation_phrasings"
    id = Column(Integer, primary_key=True)
    translation_id = Column(ForeignKey("faq_translations.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    text = Column(Text, nullable=False)


class DiscoverySnapshot(Base):
    """The last course-discovery answer a sync loaded (one row), so `catalog load` of an edited file
    lays the same API facts over it again instead of dropping them until the next sync."""

    __tablename__ = "discovery_snapshot"
    id = Column(Integer, primary_key=True)
    api_url = Column(Text, nullable=False)
    fetched_at = Column(DateTime(timezone=True), nullable=False)
    payload = Column(Text, nullable=False)  # JSON: {"programs": [...], "pathways": [...]}
