"""The policies' states from a tracker's kept replay are Rasa's: for the project's stories and rules, and
for random conversations (slots that influence the conversation, a form, rule-only turns, follow-up
actions, undos, restarts, new sessions, a window that moves on) on a richer domain, asked after every
event as the Rasa server asks, with every setting of Rasa's filters."""

import copy
import pickle
import random

import pytest
from rasa.core.training import load_data
from rasa.shared.core.constants import ACTION_LISTEN_NAME, RULE_ONLY_LOOPS, RULE_ONLY_SLOTS, USER
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_speedups import dialogue_states
from tests.assistant import PROJECT_ROOT

RICHER_DOMAIN = """
version: "3.1"
intents: [greet, ask_cost, ask_credit, inform, deny, stop]
entities: [program]
slots:
  program:
    type: categorical
    values: [supply chain, ai, finance]
    mappings: [{type: from_entity, entity: program}]
  confirmed:
    type: bool
    mappings: [{type: custom}]
  budget:
    type: float
    min_value: 0
    max_value: 2000
    mappings: [{type: custom}]
  name:
    type: text
    mappings: [{type: custom}]
forms:
  program_form:
    required_slots: [program]
responses:
  utter_greet: [{text: "hi"}]
  utter_cost: [{text: "cost"}]
  utter_ask_program: [{text: "which?"}]
actions: [action_answer, action_lookup]
"""
RULE_ONLY = {RULE_ONLY_SLOTS: ["confirmed"], RULE_ONLY_LOOPS: ["program_form"]}
SETTINGS = [dict(ignore_rule_only_turns=ignore, rule_only_data=data)
            for ignore in (False, True) for data in (None, RULE_ONLY)]


def rasas(domain, tracker, **settings):
    return dialogue_states._rasas_states_for_tracker_history(domain, tracker, **settings)


def ours(domain, tracker, **settings):
    return dialogue_states.states_for_tracker_history(domain, tracker, **settings)


def assert_same_after_every_event(domain, events, max_event_history=None):
    """Events added one by one to one tracker (as the Rasa server does), compared after each."""
    tracker = DialogueStateTracker.from_events("learner", [], domain.slots, max_event_history=max_event_history)
    for count, event in enumerate(events, start=1):
        tracker.update(event, domain)
        for settings in SETTINGS:
            expected, got = rasas(domain, tracker, **settings), ours(domain, tracker, **settings)
            assert got == expected, (count, event, settings)
            for state in got:  # what a caller does to its states does not reach the next caller
                state.pop(USER, None)
                state.clear()


def random_events(domain, rng, count):
    actions = [ACTION_LISTEN_NAME, "action_answer", "action_lookup", "utter_greet", "utter_cost", "program_form",
               "action_restart"]
    events = [ActionExecuted(ACTION_LISTEN_NAME)]
    for _ in range(count):
        roll = rng.random()
        if roll < 0.3:
            entities = [{"entity": "program", "value": rng.choice(["ai", "finance"])}] if rng.random() < 0.4 else []
            events.append(UserUttered(rng.choice(["hi", "cost?", "x"]),
                                      {"name": rng.choice(domain.intents), "confidence": 1.0}, entities))
        elif roll < 0.6:
            events.append(ActionExecuted(rng.choice(actions), hide_rule_turn=rng.random() < 0.3))
        elif roll < 0.7:
            slot = rng.choice(["program", "confirmed", "budget", "name"])
            value = {"program": rng.choice(["ai", "supply chain", None]), "confirmed": rng.choice([True, False]),
                     "budget": rng.choice([0, 900.5, 5000]), "name": rng.choice(["Ann", None])}[slot]
            events.append(SlotSet(slot, value))
        elif roll < 0.76:
            events.append(ActiveLoop(rng.choice(["program_form", None])))
        elif roll < 0.8:
            events.append(FollowupAction(rng.choice(["action_answer", "utter_greet"])))
        elif roll < 0.84:
            events.append(BotUttered("text"))
        elif roll < 0.88:
            events.append(UserUtteranceReverted())
        elif roll < 0.92:
            events.append(ActionReverted())
        elif roll < 0.95:
            events.append(Restarted())
        else:
            events.append(SessionStarted())
    return events


def test_the_projects_stories_and_rules_give_rasas_states():
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    trackers = load_data(str(PROJECT_ROOT / "data"), domain, augmentation_factor=0)
    assert len(trackers) > 10
    for tracker in trackers:
        assert_same_after_every_event(domain, list(tracker.events))


@pytest.mark.parametrize("seed", range(40))
def test_random_conversations_give_rasas_states(seed):
    domain = Domain.from_yaml(RICHER_DOMAIN)
    rng = random.Random(seed)
    assert_same_after_every_event(domain, random_events(domain, rng, 60),
                                  max_event_history=rng.choice([None, None, 12]))


def test_a_tracker_replays_only_new_events_and_a_copy_starts_afresh():
    domain = Domain.from_yaml(RICHER_DOMAIN)
    tracker = DialogueStateTracker.from_events("learner", random_events(domain, random.Random(7), 30), domain.slots)
    ours(domain, tracker)
    replay = getattr(tracker, dialogue_states.REPLAY)
    replayed_before = len(replay.applied)
    tracker.update(UserUttered("hi", {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_greet"))
    assert ours(domain, tracker) == rasas(domain, tracker)
    assert getattr(tracker, dialogue_states.REPLAY) is replay and len(replay.applied) == replayed_before + 2
    assert getattr(copy.deepcopy(tracker), dialogue_states.REPLAY) is None
    assert getattr(pickle.loads(pickle.dumps(tracker)), dialogue_states.REPLAY) is None
    other_domain = Domain.from_yaml(RICHER_DOMAIN)
    assert ours(other_domain, tracker) == rasas(other_domain, tracker)
    assert getattr(tracker, dialogue_states.REPLAY).domain is other_domain


def test_leaving_out_unset_slots_is_rasas_own():
    domain = Domain.from_yaml(RICHER_DOMAIN)
    tracker = DialogueStateTracker.from_events("learner", random_events(domain, random.Random(3), 30), domain.slots)
    assert ours(domain, tracker, omit_unset_slots=True) == rasas(domain, tracker, omit_unset_slots=True)
    assert getattr(tracker, dialogue_states.REPLAY, None) is None
