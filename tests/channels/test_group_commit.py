"""Turns saved at the same moment share one transaction; a turn the database refuses fails alone; a save
whose learner left is still written; and the tracker store, on a real SQLite file, stores every turn of
many conversations saved at once with the ids their events were stored under."""

import asyncio
import threading

from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event, text

from channels.group_commit import GroupCommitWriter
from channels.tracker_store import LAST_EVENT_ID, IncrementalSQLTrackerStore
from tests.channels.test_tracker_store import DOMAIN


class RecordingDatabase:
    """Gives each row the next id; a transaction takes `seconds`; rows with "bad" make it fail whole."""

    def __init__(self, seconds: float = 0.02) -> None:
        self.transactions, self.next_id, self.seconds = [], 1, seconds
        self.lock = threading.Lock()

    def write_turns(self, turns):
        threading.Event().wait(self.seconds)
        with self.lock:
            if any("bad" in row for _, rows in turns for row in rows):
                raise ValueError("the database refused a row")
            self.transactions.append([sender for sender, _ in turns])
            ids = []
            for _, rows in turns:
                ids.append(list(range(self.next_id, self.next_id + len(rows))))
                self.next_id += len(rows)
            return ids


def test_turns_saved_together_share_transactions_and_each_gets_its_own_ids():
    database = RecordingDatabase()
    writer = GroupCommitWriter(database.write_turns)

    async def save_all():
        return await asyncio.gather(*(writer.write(f"learner-{n}", [{"n": n}, {"n": n}]) for n in range(50)))

    ids = asyncio.run(save_all())
    assert sorted(number for pair in ids for number in pair) == list(range(1, 101))
    assert all(len(pair) == 2 and pair[1] == pair[0] + 1 for pair in ids)
    assert sorted(sender for transaction in database.transactions for sender in transaction) == \
        sorted(f"learner-{n}" for n in range(50))
    assert len(database.transactions) <= 3  # not one each: those who came while one committed go together


def test_a_turn_the_database_refuses_fails_alone():
    database = RecordingDatabase()
    writer = GroupCommitWriter(database.write_turns)

    async def save_all():
        return await asyncio.gather(writer.write("first", [{}]), writer.write("good", [{}]),
                                    writer.write("bad", [{"bad": 1}]), writer.write("also-good", [{}]),
                                    return_exceptions=True)

    first, good, bad, also_good = asyncio.run(save_all())
    assert isinstance(bad, ValueError)
    assert [first, good, also_good] == [[1], [2], [3]]
    assert sorted(sender for transaction in database.transactions for sender in transaction) == \
        ["also-good", "first", "good"]


def test_a_save_whose_learner_left_is_still_written_with_the_others():
    database = RecordingDatabase(seconds=0.1)
    writer = GroupCommitWriter(database.write_turns)

    async def one_leaves():
        first = asyncio.ensure_future(writer.write("first", [{}]))
        await asyncio.sleep(0.01)
        leaving = asyncio.ensure_future(writer.write("leaving", [{}]))
        staying = asyncio.ensure_future(writer.write("staying", [{}]))
        await asyncio.sleep(0.01)
        leaving.cancel()
        return await first, await staying, leaving.cancelled()

    first, staying, cancelled = asyncio.run(one_leaves())
    assert cancelled and first == [1] and staying == [3]
    assert database.transactions == [["first"], ["leaving", "staying"]]


def test_the_store_writes_many_conversations_saved_at_once_in_fewer_commits(tmp_path):
    store = IncrementalSQLTrackerStore(DOMAIN, host=f"sqlite:///{tmp_path / 'conversations.db'}")
    commits = []
    event.listen(store.engine, "commit", lambda connection: commits.append(1))
    senders = [f"learner-{n}" for n in range(40)]

    async def turn(sender):
        tracker = DialogueStateTracker.from_events(sender, [UserUttered(f"question of {sender}"),
                                                            ActionExecuted("action_answer"),
                                                            BotUttered(f"answer to {sender}")])
        await store.save(tracker)
        return tracker

    async def everyone():
        return await asyncio.gather(*(turn(sender) for sender in senders))

    trackers = asyncio.run(everyone())
    assert len(commits) < len(senders)
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, sender_id, type_name, data FROM events ORDER BY id")).all()
    assert len(rows) == 3 * len(senders)
    for tracker in trackers:
        mine = [row for row in rows if row.sender_id == tracker.sender_id]
        assert [row.type_name for row in mine] == ["user", "action", "bot"]
        assert f"question of {tracker.sender_id}" in mine[0].data
        assert mine[-1].id == getattr(tracker, LAST_EVENT_ID)


def test_a_turn_the_database_refuses_fails_its_own_save_only(tmp_path):
    """A lone surrogate (in an intent name, here) cannot be written as UTF-8: that save raises, the
    others saved with it are stored."""
    store = IncrementalSQLTrackerStore(DOMAIN, host=f"sqlite:///{tmp_path / 'conversations.db'}")

    async def turn(sender, intent):
        assert await store.retrieve(sender) is None  # a new conversation, as Rasa's processor finds it
        await store.save(DialogueStateTracker.from_events(
            sender, [UserUttered("hello", intent={"name": intent, "confidence": 1.0})]))

    async def together():
        return await asyncio.gather(turn("before", "greet"), turn("refused", "greet\ud800"),
                                    turn("after", "greet"), turn("later", "greet"), return_exceptions=True)

    results = asyncio.run(together())
    assert isinstance(results[1], UnicodeEncodeError) and results[0] is results[2] is results[3] is None
    with store.engine.connect() as connection:
        stored = connection.execute(text("SELECT sender_id FROM events ORDER BY id")).scalars().all()
    assert sorted(stored) == ["after", "before", "later"]


def test_a_writer_used_from_a_new_event_loop_still_writes():
    database = RecordingDatabase(seconds=0.0)
    writer = GroupCommitWriter(database.write_turns)
    assert asyncio.run(writer.write("one", [{}])) == [1]
    assert asyncio.run(writer.write("two", [{}])) == [2]  # pytest and scripts run a loop per call
