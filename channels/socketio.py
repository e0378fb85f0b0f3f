"""Rasa's socket.io channel for the web chat widget, with two additions.

- Transport: websocket, or long-polling where a websocket cannot get through (engine.io's upgrade);
  Sanic 21.12's websocket needs `channels/websocket_receive.py` on Python 3.11.
- Origins: Rasa's own channel lets any web page open a chat; the only guard is the CORS header that
  `rasa run --cors` (sanic-cors) puts on every response, socket.io's included. This one also refuses
  the socket.io connection of a browser whose Origin header is not in `allowed_origins`
  (credentials.yml; a comma-separated string or a list; empty refuses every browser). Clients that
  send no Origin header (servers, tests) are not browsers and are let through. engine.io's own CORS
  handling stays off, as Rasa has it: with it on, each response carried the header twice, and
  browsers refuse a response that names its origin twice.
- Handoff: while a learner's conversation is handed off to the support team, what the learner
  writes also goes to the Slack thread; staff replies reach the learner's open widget at once
  (`deliver`), or are sent when the widget reconnects with the same session id.
- What a socket may send: a `session_id` must be an id `core.inbound` allows (another is replaced by a
  new session, as a missing one is), and a socket may send messages only for the session it joined by
  its last `session_request` (Rasa's let any socket post into any conversation whose id it named). A
  message is normalised (`core.inbound.clean_text`); one over MAX_MESSAGE_CHARS gets a reply saying so
  and is not stored; so is one over the conversation's or address's message rate (`channels.limits`).
  Packets over MAX_REQUEST_BYTES close the socket (engine.io). Log lines never
  carry a session id: it is all a widget needs to rejoin its conversation.
- Several Rasa servers: each engine.io session id starts with the server's SOCKETIO_SERVER_NAME, so a
  proxy can send every request of a session to the server holding it (`ops/cluster.py`'s HAProxy).
- Several Rasa servers (REDIS_HOST set, `make cluster`): the socket.io server uses python-socketio's
  Redis client manager, speaking JSON instead of pickle (`channels.json_redis_manager`), so an emit
  from any server reaches the room on whichever server holds the learner's socket. Rasa's own channel
  keeps rooms in one process (its docs say socket.io does not support several). A staff reply is
  marked delivered by the server that actually had the socket (`StaffReplyRedisManager`); a reply no
  server could deliver waits for the widget's reconnect.
"""

import asyncio
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Union

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint
from socketio import AsyncServer

from channels import limits
from channels.json_redis_manager import JSONRedisManager
from core import handoffs, inbound, log_refs, notices, settings, support_desk

logger = logging.getLogger(__name__)
_server: Dict[str, Any] = {}  # the running channel's socket.io server and its settings
# Rides along with a staff reply through Redis, so the receiving server can mark it delivered; it is
# taken out before the message reaches the widget.
STAFF_REPLY_KEY = "_staff_reply_id"


