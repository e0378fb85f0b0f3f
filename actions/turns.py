"""One learner turn against the catalog: which program, which facts, what to say.

Plain inputs and outputs (no Rasa types), one database session per turn, so the action classes
stay thin and tests can drive a turn with nothing but a database.
"""

from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence, Tuple

from sqlalchemy.engine import Engine

from actions import answers
from actions.catalog_view import current_view
from actions.db import session_scope
from actions.programs import Resolution


@dataclass(frozen=True)
class Message:
    text: str
    buttons: Tuple[Dict[str, str], ...] = ()


@dataclass(frozen=True)
class Reply:
    messages: Tuple[Message, ...]
    program_id: Optional[str]
    pending_topics: Tuple[str, ...] = field(default=())


def topics_of_intent(intent: Optional[str]) -> Tuple[str, ...]:
    """'ask_cost+ask_credit' -> ('cost', 'credit'); anything else -> ()."""
    if not intent:
        return ()
    parts = [part.strip() for part in intent.split("+")]
    return tuple(p[len("ask_"):] for p in parts if p.startswith("ask_") and p[len("ask_"):] in answers.TOPICS)


def answer_turn(
    text: str,
    topics: Sequence[str],
    context_program_id: Optional[str] = None,
    chosen_program_id: Optional[str] = None,
    pending_topics: Sequence[str] = (),
    engine: Optional[Engine] = None,
) -> Reply:
    """Answer `topics` (empty when the learner only named a program) for the program in play.

    The program is the one chosen with a button, else the one the text names, else the one
    from earlier in the conversation; several matches ask which one, remembering the question.
    """
    with session_scope(engine) as session:
        view = current_view(session)
    if chosen_program_id:
        resolution = Resolution((chosen_program_id,), "button")
    else:
        resolution = view.resolver.resolve(text)
    if resolution.ambiguous:
        choices = [(pid, view.resolver.name_of(pid)) for pid in resolution.program_ids]
        return Reply(
            (Message(answers.which_program_prompt(), tuple(answers.program_buttons(choices))),),
            context_program_id,
            tuple(topics or pending_topics),
        )
    program_id = resolution.unique or context_program_id
    program = view.programs.get(program_id) if program_id else None
    if not topics:
        if pending_topics and program is not None:
            topics = pending_topics
        elif resolution.unique and program is not None:
            return Reply((Message(answers.program_chosen(program), tuple(answers.topic_buttons())),), program.id)
        else:
            return Reply((Message(answers.unknown_program()),), context_program_id, tuple(pending_topics))
    messages = [Message(answers.answer(topic, program, view.general)) for topic in topics]
    return Reply(tuple(messages), program.id if program else None)


def program_name(program_id: Optional[str], engine: Optional[Engine] = None) -> Optional[str]:
    """"MITx Supply Chain Management" for an id in the catalog, else None."""
    if not program_id:
        return None
    with session_scope(engine) as session:
        program = current_view(session).programs.get(program_id)
    return program.name if program else None
