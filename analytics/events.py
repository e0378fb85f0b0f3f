"""Rasa's published events, flattened into analytics rows (plain functions, no Rasa, no database).

An event as the conversation store publishes it (channels/tracker_store.py) is Rasa's own event
dictionary with `sender_id` and `event_id` (the conversation store's row id) added. Events the
dashboard does not count (slots, active loops, ...) are skipped; so is anything malformed, with the
reason, because one bad message must not stop the feed.
"""

from datetime import datetime, timezone
from typing import Any, Dict, Optional, Tuple

from core.message_metadata import ANSWER_METADATA_KEY, SUPPORT_METADATA_KEY

FEEDBACK_INTENT = "feedback"
RATINGS = {"up", "down"}
COUNTED_EVENTS = {"user", "bot", "action", "pause", "resume", "session_started", "restart"}
# a live handoff (or its retry), no handoff (Slack refused; HANDOFFS_PER_HOUR reached), or the contact
SUPPORT_KINDS = {"handoff", "delayed", "unavailable", "busy", "contact"}


class BadEvent(ValueError):
    """An event that cannot be stored (not an object, no id, no sender, no time)."""


def _text(value: Any, limit: int) -> Optional[str]:
    return value[:limit] if isinstance(value, str) else None


def _entity(parse_data: Dict, name: str) -> Optional[str]:
    for entity in parse_data.get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") == name and isinstance(entity.get("value"), str):
            return entity["value"]
    return None


def utc_day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d")


def row_for(body: Any) -> Optional[Dict[str, Any]]:
    """The analytics row for one published event; None for an event the dashboard does not count.
    Raises BadEvent for a body that is not an event."""
    if not isinstance(body, dict):
        raise BadEvent("not a JSON object")
    event_id, sender_id, timestamp = body.get("event_id"), body.get("sender_id"), body.get("timestamp")
    if not isinstance(event_id, int) or isinstance(event_id, bool) or event_id < 1:
        raise BadEvent("no event_id (a positive integer)")
    if not isinstance(sender_id, str) or not sender_id:
        raise BadEvent("no sender_id")
    if not isinstance(timestamp, (int, float)) or isinstance(timestamp, bool):
        raise BadEvent("no timestamp")
    kind = body.get("event")
    if kind not in COUNTED_EVENTS:
        return None
    row: Dict[str, Any] = {
        "event_id": event_id, "sender_id": sender_id[:255], "type": kind, "timestamp": float(timestamp),
        "day": utc_day(float(timestamp)), "channel": None, "intent": None, "confidence": None, "text": None,
        "action": None, "program_id": None, "topic": None, "rating": None, "comment": None, "answer_ref": None,
        "support": None,
    }
    if kind == "user":
        row.update(_user_fields(body))
    elif kind == "bot":
        row["text"] = _text(body.get("text"), 4000)
        row["program_id"], row["topic"] = _answered(body.get("metadata"))
        support = body["metadata"].get(SUPPORT_METADATA_KEY) if isinstance(body.get("metadata"), dict) else None
        row["support"] = support if support in SUPPORT_KINDS else None
    elif kind == "action":
        row["action"] = _text(body.get("name"), 255)
    return row


def _user_fields(body: Dict) -> Dict[str, Any]:
    parse_data = body.get("parse_data") if isinstance(body.get("parse_data"), dict) else {}
    intent = parse_data.get("intent") if isinstance(parse_data.get("intent"), dict) else {}
    confidence = intent.get("confidence")
    fields = {
        "channel": _text(body.get("input_channel"), 64),
        "intent": _text(intent.get("name"), 255),
        "confidence": float(confidence) if isinstance(confidence, (int, float)) else None,
        "text": _text(body.get("text"), 4000),
    }
    if fields["intent"] == FEEDBACK_INTENT:
        rating = _entity(parse_data, "rating")
        fields.update(rating=rating if rating in RATINGS else None,
                      comment=_text(_entity(parse_data, "comment"), 1000),
                      answer_ref=_text(_entity(parse_data, "answer"), 200))
    return fields


def _answered(metadata: Any) -> Tuple[Optional[str], Optional[str]]:
    answer = metadata.get(ANSWER_METADATA_KEY) if isinstance(metadata, dict) else None
    if not isinstance(answer, dict):
        return None, None
    return _text(answer.get("program_id"), 255), _text(answer.get("topic"), 255)
