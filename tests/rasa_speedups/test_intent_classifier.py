"""The intent classifier's weights in feature order (rasa_speedups/intent_classifier.py) give the same
probabilities as Rasa's classifier, and the loaded component gets them."""

import numpy as np
import pytest
import scipy.sparse as sparse
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from sklearn.linear_model import LogisticRegression

from rasa_speedups import intent_classifier


class Component:
    def __init__(self, clf):
        self.clf = clf


@pytest.fixture
def trained():
    generator = np.random.default_rng(7)
    features = sparse.random(300, 5000, density=0.01, format="csr", random_state=7)
    intents = generator.integers(0, 17, size=300)
    classifier = LogisticRegression(max_iter=200).fit(features, intents)
    classifier.coef_ = np.ascontiguousarray(classifier.coef_)  # as a saved model loads (skops)
    return classifier, features


def test_the_same_probabilities_from_weights_in_feature_order(trained):
    classifier, features = trained
    assert classifier.coef_.flags["C_CONTIGUOUS"] and not classifier.coef_.flags["F_CONTIGUOUS"]
    before = classifier.predict_proba(features)
    component = intent_classifier.laid_out_for_prediction(Component(classifier))
    assert component.clf.coef_.flags["F_CONTIGUOUS"]
    after = component.clf.predict_proba(features)
    assert np.abs(after - before).max() < 1e-12  # the same sums, added up in another order
    assert np.array_equal(after.argmax(axis=1), before.argmax(axis=1))


def test_a_component_without_a_trained_classifier_is_left_as_it_is():
    component = Component(LogisticRegression())
    assert intent_classifier.laid_out_for_prediction(component) is component
    assert not hasattr(component.clf, "coef_")


def test_installed_the_loaded_component_gets_its_weights_in_feature_order(trained, monkeypatch):
    classifier, _ = trained
    monkeypatch.setattr(intent_classifier, "rasas_load", lambda cls, *args, **kwargs: Component(classifier))
    monkeypatch.setattr(LogisticRegressionClassifier, "load", LogisticRegressionClassifier.load)
    intent_classifier.install()
    loaded = LogisticRegressionClassifier.load({}, None, None, None)
    assert loaded.clf is classifier and classifier.coef_.flags["F_CONTIGUOUS"]
