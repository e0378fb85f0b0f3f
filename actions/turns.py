"""One learner turn against the catalog: which program, which facts, what to say.

Plain inputs and outputs (no Rasa types), one database session per turn, so the action classes
stay thin and tests can drive a turn with nothing but a database.

A *topic* is one of the four (`credit`, `admission`, `career`, `cost`) or a general-FAQ topic
written `faq:<topic>` (`faq:exams`). The last topics answered are remembered, so an elliptical
follow-up that only names another program ("what about the Wageningen one?") gets the same
question answered for that program.
"""

from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence, Tuple

from sqlalchemy.engine import Engine

from actions import answers
from actions.links import LinkStyle, plain_link
from actions.questions import question_parts
from catalog.names import Resolution
from catalog.view import CatalogView, current_view
from core.db import session_scope
from core.languages import DEFAULT

FAQ_PREFIX = "faq:"
# The FAQ topics that are rules a topic question can be about (what a retake or the exam costs, a refund
# window, a deadline, financial aid): only these take over from a credit/admission/career/cost answer.
# The others (what a MicroMasters is, verified vs audit, ...) share too many words with the four topics.
RULE_TOPICS = frozenset({"exams", "exam_retakes", "refunds", "enrollment_dates", "financial_assistance"})


@dataclass(frozen=True)
class Message:
    text: str
    buttons: Tuple[Dict[str, str], ...] = ()
    topic: Optional[str] = None  # the catalog topic this message answers (what analytics counts as served)


@dataclass(frozen=True)
class Reply:
    messages: Tuple[Message, ...]
    program_id: Optional[str]
    pending_topics: Tuple[str, ...] = field(default=())
    last_topics: Tuple[str, ...] = field(default=())
    language: str = DEFAULT  # the language the messages are in


@dataclass(frozen=True)
class Context:
    """What the conversation already knows when the learner names no program."""

    program_id: Optional[str] = None  # the program talked about last
    last_topics: Tuple[str, ...] = ()  # what was answered last
    pending_topics: Tuple[str, ...] = ()  # asked before a "which program?" choice


def topics_of_intent(intent: Optional[str]) -> Tuple[str, ...]:
    """'ask_cost+ask_credit' -> ('cost', 'credit'); anything else -> ()."""
    if not intent:
        return ()
    parts = [part.strip() for part in intent.split("+")]
    return tuple(p[len("ask_"):] for p in parts if p.startswith("ask_") and p[len("ask_"):] in answers.TOPICS)


def context_program(slot_program: Optional[str], known_page: Optional[str], page_program: Optional[str],
                    engine: Optional[Engine] = None) -> Tuple[Optional[str], Optional[str]]:
    """(program in context, page program to remember) given the page the widget sits on.

    A page program (from the widget's metadata) that is in the catalog becomes the context when the
    learner arrives on that page; after that, a program the learner names takes over until the
    learner opens another program's page.
    """
    if not page_program or page_program == known_page:
        return slot_program, known_page
    with session_scope(engine) as session:
        known = page_program in current_view(session).programs
    return (page_program, page_program) if known else (slot_program, known_page)


def _topic_text(topic: str, program, view: CatalogView, link: LinkStyle, language: str) -> Optional[str]:
    if topic.startswith(FAQ_PREFIX):
        fact = view.faq.answer_for(topic[len(FAQ_PREFIX):], program.id if program else None)
        return answers.faq_answer(fact, program, link, language) if fact else None
    return answers.answer(topic, program, view.general, link, language=language)


def faq_questions(view: CatalogView, text: str, threshold: float, margin: float,
                  only: Optional[frozenset] = None) -> Tuple[Tuple[str, ...], bool]:
    """The FAQ topics (`faq:<topic>`) the message's questions ask for, in order, and whether some
    question matched none (it is then one of the four topics, or nothing we know); with `only`, a
    match outside those topics counts as none."""
    found, unmatched = [], False
    for part in question_parts(text):
        match = view.faq.best(part.question, threshold, margin) or (
            view.faq.best(part.with_context, threshold, margin) if part.context else None)
        if match is None or (only is not None and match.topic not in only):
            unmatched = True
        elif FAQ_PREFIX + match.topic not in found:
            found.append(FAQ_PREFIX + match.topic)
    return tuple(found), unmatched


