"""Slack for the support staff (Events API over HTTP), in the Rasa server.

One request URL, /webhooks/slack/webhook, takes:
- a staff question (a direct message to the app, or an @mention): answered by the assistant in the
  question's thread;
- a reply in the thread of a handoff: relayed to the learner's web chat and stored in the
  conversation; `!done` in the thread, or a :white_check_mark: reaction on the handoff message,
  hands the learner back to the assistant.

A second URL, /webhooks/slack/commands, takes the app's slash command: `/assistant dashboard` in the
support channel answers the asker alone with a short-lived signed link to the staff dashboard
(core/dashboard_links.py); elsewhere it says where to ask.

Every request must carry a valid v0 signature over `v0:timestamp:body` made with the signing
secret, and a timestamp less than five minutes old (401 otherwise, nothing processed). Slack
retries an event it did not get a 200 for within 3 s; an event id is recorded as handled only once its
work is done, so a failure (answered 500) is retried by Slack and a retry of finished work is ignored.
Work that takes longer than Slack waits (a staff question) is answered 200 and finishes in the
background. The app's own messages and other bots' are ignored. Settings come from the environment
(core/settings.py).

Beside the webhook, a loop in this server looks after handoffs every SLACK_RETRY_SECONDS: it posts the
ones Slack did not take, hands back to the assistant those Slack refuses for good or nobody answered
within HANDOFF_TIMEOUT_MINUTES (the learner is told, with the support contact), and prunes old event ids.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Set
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed
from sanic import Blueprint, response
from sanic.request import Request

from channels import limits
from channels import socketio as web_chat
from core import dashboard_links, handoffs, inbound, notices, settings, support_desk
from core.lease import Lease
from core.slack_text import staff_text_for_widget

logger = logging.getLogger(__name__)

MENTION = re.compile(r"<@[A-Z0-9]+>")
CLOSE_COMMANDS = {"!done", "!close"}
CLOSE_REACTIONS = {"white_check_mark", "heavy_check_mark"}
MAX_REQUEST_AGE_SECONDS = 5 * 60
SLACK_WAITS_SECONDS = 2.5  # Slack retries an event it has no answer for after 3 s
HANDLED_EVENTS = {"message", "app_mention", "reaction_added"}
TEXT_FIELDS = ("type", "text", "user", "subtype", "channel", "channel_type", "ts", "thread_ts", "bot_id", "reaction")
ID_FIELDS = ("user", "channel", "ts", "thread_ts")
IGNORED_SUBTYPES = {"bot_message", "message_changed", "message_deleted", "channel_join", "channel_leave"}


def event_problem(payload: Dict) -> Optional[str]:
    """Why a signed event cannot be one we handle (ignored with 200: Slack's retry could not help)."""
    event = payload["event"]
    if not isinstance(event.get("type"), str) or event["type"] not in HANDLED_EVENTS:
        return "not an event this app handles"
    for field in TEXT_FIELDS:
        if event.get(field) is not None and not isinstance(event[field], str):
            return f"event.{field} is not a string"
    for field in ID_FIELDS:  # they make the conversation's id (slack-<channel>-<ts>) and find handoffs
        if event.get(field) is not None and inbound.id_problem(event[field], f"event.{field}"):
            return inbound.id_problem(event[field], f"event.{field}")
    item = event.get("item")
    if item is not None and not (isinstance(item, dict) and all(isinstance(v, str) for v in item.values())):
        return "event.item is not an object of strings"
    authorizations = payload.get("authorizations")
    if authorizations is not None and not (isinstance(authorizations, list)
                                           and all(isinstance(a, dict) for a in authorizations)):
        return "authorizations is not a list of objects"
    return None


def signature_is_valid(secret: str, timestamp: str, body: bytes, signature: str, now: Optional[float] = None) -> bool:
    """Slack's v0 check: HMAC-SHA256 of `v0:timestamp:body`, and a timestamp within five minutes."""
    if not (secret and timestamp and signature):
        return False
    if not (timestamp.isascii() and timestamp.isdigit()):  # int() would take other scripts' digits too
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_REQUEST_AGE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, so a 500).
    return hmac.compare_digest(f"v0={expected}".encode(), signature.encode("utf-8", "surrogateescape"))


DASHBOARD_COMMAND = "dashboard"


