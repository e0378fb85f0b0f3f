"""The intent classifier's input: sentence features built without copying every feature matrix, and
per-token features only when something reads them.

Rasa 3.6's `LogisticRegressionClassifier._create_X` asks each message for its combined sparse features
(`Message.get_sparse_features`), which deep-copies and stacks the per-token sequence features as well as
the sentence features, then stacks the sentence features with an empty dense matrix, and the rows into
one matrix, through scipy's general `hstack`/`vstack`. For one learner message that was about a
twentieth of the Rasa server's CPU per reply, more than the classification itself.

Here each message's row is put together from its sparse sentence features alone, in the order Rasa
combines them (the order of `message.features`, the pipeline's featurizers in turn), with the same
columns and values (float64, as Rasa's stacking with the empty dense matrix makes them). A message
with dense features (not in this project's pipeline) goes through Rasa's own code.
`tests/rasa_speedups/test_graph_runner.py` checks the two give the same matrix.

Rasa's count-vector featurizers also compute, for every message, a matrix of per-token (sequence)
features: each token vectorised on its own, about half of their work. In this project's pipeline
nothing reads them (the classifier takes sentence features; there is no entity extractor or DIET).
Here they are computed the first time something reads them, from the same vectoriser and tokens, so a
pipeline that does use them gets the same values; copied or pickled, they are plain `Features`.
The test checks the features and the parses are Rasa's. Installed by `rasa_speedups.install()`.
Replaces: `rasa.nlu.classifiers.logistic_regression_classifier:LogisticRegressionClassifier._create_X` and
`rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer:CountVectorsFeaturizer.process` (checked
against Rasa 3.6.21).
"""

from typing import List, Optional

import numpy
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import coo_matrix, csr_matrix
from sklearn.feature_extraction.text import CountVectorizer

REPLACES = {
    "rasa.nlu.classifiers.logistic_regression_classifier:LogisticRegressionClassifier._create_X": {
        "signature": "(self, messages: List[rasa.shared.nlu.training_data.message.Message]) -> scipy.sparse._csr.csr_matrix",  # noqa: E501 - as Rasa writes it
        "sha256": "6f50b5eef8a879c4831f2062655abbc8a614391380875bdbcef02a42edb83292",
    },
    "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer:CountVectorsFeaturizer.process": {
        "signature": "(self, messages: 'List[Message]') -> 'List[Message]'",
        "sha256": "95cd0baaa70c8983388c8c5adb406b882a03f22edd56aa9d966d5fce397d2613",
    },
}

_rasas_create_X = LogisticRegressionClassifier._create_X
_rasas_process = CountVectorsFeaturizer.process


class DeferredSequenceFeatures(Features):
    """A count vectoriser's per-token features of one message, computed when first read, as Rasa does."""

    def __init__(self, vectorizer: CountVectorizer, tokens: List[str], attribute: str, origin: str) -> None:
        self._vectorizer, self._tokens, self._matrix = vectorizer, tokens, None
        super().__init__(None, FEATURE_TYPE_SEQUENCE, attribute, origin)

    @property
    def features(self) -> coo_matrix:
        if self._matrix is None:
            matrix = self._vectorizer.transform(self._tokens)
            matrix.sort_indices()
            self._matrix, self._vectorizer, self._tokens = matrix.tocoo(), None, None
        return self._matrix

    @features.setter
    def features(self, matrix: Optional[coo_matrix]) -> None:
        if matrix is not None:  # Features.__init__ sets None; combining with other features sets a matrix
            self._matrix = matrix

    def is_sparse(self) -> bool:
        return True

    def is_dense(self) -> bool:
        return False

    def __reduce__(self):
        return Features, (self.features, self.type, self.attribute, self.origin)


def featurize(featurizer: CountVectorsFeaturizer, messages: List[Message]) -> List[Message]:
    """Rasa's `CountVectorsFeaturizer.process`, with the sequence features deferred."""
    if featurizer.vectorizers is None:
        return _rasas_process(featurizer, messages)  # Rasa logs that it is untrained
    for message in messages:
        for attribute in featurizer._attributes:
            tokens = featurizer._get_processed_message_tokens_by_attribute(message, attribute)
            vectorizer = featurizer.vectorizers.get(attribute)
            if not vectorizer or not tokens:
                continue
            message.add_features(DeferredSequenceFeatures(vectorizer, tokens, attribute, featurizer._identifier))
            if attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
                sentence = vectorizer.transform([" ".join(tokens)])
                sentence.sort_indices()
                message.add_features(Features(sentence.tocoo(), FEATURE_TYPE_SENTENCE, attribute,
                                              featurizer._identifier))
    return messages


def sentence_matrix(messages: List[Message]) -> csr_matrix:
    """One row per message: its sparse sentence features side by side, as a float64 CSR matrix."""
    indices, values, indptr, width = [], [], [0], None
    for message in messages:
        offset, row_indices, row_values = 0, [], []
        for features in message.features:
            if features.attribute != TEXT or features.type != FEATURE_TYPE_SENTENCE or not features.is_sparse():
                continue
            part = features.features.tocsr()
            row_indices.append(part.indices + offset)
            row_values.append(part.data)
            offset += part.shape[1]
        if width not in (None, offset):
            raise ValueError(f"messages with {width} and {offset} sentence feature columns cannot be stacked")
        width = offset
        indices += row_indices
        values += row_values
        indptr.append(indptr[-1] + sum(len(part) for part in row_indices))
    return csr_matrix((numpy.concatenate(values or [[]]).astype(numpy.float64),
                       numpy.concatenate(indices or [[]]).astype(numpy.int32), indptr),
                      shape=(len(messages), width or 0))


def install() -> None:
    def create_x(self, messages: List[Message]) -> csr_matrix:
        if not messages or any(features.is_dense() for message in messages for features in message.features
                               if features.attribute == TEXT and features.type == FEATURE_TYPE_SENTENCE):
            return _rasas_create_X(self, messages)
        return sentence_matrix(messages)

    LogisticRegressionClassifier._create_X = create_x
    CountVectorsFeaturizer.process = featurize
