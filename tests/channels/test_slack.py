"""Slack for the support staff, against the real servers and a local stand-in for Slack's Web API."""

import asyncio
import time
import uuid

import pytest
import requests

from tests.assistant import (
    DEMO_ORIGIN,
    SLACK_BOT_TOKEN,
    SLACK_SIGNING_SECRET,
    SUPPORT_CHANNEL,
    Learner,
    running_assistant_with_slack,
    train_model,
)
from tests.slack_standin import event_callback, signed

pytestmark = pytest.mark.e2e
SECRET, TOKEN, SUPPORT, WEB_ORIGIN = SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SUPPORT_CHANNEL, DEMO_ORIGIN


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, slack):
    train_model()
    with running_assistant_with_slack(tmp_path_factory.mktemp("slack-assistant"), slack) as running:
        yield running


def send_event(assistant, payload, secret=SECRET, timestamp=None, retry=None):
    headers, body = signed(secret, payload, timestamp)
    if retry:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    return requests.post(f"{assistant.rasa_url}/webhooks/slack/webhook", data=body, headers=headers, timeout=30)


def new_event_id():
    return f"Ev{uuid.uuid4().hex[:10].upper()}"


def new_ts():
    return f"{time.time():.6f}"


def staff_says(assistant, text, thread_ts, channel=SUPPORT):
    event = {"type": "message", "channel": channel, "channel_type": "channel", "user": "USTAFF",
             "text": text, "ts": new_ts(), "thread_ts": thread_ts}
    assert send_event(assistant, event_callback(event, new_event_id())).status_code == 200


def test_url_verification_is_answered(assistant):
    response = send_event(assistant, {"type": "url_verification", "challenge": "abc123", "token": "t"})
    assert response.status_code == 200 and response.json() == {"challenge": "abc123"}


def test_staff_question_is_answered_in_its_thread(assistant, slack):
    ts = new_ts()
    mention = {"type": "app_mention", "channel": "CSTAFF", "user": "USTAFF", "ts": ts,
               "text": "<@UBOT> how much does the MITx SCM cost?"}
    assert send_event(assistant, event_callback(mention, new_event_id())).status_code == 200
    answer = slack.wait_for_posts(1, channel="CSTAFF", thread_ts=ts)
    assert answer[0]["text"].startswith("MITx Supply Chain Management: $1,350 in total")
    slack_link = "<https://micromasters.mit.edu/scm/frequently-asked-questions/|MIT SCM MicroMasters FAQ>"
    assert slack_link in answer[0]["text"]
    dm_ts = new_ts()
    direct = {"type": "message", "channel": "D123", "channel_type": "im", "user": "USTAFF", "ts": dm_ts,
              "text": "does the columbia AI one guarantee admission?"}
    assert send_event(assistant, event_callback(direct, new_event_id())).status_code == 200
    answer = slack.wait_for_posts(1, channel="D123", thread_ts=dm_ts)
    assert "Completing ColumbiaX Artificial Intelligence does not guarantee admission" in answer[0]["text"]


