"""The packages keep to the architecture in docs/design.md: each imports only the packages it may use
(no arrow runs back up), `actions/` holds only the action server, and the channels never reach into
the action server."""

import ast
from pathlib import Path

import pytest

from tests.assistant import PROJECT_ROOT

MAY_IMPORT = {
    "core": set(),
    "catalog": {"core"},
    "rasa_speedups": {"core"},
    "nlu_components": {"core"},
    "ops": {"core"},
    "analytics": {"core", "catalog"},
    "actions": {"core", "catalog"},
    "channels": {"core", "rasa_speedups"},
    "privacy": {"core", "analytics"},
    "dashboard": {"core", "analytics"},
    "bench": {"core", "catalog", "rasa_speedups", "nlu_components", "ops", "analytics", "actions", "channels",
              "privacy", "dashboard"},
}
ACTION_SERVER_MODULES = {"__init__", "actions", "answers", "conversation", "links", "phrases", "questions", "server",
                         "turns"}


def imported_packages(package: str, root: Path = PROJECT_ROOT) -> dict:
    """Each project package the package's modules import, with one module that does, for the message."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            for name in names:
                top = name.split(".")[0]
                if top in MAY_IMPORT and top != package:
                    found.setdefault(top, f"{path.relative_to(root)} imports {name}")
    return found


def test_every_project_package_is_placed_in_the_architecture():
    packages = {path.parent.name for path in PROJECT_ROOT.glob("*/__init__.py")} - {"tests", "web", "scripts"}
    assert packages == set(MAY_IMPORT)


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_each_package_imports_only_what_it_may(package):
    unexpected = {top: where for top, where in imported_packages(package).items() if top not in MAY_IMPORT[package]}
    assert not unexpected, f"{package} may import only {sorted(MAY_IMPORT[package])}: {sorted(unexpected.values())}"


def test_the_allowed_imports_have_no_cycle():
    order, placed = [], set()
    while len(placed) < len(MAY_IMPORT):
        ready = sorted(package for package, uses in MAY_IMPORT.items() if package not in placed and uses <= placed)
        assert ready, f"a cycle among {sorted(set(MAY_IMPORT) - placed)}"
        order += ready
        placed |= set(ready)
    assert order[0] == "core"


def test_actions_holds_only_the_action_server_and_its_actions():
    assert {path.stem for path in (PROJECT_ROOT / "actions").glob("*.py")} <= ACTION_SERVER_MODULES
    assert not [path for path in (PROJECT_ROOT / "actions").iterdir() if path.is_dir() and path.name != "__pycache__"]


def test_the_checker_sees_an_import_that_runs_back_up(tmp_path):
    package = tmp_path / "core"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "sneaky.py").write_text("def later():\n    from actions.turns import answer_turn\n")
    assert imported_packages("core", root=tmp_path) == {"actions": "core/sneaky.py imports actions.turns"}
