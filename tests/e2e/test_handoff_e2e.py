"""Handoff edge cases through the real servers: Slack refusing for good, nobody answering in time,
and a learner restarting during a handoff. A learner is never left muted."""

import asyncio

import pytest

from tests.assistant import Learner, running_assistant, train_model

pytestmark = pytest.mark.e2e
TOKEN, SUPPORT, WEB_ORIGIN = "xoxb-test-token", "CSUPPORT", "http://127.0.0.1:8080"
TIMEOUT_MINUTES = 0.1  # six seconds


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, slack):
    train_model()
    workdir = tmp_path_factory.mktemp("handoff-assistant")
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "secret", "SLACK_SUPPORT_CHANNEL": SUPPORT,
           "SLACK_API_URL": slack.api_url, "SLACK_RETRY_SECONDS": "1", "WEBCHAT_ALLOWED_ORIGINS": WEB_ORIGIN,
           "HANDOFF_TIMEOUT_MINUTES": str(TIMEOUT_MINUTES)}
    with running_assistant(workdir, f"sqlite:///{workdir / 'catalog.db'}",
                           f"sqlite:///{workdir / 'conversations.db'}", extra_env=env) as running:
        yield running


async def handed_off(assistant, question="does the columbia AI micromasters give credit?"):
    learner = Learner(assistant.rasa_url, origin=WEB_ORIGIN)
    await learner.connect()
    await learner.say(question)
    await learner.hear("ColumbiaX Artificial Intelligence")
    await learner.say("I want to talk to a person")
    return learner


def test_slack_refusing_for_good_does_not_mute_the_learner(assistant, slack):
    async def scenario():
        slack.mode = "refuse"  # channel_not_found: a wrong SLACK_SUPPORT_CHANNEL
        try:
            learner = await handed_off(assistant, "does the columbia AI micromasters guarantee admission?")
            assert "https://support.edx.org" in await learner.hear("contact them directly")
        finally:
            slack.mode = "up"
        await learner.say("how much does the MITx SCM cost?")
        assert "$1,350" in await learner.hear("MITx Supply Chain Management")  # answered, not muted
        await asyncio.sleep(2.5)  # two rounds of the retry loop: a refused handoff is not posted again
        assert not slack.posts(channel=SUPPORT, containing="guarantee admission")
        await learner.disconnect()

    asyncio.run(scenario())


def test_a_handoff_nobody_answers_goes_back_to_the_assistant(assistant, slack):
    async def scenario():
        learner = await handed_off(assistant, "does the columbia AI micromasters count for credit?")
        await learner.hear("asked the learner-support team")
        posted = await asyncio.to_thread(slack.wait_for_posts, 1, channel=SUPPORT, containing="count for credit?")
        await learner.say("hello? anyone there?")
        assert await learner.hears_nothing(1)  # paused while the handoff waits for staff (positive: below)
        assert "https://support.edx.org" in await learner.hear("nobody from the learner-support team", timeout=30)
        thread = await asyncio.to_thread(slack.wait_for_posts, 1, channel=SUPPORT, thread_ts=posted[0]["ts"],
                                         containing="handed back to the assistant")
        assert "No reply within 0.1 minutes" in thread[-1]["text"]
        await learner.say("how much does the MITx SCM cost?")
        assert "$1,350" in await learner.hear("MITx Supply Chain Management")
        await learner.disconnect()

    asyncio.run(scenario())


def test_restart_during_a_handoff_closes_it_and_the_assistant_answers(assistant, slack):
    async def scenario():
        learner = await handed_off(assistant, "does the columbia AI micromasters help with jobs?")
        await learner.hear("asked the learner-support team")
        posted = await asyncio.to_thread(slack.wait_for_posts, 1, channel=SUPPORT, containing="help with jobs?")
        await learner.say("/restart")
        await asyncio.to_thread(slack.wait_for_posts, 1, channel=SUPPORT, thread_ts=posted[0]["ts"],
                                containing="restarted the conversation")
        await learner.say("how much does the MITx SCM cost?")
        assert "$1,350" in await learner.hear("MITx Supply Chain Management")
        await asyncio.sleep(1)
        forwarded = slack.posts(channel=SUPPORT, thread_ts=posted[0]["ts"], containing="MITx SCM cost")
        assert forwarded == []  # the learner's new question stays with the assistant, not the old thread
        await learner.disconnect()

    asyncio.run(scenario())