def command_reply(fields: Dict[str, str]) -> Dict[str, str]:
    """The ephemeral answer (only the asker sees it) to a signed slash command, e.g. `/assistant dashboard`.

    A dashboard link is given only in the support channel: its members are the staff."""
    command = fields.get("command") or "/assistant"
    text = " ".join((fields.get("text") or "").split()).lower()
    support = settings.slack_support_channel()
    if text != DASHBOARD_COMMAND:
        return {"response_type": "ephemeral",
                "text": f"`{command} {DASHBOARD_COMMAND}` in the support channel gives you a short-lived link "
                        "that signs you in to the staff dashboard."}
    if not support or fields.get("channel_id") != support:
        where = f"<#{support}>" if support else "the support channel (SLACK_SUPPORT_CHANNEL is not set)"
        return {"response_type": "ephemeral",
                "text": f"The dashboard is for the support team: ask for it with `{command} {DASHBOARD_COMMAND}` "
                        f"in {where}."}
    user = fields.get("user_id") or ""
    if not user:
        return {"response_type": "ephemeral", "text": "Slack did not say who asked; no link."}
    try:
        link = dashboard_links.signed_link(user)
    except dashboard_links.NotConfigured as problem:
        logger.error("no dashboard link for %s: %s", user, problem)
        return {"response_type": "ephemeral", "text": "The dashboard is not set up yet (DASHBOARD_SECRET)."}
    return {"response_type": "ephemeral",
            "text": f"{link} (valid {settings.dashboard_link_minutes():g} minutes)"}


