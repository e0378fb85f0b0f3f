"""Conversation ids kept out of log lines.

A widget's session id is all it takes to rejoin its conversation (and read the replies), and a log
line is read by more people than the conversation. So log lines name a conversation by a reference
(`conversation_ref`): `c-` and 12 hex digits of its id's SHA-256, the same for every line of that
conversation, which lets an operator follow it through the logs without learning the id.

The project's own log lines call `conversation_ref`. Rasa's own lines (and any other library's) are
covered by `hide_current_conversation`: the channels set the conversation being handled in a context
variable, and a log record factory replaces that exact id in each record's message by its reference.
Only that one known string is replaced; nothing is guessed from a line's shape.
"""

import contextvars
import hashlib
import logging
from typing import Optional

_current: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("conversation_id", default=None)
_installed = False


def conversation_ref(conversation_id: object) -> str:
    digest = hashlib.sha256(str(conversation_id).encode("utf-8", "surrogatepass")).hexdigest()
    return f"c-{digest[:12]}"


def handling(conversation_id: str) -> None:
    """Marks the task (and what it awaits or starts) as handling this conversation, for the log records."""
    _current.set(conversation_id)


def hide_current_conversation() -> None:
    """Installs the log record factory (once per process)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def record_without_the_conversation_id(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        conversation_id = _current.get()
        if conversation_id:
            try:
                message = record.getMessage()
            except Exception:  # a record whose arguments do not fit its format: logging reports it later
                return record
            if conversation_id in message:
                record.msg, record.args = message.replace(conversation_id, conversation_ref(conversation_id)), ()
        return record

    logging.setLogRecordFactory(record_without_the_conversation_id)
    _installed = True
