"""The policies' view of a conversation (Rasa's "states"), replayed once per event instead of per call.

Rasa 3.6's policies see a conversation as states, one per action taken: what the learner said last, the
slots, the previous action, the active loop. `Domain.states_for_tracker_history` builds them by replaying
every applied event into a fresh tracker, for each policy at each prediction: five replays of the whole
window a turn with this project's Memoization and Rule policies (the rule policy asks twice, with the
learner's text and with the intent). Profiled under load, that was about a seventh of the Rasa server's
CPU per reply, and the part that grows with the conversation.

Here a tracker keeps its replay: the replayed tracker, the events it has applied, and each action's
state as Rasa's `get_active_state` gives it. The next call replays only the events added since, as long
as the earlier applied events are still the same ones (after an undo, a restart, a new session or the
window moving on, it replays from the start, as Rasa does). Each call then filters copies of these
states as Rasa does (turns only rules know, rule-only slots and loops), so a caller may change what it
gets. Calls asking to leave out unset slots (training, not serving) go to Rasa's own code.
`tests/rasa_speedups/test_dialogue_states.py` compares the result with Rasa's for every story and rule in data/ and
for random conversations. Installed by `rasa_speedups.install()`.
Replaces: `rasa.shared.core.domain:Domain.states_for_tracker_history` (checked against Rasa 3.6.21).
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

REPLACES = {
    "rasa.shared.core.domain:Domain.states_for_tracker_history": {
        "signature": "(self, tracker: 'DialogueStateTracker', omit_unset_slots: bool = False, ignore_rule_only_turns: bool = False, rule_only_data: Optional[Dict[str, Any]] = None) -> List[Dict[str, MutableMapping[str, Union[str, Tuple[Union[float, str], ...]]]]]",  # noqa: E501 - as Rasa writes it
        "sha256": "035111ce73ac90ba50e143abf556f924af07d9f452893f5a96a62895d44df8b7",
    },
}

_rasas_states_for_tracker_history = Domain.states_for_tracker_history
REPLAY = "_replayed_states"


@dataclass(frozen=True)
class Step:
    """What Rasa's loop reads from the replayed tracker before one action (or at the end)."""

    state: State
    previous_action: Optional[Dict[str, Any]]
    hide_rule_turn: bool
    may_hide: bool  # neither a follow-up action nor the active loop's own action: the turn's hiding applies


@dataclass
class Replay:
    domain: Domain
    tracker: DialogueStateTracker
    applied: List[Event] = field(default_factory=list)
    steps: List[Step] = field(default_factory=list)

    def __deepcopy__(self, memo: dict) -> None:
        return None  # a copied tracker replays afresh

    def __reduce__(self):
        return type(None), ()


def step(domain: Domain, replayed: DialogueStateTracker, hide_rule_turn: bool) -> Step:
    previous_action = domain._get_prev_action_sub_state(replayed)
    return Step(domain.get_active_state(replayed), dict(previous_action) if previous_action else previous_action,
                hide_rule_turn,
                not replayed.followup_action and not replayed.latest_action_name == replayed.active_loop_name)


def steps_of(tracker: DialogueStateTracker, domain: Domain) -> List[Step]:
    """A step per action in the tracker's applied events and one for its present, replaying only new events."""
    applied = tracker.applied_events()
    replay = getattr(tracker, REPLAY, None)
    if (replay is None or replay.domain is not domain or len(replay.applied) > len(applied)
            or any(old is not new for old, new in zip(replay.applied, applied, strict=False))):
        replay = Replay(domain, tracker.init_copy())
        setattr(tracker, REPLAY, replay)
    for event in applied[len(replay.applied):]:
        if isinstance(event, ActionExecuted):
            replay.steps.append(step(domain, replay.tracker, event.hide_rule_turn))
        replay.tracker.update(event)
    replay.applied = applied
    return [*replay.steps, step(domain, replay.tracker, False)]


def copied(state: State) -> State:
    return {key: dict(sub_state) for key, sub_state in state.items()}


def states_for_tracker_history(domain: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool = False,
                               ignore_rule_only_turns: bool = False,
                               rule_only_data: Optional[Dict[str, Any]] = None) -> List[State]:
    """Rasa's `Domain.states_for_tracker_history`, from the tracker's kept replay."""
    if omit_unset_slots:
        return _rasas_states_for_tracker_history(domain, tracker, omit_unset_slots, ignore_rule_only_turns,
                                                 rule_only_data)
    states: List[State] = []
    last_ml_action, turn_was_hidden = None, False
    for each in steps_of(tracker, domain):
        if ignore_rule_only_turns:
            if not turn_was_hidden:
                last_ml_action = each.previous_action
            if each.may_hide:
                turn_was_hidden = each.hide_rule_turn
            if turn_was_hidden:
                continue
        state = copied(each.state)
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, rule_only_data)
            if states:
                domain._substitute_rule_only_user_input(state, states[-1])
            if last_ml_action:
                state[PREVIOUS_ACTION] = dict(last_ml_action)
        states.append(domain._clean_state(state))
    return states


def install() -> None:
    Domain.states_for_tracker_history = states_for_tracker_history