class SlackThreadOutput(OutputChannel):
    """The assistant's answers to a staff question, posted in the question's thread."""

    @classmethod
    def name(cls) -> str:
        return "slack"

    def __init__(self, channel: str, thread_ts: str):
        self.channel, self.thread_ts = channel, thread_ts

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await asyncio.to_thread(support_desk.post_message, self.channel, text, self.thread_ts)

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
        self._in_flight: Set[str] = set()  # event ids being handled now (a retry must not start them again)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        slack = limits.with_limits(Blueprint("slack_support", __name__))

        @slack.listener("after_server_start")
        async def start_retries(app, _loop) -> None:
            if settings.handoff_enabled():
                self._retry_task = asyncio.create_task(self._look_after_handoffs(app.ctx.agent))

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
            except RecursionError:
                return response.json({"error": "the body is nested too deeply"}, status=400)
            if not isinstance(payload, dict):
                return response.json({"error": "the body is not a JSON object"}, status=400)
            if payload.get("type") == "url_verification":
                return response.json({"challenge": payload.get("challenge")})
            if payload.get("type") != "event_callback" or not isinstance(payload.get("event"), dict):
                return response.json({"ok": True, "ignored": "not an event callback"})
            event_id = payload.get("event_id")
            if not isinstance(event_id, str) or inbound.id_problem(event_id, "event_id"):
                return response.json({"ok": True, "ignored": "no event id (letters and digits)"})
            problem = event_problem(payload)
            if problem:
                return response.json({"ok": True, "ignored": problem})
            if event_id in self._in_flight or await asyncio.to_thread(handoffs.already_handled, event_id):
                return response.json({"ok": True, "ignored": "already handled"})
            self._in_flight.add(event_id)
            work = asyncio.create_task(self._handle_event(payload, request.app.ctx.agent, on_new_message))
            work.add_done_callback(lambda task: self._finished(event_id, task))
            try:
                await asyncio.wait_for(asyncio.shield(work), SLACK_WAITS_SECONDS)
            except asyncio.TimeoutError:
                return response.json({"ok": True, "note": "still working"})  # it finishes in the background
            except Exception:
                return response.json({"error": "the event could not be handled; Slack will retry"}, status=500)
            return response.json({"ok": True})

        @slack.route("/commands", methods=["POST"])
        async def commands(request: Request):
            """Slash commands: form-encoded, signed like events (401 otherwise, nothing processed)."""
            secret = settings.slack_signing_secret()
            if not secret:
                return response.json({"error": "Slack is not configured (SLACK_SIGNING_SECRET)"}, status=503)
            if not signature_is_valid(secret, request.headers.get("X-Slack-Request-Timestamp", ""),
                                      request.body, request.headers.get("X-Slack-Signature", "")):
                return response.json({"error": "invalid signature or stale timestamp"}, status=401)
            try:
                form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                return response.json({"error": "the body is not UTF-8"}, status=400)
            # A signed command is answered once: its signature is recorded like an event id, so the same
            # request sent again within Slack's five minutes does not get a second sign-in link.
            if not await asyncio.to_thread(handoffs.mark_handled, request.headers["X-Slack-Signature"][3:]):
                return response.json({"response_type": "ephemeral", "text": "This command was already answered."})
            fields = {name: values[0] for name, values in form.items()}
            if not await limits.message_rates().allow(f"slack-user-{fields.get('user_id', '')}", None, "slack"):
                return response.json({"response_type": "ephemeral", "text": notices.too_many_commands()})
            return response.json(command_reply(fields))

        return slack

    def _finished(self, event_id: str, task: asyncio.Task) -> None:
        self._in_flight.discard(event_id)
        if not task.cancelled() and task.exception() is not None:
            logger.error("Slack event %s failed", event_id, exc_info=task.exception())

    async def _handle_event(self, payload: Dict, agent, on_new_message) -> None:
        """The event's work, then the event id recorded as handled (not before: a failure is retried)."""
        event = payload["event"]
        if not self._from_a_bot(payload, event):
            if event.get("type") == "reaction_added":
                await self._on_reaction(event, agent)
            elif event.get("type") in ("message", "app_mention"):
                await self._on_message(event, agent, on_new_message)
        await asyncio.to_thread(handoffs.mark_handled, payload["event_id"])

    @staticmethod
    def _from_a_bot(payload: Dict, event: Dict) -> bool:
        own_ids = {a.get("user_id") for a in payload.get("authorizations") or [] if a.get("is_bot")}
        return bool(event.get("bot_id") or event.get("subtype") in IGNORED_SUBTYPES
                    or (event.get("user") and event.get("user") in own_ids))

    async def _on_message(self, event: Dict, agent, on_new_message) -> None:
        text = inbound.clean_text(MENTION.sub("", event.get("text") or "")).strip()
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
        if not await limits.message_rates().allow(f"slack-user-{event.get('user', '')}", None, "slack"):
            return  # counted and logged; a staff member past the limit gets no reply until it drains
        output = SlackThreadOutput(channel, thread_ts or event.get("ts"))
        if inbound.text_problem(text):
            await output.send_text_message("", inbound.too_long_reply(len(text)))
            return
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
        await web_chat.deliver(handoff.sender_id, text, reply_id)

    async def _close(self, handoff: handoffs.Handoff, agent) -> None:
        if await asyncio.to_thread(handoffs.close_handoff, handoff.id, handoffs.STAFF_CLOSED):
            await self._back_to_assistant(handoff, agent, notices.handoff_closed(), "Handed back to the assistant.")

    async def _back_to_assistant(self, handoff: handoffs.Handoff, agent, to_learner: str,
                                 to_staff: Optional[str] = None) -> None:
        """A closed handoff: the conversation listens to the assistant again and the learner is told."""
        # Listening again, so the next message is predicted from a clean turn, not the paused ones.
        await self._store_in_conversation(agent, handoff.sender_id, ConversationResumed(), BotUttered(to_learner),
                                          ActionExecuted(ACTION_LISTEN_NAME))
        await web_chat.deliver(handoff.sender_id, to_learner)
        if to_staff:
            await asyncio.to_thread(support_desk.post_in_thread, handoff, to_staff)

    @staticmethod
    async def _store_in_conversation(agent, sender_id: str, *events) -> None:
        async with agent.lock_store.lock(sender_id):
            tracker = await agent.processor.get_tracker(sender_id)
            for event in events:
                tracker.update(event)
            await agent.processor.save_tracker(tracker)

    async def _look_after_handoffs(self, agent) -> None:
        """Every SLACK_RETRY_SECONDS, on the one Rasa server that holds the handoff lease."""
        interval = settings.slack_retry_seconds()
        lease = Lease("handoff-loop", seconds=max(3 * interval, 10))
        try:
            while True:
                await asyncio.sleep(interval)
                try:
                    if await asyncio.to_thread(lease.hold):
                        await self._handoff_round(agent)
                except Exception:
                    logger.exception("looking after handoffs failed; trying again in %s s", interval)
        finally:
            await asyncio.to_thread(lease.release)

    async def _handoff_round(self, agent) -> None:
        support_url = settings.support_url()
        for handoff, outcome in await asyncio.to_thread(support_desk.post_pending_handoffs):
            if outcome == support_desk.POSTED:
                logger.info("posted pending handoff %d to Slack", handoff.id)
            elif outcome == support_desk.REFUSED:
                await self._back_to_assistant(handoff, agent, notices.handoff_unavailable(support_url))
        minutes = settings.handoff_timeout_minutes()
        for handoff in await asyncio.to_thread(handoffs.unanswered_since, minutes):
            if await asyncio.to_thread(handoffs.close_handoff, handoff.id, handoffs.TIMED_OUT):
                logger.warning("handoff %d: no staff reply within %s min, back to the assistant", handoff.id, minutes)
                await self._back_to_assistant(
                    handoff, agent, notices.handoff_timed_out(support_url),
                    f"No reply within {minutes:g} minutes: handed back to the assistant, and the learner was "
                    "given the support contact.")
        await asyncio.to_thread(handoffs.prune_handled_events)
