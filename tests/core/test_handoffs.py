"""The handoff state machine, on SQLite and PostgreSQL, with Slack's Web API played by the stand-in.

Each test here failed before the state machine (claim, one active handoff per conversation, permanent
Slack errors, timeout, session start and restart, event ids recorded after their work) was built.
"""

import asyncio
import threading
from datetime import timedelta

import pytest
from rasa.core.actions.action import action_for_name_or_text
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ConversationPaused, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, inspect, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from actions.conversation import ActionRestart
from channels import session_start
from channels.slack import SupportSlackInput
from core import handoffs, support_desk
from core.db import engine_for, session_scope
from tests.slack_standin import SlackStandIn

TOKEN, SUPPORT = "xoxb-test-token", "CSUPPORT"


@pytest.fixture
def engine(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    return engine_for(database_url)


@pytest.fixture
def slack(monkeypatch):
    stand_in = SlackStandIn(TOKEN)
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SUPPORT_CHANNEL", SUPPORT)
    monkeypatch.setenv("SLACK_API_URL", stand_in.api_url)
    yield stand_in
    stand_in.close()


def new_handoff(engine, sender="learner-1", question="can I transfer the credit?"):
    return handoffs.open_handoff(sender, question, None, "> learner: hi", engine=engine)


def status_of(engine, handoff_id):
    with session_scope(engine) as session:
        row = session.get(handoffs.HandoffRow, handoff_id)
        return row.status, row.closed_reason, row.attempts


def backdate(engine, handoff_id, minutes):
    with session_scope(engine) as session:
        session.execute(update(handoffs.HandoffRow).where(handoffs.HandoffRow.id == handoff_id)
                        .values(created_at=handoffs._now() - timedelta(minutes=minutes)))


def test_a_handoff_is_posted_once_however_many_post_it_at_once(engine, slack):
    handoff = new_handoff(engine)
    outcomes, start = [], threading.Barrier(6)

    def post():
        start.wait()
        outcomes.append(support_desk.post_handoff(handoff))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(slack.posts(channel=SUPPORT, containing="can I transfer the credit?")) == 1
    assert outcomes.count(support_desk.POSTED) >= 1 and support_desk.REFUSED not in outcomes
    assert status_of(engine, handoff.id)[0] == handoffs.OPEN
    assert support_desk.post_handoff(handoff) == support_desk.POSTED  # posted already: not again
    assert len(slack.posts(channel=SUPPORT)) == 1


def test_at_most_one_active_handoff_per_conversation(engine):
    first = new_handoff(engine)
    assert new_handoff(engine).id == first.id  # asking again finds the same one
    with pytest.raises(IntegrityError):  # and the database itself refuses a second
        with session_scope(engine) as session:
            session.add(handoffs.HandoffRow(sender_id="learner-1", status=handoffs.PENDING, question="again",
                                            transcript="", attempts=0, created_at=handoffs._now()))
    assert handoffs.close_handoff(first.id, engine=engine)
    second = new_handoff(engine)  # once closed, a new one may open
    assert second.id != first.id and second.status == handoffs.PENDING
    assert new_handoff(engine, sender="learner-2").id not in (first.id, second.id)


def test_slack_refusing_for_good_closes_the_handoff_and_is_not_retried(engine, slack):
    handoff = new_handoff(engine)
    slack.mode = "refuse"  # channel_not_found: a wrong channel id
    assert support_desk.post_handoff(handoff) == support_desk.REFUSED
    assert status_of(engine, handoff.id)[:2] == (handoffs.CLOSED, handoffs.SLACK_REFUSED)
    assert handoffs.pending_handoffs(engine=engine) == []
    slack.mode = "up"
    assert support_desk.post_pending_handoffs() == []
    assert slack.posts(channel=SUPPORT) == []


def test_slack_down_leaves_the_handoff_pending_and_it_is_posted_later(engine, slack):
    handoff = new_handoff(engine)
    slack.mode = "down"  # HTTP 503: try again later
    assert support_desk.post_handoff(handoff) == support_desk.RETRYING
    assert status_of(engine, handoff.id) == (handoffs.PENDING, None, 1)
    slack.mode = "up"
    assert [(h.id, outcome) for h, outcome in support_desk.post_pending_handoffs()] == \
        [(handoff.id, support_desk.POSTED)]
    assert len(slack.posts(channel=SUPPORT, containing="can I transfer the credit?")) == 1


def test_a_claim_left_by_a_poster_that_died_is_released(engine):
    handoff = new_handoff(engine)
    assert handoffs.claim(handoff.id, engine=engine)
    assert not handoffs.claim(handoff.id, engine=engine)  # held
    assert handoffs.release_stale_claims(engine=engine) == 0  # too recent to be a dead poster's
    assert handoffs.release_stale_claims(engine=engine, older_than=timedelta(seconds=-1)) == 1
    assert handoffs.claim(handoff.id, engine=engine)


def test_unanswered_handoffs_are_found_after_the_timeout(engine):
    quiet, answered, recent = new_handoff(engine, "a"), new_handoff(engine, "b"), new_handoff(engine, "c")
    backdate(engine, quiet.id, 45)
    backdate(engine, answered.id, 45)
    handoffs.record_staff_reply(answered, "Hello, I'm here", engine=engine)
    assert [h.id for h in handoffs.unanswered_since(30, engine=engine)] == [quiet.id]
    assert handoffs.close_handoff(quiet.id, handoffs.TIMED_OUT, engine=engine)
    assert status_of(engine, quiet.id)[:2] == (handoffs.CLOSED, handoffs.TIMED_OUT)
    assert handoffs.unanswered_since(30, engine=engine) == [] and recent.status == handoffs.PENDING


def test_event_ids_are_recorded_once_and_pruned(engine):
    assert not handoffs.already_handled("Ev1", engine=engine)
    assert handoffs.mark_handled("Ev1", engine=engine) and not handoffs.mark_handled("Ev1", engine=engine)
    assert handoffs.already_handled("Ev1", engine=engine)
    assert handoffs.prune_handled_events(engine=engine) == 0
    assert handoffs.prune_handled_events(timedelta(seconds=-1), engine=engine) == 1
    assert not handoffs.already_handled("Ev1", engine=engine)


def test_a_slack_event_whose_work_fails_is_not_recorded_so_slacks_retry_is_handled(engine):
    channel = SupportSlackInput()
    handoff = new_handoff(engine)
    handoffs.claim(handoff.id, engine=engine)
    handoffs.mark_posted(handoff.id, SUPPORT, "1790000001.000001", engine=engine)
    staff_reply = {"type": "event_callback", "event_id": "EvFAIL", "authorizations": [],
                   "event": {"type": "message", "channel": SUPPORT, "user": "USTAFF", "text": "Hello",
                             "thread_ts": "1790000001.000001", "ts": "1790000002.000001"}}
    with pytest.raises(AttributeError):  # no Rasa agent to store the reply in: the work fails
        asyncio.run(channel._handle_event(staff_reply, None, None))
    assert not handoffs.already_handled("EvFAIL", engine=engine)
    from_a_bot = {"type": "event_callback", "event_id": "EvBOT", "authorizations": [],
                  "event": {"type": "message", "bot_id": "B1", "channel": SUPPORT, "text": "hi", "ts": "1"}}
    asyncio.run(channel._handle_event(from_a_bot, None, None))  # nothing to do, done: recorded
    assert handoffs.already_handled("EvBOT", engine=engine)


def session_tracker(sender="learner-1"):
    return Tracker(sender_id=sender, slots={"program": "mitx-supply-chain-management", "last_topics": None},
                   latest_message={}, events=[], paused=True, followup_action=None, active_loop={},
                   latest_action_name="action_listen")


def run(action, tracker):
    return asyncio.run(action.run(CollectingDispatcher(), tracker, {}))


def start_session(sender="learner-1"):
    """Rasa's processor runs the session start it finds by name, for a paused conversation whose
    program is in context; the events it returns are applied to the tracker."""
    domain = Domain.load("domain.yml")
    tracker = DialogueStateTracker.from_events(
        sender, [SlotSet("program", "mitx-supply-chain-management"), ConversationPaused()], domain.slots)
    action = action_for_name_or_text("action_session_start", domain, None)
    events = asyncio.run(action.run(None, None, tracker, domain))
    for event in events:
        tracker.update(event, domain)
    return events, tracker


def test_a_new_session_stays_paused_while_its_handoff_is_open(engine):
    events, tracker = start_session()
    assert [type(event) for event in events] == [SessionStarted, SlotSet, ActionExecuted]  # no handoff
    assert not tracker.is_paused()
    assert tracker.get_slot("program") == "mitx-supply-chain-management"  # carried over, as domain.yml says
    new_handoff(engine)
    events, tracker = start_session()
    assert [type(event) for event in events] == [SessionStarted, SlotSet, ConversationPaused, ActionExecuted]
    assert events[-1].action_name == "action_listen"
    assert tracker.is_paused() and tracker.get_slot("program") == "mitx-supply-chain-management"
    _, tracker = start_session(sender="learner-2")
    assert not tracker.is_paused()  # another learner's new session is not


def test_a_new_session_starts_unpaused_when_the_database_cannot_say(engine, monkeypatch, caplog):
    new_handoff(engine)

    def database_down(_sender_id):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(handoffs, "active_handoff_for", database_down)
    _, tracker = start_session()
    assert not tracker.is_paused() and "the new session is not paused" in caplog.text
    monkeypatch.setattr(handoffs, "active_handoff_for", lambda _sender_id: threading.Event().wait(1.5))
    _, tracker = start_session()  # a database that hangs: the session starts after the check's budget
    assert not tracker.is_paused()


def test_the_rasa_server_uses_the_handoff_aware_session_start():
    assert isinstance(action_for_name_or_text("action_session_start", Domain.load("domain.yml"), None),
                      session_start.HandoffAwareSessionStart)


def test_restart_closes_the_handoff_and_tells_staff(engine, slack):
    handoff = new_handoff(engine)
    assert support_desk.post_handoff(handoff) == support_desk.POSTED
    other = new_handoff(engine, sender="learner-2")
    events = run(ActionRestart(), session_tracker())
    assert [e["event"] for e in events] == ["restart"]
    assert status_of(engine, handoff.id)[:2] == (handoffs.CLOSED, handoffs.RESTARTED)
    thread = slack.posts(channel=SUPPORT, thread_ts=slack.posts(channel=SUPPORT)[0]["ts"])
    assert len(thread) == 1 and "restarted the conversation" in thread[0]["text"]
    assert status_of(engine, other.id)[0] == handoffs.PENDING  # another learner's handoff is untouched


def first_release_handoffs(database_url, open_handoffs):
    """The first release's handoffs table, with an open handoff for each (id, sender) given."""
    old = create_engine(database_url, future=True)
    with old.begin() as connection:
        connection.execute(text(
            "CREATE TABLE handoffs (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
            " status VARCHAR(10) NOT NULL, question TEXT NOT NULL, program TEXT, transcript TEXT NOT NULL,"
            " slack_channel VARCHAR(40),"
            " thread_ts VARCHAR(40), attempts INTEGER NOT NULL, last_error TEXT,"
            " created_at TIMESTAMP WITH TIME ZONE NOT NULL, closed_at TIMESTAMP WITH TIME ZONE)"))
        for handoff_id, sender in open_handoffs:
            connection.execute(text(
                "INSERT INTO handoffs (id, sender_id, status, question, transcript, attempts, created_at)"
                " VALUES (:id, :sender, 'open', 'old question', '', 1, CURRENT_TIMESTAMP)"),
                {"id": handoff_id, "sender": sender})
    old.dispose()


def test_a_handoffs_table_from_the_first_release_is_upgraded(database_url):
    first_release_handoffs(database_url, [(1, "old-learner")])
    engine = engine_for(database_url)
    assert handoffs.active_handoff_for("old-learner", engine=engine).question == "old question"
    columns = {column["name"] for column in inspect(engine).get_columns("handoffs")}
    assert {"claimed_at", "closed_reason"} <= columns
    assert "one_active_handoff_per_conversation" in {index["name"] for index in inspect(engine).get_indexes("handoffs")}
    with session_scope(engine) as session:
        assert session.execute(select(handoffs.HandoffRow.status)).scalar_one() == "open"


def test_servers_starting_together_create_the_handoffs_table_once(database_url):
    """Every server creates the handoff tables at start; six starting at once must all come up."""
    import subprocess
    import sys

    script = ("import sys; from core import handoffs; from core.db import engine_for;"
              " handoffs.active_handoff_for('nobody', engine=engine_for(sys.argv[1]))")
    starters = [subprocess.Popen([sys.executable, "-c", script, database_url], stderr=subprocess.PIPE, text=True)
                for _ in range(6)]
    problems = [starter.communicate(timeout=120)[1] for starter in starters if starter.wait(timeout=120) != 0]
    assert problems == []
    engine = engine_for(database_url)
    assert "one_active_handoff_per_conversation" in {index["name"] for index in inspect(engine).get_indexes("handoffs")}


def test_an_old_table_with_two_active_handoffs_for_one_learner_is_upgraded_without_the_index(database_url, caplog):
    """The unique index cannot be made over duplicates: the upgrade says so and the rest of it stays."""
    first_release_handoffs(database_url, [(1, "twice"), (2, "twice")])
    engine = engine_for(database_url)
    assert handoffs.active_handoff_for("twice", engine=engine).sender_id == "twice"
    assert "could not create the one-active-handoff index" in caplog.text
    columns = {column["name"] for column in inspect(engine).get_columns("handoffs")}
    assert {"claimed_at", "closed_reason"} <= columns
    indexes = {index["name"] for index in inspect(engine).get_indexes("handoffs")}
    assert "one_active_handoff_per_conversation" not in indexes


def test_learners_asking_at_once_cannot_pass_the_hourly_cap_together(engine):
    """Found by make abuse-drill: 40 learners asking for a person at once opened 12 handoffs under a cap
    of 10 (each counted the hour's handoffs, then opened its own)."""
    since, cap, outcomes = handoffs._now() - timedelta(hours=1), 5, []
    handoffs.open_handoff_unless_busy("already-waiting", "a person", None, "", since, cap, engine)
    start = threading.Barrier(20)

    def ask(number):
        start.wait()
        outcomes.append(handoffs.open_handoff_unless_busy(f"at-once-{number}", "a person please", None, "> hi",
                                                          since, cap, engine))

    threads = [threading.Thread(target=ask, args=(number,)) for number in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    opened = [handoff for handoff in outcomes if handoff is not None]
    assert len(outcomes) == 20 and len(opened) == cap - 1
    assert all(handoffs.handoff_by_id(handoff.id, engine).status == handoffs.PENDING for handoff in opened)
    again = handoffs.open_handoff_unless_busy("already-waiting", "a person", None, "", since, cap, engine)
    assert again is not None and again.sender_id == "already-waiting"  # a learner already waiting keeps theirs
    assert handoffs.open_handoff_unless_busy("later", "a person", None, "", since, cap, engine) is None
    assert handoffs.open_handoff_unless_busy("later", "a person", None, "", handoffs._now(), cap, engine)
