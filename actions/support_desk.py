"""Posting to the support team's Slack channel: the handoff message and the learner's follow-ups.

Synchronous (slack_sdk's WebClient); callers keep it off their event loop. Every Slack failure
(network, HTTP error, `ok: false`) comes back as a `SlackUnavailable` with Slack's reason.
"""

from typing import Optional, Sequence, Tuple

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from actions import handoffs, settings
from actions.slack_text import for_slack

TRANSCRIPT_TURNS = 6
# Below ACTION_TIMEOUT_SECONDS (4): the handoff action posts to Slack while the Rasa server waits.
SLACK_TIMEOUT_SECONDS = 2.5


class SlackUnavailable(RuntimeError):
    pass


def client() -> WebClient:
    return WebClient(token=settings.slack_bot_token(), base_url=settings.slack_api_url(),
                     timeout=SLACK_TIMEOUT_SECONDS)


def transcript(turns: Sequence[Tuple[str, str]], limit: int = TRANSCRIPT_TURNS) -> str:
    """The last turns as '> learner: ...' lines for the staff message, escaped for Slack: a learner
    cannot ping the channel or forge a link."""
    lines = [f"> {who}: {for_slack(' '.join(text.split())[:300])}" for who, text in turns[-limit:]]
    return "\n".join(lines) or "> (no earlier turns)"


def handoff_text(handoff: handoffs.Handoff) -> str:
    program = handoff.program or "none named"
    return (
        ":raising_hand: *A learner on the website needs a person.*\n"
        f"*Question:* {for_slack(handoff.question)}\n"
        f"*Program in context:* {program}\n"
        f"*Last turns:*\n{handoff.transcript}\n"
        "_Reply in this thread to answer the learner. Reply `!done` (or react with :white_check_mark:) "
        "to hand the conversation back to the assistant._"
    )


def _post(text: str, thread_ts: Optional[str] = None) -> dict:
    try:
        response = client().chat_postMessage(channel=settings.slack_support_channel(), text=text,
                                             thread_ts=thread_ts, unfurl_links=False)
    except SlackApiError as error:
        raise SlackUnavailable(str(error.response.get("error") or error)) from error
    except (SlackClientError, OSError) as error:
        raise SlackUnavailable(f"{type(error).__name__}: {error}") from error
    return response.data


def post_handoff(handoff: handoffs.Handoff) -> bool:
    """Post a pending handoff; True when it is in Slack. A failure is recorded and left pending."""
    try:
        data = _post(handoff_text(handoff))
    except SlackUnavailable as error:
        handoffs.mark_failed(handoff.id, str(error))
        return False
    handoffs.mark_posted(handoff.id, data["channel"], data["ts"])
    return True


def post_pending_handoffs() -> int:
    """Retry every handoff Slack refused before; returns how many are now posted."""
    return sum(post_handoff(handoff) for handoff in handoffs.pending_handoffs())


def forward_learner_message(handoff: handoffs.Handoff, text: str) -> None:
    """A learner's message during a handoff goes to its thread, or waits in the pending post."""
    if handoff.status == handoffs.OPEN and handoff.thread_ts:
        _post(f"*Learner:* {for_slack(text)}", thread_ts=handoff.thread_ts)
    else:
        handoffs.append_to_transcript(handoff.id, transcript([("learner", text)]))
