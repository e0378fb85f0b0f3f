"""Rasa's model graph run in order, without a dask scheduler per message.

Rasa 3.6 runs the trained model's graph (NLU pipeline, then the policies) with `DaskGraphRunner`: on
each run it finds the nodes the targets need, builds a dask task graph and hands it to dask's
synchronous scheduler, which orders and dispatches the tasks one by one in the same thread. That
bookkeeping, repeated for the NLU run and each of the two policy runs of a turn, cost about an eighth of
the Rasa server's CPU per reply in a profile under load, more than the logistic regression itself.

`OrderedGraphRunner` runs the same nodes (Rasa's `GraphNode`s, instantiated the same way), passing
each node the same `(name, value)` outputs dask would, in an order worked out once per set of targets:
each node after the nodes it needs. Nothing runs in parallel under dask either (the synchronous
scheduler). Installed by `rasa_speedups.install()`, which makes the Rasa server load models with it;
training still uses Rasa's runner.
Replaces: `rasa.engine.runner.dask:DaskGraphRunner` (checked against Rasa 3.6.21).
"""

from functools import lru_cache
from graphlib import TopologicalSorter
from typing import Any, Dict, List, Optional, Tuple

from rasa.core import processor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

REPLACES = {
    "rasa.engine.runner.dask:DaskGraphRunner": {
        "signature": "",
        "sha256": "78a7d146c5c06d4cfd29638bbb20192183bfcd8cc69d2cb2be198c8e87a4c134",
    },
}

class OrderedGraphRunner(DaskGraphRunner):
    def run(self, inputs: Optional[Dict[str, Any]] = None, targets: Optional[List[str]] = None) -> Dict[str, Any]:
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        steps, node_names = self._plan(run_targets)
        results: Dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in node_names:
                raise GraphRunError(f"Input value '{value}' of '{name}' clashes with a node name of the graph.")
            results[name] = (name, value)
        try:
            for node_name, needs in steps:
                arguments = [results.get(need, need) for need in needs]
                results[node_name] = self._instantiated_nodes[node_name](*arguments)
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(results[target] for target in run_targets)  # each output is (node name, value), as with dask

    @lru_cache(maxsize=32)  # noqa: B019 - kept for the runner's life: one per loaded model, a few target sets
    def _plan(self, targets: Tuple[str, ...]) -> Tuple[List[Tuple[str, List[str]]], frozenset]:
        """The nodes the targets need, each after its own needs, with the names of the nodes it reads."""
        schema = self._graph_schema.minimal_graph_schema(list(targets))
        order = TopologicalSorter({name: set(node.needs.values()) & schema.nodes.keys()
                                   for name, node in schema.nodes.items()}).static_order()
        steps = [(name, list(schema.nodes[name].needs.values())) for name in order]
        return steps, frozenset(self._graph_schema.nodes)


def install() -> None:
    """The Rasa server's model loader (`MessageProcessor._load_model`) uses this runner."""
    processor.DaskGraphRunner = OrderedGraphRunner
