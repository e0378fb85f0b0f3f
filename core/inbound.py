"""What every entry point accepts from outside: conversation ids and message text.

Ids (a REST `sender`, a widget's `session_id`) are checked against an allow-list: 1 to MAX_ID_CHARS
letters, digits and `._:@+=-`, starting with a letter or digit. Anything else is refused before it
reaches a store, a log line or a Slack thread: a NUL or a lone surrogate in an id made the SQL tracker
store fail, and Rasa's exited the process.

Text is normalised (`clean_text`): control characters other than tab and line breaks, and lone
surrogates (half of a UTF-16 pair, which JSON's `\\ud800` escapes and socket.io's decoder can produce;
no database or Slack can store them), are dropped; what is left is put in Unicode's NFC form. Text
longer than MAX_MESSAGE_CHARS (default 2,000) is refused with a reply that says so (`too_long_reply`):
the assistant answers questions, and one huge message kept every other learner waiting.
"""

import re
import unicodedata
from typing import Any, Optional

from core import settings

MAX_ID_CHARS = 128
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=-]*")
_KEPT_CONTROLS = frozenset("\t\n\r")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cs"})  # control characters, surrogates


def id_problem(value: Any, name: str = "sender") -> Optional[str]:
    """Why `value` cannot be a conversation id, or None when it can."""
    if not isinstance(value, str) or not value:
        return f'"{name}" must be a non-empty string: the id of the conversation'
    if len(value) > MAX_ID_CHARS:
        return f'"{name}" must be at most {MAX_ID_CHARS} characters'
    if not _ID.fullmatch(value):
        return f'"{name}" may hold only letters, digits and ._:@+=- and must start with a letter or digit'
    return None


def clean_text(text: str) -> str:
    """`text` without control characters (but tab and line breaks) and lone surrogates, in NFC form."""
    if text.isascii() and text.isprintable():
        return text
    kept = "".join(char for char in text
                   if char in _KEPT_CONTROLS or unicodedata.category(char) not in _DROPPED_CATEGORIES)
    return unicodedata.normalize("NFC", kept)


def text_problem(text: Any, name: str = "message") -> Optional[str]:
    """Why `text` cannot be a learner's message, or None when it can."""
    if not isinstance(text, str):
        return f'"{name}" must be a string'
    limit = settings.max_message_chars()
    if len(text) > limit:
        return f'"{name}" must be at most {limit:,} characters (it has {len(text):,})'
    return None


def too_long_reply(length: int) -> str:
    """What a learner is told when their message is over the limit (nothing of it was stored)."""
    return (f"Your message is {length:,} characters long, more than the {settings.max_message_chars():,} I can "
            f"read. Please send a shorter question, or write to the learner-support team: {settings.support_url()}")
