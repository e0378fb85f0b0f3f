"""The incremental SQL tracker store stores and publishes exactly what Rasa's own does, turn by turn,
without reading the conversation back; a conversation that moves between servers, or is erased, is
read correctly (SQLite files and Rasa's SQL event broker)."""

import asyncio
import itertools
import json

from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, event, text

from channels.tracker_store import IncrementalSQLTrackerStore
from tests.assistant import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))
TURNS = [("how much does the MITx SCM cost?", "$1,350 in total", "mitx-supply-chain-management"),
         ("and the credit?", "Yes: it counts", "mitx-supply-chain-management"),
         ("what about the columbia AI one?", "ColumbiaX Artificial Intelligence: ...", "columbiax-ai"),
         ("thanks", "You're welcome", "columbiax-ai")]


async def converse(servers, sender: str) -> None:
    """The turns, each read from a store, extended and saved as Rasa's processor does; with several
    stores (servers on one database), the conversation moves from one to the next at every turn."""
    stores = itertools.cycle(servers)
    tracker = await servers[0].get_or_create_tracker(sender)
    await servers[0].save(tracker)
    for question, answer, program in TURNS:
        store = next(stores)
        tracker = await store.retrieve(sender)
        tracker.update(UserUttered(question, intent={"name": "ask_cost", "confidence": 0.9}))
        tracker.update(SlotSet("program", program))
        tracker.update(ActionExecuted("action_answer"))
        tracker.update(BotUttered(answer))
        await store.save(tracker)
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)  # a second save of the same tracker in one turn adds only the new event


def events_of(tracker):
    return [(event.type_name, getattr(event, "text", None)) for event in tracker.events]


def stored_and_published(store_class, tmp_path, name):
    broker = SQLEventBroker(db=str(tmp_path / f"{name}-broker.db"))
    store = store_class(DOMAIN, host=f"sqlite:///{tmp_path / f'{name}.db'}", event_broker=broker)
    asyncio.run(converse([store], "learner-1"))
    tracker = asyncio.run(store.retrieve("learner-1"))
    engine = create_engine(f"sqlite:///{tmp_path / f'{name}-broker.db'}")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT data FROM events ORDER BY id")).all()
    published = [(json.loads(row.data)["event"], json.loads(row.data).get("text")) for row in rows]
    return events_of(tracker), published, tracker.get_slot("program")


def test_stores_and_publishes_each_event_once_like_rasas_store(tmp_path):
    ours = stored_and_published(IncrementalSQLTrackerStore, tmp_path, "ours")
    rasas = stored_and_published(SQLTrackerStore, tmp_path, "rasas")
    stored, published, program = ours
    assert stored == published  # every stored event published once, in order
    assert [kind for kind, _ in stored].count("user") == len(TURNS)
    assert [said for kind, said in stored if kind == "bot"] == [answer for _, answer, _ in TURNS]
    assert program == "columbiax-ai"
    assert ours == rasas


def test_a_conversation_moving_between_servers_reads_what_the_other_server_added(database_url):
    """On SQLite and on PostgreSQL (the cluster's), whose insert returns the new ids differently."""
    url = database_url
    first, second = IncrementalSQLTrackerStore(DOMAIN, host=url), IncrementalSQLTrackerStore(DOMAIN, host=url)
    asyncio.run(converse([first, second], "learner-2"))
    fresh = asyncio.run(SQLTrackerStore(DOMAIN, host=url).retrieve("learner-2"))
    for server in (first, second):  # each has a tracker from memory, caught up with the other's turns
        tracker = asyncio.run(server.retrieve("learner-2"))
        assert events_of(tracker) == events_of(fresh)
        assert tracker.get_slot("program") == "columbiax-ai"
        asyncio.run(server.save(tracker))
    assert [kind for kind, _ in events_of(fresh)].count("user") == len(TURNS)


