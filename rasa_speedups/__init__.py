"""Speed-ups of the Rasa server that replace pieces of Rasa's own (private) code.

Everything in this package depends on Rasa internals; nothing else in the project does, but for the
two replacements the channels need to behave correctly (`channels/action_guard.py`,
`channels/session_start.py`). Each module says in its docstring, on a line starting "Replaces:", which
Rasa function it replaces, and records in `REPLACES` that function's signature and the sha256 of its
source as read in Rasa RASA_VERSION_CHECKED. `tests/rasa_speedups/test_replaced_code.py` reads them in
a process with Rasa as shipped and fails, naming the function, when an upgraded Rasa changed one: read
Rasa's new code, check the module against it, then record the new signature and hash.

`install()` (called once, by `channels/__init__.py`, when the Rasa server loads the project's channels)
puts them all in place; `RASA_SPEEDUPS=off` leaves Rasa as shipped, to measure it beside them
(`make cluster-drill`). Training and the action server never install them.
"""

import hashlib
import importlib
import inspect
from types import ModuleType
from typing import Any, Dict, Tuple

from core import settings

RASA_VERSION_CHECKED = "3.6.21"
MODULES = ("action_request", "action_response", "debug_copies", "dialogue_states", "domain_checks",
           "endpoint_connections", "graph_runner", "heap", "intent_classifier", "sentence_features")


def modules() -> Tuple[ModuleType, ...]:
    return tuple(importlib.import_module(f"{__name__}.{name}") for name in MODULES)


def enabled() -> bool:
    return settings.rasa_speedups()


def install() -> None:
    """Every speed-up in place, unless RASA_SPEEDUPS=off. The heap's freeze is registered by the
    readiness channel (`channels/health.py`), which owns the server's start listener."""
    if not enabled():
        return
    for module in modules():
        install_module = getattr(module, "install", None)
        if install_module is not None:
            install_module()


def resolve(target: str) -> Any:
    """`package.module:Class.attribute` (or `package.module` alone) to the object it names."""
    module_name, _, attributes = target.partition(":")
    found: Any = importlib.import_module(module_name)
    for attribute in filter(None, attributes.split(".")):
        found = inspect.getattr_static(found, attribute)
        if isinstance(found, (staticmethod, classmethod)):
            found = found.__func__
    return found


def fingerprint(target: str) -> Dict[str, str]:
    """What `REPLACES` records of a replaced piece of Rasa: its signature (when callable) and source hash."""
    found = resolve(target)
    signature = ""
    if callable(found) and not inspect.isclass(found):
        signature = str(inspect.signature(found))
    source = inspect.getsource(found)
    return {"signature": signature, "sha256": hashlib.sha256(source.encode()).hexdigest()}
