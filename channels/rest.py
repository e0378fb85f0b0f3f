"""Rasa's REST channel, with the body checked before Rasa reads it.

Rasa's own channel calls `request.json.get(...)` on whatever was sent: a body that is not a JSON object
(empty, a list, a number, `null`) is a 500, and a request without `sender` joins one shared
conversation called "default", mixing strangers' messages. Here such requests get a 400 that says
what is wrong, and nothing is stored.
"""

import json
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

MAX_SENDER_LENGTH = 255  # the tracker store's sender_id column


def body_problem(body: bytes) -> Optional[str]:
    """Why a webhook body cannot be handled, or None when it can."""
    try:
        payload = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        return "the body must be JSON"
    except RecursionError:
        return "the body is nested too deeply"
    if not isinstance(payload, dict):
        return 'the body must be a JSON object: {"sender": "...", "message": "..."}'
    sender = payload.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        return '"sender" must be a non-empty string: the id of the conversation'
    if len(sender) > MAX_SENDER_LENGTH:
        return f'"sender" must be at most {MAX_SENDER_LENGTH} characters'
    if not isinstance(payload.get("message"), str):
        return '"message" must be a string'
    if "metadata" in payload and not isinstance(payload["metadata"], (dict, type(None))):
        return '"metadata" must be a JSON object'
    return None


class CheckedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def check_body(request: Request):
            if request.method == "POST" and request.path.rstrip("/").endswith("/webhook"):
                problem = body_problem(request.body)
                if problem:
                    return response.json({"error": problem}, status=400)

        return blueprint
