"""Rasa's socket.io channel for the web chat widget, with two additions.

- Transport: HTTP long-polling only (see `blueprint`).
- Origins: Rasa's own channel creates its socket.io server with CORS handling switched off, so any
  web page could open a chat. This one refuses a browser whose Origin header is not in
  `allowed_origins` (credentials.yml; a comma-separated string or a list). Clients that send no
  Origin header (servers, tests) are not browsers and are let through, as engine.io does.
- Handoff: while a learner's conversation is handed off to the support team, what the learner
  writes also goes to the Slack thread; staff replies reach the learner's open widget at once
  (`deliver`), or are sent when the widget reconnects with the same session id.
"""

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Union

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint
from socketio import AsyncServer

from actions import handoffs, settings, support_desk

logger = logging.getLogger(__name__)
_server: Dict[str, Any] = {}  # the running channel's socket.io server and its settings


def parse_origins(value: Union[None, str, List[str]]) -> List[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [item.strip().rstrip("/") for item in items if item and item.strip()]


async def deliver(session_id: str, text: str) -> bool:
    """Send a message to the learner's widget; False when no widget of that session is connected."""
    sio: Optional[AsyncServer] = _server.get("sio")
    if sio is None:
        return False
    namespace = _server.get("namespace") or "/"
    try:
        connected = any(True for _ in sio.manager.get_participants(namespace, session_id))
    except KeyError:  # nobody has connected to the namespace yet
        connected = False
    if not connected:
        return False
    await sio.emit(_server["bot_message_evt"], {"text": text}, room=session_id, namespace=namespace)
    return True


class OriginCheckedSocketIOInput(SocketIOInput):
    allowed_origins: List[str] = []

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        channel = super().from_credentials(credentials)
        channel.allowed_origins = parse_origins(credentials.get("allowed_origins"))
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        sio.eio.cors_allowed_origins = list(self.allowed_origins)
        # Long-polling only: the websocket upgrade fails on the Sanic 21 that Rasa 3.6 pins, and
        # engine.io then leaves the session stuck "upgrading" (the widget loops and never connects).
        sio.eio.allow_upgrades = False
        namespace = self.namespace or "/"
        _server.update(sio=sio, namespace=self.namespace, bot_message_evt=self.bot_message_evt)
        handlers = sio.handlers[namespace]
        rasa_session_request = handlers["session_request"]
        rasa_user_message = handlers[self.user_message_evt]

        async def session_request(sid: str, data: Optional[Dict]) -> None:
            await rasa_session_request(sid, data)
            if self.session_persistence and data and data.get("session_id"):
                await self._send_missed_staff_replies(data["session_id"])

        async def user_message(sid: str, data: Dict) -> None:
            session_id = (data or {}).get("session_id") if self.session_persistence else sid
            if session_id and settings.handoff_enabled():
                await self._forward_if_handed_off(session_id, str((data or {}).get("message", "")))
            await rasa_user_message(sid, data)

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, user_message, namespace=self.namespace)
        return blueprint

    async def _send_missed_staff_replies(self, session_id: str) -> None:
        try:
            missed = await asyncio.to_thread(handoffs.undelivered_replies, session_id)
            delivered = [reply_id for reply_id, text in missed if await deliver(session_id, text)]
            await asyncio.to_thread(handoffs.mark_delivered, delivered)
        except Exception:
            logger.exception("could not send missed staff replies; they stay pending")

    @staticmethod
    async def _forward_if_handed_off(session_id: str, text: str) -> None:
        """Never loses the learner's message: whatever fails here, Rasa still receives it."""
        if not text.strip():
            return
        try:
            handoff = await asyncio.to_thread(handoffs.active_handoff_for, session_id)
            if handoff is not None:
                await asyncio.to_thread(support_desk.forward_learner_message, handoff, text)
        except Exception:
            logger.exception("could not forward a learner message to the support thread")
