"""Made-up program facts for the answer tests (no catalog, no database): a program with only what a test gives it."""

from catalog.facts import GeneralFactText, ProgramFacts, SourceRef

FAQ = SourceRef("Program FAQ", "https://example.edu/faq")
PAGE = SourceRef("Program page", "https://example.edu/widgets")
BLOG = SourceRef("edX Blog", "https://blog.example.org/top-faq")
GENERAL = {
    "credit": GeneralFactText("credit", "Usually only the offering university grants credit. More text.", "2016-2017",
                              BLOG),
    "admission": GeneralFactText("admission", "No admission guarantee.", "2016-2017", BLOG),
    "career": GeneralFactText("career", "Career-oriented; no job guarantee.", "2016-2017", BLOG),
    "cost": GeneralFactText("cost", "Programs generally cost $600-$1,400.", "2017", None),
}


def make_program(**changes) -> ProgramFacts:
    fields = dict(
        id="testx-widgets", title="Widget Engineering", edx_org="TestX", institution="Test University",
        program_page=PAGE, num_courses=4, courses_note=None, admission_guaranteed=False,
        admission_basis="program", admission_note="Credential holders still apply as usual. Second sentence.",
        admission_source=FAQ, career_outcomes=None, career_source=None, prices=(), price_note=None,
        credit_pathways=(), employers=(),
    )
    fields.update(changes)
    return ProgramFacts(**fields)
