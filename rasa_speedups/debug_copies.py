"""Debug lines' arguments on the hot path: built only when the line will be written.

Rasa 3.6's message processor, MemoizationPolicy and RulePolicy pass deep copies (of the turn's events,
the parse, the conversation's states) and the RulePolicy a formatted text of the states to
`structlogger.debug(...)` on every message and every prediction. Python builds those arguments before
structlog drops the line, so each turn pays for copies nobody reads. Rasa's structlog set-up drops a
debug line unless the module's stdlib logger is enabled for DEBUG (`structlog.stdlib.filter_by_level`);
when it is, the copies are made exactly as Rasa makes them.

In these modules `copy.*` and `format_tracker_states` are used only for debug lines
(tests/rasa_speedups/test_debug_copies.py reads the modules' source to keep it so).
Replaces: `copy` inside `rasa.core.processor`, `rasa.core.policies.memoization` and
`rasa.core.policies.rule_policy`, and `rasa.core.policies.policy:Policy.format_tracker_states` on the rule
policy (checked against Rasa 3.6.21).
"""

import copy
import logging
from typing import Any, List, Optional

from rasa.core import processor
from rasa.core.policies import memoization, rule_policy
from rasa.core.policies.policy import Policy

REPLACES = {
    "rasa.core.processor": {
        "signature": "",
        "sha256": "f42dfbf26e2ffcb66e08cf4180d1de1cce2a8f59389d5d3b4ea12a95b1f186dd",
    },
    "rasa.core.policies.memoization": {
        "signature": "",
        "sha256": "e4519f1a04ecdcce2241f5bd01f33b0b886d8a2136329da104946acaff31b775",
    },
    "rasa.core.policies.rule_policy": {
        "signature": "",
        "sha256": "952d1a13906511ac9b8d1c3dcd27148b24bbcd6610ebb13bff23f2fb1667b2b5",
    },
    "rasa.core.policies.policy:Policy.format_tracker_states": {
        "signature": "(states: 'List[Dict]') -> 'Text'",
        "sha256": "32b101cb34fd1c32fd17557044632ecbe9cb5638e605ca81864ddcb6b469a22a",
    },
}

MODULES = (processor, memoization, rule_policy)


class CopiesForDebugLines:
    """Stands in for the `copy` module inside one of Rasa's modules."""

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
    for module in MODULES:
        module.copy = CopiesForDebugLines(module.__name__)
    rule_policy.RulePolicy.format_tracker_states = staticmethod(_format_states_when_logged)