def answer_turn(
    text: str,
    topics: Sequence[str],
    context: Context = Context(),
    chosen_program_id: Optional[str] = None,
    link: LinkStyle = plain_link,
    engine: Optional[Engine] = None,
    language: str = DEFAULT,
    rule_threshold: Optional[float] = None,
    rule_margin: float = 0.0,
) -> Reply:
    """Answer `topics` (empty when the learner only named a program) for the program in play.

    The program is the one chosen with a button, else the one the text names, else the one in
    context; several matches ask which one, remembering the question. A message that only names a
    program answers the question pending a choice, else the last question for the new program.

    With `rule_threshold`, a question that matches an FAQ answer that closely (a rule: retakes,
    deadlines, refunds) gets that answer rather than the topic's ("can I retake the capstone and
    what would that cost" is the retake rule, not the program's price); the topics are answered too
    only when another question in the message matched no FAQ answer.
    """
    with session_scope(engine) as session:
        view = current_view(session)
    resolution = Resolution((chosen_program_id,), "button") if chosen_program_id else view.resolver.resolve(text)
    if resolution.ambiguous:
        choices = [(pid, view.resolver.name_of(pid)) for pid in resolution.program_ids]
        return Reply(
            (Message(answers.which_program_prompt(language), tuple(answers.program_buttons(choices))),),
            context.program_id,
            tuple(topics or context.pending_topics or context.last_topics),
            context.last_topics,
            language,
        )
    program_id = resolution.unique or context.program_id
    program = view.programs.get(program_id) if program_id else None
    if topics and rule_threshold is not None:
        # The program's name is not what is asked: "the statistics and data science micromasters" must
        # not pull a cost question toward that program's capstone-retake rule.
        rules, other_questions = faq_questions(view, resolution.without_names(text), rule_threshold, rule_margin,
                                               RULE_TOPICS)
        if rules:
            topics = (*rules, *(topics if other_questions else ()))
    if not topics:
        if program is not None and context.pending_topics:
            topics = context.pending_topics
        elif program is not None and resolution.unique and context.last_topics:
            topics = context.last_topics
        elif resolution.unique and program is not None:
            return Reply((Message(answers.program_chosen(program, language),
                                  tuple(answers.topic_buttons(language=language))),), program.id, language=language)
        else:
            return Reply((Message(answers.unknown_program(link, language)),), context.program_id,
                         context.pending_topics, context.last_topics, language)
    messages = []
    for topic in topics:
        reply = _topic_text(topic, program, view, link, language)
        messages.append(Message(reply, topic=topic) if reply else Message(answers.no_sourced_answer(language)))
    return Reply(tuple(messages), program.id if program else None, (), tuple(topics), language)


def general_turn(
    text: str,
    threshold: float,
    margin: float = 0.0,
    context: Context = Context(),
    link: LinkStyle = plain_link,
    engine: Optional[Engine] = None,
    language: str = DEFAULT,
) -> Optional[Reply]:
    """A sourced general-FAQ answer for a question beyond the four topics, or None when the
    catalog has none that fits (the caller then offers the support team)."""
    with session_scope(engine) as session:
        view = current_view(session)
    topics, _ = faq_questions(view, text, threshold, margin)
    program_id = view.resolver.resolve(text).unique or context.program_id
    program = view.programs.get(program_id) if program_id else None
    messages = []
    for topic in topics:
        fact = view.faq.answer_for(topic[len(FAQ_PREFIX):], program.id if program else None)
        if fact is not None:
            messages.append(Message(answers.faq_answer(fact, program, link, language), topic=topic))
    if not messages:
        return None
    return Reply(tuple(messages), program.id if program else None, (), tuple(m.topic for m in messages), language)


def program_name(program_id: Optional[str], engine: Optional[Engine] = None) -> Optional[str]:
    """"MITx Supply Chain Management" for an id in the catalog, else None."""
    if not program_id:
        return None
    with session_scope(engine) as session:
        program = current_view(session).programs.get(program_id)
    return program.name if program else None
