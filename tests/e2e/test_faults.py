"""A reply within 5 seconds whatever fails, and normal answers again as soon as the part is back,
without restarting anything: the action server hung, killed, and the catalog database gone."""

import os
import shutil
import signal
import time

import pytest
from sqlalchemy.engine import make_url

from tests.assistant import running_assistant, train_model

pytestmark = pytest.mark.e2e
SORRY = "Sorry, I can't look that up right now"
QUESTION = "how much does the MITx SCM cost?"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    train_model()
    workdir = tmp_path_factory.mktemp("faults")
    with running_assistant(workdir, f"sqlite:///{workdir / 'catalog.db'}",
                           f"sqlite:///{workdir / 'conversations.db'}") as running:
        yield running


def timed_reply(assistant, sender, message=QUESTION):
    start = time.monotonic()
    text = assistant.text(sender, message)
    return text, time.monotonic() - start


def test_a_hung_action_server_gets_the_learner_a_reply_within_5_seconds(assistant):
    text, _ = timed_reply(assistant, "hung")
    assert "$1,350" in text  # positive control: answered while the action server is well
    os.kill(assistant.action_process.pid, signal.SIGSTOP)
    try:
        text, seconds = timed_reply(assistant, "hung", "does it count for credit?")
        assert SORRY in text and "https://support.edx.org" in text
        assert seconds < 5
        # A new conversation's first message needs the session start too: both fit in the 5 seconds.
        text, seconds = timed_reply(assistant, "hung-new", "does it count for credit?")
        assert SORRY in text and seconds < 5
    finally:
        os.kill(assistant.action_process.pid, signal.SIGCONT)
    text, _ = timed_reply(assistant, "hung")
    assert "$1,350" in text  # back to normal at once, nothing restarted


def test_a_dead_action_server_gets_a_reply_and_a_new_one_is_used_at_once(assistant):
    assistant.processes.stop(assistant.action_process)
    text, seconds = timed_reply(assistant, "dead")
    assert SORRY in text and seconds < 5
    text, _ = timed_reply(assistant, "dead-new-conversation", "hello")  # a new conversation starts too
    assert text  # Rasa's own session start stands in; the greeting needs no action server
    assistant.start_action_server()
    text, _ = timed_reply(assistant, "dead")
    assert "$1,350" in text


def test_the_catalog_database_gone_gets_a_reply_and_comes_back(assistant):
    catalog = make_url(assistant.database_url).database
    text, _ = timed_reply(assistant, "catalog")
    assert "$1,350" in text
    shutil.move(catalog, catalog + ".away")
    try:
        text, seconds = timed_reply(assistant, "catalog", "does the columbia AI micromasters count for credit?")
        assert SORRY in text and seconds < 5
    finally:
        shutil.move(catalog + ".away", catalog)
    text, _ = timed_reply(assistant, "catalog", "does the columbia AI micromasters count for credit?")
    assert "ColumbiaX Artificial Intelligence" in text and SORRY not in text
