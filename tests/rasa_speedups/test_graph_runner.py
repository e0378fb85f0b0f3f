"""The Rasa server's cheaper model runs give what Rasa's own give: the ordered graph runner against
Rasa's dask runner (intents, confidences, entities, the policies' predictions), and the classifier's
input built from the sentence features against Rasa's `_create_X`, and the featurizers' deferred per-token
features against Rasa's, on the project's trained model."""

import json
import os
import pickle
import subprocess
import sys
from typing import Tuple

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.engine import loader
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import FEATURE_TYPE_SEQUENCE
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message

from bench.measure import read_nlu_examples
from rasa_speedups import sentence_features
from rasa_speedups.graph_runner import OrderedGraphRunner
from tests.assistant import PROJECT_ROOT, train_model

pytestmark = pytest.mark.e2e  # starts a server or needs the trained model: not in make test-fast

MESSAGE, TRACKER = "__message__", "__tracker__"  # Rasa's graph placeholders
SAMPLE = [text for text, _intent in read_nlu_examples(PROJECT_ROOT / "data" / "nlu.yml")][::7]
SAMPLE += ["", "🙂", "how much does the MITx supply chain micromasters cost?", "x" * 400]


@pytest.fixture(scope="module")
def runners(tmp_path_factory):
    model = train_model()
    loaded = {}
    for runner_class in (DaskGraphRunner, OrderedGraphRunner):
        metadata, runner = loader.load_predict_graph_runner(
            tmp_path_factory.mktemp(runner_class.__name__), model, LocalModelStorage, runner_class)
        loaded[runner_class] = (metadata, runner)
    return loaded


def parse(metadata, runner, text: str) -> dict:
    results = runner.run(inputs={MESSAGE: [UserMessage(text)]}, targets=[metadata.nlu_target])
    return results[metadata.nlu_target][0].as_dict(only_output_properties=True)


def test_the_ordered_runner_parses_every_message_as_rasas_runner_does(runners):
    (dask_metadata, dask_runner), (metadata, runner) = runners[DaskGraphRunner], runners[OrderedGraphRunner]
    assert isinstance(runner, OrderedGraphRunner) and not isinstance(dask_runner, OrderedGraphRunner)
    assert len(SAMPLE) > 50
    for text in SAMPLE:
        assert parse(metadata, runner, text) == parse(dask_metadata, dask_runner, text), text


def test_the_ordered_runner_predicts_the_next_action_as_rasas_runner_does(runners):
    domain = runners[OrderedGraphRunner][0].domain
    predictions = {}
    for runner_class, (metadata, runner) in runners.items():
        tracker = DialogueStateTracker.from_events("someone", [ActionExecuted(ACTION_LISTEN_NAME)], domain.slots)
        chosen = []
        for text in ("hi", "how much does the MITx supply chain micromasters cost?", "thanks", "I want a person"):
            parsed = parse(metadata, runner, text)
            tracker.update(UserUttered(text, parsed["intent"], parsed.get("entities", []), parse_data=parsed))
            for _ in range(3):
                prediction = runner.run(inputs={TRACKER: tracker}, targets=[metadata.core_target])[
                    metadata.core_target]
                action = domain.action_names_or_texts[prediction.max_confidence_index]
                chosen.append((action, prediction.policy_name, tuple(prediction.probabilities)))
                tracker.update(ActionExecuted(action))
                if action == ACTION_LISTEN_NAME:
                    break
        predictions[runner_class] = chosen
    assert predictions[OrderedGraphRunner] == predictions[DaskGraphRunner]
    assert {action for action, _policy, _probabilities in predictions[DaskGraphRunner]} > {ACTION_LISTEN_NAME}


def test_an_input_named_like_a_node_is_refused(runners):
    metadata, runner = runners[OrderedGraphRunner]
    with pytest.raises(GraphRunError, match="clashes"):
        runner.run(inputs={MESSAGE: metadata.nlu_target}, targets=[metadata.nlu_target])


def test_the_classifiers_input_from_sentence_features_is_rasas(runners):
    metadata, runner = runners[DaskGraphRunner]
    featurized = [runner.run(inputs={MESSAGE: [UserMessage(text)]}, targets=["run_CountVectorsFeaturizer2"])[
        "run_CountVectorsFeaturizer2"][0] for text in SAMPLE]
    for batch in ([message] for message in featurized):
        ours, rasas = sentence_features.sentence_matrix(batch), sentence_features._rasas_create_X(None, batch)
        assert ours.shape == rasas.shape and ours.dtype == rasas.dtype
        assert (ours != rasas).nnz == 0
    ours, rasas = sentence_features.sentence_matrix(featurized), sentence_features._rasas_create_X(None, featurized)
    assert ours.shape == rasas.shape == (len(SAMPLE), rasas.shape[1]) and (ours != rasas).nnz == 0
    assert LogisticRegressionClassifier._create_X is not sentence_features._rasas_create_X  # installed


