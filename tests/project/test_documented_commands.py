"""Every command the README and docs/ name still exists as written: each `make` target is in the
Makefile, each `python -m` module of the project is there and accepts the subcommand named after it,
and each file or folder of the project the pages point to is in the repository."""

import importlib.util
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.assistant import PROJECT_ROOT

PAGES = sorted([PROJECT_ROOT / "README.md", PROJECT_ROOT / "deploy" / "README.md",
                PROJECT_ROOT / "catalog" / "SCHEMA.md", *(PROJECT_ROOT / "docs").glob("*.md")])
CODE = re.compile(r"```[^\n]*\n(.*?)```|`([^`\n]+)`", re.S)
MAKE = re.compile(r"(?:^|[\s;(])make ([a-z][a-z0-9-]*)")
PYTHON_MODULE = re.compile(r"python3? -m ([A-Za-z_][\w.]*)((?: [a-z][\w-]*)?)")
PROJECT_DIRS = ("actions", "analytics", "bench", "catalog", "channels", "core", "dashboard", "data", "deploy", "docs",
                "nlu_components", "ops", "privacy", "rasa_speedups", "requirements", "scripts", "tests", "web")
PATH = re.compile(r"(?<![\w./-])((?:" + "|".join(PROJECT_DIRS) + r")/[\w./-]*)")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def code_of(page: Path) -> str:
    return "\n".join(block or span for block, span in CODE.findall(page.read_text()))


def makefile_targets() -> set:
    return set(re.findall(r"^([a-z][a-z0-9-]*):", (PROJECT_ROOT / "Makefile").read_text(), re.M))


def named(pattern: re.Pattern) -> list:
    """(page, what the pattern found) for every page, once each."""
    return sorted({(page.relative_to(PROJECT_ROOT).as_posix(), found)
                   for page in PAGES for found in pattern.findall(code_of(page))})


@cache
def help_of(module: str) -> str:
    result = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, timeout=120)
    return result.stdout + result.stderr


def made_at_run_time(path: str) -> bool:
    """A path git ignores (results, .env, node_modules): made by a command, not kept in the repository."""
    return any(subprocess.run(["git", "check-ignore", "-q", candidate], cwd=PROJECT_ROOT).returncode == 0
               for candidate in (path, path.rstrip("/") + "/"))  # "/": a pattern only for folders


def is_project_module(module: str) -> bool:
    return module.split(".")[0] in PROJECT_DIRS


def module_file(module: str) -> Path:
    base = PROJECT_ROOT.joinpath(*module.split("."))
    return base / "__main__.py" if base.is_dir() else base.with_suffix(".py")


def test_the_pages_name_commands_at_all():
    assert len(named(MAKE)) > 30 and len(named(PYTHON_MODULE)) > 10 and len(named(PATH)) > 100


@pytest.mark.parametrize(("page", "target"), named(MAKE))
def test_each_make_target_named_is_in_the_makefile(page, target):
    assert target in makefile_targets(), f"{page} names `make {target}`, which the Makefile does not have"


@pytest.mark.parametrize(("page", "command"), named(PYTHON_MODULE))
def test_each_project_module_named_runs_with_its_subcommand(page, command):
    module, subcommand = command[0], command[1].strip()
    if not is_project_module(module):
        assert importlib.util.find_spec(module), f"{page} names `python -m {module}`, which is not installed"
        return
    assert module_file(module).is_file(), f"{page} names `python -m {module}`, which does not exist"
    if subcommand:
        assert re.search(rf"\b{re.escape(subcommand)}\b", help_of(module)), (
            f"{page} names `python -m {module} {subcommand}`, which its --help does not list:\n{help_of(module)}")


@pytest.mark.parametrize(("page", "path"), named(PATH))
def test_each_project_path_named_exists(page, path):
    path = path.rstrip(".")
    assert (PROJECT_ROOT / path).exists() or made_at_run_time(path), f"{page} names {path}, which is not there"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(PROJECT_ROOT).as_posix())
def test_each_relative_link_leads_to_a_file(page):
    missing = [target for target in LINK.findall(page.read_text())
               if "://" not in target and not target.startswith("mailto:") and not (page.parent / target).exists()]
    assert not missing, f"{page.name} links to {missing}"


def test_the_readme_fits_one_screenful_per_concern():
    assert len((PROJECT_ROOT / "README.md").read_text().splitlines()) <= 250
