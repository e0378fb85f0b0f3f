"""The incremental SQL tracker store stores and publishes exactly what Rasa's own does, turn by turn,
without reading the conversation back (SQLite files and Rasa's SQL event broker)."""

import asyncio
import json

from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from sqlalchemy import create_engine, text

from channels.tracker_store import IncrementalSQLTrackerStore
from tests.assistant import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))
TURNS = [("how much does the MITx SCM cost?", "$1,350 in total"), ("and the credit?", "Yes: it counts"),
         ("thanks", "You're welcome")]


async def converse(store, sender: str) -> None:
    """Three turns, each read from the store, extended and saved, as Rasa's processor does."""
    tracker = await store.get_or_create_tracker(sender)
    await store.save(tracker)
    for question, answer in TURNS:
        tracker = await store.retrieve(sender)
        tracker.update(UserUttered(question, intent={"name": "ask_cost", "confidence": 0.9}))
        tracker.update(SlotSet("program", "mitx-supply-chain-management"))
        tracker.update(ActionExecuted("action_answer"))
        tracker.update(BotUttered(answer))
        await store.save(tracker)
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)  # a second save of the same tracker in one turn adds only the new event


def stored_and_published(store_class, tmp_path, name):
    broker = SQLEventBroker(db=str(tmp_path / f"{name}-broker.db"))
    store = store_class(DOMAIN, host=f"sqlite:///{tmp_path / f'{name}.db'}", event_broker=broker)
    asyncio.run(converse(store, "learner-1"))
    tracker = asyncio.run(store.retrieve("learner-1"))
    stored = [(event.type_name, getattr(event, "text", None)) for event in tracker.events]
    engine = create_engine(f"sqlite:///{tmp_path / f'{name}-broker.db'}")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT data FROM events ORDER BY id")).all()
    published = [(json.loads(row.data)["event"], json.loads(row.data).get("text")) for row in rows]
    return stored, published, tracker.get_slot("program")


def test_stores_and_publishes_each_event_once_like_rasas_store(tmp_path):
    ours = stored_and_published(IncrementalSQLTrackerStore, tmp_path, "ours")
    rasas = stored_and_published(SQLTrackerStore, tmp_path, "rasas")
    stored, published, program = ours
    assert stored == published  # every stored event published once, in order
    assert [kind for kind, _ in stored].count("user") == len(TURNS)
    assert [said for kind, said in stored if kind == "bot"] == [answer for _, answer in TURNS]
    assert program == "mitx-supply-chain-management"
    assert ours == rasas
