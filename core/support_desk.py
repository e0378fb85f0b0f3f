"""Posting to the support team's Slack channel: the handoff message and the learner's follow-ups.

Synchronous (slack_sdk's WebClient); callers keep it off their event loop. Every Slack failure
(network, HTTP error, `ok: false`) comes back as a `SlackUnavailable` with Slack's reason.
"""

import logging
from typing import List, Optional, Sequence, Tuple

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from core import handoffs, settings
from core.slack_text import for_slack

TRANSCRIPT_TURNS = 6
# Below ACTION_TIMEOUT_SECONDS (4): the handoff action posts to Slack while the Rasa server waits.
SLACK_TIMEOUT_SECONDS = 2.5
# Uploads (the weekly digest's chart) are not on a learner's path: each HTTP step may take longer.
UPLOAD_TIMEOUT_SECONDS = 30


logger = logging.getLogger(__name__)
# Slack's answers that no retry will change: a wrong channel or token, missing rights. Posting again
# every 30 s would keep the learner waiting for nobody.
PERMANENT_SLACK_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "not_authed", "account_inactive",
    "token_revoked", "token_expired", "no_permission", "missing_scope", "restricted_action",
    "team_access_not_granted", "ekm_access_denied", "invalid_arguments", "msg_too_long",
})
# What became of a handoff post.
POSTED, RETRYING, REFUSED, ELSEWHERE = "posted", "retrying", "refused", "elsewhere"


class SlackUnavailable(RuntimeError):
    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.permanent = permanent


def client() -> WebClient:
    """No retries inside a call (slack_sdk retries a failed connection by default): a post must fail
    within SLACK_TIMEOUT_SECONDS, and the handoff loop retries pending handoffs itself."""
    return WebClient(token=settings.slack_bot_token(), base_url=settings.slack_api_url(),
                     timeout=SLACK_TIMEOUT_SECONDS, retry_handlers=[])


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


def post_message(channel: str, text: str, thread_ts: Optional[str] = None) -> dict:
    """Post to any channel or thread the app is in: the one way this project writes to Slack."""
    try:
        response = client().chat_postMessage(channel=channel, text=text, thread_ts=thread_ts, unfurl_links=False)
    except SlackApiError as error:
        reason = str(error.response.get("error") or error)
        raise SlackUnavailable(reason, permanent=reason in PERMANENT_SLACK_ERRORS) from error
    except (SlackClientError, OSError) as error:
        raise SlackUnavailable(f"{type(error).__name__}: {error}") from error
    return response.data


def upload_file(channel: str, filename: str, content: bytes, title: str,
                initial_comment: Optional[str] = None) -> dict:
    """Upload a file into a channel, with `initial_comment` as the message that introduces it (mrkdwn).

    slack_sdk's `files_upload_v2`: `files.getUploadURLExternal`, the bytes POSTed to the URL it gives, then
    `files.completeUploadExternal`, which shares the file; nothing shows in the channel unless the last
    step succeeds. The app needs the `files:write` scope. Failures come back as `SlackUnavailable`, as
    with `post_message`; a file takes longer than a message, so the wait is UPLOAD_TIMEOUT_SECONDS.
    """
    web = client()
    web.timeout = UPLOAD_TIMEOUT_SECONDS
    try:
        response = web.files_upload_v2(channel=channel, filename=filename, content=content, title=title,
                                       initial_comment=initial_comment)
    except SlackApiError as error:
        reason = str(error.response.get("error") or error)
        raise SlackUnavailable(reason, permanent=reason in PERMANENT_SLACK_ERRORS) from error
    except (SlackClientError, OSError) as error:  # OSError: also the upload URL's HTTP errors (urllib)
        raise SlackUnavailable(f"{type(error).__name__}: {error}") from error
    return response.data


def _post(text: str, thread_ts: Optional[str] = None) -> dict:
    return post_message(settings.slack_support_channel(), text, thread_ts)


def post_handoff(handoff: handoffs.Handoff) -> str:
    """Post a pending handoff once, whoever else tries at the same moment (it is claimed first).

    Returns POSTED (in Slack now or already), RETRYING (Slack unreachable: left pending for the retry
    loop), REFUSED (Slack refuses for good: closed, logged loudly) or ELSEWHERE (another poster has it).
    """
    if not handoffs.claim(handoff.id):
        current = handoffs.handoff_by_id(handoff.id)
        if current is not None and current.status == handoffs.OPEN:
            return POSTED
        return REFUSED if current is None or current.status == handoffs.CLOSED else ELSEWHERE
    current = handoffs.handoff_by_id(handoff.id) or handoff  # with the learner's latest messages
    try:
        data = _post(handoff_text(current))
    except SlackUnavailable as error:
        handoffs.mark_failed(handoff.id, str(error), permanent=error.permanent)
        if error.permanent:
            logger.critical("Slack refuses handoff %d for good (%s): check SLACK_BOT_TOKEN, SLACK_SUPPORT_CHANNEL "
                            "and the app's membership of the channel; the learner is sent to %s",
                            handoff.id, error, settings.support_url())
            return REFUSED
        logger.warning("Slack did not take handoff %d (%s); it stays pending and is retried", handoff.id, error)
        return RETRYING
    handoffs.mark_posted(handoff.id, data["channel"], data["ts"])
    return POSTED


def post_pending_handoffs() -> List[Tuple[handoffs.Handoff, str]]:
    """Post every pending handoff (claims of a poster that died are released first)."""
    handoffs.release_stale_claims()
    return [(handoff, post_handoff(handoff)) for handoff in handoffs.pending_handoffs()]


def post_in_thread(handoff: handoffs.Handoff, text: str) -> None:
    """A note from the assistant in the handoff's thread, if it has one (best effort: logged)."""
    if not handoff.thread_ts:
        return
    try:
        _post(text, thread_ts=handoff.thread_ts)
    except SlackUnavailable as error:
        logger.warning("could not post in the thread of handoff %d: %s", handoff.id, error)


def forward_learner_message(handoff: handoffs.Handoff, text: str) -> None:
    """A learner's message during a handoff goes to its thread, or waits in the pending post."""
    if handoff.status == handoffs.OPEN and handoff.thread_ts:
        _post(f"*Learner:* {for_slack(text)}", thread_ts=handoff.thread_ts)
    else:
        handoffs.append_to_transcript(handoff.id, transcript([("learner", text)]))