def test_forged_and_replayed_requests_are_rejected(assistant, slack):
    before = len(slack.posts())
    mention = {"type": "app_mention", "channel": "CSTAFF", "user": "USTAFF", "ts": new_ts(),
               "text": "<@UBOT> how much does the MITx SCM cost?"}
    forged = send_event(assistant, event_callback(mention, new_event_id()), secret="not-the-secret")
    assert forged.status_code == 401
    replayed = send_event(assistant, event_callback(mention, new_event_id()), timestamp=int(time.time()) - 6 * 60)
    assert replayed.status_code == 401
    headers, body = signed(SECRET, event_callback(mention, new_event_id()))
    tampered = requests.post(f"{assistant.rasa_url}/webhooks/slack/webhook", data=body.replace(b"SCM", b"SDS"),
                             headers=headers, timeout=30)
    assert tampered.status_code == 401
    unsigned = requests.post(f"{assistant.rasa_url}/webhooks/slack/webhook", data=body, timeout=30,
                             headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    # Positive control: the same request, signed properly, is answered; the forged ones above were not.
    control_ts = new_ts()
    control = dict(mention, ts=control_ts, channel="CFORGED")
    assert send_event(assistant, event_callback(control, new_event_id())).status_code == 200
    slack.wait_for_posts(1, channel="CFORGED", thread_ts=control_ts)
    time.sleep(1)
    assert len(slack.posts()) == before + 1


def test_a_staff_member_past_the_message_rate_is_not_answered_and_others_are(assistant, slack):
    """Questions to the assistant are limited per Slack user (MESSAGES_PER_MINUTE, 20): a script with
    a staff account cannot keep the Rasa server busy; a colleague is still answered."""
    sent = 30
    for _ in range(sent):
        direct = {"type": "message", "channel": "DFLOOD", "channel_type": "im", "user": "UFLOODER", "ts": new_ts(),
                  "text": "how much does the MITx SCM cost?"}
        assert send_event(assistant, event_callback(direct, new_event_id())).status_code == 200
    def answered():  # questions answered: each DM is answered in its own thread
        return len({post["thread_ts"] for post in slack.posts(channel="DFLOOD")})

    deadline = time.monotonic() + 60
    while answered() < 20 and time.monotonic() < deadline:
        time.sleep(0.2)
    colleague_ts = new_ts()
    colleague = {"type": "message", "channel": "DCOLLEAGUE", "channel_type": "im", "user": "UCOLLEAGUE",
                 "ts": colleague_ts, "text": "how much does the MITx SCM cost?"}
    assert send_event(assistant, event_callback(colleague, new_event_id())).status_code == 200
    slack.wait_for_posts(1, channel="DCOLLEAGUE", thread_ts=colleague_ts)
    time.sleep(1)
    assert 20 <= answered() < sent


def test_a_retried_event_is_answered_once(assistant, slack):
    ts, event_id = new_ts(), new_event_id()
    mention = {"type": "app_mention", "channel": "CRETRY", "user": "USTAFF", "ts": ts,
               "text": "<@UBOT> will the supply chain micromasters help me get a job?"}
    assert send_event(assistant, event_callback(mention, event_id)).status_code == 200
    assert send_event(assistant, event_callback(mention, event_id), retry=1).status_code == 200
    assert send_event(assistant, event_callback(mention, event_id), retry=2).status_code == 200
    slack.wait_for_posts(1, channel="CRETRY")
    time.sleep(3)
    assert len(slack.posts(channel="CRETRY")) == 1


def test_own_and_other_bots_messages_are_ignored(assistant, slack):
    own = {"type": "message", "channel": "D555", "channel_type": "im", "user": "UBOT", "ts": new_ts(),
           "text": "how much does the MITx SCM cost?"}
    other_bot = {"type": "message", "channel": "D555", "channel_type": "im", "bot_id": "BOTHER",
                 "subtype": "bot_message", "ts": new_ts(), "text": "how much does the MITx SCM cost?"}
    for event in (own, other_bot):
        assert send_event(assistant, event_callback(event, new_event_id())).status_code == 200
    # Positive control: the same question from a person, sent after the bots' messages, is answered.
    person_ts = new_ts()
    person = {"type": "message", "channel": "D555", "channel_type": "im", "user": "USTAFF", "ts": person_ts,
              "text": "how much does the MITx SCM cost?"}
    assert send_event(assistant, event_callback(person, new_event_id())).status_code == 200
    slack.wait_for_posts(1, channel="D555", thread_ts=person_ts)
    time.sleep(1)
    assert [post["thread_ts"] for post in slack.posts(channel="D555")] == [person_ts]


def test_handoff_round_trip(assistant, slack):
    async def scenario():
        learner = Learner(assistant.rasa_url, origin=WEB_ORIGIN)
        await learner.connect()
        await learner.say("how much does the MITx SCM cost?")
        await learner.hear("$1,350")
        await learner.say("I want to talk to a real person please")
        await learner.hear("asked the learner-support team")

        posted = await asyncio.to_thread(slack.wait_for_posts, 1, channel=SUPPORT,
                                         containing="*Question:* how much does the MITx SCM cost?")
        handoff = posted[0]
        assert "needs a person" in handoff["text"] and "*Program in context:* MITx Supply Chain Management" in \
            handoff["text"]
        assert "thread_ts" not in handoff
        assert "talk to a real person" in handoff["text"]  # the last turns

        staff_reply = "Hi, I'm Sam from support. The price is per course."
        await asyncio.to_thread(staff_says, assistant, staff_reply, handoff["ts"])
        assert await learner.hear(staff_reply) == staff_reply

        await learner.say("thanks! is there a discount for students?")
        forwarded = await asyncio.to_thread(slack.wait_for_posts, 1, channel=SUPPORT, thread_ts=handoff["ts"])
        assert "is there a discount for students?" in forwarded[-1]["text"]
        assert await learner.hears_nothing()  # the assistant stays quiet while staff have the conversation

        await learner.disconnect()
        await asyncio.to_thread(staff_says, assistant, "No student discount, sorry.", handoff["ts"])
        await asyncio.sleep(1)
        back = Learner(assistant.rasa_url, origin=WEB_ORIGIN, session_id=learner.session_id)
        await back.connect()
        assert await back.hear("No student discount, sorry.") == "No student discount, sorry."  # missed while away

        await asyncio.to_thread(staff_says, assistant, "!done", handoff["ts"])
        await back.hear("handed you back to me")
        await back.say("and does it guarantee admission?")
        await back.hear("does not guarantee admission")
        await back.disconnect()
        return learner.session_id

    session_id = asyncio.run(scenario())
    tracker = assistant.api("GET", f"/conversations/{session_id}/tracker").json()
    bot_texts = [e.get("text") for e in tracker["events"] if e["event"] == "bot"]
    assert "Hi, I'm Sam from support. The price is per course." in bot_texts
    assert "No student discount, sorry." in bot_texts
    user_texts = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert "thanks! is there a discount for students?" in user_texts
    closing = slack.posts(channel=SUPPORT)
    assert any(p.get("text") == "Handed back to the assistant." for p in closing)


def test_slack_down_during_handoff_is_retried_not_lost(assistant, slack):
    async def scenario():
        learner = Learner(assistant.rasa_url, origin=WEB_ORIGIN)
        await learner.connect()
        await learner.say("what does the columbia AI micromasters cost?")
        await learner.hear("ColumbiaX Artificial Intelligence")
        slack.mode = "down"
        try:
            await learner.say("can I speak to a human agent")
            reply = await learner.hear("couldn't reach the learner-support team")
            assert "https://support.edx.org" in reply
            await asyncio.sleep(2.5)
            assert not slack.posts(channel=SUPPORT, containing="columbia AI micromasters")
        finally:
            slack.mode = "up"
        handoff = await asyncio.to_thread(slack.wait_for_posts, 1, channel=SUPPORT,
                                          containing="*Question:* what does the columbia AI micromasters cost?")
        assert len(handoff) == 1 and "ColumbiaX Artificial Intelligence" in handoff[0]["text"]
        await asyncio.to_thread(staff_says, assistant, "Hello from support!", handoff[0]["ts"])
        assert await learner.hear("Hello from support!") == "Hello from support!"
        await learner.disconnect()

    asyncio.run(scenario())


def test_reaction_closes_a_handoff(assistant, slack):
    async def scenario():
        learner = Learner(assistant.rasa_url, origin=WEB_ORIGIN)
        await learner.connect()
        await learner.say("let me talk to someone from support")
        await learner.hear("asked the learner-support team")
        posted = await asyncio.to_thread(slack.wait_for_posts, 1, channel=SUPPORT,
                                         containing="let me talk to someone from support")
        root = posted[-1]
        reaction = {"type": "reaction_added", "user": "USTAFF", "reaction": "white_check_mark",
                    "item": {"type": "message", "channel": SUPPORT, "ts": root["ts"]}, "event_ts": new_ts()}
        assert (await asyncio.to_thread(send_event, assistant, event_callback(reaction, new_event_id()))).ok
        await learner.hear("handed you back to me")
        await learner.disconnect()

    asyncio.run(scenario())
