"""Rasa's REST channel, with the body checked before Rasa reads it.

Rasa's own channel calls `request.json.get(...)` on whatever was sent: a body that is not a JSON object
(empty, a list, a number, `null`) is a 500, and a request without `sender` joins one shared
conversation called "default", mixing strangers' messages. Here such requests get a 400 that says
what is wrong, and nothing is stored. The sender must be a conversation id `core.inbound` allows, the
message at most MAX_MESSAGE_CHARS characters; the message is normalised (`core.inbound.clean_text`)
before Rasa reads it. A conversation or address over its message rate gets 429 (`channels.limits`).
The conversation's channel is always "rest": Rasa took a client's
`input_channel` field at its word.
"""

import json
from typing import Any, Awaitable, Callable, Optional, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from channels import limits
from core import inbound, log_refs, notices


def checked_body(body: bytes) -> Tuple[Optional[dict], Optional[str]]:
    """The webhook body with its message normalised, or why it cannot be handled."""
    try:
        payload = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        return None, "the body must be JSON"
    except RecursionError:
        return None, "the body is nested too deeply"
    if not isinstance(payload, dict):
        return None, 'the body must be a JSON object: {"sender": "...", "message": "..."}'
    problem = inbound.id_problem(payload.get("sender")) or inbound.text_problem(payload.get("message"))
    if problem:
        return None, problem
    if "metadata" in payload and not isinstance(payload["metadata"], (dict, type(None))):
        return None, '"metadata" must be a JSON object'
    return {**payload, "message": inbound.clean_text(payload["message"])}, None


class CheckedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = limits.with_limits(super().blueprint(on_new_message))

        @blueprint.middleware("request")
        async def check_body(request: Request):
            if request.method == "POST" and request.path.rstrip("/").endswith("/webhook"):
                payload, problem = checked_body(request.body)
                if problem:
                    return response.json({"error": problem}, status=400)
                address = limits.client_address(request.ip, request.headers.get("X-Forwarded-For"))
                if not await limits.message_rates().allow(payload["sender"], address, "rest"):
                    return response.json({"error": notices.too_many_messages()}, status=429,
                                         headers={"Retry-After": "60"})
                request.parsed_json = payload  # what Rasa's channel reads as `request.json`
                log_refs.handling(payload["sender"])

        return blueprint
