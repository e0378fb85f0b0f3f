"""The policies' debug lines: their arguments built only when the line will be written.

Rasa 3.6's MemoizationPolicy and RulePolicy pass deep copies of the conversation's states (and the
RulePolicy a formatted text of them) to `structlogger.debug(...)` on every prediction. Python builds
those arguments before structlog drops the line, so every prediction pays for copies nobody reads.
Rasa's structlog set-up drops a debug line unless the module's stdlib logger is enabled for DEBUG
(`structlog.stdlib.filter_by_level`); when it is, the copies are made exactly as Rasa makes them.

In those two modules `copy.deepcopy` and `format_tracker_states` are used only for debug lines
(tests/test_policy_debug.py reads the modules' source to keep it so).
"""

import copy
import logging
from typing import Any, List, Optional

from rasa.core.policies import memoization, rule_policy
from rasa.core.policies.policy import Policy


class CopiesForDebugLines:
    """Stands in for the `copy` module inside one of Rasa's policy modules."""

    def __init__(self, logger_name: str) -> None:
        self._logger = logging.getLogger(logger_name)

    def deepcopy(self, value: Any, memo: Optional[dict] = None) -> Any:
        if self._logger.isEnabledFor(logging.DEBUG):
            return copy.deepcopy(value, memo)
        return value  # the debug line it is for is dropped: nothing reads this

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _format_states_when_logged(states: List[dict]) -> str:
    if logging.getLogger(rule_policy.__name__).isEnabledFor(logging.DEBUG):
        return Policy.format_tracker_states(states)
    return ""


def install() -> None:
    memoization.copy = CopiesForDebugLines(memoization.__name__)
    rule_policy.copy = CopiesForDebugLines(rule_policy.__name__)
    rule_policy.RulePolicy.format_tracker_states = staticmethod(_format_states_when_logged)
