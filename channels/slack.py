"""Slack for the support staff (Events API over HTTP), in the Rasa server.

One request URL, /webhooks/slack/webhook, takes:
- a staff question (a direct message to the app, or an @mention): answered by the assistant in the
  question's thread;
- a reply in the thread of a handoff: relayed to the learner's web chat and stored in the
  conversation; `!done` in the thread, or a :white_check_mark: reaction on the handoff message,
  hands the learner back to the assistant.

Every request must carry a valid v0 signature over `v0:timestamp:body` made with the signing
secret, and a timestamp less than five minutes old (401 otherwise, nothing processed). Slack
retries an event it thinks timed out; each event id is handled once. The app's own messages and
other bots' are ignored. Settings come from the environment (actions/settings.py).
"""

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed
from sanic import Blueprint, response
from sanic.request import Request
from slack_sdk.web.async_client import AsyncWebClient

from actions import answers, handoffs, settings, support_desk
from actions.slack_text import staff_text_for_widget
from channels import socketio as web_chat

logger = logging.getLogger(__name__)

MENTION = re.compile(r"<@[A-Z0-9]+>")
CLOSE_COMMANDS = {"!done", "!close"}
CLOSE_REACTIONS = {"white_check_mark", "heavy_check_mark"}
MAX_REQUEST_AGE_SECONDS = 5 * 60
IGNORED_SUBTYPES = {"bot_message", "message_changed", "message_deleted", "channel_join", "channel_leave"}


def signature_is_valid(secret: str, timestamp: str, body: bytes, signature: str, now: Optional[float] = None) -> bool:
    """Slack's v0 check: HMAC-SHA256 of `v0:timestamp:body`, and a timestamp within five minutes."""
    if not (secret and timestamp and signature):
        return False
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - stamp) > MAX_REQUEST_AGE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={expected}", signature)


class SlackThreadOutput(OutputChannel):
    """The assistant's answers to a staff question, posted in the question's thread."""

    @classmethod
    def name(cls) -> str:
        return "slack"

    def __init__(self, client: AsyncWebClient, channel: str, thread_ts: str):
        self.client, self.channel, self.thread_ts = client, channel, thread_ts

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, text=text)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons, **kwargs: Any) -> None:
        options = "\n".join(f"- {button['title']}" for button in buttons)
        await self.send_text_message(recipient_id, f"{text}\n{options}")


class SupportSlackInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    def __init__(self) -> None:
        self._retry_task: Optional[asyncio.Task] = None

    def client(self) -> AsyncWebClient:
        return AsyncWebClient(token=settings.slack_bot_token(), base_url=settings.slack_api_url())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        slack = Blueprint("slack_support", __name__)

        @slack.listener("after_server_start")
        async def start_retries(app, _loop) -> None:
            if settings.handoff_enabled():
                self._retry_task = asyncio.create_task(self._retry_pending_handoffs())

        @slack.listener("before_server_stop")
        async def stop_retries(app, _loop) -> None:
            if self._retry_task:
                self._retry_task.cancel()

        @slack.route("/", methods=["GET"])
        async def health(_: Request):
            return response.json({"status": "ok", "configured": bool(settings.slack_signing_secret())})

        @slack.route("/webhook", methods=["POST"])
        async def webhook(request: Request):
            secret = settings.slack_signing_secret()
            if not secret:
                return response.json({"error": "Slack is not configured (SLACK_SIGNING_SECRET)"}, status=503)
            if not signature_is_valid(secret, request.headers.get("X-Slack-Request-Timestamp", ""),
                                      request.body, request.headers.get("X-Slack-Signature", "")):
                return response.json({"error": "invalid signature or stale timestamp"}, status=401)
            try:
                payload = json.loads(request.body)
            except ValueError:
                return response.json({"error": "the body is not JSON"}, status=400)
            if payload.get("type") == "url_verification":
                return response.json({"challenge": payload.get("challenge")})
            if payload.get("type") != "event_callback" or not isinstance(payload.get("event"), dict):
                return response.json({"ok": True, "ignored": "not an event callback"})
            event_id = str(payload.get("event_id") or "")
            if not event_id or not await asyncio.to_thread(handoffs.first_time_seen, event_id):
                return response.json({"ok": True, "ignored": "already handled"})
            # Answer Slack at once (it retries after 3 s); the work goes on in the background.
            request.app.add_task(self._handle_event(payload, request.app.ctx.agent, on_new_message))
            return response.json({"ok": True})

        return slack

    async def _handle_event(self, payload: Dict, agent, on_new_message) -> None:
        event = payload["event"]
        try:
            if self._from_a_bot(payload, event):
                return
            if event.get("type") == "reaction_added":
                await self._on_reaction(event, agent)
            elif event.get("type") in ("message", "app_mention"):
                await self._on_message(event, agent, on_new_message)
        except Exception:
            logger.exception("Slack event %s failed", payload.get("event_id"))

    @staticmethod
    def _from_a_bot(payload: Dict, event: Dict) -> bool:
        own_ids = {a.get("user_id") for a in payload.get("authorizations") or [] if a.get("is_bot")}
        return bool(event.get("bot_id") or event.get("subtype") in IGNORED_SUBTYPES
                    or (event.get("user") and event.get("user") in own_ids))

    async def _on_message(self, event: Dict, agent, on_new_message) -> None:
        text = MENTION.sub("", event.get("text") or "").strip()
        channel, thread_ts = event.get("channel", ""), event.get("thread_ts")
        if thread_ts:
            handoff = await asyncio.to_thread(handoffs.handoff_for_thread, channel, thread_ts)
            if handoff is not None:
                if event.get("type") == "app_mention":
                    return  # the same reply also arrives as a "message" event; relay it once
                if text.lower() in CLOSE_COMMANDS:
                    await self._close(handoff, agent)
                elif staff_text_for_widget(text):
                    await self._relay_to_learner(handoff, staff_text_for_widget(text), agent)
                return
        is_question = event.get("type") == "app_mention" or event.get("channel_type") == "im"
        if not text or not is_question:
            return
        output = SlackThreadOutput(self.client(), channel, thread_ts or event.get("ts"))
        await on_new_message(UserMessage(text, output, sender_id=f"slack-{channel}-{thread_ts or event.get('ts')}",
                                         input_channel=self.name(), metadata={"slack_user": event.get("user")}))

    async def _on_reaction(self, event: Dict, agent) -> None:
        item = event.get("item") or {}
        if event.get("reaction") not in CLOSE_REACTIONS or item.get("type") != "message":
            return
        handoff = await asyncio.to_thread(handoffs.handoff_for_thread, item.get("channel", ""), item.get("ts", ""))
        if handoff is not None:
            await self._close(handoff, agent)

    async def _relay_to_learner(self, handoff: handoffs.Handoff, text: str, agent) -> None:
        reply_id = await asyncio.to_thread(handoffs.record_staff_reply, handoff, text)
        await self._store_in_conversation(agent, handoff.sender_id, BotUttered(text, metadata={"from": "staff"}))
        if await web_chat.deliver(handoff.sender_id, text):
            await asyncio.to_thread(handoffs.mark_delivered, [reply_id])

    async def _close(self, handoff: handoffs.Handoff, agent) -> None:
        if not await asyncio.to_thread(handoffs.close_handoff, handoff.id):
            return
        goodbye = answers.handoff_closed()
        # Listening again, so the next message is predicted from a clean turn, not the paused ones.
        await self._store_in_conversation(agent, handoff.sender_id, ConversationResumed(), BotUttered(goodbye),
                                          ActionExecuted(ACTION_LISTEN_NAME))
        await web_chat.deliver(handoff.sender_id, goodbye)
        await self.client().chat_postMessage(channel=handoff.slack_channel, thread_ts=handoff.thread_ts,
                                             text="Handed back to the assistant.")

    @staticmethod
    async def _store_in_conversation(agent, sender_id: str, *events) -> None:
        async with agent.lock_store.lock(sender_id):
            tracker = await agent.processor.get_tracker(sender_id)
            for event in events:
                tracker.update(event)
            await agent.processor.save_tracker(tracker)

    async def _retry_pending_handoffs(self) -> None:
        while True:
            await asyncio.sleep(settings.slack_retry_seconds())
            try:
                posted = await asyncio.to_thread(support_desk.post_pending_handoffs)
                if posted:
                    logger.info("posted %d pending handoff(s) to Slack", posted)
            except Exception:
                logger.exception("retrying pending handoffs failed")
