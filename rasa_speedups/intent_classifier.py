"""The intent classifier's weights laid out for the product it computes with them.

For every message, scikit-learn's logistic regression multiplies the message's sparse features (a few
hundred non-zero word and character n-grams) by its weights transposed, `coef_.T` (23,437 features by
17 intents here). The weights are stored intent by intent (C order), so each feature's 17 weights lie
23,437 numbers apart and every product touches memory all over the matrix: 0.6 ms a message, about a
tenth of the Rasa server's CPU per reply under load (py-spy). Stored feature by feature (Fortran
order: the same numbers), the product takes about 0.01 ms. So the loaded classifier's weights are
copied once into that order; its probabilities change only by float rounding (under 1e-12: the same
sums, added up in another order).
Replaces: `rasa.nlu.classifiers.logistic_regression_classifier:LogisticRegressionClassifier.load`,
wrapped (checked against Rasa 3.6.21); relies on scikit-learn 1.1's
`sklearn.linear_model._base:LinearClassifierMixin.decision_function` multiplying by `coef_.T`.
"""

import numpy as np
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

REPLACES = {
    "rasa.nlu.classifiers.logistic_regression_classifier:LogisticRegressionClassifier.load": {
        "signature": "(cls, config: Dict[str, Any], model_storage: rasa.engine.storage.storage.ModelStorage, "
                     "resource: rasa.engine.storage.resource.Resource, execution_context: "
                     "rasa.engine.graph.ExecutionContext, **kwargs: Any) -> 'LogisticRegressionClassifier'",
        "sha256": "2d8ec27bf0582219b32a8d798bfd0c17e793440668fc48d8bb360a17b800e7bb",
    },
    "sklearn.linear_model._base:LinearClassifierMixin.decision_function": {
        "signature": "(self, X)",
        "sha256": "015d634f8cbad9d90d6a4452f5d0892dc29518e03cc063c09f87dba549242518",
    },
}

rasas_load = LogisticRegressionClassifier.load.__func__


def laid_out_for_prediction(component: LogisticRegressionClassifier) -> LogisticRegressionClassifier:
    classifier = getattr(component, "clf", None)
    weights = getattr(classifier, "coef_", None)
    if isinstance(weights, np.ndarray) and not weights.flags["F_CONTIGUOUS"]:
        classifier.coef_ = np.asfortranarray(weights)
    return component


def load(cls, *args, **kwargs) -> LogisticRegressionClassifier:
    return laid_out_for_prediction(rasas_load(cls, *args, **kwargs))


def install() -> None:
    LogisticRegressionClassifier.load = classmethod(load)
