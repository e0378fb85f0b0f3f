"""How much of the catalog is known, and how old it is: per fact type, how many programs have it and
the spread of its as-of years (`python -m catalog status --coverage`)."""

import statistics
from collections import Counter
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from catalog.facts import ProgramFacts, as_of_year

BANDS = (("<=2017", None, 2017), ("2018-19", 2018, 2019), ("2020-21", 2020, 2021), ("2022-23", 2022, 2023),
         ("2024+", 2024, None))
# fact type -> (does the program have it, the as-of texts of its facts of that type)
FACT_TYPES: Dict[str, Tuple[Callable[[ProgramFacts], bool], Callable[[ProgramFacts], Iterable[Optional[str]]]]] = {
    "status": (lambda p: p.status is not None and p.status.value != "unknown",
               lambda p: [p.status.as_of] if p.status and p.status.value != "unknown" else []),
    "program page": (lambda p: p.program_page is not None and bool(p.program_page.url), lambda p: []),
    "price": (lambda p: bool(p.prices), lambda p: [x.as_of for x in p.prices]),
    "credit pathways": (lambda p: bool(p.credit_pathways), lambda p: [x.as_of for x in p.credit_pathways]),
    "admission statement (program's own)": (lambda p: p.admission_basis == "program", lambda p: []),
    "career outcomes": (lambda p: bool(p.career_outcomes), lambda p: []),
    "employers": (lambda p: bool(p.employers), lambda p: [x.as_of for x in p.employers]),
}


# fact type -> the sources of a program's facts of that type (None: a fact stated without a source)
FACT_SOURCES: Dict[str, Callable[[ProgramFacts], List[Optional[object]]]] = {
    "status": lambda p: [p.status.source] if p.status and p.status.value != "unknown" else [],
    "program page": lambda p: [],
    "price": lambda p: [x.source for x in p.prices],
    "credit pathways": lambda p: [x.source for x in p.credit_pathways],
    "admission statement (program's own)": lambda p: [p.admission_source] if p.admission_basis == "program" else [],
    "career outcomes": lambda p: [p.career_source] if p.career_outcomes else [],
    "employers": lambda p: [x.source for x in p.employers],
}


def unsourced_facts(programs: Iterable[ProgramFacts]) -> int:
    """Facts an answer would state without a source to cite (the loader refuses them; this checks the
    database, which a sync or an older file may have filled)."""
    return sum(source is None for p in programs for sources in FACT_SOURCES.values() for source in sources(p))


def _band(year: Optional[int]) -> str:
    if year is None:
        return "undated"
    for name, low, high in BANDS:
        if (low is None or year >= low) and (high is None or year <= high):
            return name
    return "undated"


def coverage_table(programs: Iterable[ProgramFacts]) -> str:
    programs = list(programs)
    active = [p for p in programs if p.status and p.status.value == "active"]
    statuses = Counter(p.status.value if p.status else "not recorded" for p in programs)
    header = ["fact", f"programs (of {len(programs)})", f"active programs (of {len(active)})",
              "median as-of year", *(name for name, _, _ in BANDS), "undated", "without a source"]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for name, (has, as_ofs) in FACT_TYPES.items():
        years: List[Optional[int]] = [as_of_year(a) for p in programs for a in as_ofs(p)]
        dated = [y for y in years if y is not None]
        bands = Counter(_band(y) for y in years)
        median = f"{statistics.median(dated):.0f}" if dated else "-"
        cells = [name, str(sum(has(p) for p in programs)), str(sum(has(p) for p in active)), median,
                 *(str(bands.get(band, 0)) if years else "-" for band, _, _ in BANDS),
                 str(bands.get("undated", 0)) if years else "-",
                 str(sum(source is None for p in programs for source in FACT_SOURCES[name](p)))]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Facts without a source: {unsourced_facts(programs)}",
              "Status: " + ", ".join(f"{value} {count}" for value, count in sorted(statuses.items())),
              "The year bands count facts (a program may have several prices or pathways), not programs."]
    return "\n".join(lines)
