"""Conversation ids kept out of log lines, and log lines kept one line each.

A widget's session id is all it takes to rejoin its conversation (and read the replies), and a log
line is read by more people than the conversation. So log lines name a conversation by a reference
(`conversation_ref`): `c-` and 12 hex digits of its id's SHA-256, the same for every line of that
conversation, which lets an operator follow it through the logs without learning the id.

The project's own log lines call `conversation_ref`. Rasa's own lines (and any other library's) are
covered by `install`: the channels set the conversation being handled in a context
variable, and a log record factory replaces that exact id in each record's message by its reference.
Only that one known string is replaced; nothing is guessed from a line's shape.

The same factory escapes every character of a message that is not printable (a line break, a
terminal escape) as Python writes it in a string literal (`\\n`, `\\x1b`): a request path, a Slack
user id or anything else a client sent cannot start a forged log line or drive the operator's
terminal. Tracebacks are formatted apart from the message and keep their lines.
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


def one_line(message: str) -> str:
    """`message` with each character that is not printable written as its escape."""
    if message.isprintable():
        return message
    return "".join(char if char.isprintable() else char.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for char in message)


def install() -> None:
    """Installs the log record factory (once per process): conversation ids replaced, lines kept whole."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def record_without_the_conversation_id(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: logging reports it later
            return record
        conversation_id = _current.get()
        hidden = bool(conversation_id) and conversation_id in message
        if hidden:
            message = message.replace(conversation_id, conversation_ref(conversation_id))
        if hidden or not message.isprintable():
            record.msg, record.args = one_line(message), ()
        return record

    logging.setLogRecordFactory(record_without_the_conversation_id)
    _installed = True
