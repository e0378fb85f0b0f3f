"""Debug lines' arguments (rasa_speedups/debug_copies.py): built as Rasa builds them when the debug line is
written, skipped when it is dropped, and Rasa's modules use them for nothing else."""

import ast
import copy
import inspect
import logging
from typing import Dict, List

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.policies import memoization, rule_policy
from rasa.core.policies.policy import Policy
from rasa.engine import loader
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_speedups import debug_copies
from rasa_speedups.graph_runner import OrderedGraphRunner
from tests.assistant import train_model

pytestmark = pytest.mark.e2e  # starts a server or needs the trained model: not in make test-fast

MESSAGE, TRACKER = "__message__", "__tracker__"  # Rasa's graph placeholders
STATES = [{"user": {"intent": "ask_cost"}, "prev_action": {"action_name": "action_listen"}},
          {"slots": {"program": (1.0,)}, "prev_action": {"action_name": "action_answer_question"}}]


@pytest.fixture
def log_level():
    """Sets the modules' stdlib log level (setLevel: it also clears the loggers' caches)."""
    loggers = [logging.getLogger(module.__name__) for module in debug_copies.MODULES]
    levels = [logger.level for logger in loggers]

    def set_level(level: int) -> None:
        for logger in loggers:
            logger.setLevel(level)

    yield set_level
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def _is_debug_call(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "debug"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "structlogger")


def _inside_debug_calls(tree: ast.AST) -> set:
    return {id(inner) for node in ast.walk(tree) if _is_debug_call(node) for inner in ast.walk(node)}


@pytest.mark.parametrize("module", debug_copies.MODULES, ids=lambda module: module.__name__)
def test_the_modules_use_copies_and_formatted_states_only_in_debug_lines(module):
    """If a later Rasa used a deep copy or the formatted states for anything else, this fails."""
    tree = ast.parse(inspect.getsource(module))
    in_debug = _inside_debug_calls(tree)
    copies = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute)
              and isinstance(node.value, ast.Name) and node.value.id == "copy"]
    assert copies and all(id(node) in in_debug for node in copies)
    for function in (node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)):
        formatted = {target.id for node in ast.walk(function) if isinstance(node, ast.Assign)
                     and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute)
                     and node.value.func.attr == "format_tracker_states" for target in node.targets}
        uses = [node for node in ast.walk(function) if isinstance(node, ast.Name) and node.id in formatted
                and isinstance(node.ctx, ast.Load)]
        assert all(id(node) in in_debug for node in uses), function.name


def test_a_dropped_debug_line_gets_no_copy_and_a_written_one_gets_rasas(log_level):
    copies = debug_copies.CopiesForDebugLines(rule_policy.__name__)
    log_level(logging.INFO)
    assert copies.deepcopy(STATES) is STATES
    assert debug_copies._format_states_when_logged(STATES) == ""
    log_level(logging.DEBUG)
    copied = copies.deepcopy(STATES)
    assert copied == STATES and copied is not STATES and copied[0]["user"] is not STATES[0]["user"]
    assert debug_copies._format_states_when_logged(STATES) == Policy.format_tracker_states(STATES) != ""
    assert copies.copy is copy.copy  # the rest of the copy module is the copy module


class DebugLines:
    """Stands in for a policy module's structlogger: records the debug lines' arguments."""

    def __init__(self, real) -> None:
        self.real, self.lines = real, []

    def debug(self, event: str, **arguments) -> None:
        self.lines.append((event, arguments))

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture(scope="module")
def model_runner(tmp_path_factory):
    debug_copies.install()
    return loader.load_predict_graph_runner(tmp_path_factory.mktemp("debug_copies"), train_model(),
                                            LocalModelStorage, OrderedGraphRunner)


def predict_and_log(model_runner, monkeypatch) -> tuple:
    metadata, runner = model_runner
    recorders = {module: DebugLines(module.structlogger) for module in (memoization, rule_policy)}
    for module, recorder in recorders.items():
        monkeypatch.setattr(module, "structlogger", recorder)
    domain = metadata.domain
    tracker = DialogueStateTracker.from_events("someone", [ActionExecuted(ACTION_LISTEN_NAME)], domain.slots)
    question = UserMessage("how much does the MITx supply chain micromasters cost?")
    parsed = runner.run(inputs={MESSAGE: [question]}, targets=[metadata.nlu_target])
    message = parsed[metadata.nlu_target][0].as_dict(only_output_properties=True)
    tracker.update(UserUttered(message["text"], message["intent"], message.get("entities", []), parse_data=message))
    prediction = runner.run(inputs={TRACKER: tracker}, targets=[metadata.core_target])[metadata.core_target]
    lines: Dict[str, List[dict]] = {}
    for recorder in recorders.values():
        for event, arguments in recorder.lines:
            lines.setdefault(event, []).append(arguments)
    return (prediction.policy_name, tuple(prediction.probabilities)), lines


def test_the_policies_log_rasas_states_when_debug_is_on_and_predict_the_same_either_way(
        model_runner, monkeypatch, log_level):
    log_level(logging.DEBUG)
    prediction_logged, logged = predict_and_log(model_runner, monkeypatch)
    assert any("user intent: ask_cost" in line["current_states"] for line in logged["rule_policy.actions.find"])
    assert any(line["tracker_states"][-1]["user"].get("intent") == "ask_cost"
               for line in logged["memoization.predict.actions"])
    log_level(logging.INFO)
    prediction_dropped, dropped = predict_and_log(model_runner, monkeypatch)
    assert {line["current_states"] for line in dropped["rule_policy.actions.find"]} == {""}  # a dropped line
    assert prediction_dropped == prediction_logged