def parse_origins(value: Union[None, str, List[str]]) -> List[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [item.strip().rstrip("/") for item in items if item and item.strip()]


def redis_channel() -> str:
    """Redis's publish/subscribe ignores the database number: clusters on other REDIS_DBs stay apart."""
    return f"micromasters-socketio-{settings.redis_db()}"


def _has_socket_here(sio: AsyncServer, namespace: str, room: Optional[str]) -> bool:
    """Whether a socket of `room` (a learner's session id) is connected to this server process."""
    if room is None:
        return False
    try:
        return any(True for _ in sio.manager.get_participants(namespace, room))
    except KeyError:  # nobody has connected to the namespace (or room) here
        return False


async def _claimed(reply_id: Optional[int]) -> bool:
    """A staff reply is sent once: the server about to send it claims it first (None: a notice, not
    a stored reply, sent wherever the learner is)."""
    return reply_id is None or await asyncio.to_thread(handoffs.claim_delivery, reply_id)


class StaffReplyRedisManager(JSONRedisManager):
    """The JSON-only Redis manager, plus delivery bookkeeping for staff replies: each server receives
    every emit through Redis; the one holding the learner's socket claims the reply and sends it."""

    async def _handle_emit(self, message: Dict[str, Any]) -> None:
        data = message.get("data")
        if not (isinstance(data, dict) and STAFF_REPLY_KEY in data):
            await super()._handle_emit(message)
            return
        reply_id = data.pop(STAFF_REPLY_KEY)
        if _has_socket_here(self.server, message.get("namespace") or "/", message.get("room")):
            if await _claimed(reply_id):
                await super()._handle_emit(message)


async def deliver(session_id: str, text: str, reply_id: Optional[int] = None) -> None:
    """Send a staff reply (stored as `reply_id`) or a notice to the learner's widget, on whichever
    server holds it. A stored reply that reaches no widget stays undelivered, for the reconnect."""
    sio: Optional[AsyncServer] = _server.get("sio")
    if sio is None:
        return
    namespace = _server.get("namespace") or "/"
    event = _server["bot_message_evt"]
    if isinstance(sio.manager, StaffReplyRedisManager):
        await sio.emit(event, {"text": text, STAFF_REPLY_KEY: reply_id}, room=session_id, namespace=namespace)
    elif _has_socket_here(sio, namespace, session_id) and await _claimed(reply_id):
        await sio.emit(event, {"text": text}, room=session_id, namespace=namespace)


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
        blueprint = limits.with_limits(super().blueprint(on_new_message))
        sio = self.sio
        sio.eio.max_http_buffer_size = settings.max_request_bytes()
        if settings.redis_url():
            # Before any socket connects: the manager starts listening to Redis on the first connection.
            sio.manager = StaffReplyRedisManager(settings.redis_url(), channel=redis_channel())
            sio.manager.set_server(sio)
        name = settings.socketio_server_name()
        if name:
            random_id = sio.eio.generate_id
            # An engine.io session lives in the process that opened it: with its name first in the id
            # (`sid=rasa1.…`), a proxy sends every poll and the websocket upgrade back here, cookie or not.
            sio.eio.generate_id = lambda: f"{name}.{random_id()}"
        namespace = self.namespace or "/"
        _server.update(sio=sio, namespace=self.namespace, bot_message_evt=self.bot_message_evt)
        handlers = sio.handlers[namespace]
        rasa_connect = handlers["connect"]
        rasa_session_request = handlers["session_request"]

        async def connect(sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            if origin is not None and origin.rstrip("/") not in self.allowed_origins:
                logger.warning("refused a web chat from %r: not in the channel's allowed_origins", origin[:200])
                return False
            accepted = await rasa_connect(sid, environ, auth)
            request = environ.get("sanic.request")  # engine.io's environ says REMOTE_ADDR 127.0.0.1 for all
            if accepted and request is not None:
                addresses[sid] = limits.client_address(request.ip, request.headers.get("X-Forwarded-For"))
            return accepted

        rasa_user_message = handlers[self.user_message_evt]
        rasa_disconnect = handlers["disconnect"]
        joined: Dict[str, str] = {}  # socket id -> the session it asked for last
        addresses: Dict[str, Optional[str]] = {}  # socket id -> the learner's address (limits.client_address)

        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            if requested is not None and inbound.id_problem(requested, "session_id"):
                logger.warning("a widget asked for a session id that is not allowed; it gets a new session")
                requested = None
            session_id = requested or uuid.uuid4().hex
            previous = joined.get(sid)
            if previous is not None and previous != session_id:
                sio.leave_room(sid, previous, namespace=namespace)
            joined[sid] = session_id
            log_refs.handling(session_id)
            await rasa_session_request(sid, {"session_id": session_id})
            # Staff replies exist only where the support desk is configured (as for forwarding, below)
            if self.session_persistence and requested and settings.handoff_enabled():
                await self._send_missed_staff_replies(session_id)

        async def user_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                logger.warning("a widget message that is not an object was ignored")
                return
            session_id = data.get("session_id") if self.session_persistence else sid
            if self.session_persistence and session_id != joined.get(sid):
                logger.warning("a socket sent a message for a session it has not joined; ignored")
                return
            log_refs.handling(session_id)
            text = data.get("message", "")
            if not isinstance(text, str):
                logger.warning("a widget message whose text is not a string was ignored")
                return
            if inbound.text_problem(text):
                await sio.emit(self.bot_message_evt, {"text": inbound.too_long_reply(len(text))}, room=sid,
                               namespace=namespace)
                return
            if not await limits.message_rates().allow(session_id, addresses.get(sid), "socketio"):
                await sio.emit(self.bot_message_evt, {"text": notices.too_many_messages()}, room=sid,
                               namespace=namespace)
                return
            text = inbound.clean_text(text)
            metadata = data.get(self.metadata_key)
            data = {**data, "message": text, self.metadata_key: metadata if isinstance(metadata, dict) else {}}
            if settings.handoff_enabled():
                await self._forward_if_handed_off(session_id, text)
            await rasa_user_message(sid, data)

        async def disconnect(sid: str) -> None:
            joined.pop(sid, None)
            addresses.pop(sid, None)
            await rasa_disconnect(sid)

        sio.on("connect", connect, namespace=self.namespace)
        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on("disconnect", disconnect, namespace=self.namespace)
        sio.on(self.user_message_evt, user_message, namespace=self.namespace)
        return blueprint

    async def _send_missed_staff_replies(self, session_id: str) -> None:
        try:
            for reply_id, text in await asyncio.to_thread(handoffs.undelivered_replies, session_id):
                await deliver(session_id, text, reply_id)
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
