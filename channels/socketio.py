"""Rasa's socket.io channel, accepting browser connections only from the configured web origins.

Rasa's own channel creates its socket.io server with CORS handling switched off, so any web page
could open a chat with the assistant. This one refuses a connection whose Origin header is not in
`allowed_origins` (credentials.yml; a comma-separated string or a list). Clients that send no
Origin header (servers, tests, `rasa shell`) are not browsers and are let through, as engine.io does.
"""

from typing import Any, Awaitable, Callable, Dict, List, Optional, Union

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint


def parse_origins(value: Union[None, str, List[str]]) -> List[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [item.strip().rstrip("/") for item in items if item and item.strip()]


class OriginCheckedSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        channel = super().from_credentials(credentials)
        channel.allowed_origins = parse_origins(credentials.get("allowed_origins"))
        return channel

    allowed_origins: List[str] = []

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        self.sio.eio.cors_allowed_origins = list(self.allowed_origins)
        return blueprint
