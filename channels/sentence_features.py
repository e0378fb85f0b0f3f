"""The logistic regression classifier's input built without copying every feature matrix.

Rasa 3.6's `LogisticRegressionClassifier._create_X` asks each message for its combined sparse features
(`Message.get_sparse_features`), which deep-copies and stacks the per-token sequence features as well as
the sentence features, then stacks the sentence features with an empty dense matrix, and the rows into
one matrix, through scipy's general `hstack`/`vstack`. For one learner message that was about a
twentieth of the Rasa server's CPU per reply, more than the classification itself.

Here each message's row is put together from its sparse sentence features alone, in the order Rasa
combines them (the order of `message.features`, the pipeline's featurizers in turn), with the same
columns and values (float64, as Rasa's stacking with the empty dense matrix makes them). A message
with dense features (not in this project's pipeline) goes through Rasa's own code.
`tests/test_graph_runner.py` checks the two give the same matrix. Installed by `channels/__init__.py`.
"""

from typing import List

import numpy
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix

_rasas_create_X = LogisticRegressionClassifier._create_X


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