def test_a_new_conversation_is_looked_for_once_and_its_empty_first_save_asks_nothing(database_url):
    """Rasa's processor creates a new conversation's tracker without events and saves it: one query to
    find nothing stored, none for the save; its first turn is then stored and read back as Rasa's."""
    store = IncrementalSQLTrackerStore(DOMAIN, host=database_url)
    statements = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    tracker = asyncio.run(store.get_or_create_tracker("learner-new", append_action_listen=False))
    assert len(tracker.events) == 0 and len(statements) == 1 and statements[0].lstrip().startswith("SELECT")
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("how much does the MITx SCM cost?", intent={"name": "ask_cost", "confidence": 0.9}))
    asyncio.run(store.save(tracker))
    asyncio.run(converse([store], "learner-new"))  # the turns after it, from memory and caught up
    fresh = asyncio.run(SQLTrackerStore(DOMAIN, host=database_url).retrieve("learner-new"))
    assert events_of(asyncio.run(store.retrieve("learner-new"))) == events_of(fresh)


def test_an_erased_conversation_is_not_served_from_memory(database_url):
    store = IncrementalSQLTrackerStore(DOMAIN, host=database_url)
    asyncio.run(converse([store], "learner-3"))
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM events WHERE sender_id = 'learner-3'"))
    engine.dispose()
    assert asyncio.run(store.retrieve("learner-3")) is None


def test_a_long_conversation_keeps_a_window_of_events_and_stores_them_all(database_url, monkeypatch):
    monkeypatch.setenv("TRACKER_EVENT_WINDOW", "50")
    store = IncrementalSQLTrackerStore(DOMAIN, host=database_url)
    for _ in range(6):  # 24 turns, about 150 events
        asyncio.run(converse([store], "learner-4"))
    tracker = asyncio.run(store.retrieve("learner-4"))
    everything = asyncio.run(SQLTrackerStore(DOMAIN, host=database_url).retrieve("learner-4"))
    assert len(tracker.events) == 50 < len(everything.events)
    assert events_of(tracker) == events_of(everything)[-50:]
    assert [kind for kind, _ in events_of(everything)].count("user") == 6 * len(TURNS)
    assert tracker.get_slot("program") == everything.get_slot("program") == "columbiax-ai"


class RecordingBroker(EventBroker):
    """An event broker that keeps what it is given."""

    def __init__(self) -> None:
        self.published = []

    def publish(self, event, headers=None) -> None:
        self.published.append(event)


def test_each_published_event_carries_the_id_it_was_stored_under(database_url):
    broker = RecordingBroker()
    store = IncrementalSQLTrackerStore(DOMAIN, host=database_url, event_broker=broker)
    asyncio.run(converse([store], "learner-5"))
    asyncio.run(converse([store], "learner-6"))
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, sender_id, data FROM events ORDER BY id")).all()
    engine.dispose()
    assert len(rows) > 2 * 4 * len(TURNS)
    assert [(event["event_id"], event["sender_id"], event["event"]) for event in broker.published] == [
        (row.id, row.sender_id, json.loads(row.data)["event"]) for row in rows]


def test_the_sqlite_conversation_store_writes_ahead_and_still_syncs_every_commit(tmp_path):
    url = f"sqlite:///{tmp_path / 'conversations.db'}"
    store = IncrementalSQLTrackerStore(DOMAIN, host=url)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    asyncio.run(store.save(DialogueStateTracker.from_events("learner-wal", [UserUttered("hello")])))
    rasas_own = SQLTrackerStore(DOMAIN, host=url)  # another process's view of the same file
    assert [event.text for event in asyncio.run(rasas_own.retrieve("learner-wal")).events
            if isinstance(event, UserUttered)] == ["hello"]


def test_a_conversation_id_the_database_cannot_store_fails_that_call_and_the_store_goes_on(database_url):
    """Rasa's own store exited the process here (it took the encoding error for a missing schema)."""
    store = IncrementalSQLTrackerStore(DOMAIN, url=database_url)
    for sender in ("x\ud800", "x\x00y"):
        tracker = DialogueStateTracker(sender, DOMAIN.slots)
        tracker.update(UserUttered("hi"))
        for call in (store.retrieve_full_tracker(sender), store.save(tracker), store.get_or_create_tracker(sender)):
            try:
                asyncio.run(call)
            except SystemExit:  # pragma: no cover - the failure this test is for
                raise AssertionError(f"the tracker store ended the process for {sender!r}") from None
            except Exception:  # an error for this call is what is expected (SQLite does take a NUL)
                pass
    asyncio.run(converse([store], "learner-after-bad-ids"))
    assert len(events_of(asyncio.run(store.retrieve("learner-after-bad-ids")))) > 0