def featurized_both_ways(runner, text: str) -> Tuple[Message, Message]:
    """The message tokenised by the model, then featurised by its two count-vector featurizers with the
    project's `process` and with Rasa's."""
    featurizers = [runner._instantiated_nodes[f"run_CountVectorsFeaturizer{number}"]._component for number in (1, 2)]
    ours, rasas = (runner.run(inputs={MESSAGE: [UserMessage(text)]}, targets=["run_WhitespaceTokenizer0"])[
        "run_WhitespaceTokenizer0"][0] for _ in range(2))
    for featurizer in featurizers:
        sentence_features.featurize(featurizer, [ours])
        sentence_features._rasas_process(featurizer, [rasas])
    return ours, rasas


def test_per_token_features_are_rasas_when_read_and_not_computed_when_not(runners):
    metadata, runner = runners[OrderedGraphRunner]
    deferred = 0
    for text in SAMPLE:
        ours, rasas = featurized_both_ways(runner, text)
        assert len(ours.features) == len(rasas.features) and (ours.features or not text.strip()), text
        for our_features, rasas_features in zip(ours.features, rasas.features, strict=True):
            deferred += isinstance(our_features, sentence_features.DeferredSequenceFeatures)
            assert type(rasas_features) is Features
            assert (our_features.type, our_features.attribute, our_features.origin) == (
                rasas_features.type, rasas_features.attribute, rasas_features.origin)
            assert our_features.is_sparse() and rasas_features.is_sparse()
            assert our_features.features.shape == rasas_features.features.shape, text
            assert (our_features.features != rasas_features.features).nnz == 0, text
            assert our_features.fingerprint() == rasas_features.fingerprint()
    assert deferred >= len(SAMPLE)  # two featurizers, every message with a token

    results = runner.run(inputs={MESSAGE: [UserMessage("does the columbia AI micromasters count for credit?")]},
                         targets=[metadata.nlu_target, "run_CountVectorsFeaturizer2"])
    sequence = [features for features in results["run_CountVectorsFeaturizer2"][0].features
                if features.type == FEATURE_TYPE_SEQUENCE]
    assert len(sequence) == 2 and all(features._matrix is None for features in sequence)  # nothing read them
    assert results[metadata.nlu_target][0].get("intent")["name"] == "ask_credit"
    copied = pickle.loads(pickle.dumps(sequence[0]))
    assert type(copied) is Features and (copied.features != sequence[0].features).nnz == 0


def installed_in_a_fresh_process(speedups: str) -> dict:
    script = ("import json, channels\n"
              "from rasa.core import processor\n"
              "from rasa.core.actions import action\n"
              "from rasa.core.policies import memoization\n"
              "from rasa.core.actions.action import RemoteAction\n"
              "from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier as L\n"
              "from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer\n"
              "from rasa.shared.core.domain import Domain\n"
              "from rasa.utils.endpoints import EndpointConfig\n"
              "print(json.dumps({'runner': processor.DaskGraphRunner.__name__,\n"
              "                  'request': RemoteAction._action_call_format.__module__,\n"
              "                  'check': RemoteAction._validate_action_result.__module__,\n"
              "                  'classifier input': L._create_X.__module__,\n"
              "                  'featurizer': CountVectorsFeaturizer.process.__module__,\n"
              "                  'states': Domain.states_for_tracker_history.__module__,\n"
              "                  'connections': EndpointConfig.session.__module__,\n"
              "                  'debug copies': type(memoization.copy).__module__,\n"
              "                  'domain check': Domain.is_empty.__module__,\n"
              "                  'session start': action.ActionSessionStart.__module__,\n"
              "                  'bounded wait': getattr(RemoteAction.run, 'guarded', False)}))\n")
    result = subprocess.run([sys.executable, "-c", script], env={**os.environ, "RASA_SPEEDUPS": speedups},
                            capture_output=True, text=True, cwd=PROJECT_ROOT, check=True, timeout=300)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_rasa_speedups_off_leaves_rasa_as_shipped_but_the_bounded_wait_and_the_session_start():
    assert installed_in_a_fresh_process("on") == {
        "runner": "OrderedGraphRunner", "request": "rasa_speedups.action_request",
        "check": "rasa_speedups.action_response",
        "classifier input": "rasa_speedups.sentence_features", "featurizer": "rasa_speedups.sentence_features",
        "states": "rasa_speedups.dialogue_states",
        "connections": "rasa_speedups.endpoint_connections", "debug copies": "rasa_speedups.debug_copies",
        "domain check": "rasa_speedups.domain_checks",
        "session start": "channels.session_start", "bounded wait": True}
    assert installed_in_a_fresh_process("off") == {
        "runner": "DaskGraphRunner", "request": "rasa.core.actions.action", "check": "rasa.core.actions.action",
        "classifier input": "rasa.nlu.classifiers.logistic_regression_classifier",
        "featurizer": "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer",
        "states": "rasa.shared.core.domain",
        "connections": "rasa.utils.endpoints", "debug copies": "builtins", "domain check": "rasa.shared.core.domain",
        "session start": "channels.session_start", "bounded wait": True}
