"""Production on paper: the images (deploy/docker/), the Compose file (deploy/compose.yaml) and the
Kubernetes manifests (deploy/k8s/) checked against the code they run. There is no container runtime
and no cluster here: the manifests are rendered with `kubectl kustomize` and read, HAProxy checks its
config, and the routes, settings, imports and command lines come from the code itself.
deploy/README.md says what this leaves unchecked.
"""

import ast
import importlib.metadata
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import Dict, Iterator, List, Optional, Set, Tuple
from unittest import mock
from urllib.parse import urlsplit

import pytest
import yaml

from core import settings
from ops.cluster import programs
from ops.commands import rasa_server_command

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_FILE = DEPLOY / "compose.yaml"
COMPOSE_ENV_EXAMPLE = DEPLOY / "docker" / "compose.env.example"
SECRETS_TEMPLATE = K8S / "secrets.env.example"
SECRET_NAME = "micromasters-secrets"
HAPROXY_COMPOSE = DEPLOY / "docker" / "haproxy.cfg"
HAPROXY_HOST = DEPLOY / "haproxy.cfg"  # the single-host front door the Ingress must match
RASA_DOCKERFILE = DEPLOY / "docker" / "rasa.Dockerfile"
ACTIONS_DOCKERFILE = DEPLOY / "docker" / "actions.Dockerfile"
BASE_IMAGES = {RASA_DOCKERFILE: ("rasa/rasa", "rasa"), ACTIONS_DOCKERFILE: ("rasa/rasa-sdk", "rasa-sdk")}
APP_DIR = PurePosixPath("/app")  # WORKDIR of both official images
PROJECT_PACKAGES = ("actions", "analytics", "catalog", "channels", "core", "dashboard", "nlu_components", "ops",
                    "privacy", "rasa_speedups")
PINNING_FILES = ("constraints.txt", "app.txt")  # requirements/ files whose `==` pins the images must keep
SECRET_LIKE = re.compile(r"(TOKEN|SECRET|PASSWORD|PASS|AUTH)$")
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
SAMPLE_ORIGINS = " https://www.example.org, https://learn.example.org "

# Variables the code reads that a deployment leaves at their documented defaults, on purpose.
DEFAULTS_ON_PURPOSE = {
    "FAQ_MATCH_THRESHOLD": "tuned on the training data (python -m bench.faq_threshold), not per deployment",
    "FAQ_OFF_DOMAIN_THRESHOLD": "tuned on the training data (python -m bench.faq_threshold), not per deployment",
    "FAQ_MATCH_MARGIN": "tuned on the training data (python -m bench.faq_threshold), not per deployment",
    "FAQ_RULE_THRESHOLD": "tuned on the dev questions (make bench), not per deployment",
    "RASA_SPEEDUPS": "off only to measure Rasa as shipped (make cluster-drill); deployments keep the default",
    "SLACK_API_URL": "Slack's own Web API; only the tests point it at a stand-in",
    "DISCOVERY_TIMEOUT_SECONDS": "the default suits edX's service; only the tests shorten it",
    "DISCOVERY_SYNC_HOURS": "daily, as the sync is meant to run",
    "SLACK_RETRY_SECONDS": "how often refused handoff posts are retried; the default suits production",
    "RASA_PORT": "the command line's --port decides (checked against the manifests below)",
    "ACTION_PORT": "the command line's --port decides (checked against the manifests below)",
    "CATALOG_FILE": "the default is the catalog file the image carries (test_images_copy_what_the_code_needs)",
    "WEB_PORT": "the demo page is not deployed; WEB_PORT only makes WEBCHAT_ALLOWED_ORIGINS' default, which is set",
    "SOCKETIO_SERVER_NAME": "deploy/docker/rasa-run.sh sets it from the hostname (the Compose service's, the pod's)",
    "ANALYTICS_POLL_SECONDS": "the analytics feed polls the conversation store this often only without RabbitMQ; "
                              "deployments have RabbitMQ (then it catches up every 60 s)",
}
# Programs `make cluster` starts (ops/cluster.py programs()) that are not deployed as a container of the project.
NOT_DEPLOYED = {
    "haproxy": "the front door: deploy/docker/haproxy.cfg in Compose, the Ingress in Kubernetes",
    "web": "the demo page with the chat widget; a deployment's widget sits on the organisation's own site",
}
# Paths under the project root the code names (settings.PROJECT_ROOT / ...) that an image does not need.
NOT_IN_IMAGES = {
    "data": "analytics/review.py only refuses to export reviews into it (make review-export, not in a container)",
}
# Read by Rasa itself, not by the project's code.
RASA_READS = {"RASA_TELEMETRY_ENABLED": "Rasa's usage telemetry: off (it would call out of the cluster)"}


# --- Python code: modules, the settings they read, what they import ---------------------------------

def module_file(module: str) -> Optional[Path]:
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def parsed(module: str) -> ast.Module:
    return ast.parse(module_file(module).read_text(encoding="utf-8"))


def imported_names(module: str) -> Iterator[str]:
    for node in ast.walk(parsed(module)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def project_imports(module: str) -> Set[str]:
    """Project modules `module` imports, with the packages whose __init__ that runs."""
    found = {name for name in imported_names(module)
             if name.split(".")[0] in PROJECT_PACKAGES and module_file(name)}
    return found | {name.rsplit(".", 1)[0] for name in found if "." in name}


def with_imports(entries: Set[str]) -> Set[str]:
    seen, todo = set(), list(entries)
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(project_imports(module))
    return seen


def package_modules(package: str) -> List[str]:
    return [f"{package}.{path.stem}" for path in sorted((ROOT / package).glob("*.py")) if path.stem != "__init__"]


def defines_action(module: str) -> bool:
    def is_action(base: ast.expr) -> bool:
        return (isinstance(base, ast.Name) and base.id == "Action") or (
            isinstance(base, ast.Attribute) and base.attr == "Action")
    return any(isinstance(node, ast.ClassDef) and any(map(is_action, node.bases)) for node in ast.walk(parsed(module)))


def yaml_strings(node) -> Iterator[str]:
    """Every key and scalar value of parsed YAML, as text."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from yaml_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from yaml_strings(item)
    elif node is not None:
        yield str(node)


def rasa_server_modules(config_files: List[Path]) -> Set[str]:
    """The project's classes Rasa loads by name from its config files (channels in credentials.yml, tracker
    and lock stores in the endpoints file), with what they import."""
    names = {text for path in config_files
             for text in yaml_strings(yaml.safe_load(path.read_text(encoding="utf-8")))
             if re.fullmatch(r"[A-Za-z_]\w*(\.\w+)+", text) and text.split(".")[0] in PROJECT_PACKAGES}
    modules = {name.rsplit(".", 1)[0] for name in names}
    assert all(map(module_file, modules)), f"config files name missing modules: {modules}"
    return with_imports(modules)


def action_server_modules() -> Set[str]:
    """actions.server, and the modules whose Action classes rasa-sdk registers and runs."""
    actions = {module for module in package_modules("actions") if defines_action(module)}
    return with_imports({"actions.server"} | actions)


def main_module(module: str) -> str:
    """What `python -m module` runs: the module, or a package's __main__."""
    return f"{module}.__main__" if module_file(module).name == "__init__.py" else module


def modules_run_by(dockerfile: Path, argv: List[str]) -> Set[str]:
    if argv[:2] == ["rasa", "run"]:
        return rasa_server_modules(rasa_config_files(dockerfile, argv))
    assert argv[:2] == ["python", "-m"], f"unknown command {argv}"
    if argv[2] == "actions.server":
        return action_server_modules()
    return with_imports({argv[2], main_module(argv[2])})


def settings_variables() -> Dict[str, Set[str]]:
    """Each function of core/settings.py -> the environment variables it reads, directly or through the
    module's other functions."""
    tree = ast.parse((ROOT / "core" / "settings.py").read_text(encoding="utf-8"))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    reads, calls = {}, {}
    for name, function in functions.items():
        called = [node for node in ast.walk(function) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
        reads[name] = {node.args[0].value for node in called if node.func.id == "_env"}
        calls[name] = {node.func.id for node in called if node.func.id in functions}
    changed = True
    while changed:
        changed = False
        for name in functions:
            more = set().union(*(reads[callee] for callee in calls[name])) - reads[name]
            if more:
                reads[name] |= more
                changed = True
    return reads


def environment_keys() -> Dict[str, Set[str]]:
    """Each key of the dict core/settings.py's as_environment() returns -> the variables its value reads."""
    tree = ast.parse((ROOT / "core" / "settings.py").read_text(encoding="utf-8"))
    function = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "as_environment")
    returned = next(node.value for node in ast.walk(function) if isinstance(node, ast.Return))
    table = settings_variables()
    keys = {}
    for key, value in zip(returned.keys, returned.values, strict=True):
        called = [node for node in ast.walk(value) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
        keys[key.value] = {node.args[0].value for node in called if node.func.id == "_env"}
        keys[key.value] |= set().union(*(table.get(node.func.id, set()) for node in called))
    return keys


def settings_attribute(node: ast.AST) -> Optional[str]:
    """`name` for a `settings.name` of core.settings' functions."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "settings" \
            and callable(getattr(settings, node.attr, None)):
        return node.attr
    return None


def settings_reads(modules: Set[str]) -> Tuple[Set[str], Set[str]]:
    """The functions of core.settings the modules call, and the keys of `settings.as_environment()[...]` they
    read (such a read is that key's variables only, not every variable of as_environment)."""
    functions, keys = set(), set()
    for module in modules - {"core.settings"}:
        tree = parsed(module)
        indexed = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call) \
                    and settings_attribute(node.value.func) == "as_environment" \
                    and isinstance(node.slice, ast.Constant):
                keys.add(node.slice.value)
                indexed.add(id(node.value.func))
        functions |= {settings_attribute(node) for node in ast.walk(tree)
                      if settings_attribute(node) and id(node) not in indexed}
    return functions, keys


def settings_called(modules: Set[str]) -> Set[str]:
    return settings_reads(modules)[0]


def variables_read_by(modules: Set[str]) -> Set[str]:
    table, environment = settings_variables(), environment_keys()
    functions, keys = settings_reads(modules)
    assert keys <= set(environment), f"settings.as_environment() has no {keys - set(environment)}"
    return set().union(*(table.get(name, set()) for name in functions), *(environment[key] for key in keys))


def project_paths(modules: Set[str]) -> Set[str]:
    """Paths the modules name under the project root: `settings.PROJECT_ROOT / "a" / "b"` -> "a/b"."""
    def parts(node: ast.AST) -> Optional[List[str]]:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "settings" \
                and node.attr == "PROJECT_ROOT":
            return []
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant):
            left = parts(node.left)
            return None if left is None else [*left, node.right.value]
        return None
    found = set()
    for module in modules - {"core.settings"}:
        for node in ast.walk(parsed(module)):
            path = parts(node)
            if path:
                found.add("/".join(path))
    # `a / "b" / "c"` also contains `a / "b"`: keep the longest.
    return {path for path in found if not any(other.startswith(path + "/") for other in found)}


def listening_setting(module: str) -> Optional[str]:
    """The core.settings function giving the port the module's server listens on (`web.run_app(port=...)`),
    or None when it starts no server."""
    tree = parsed(module)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and node.func.attr == "run_app"]
    if not calls:
        return None
    (call,) = calls
    port = next(keyword.value for keyword in call.keywords if keyword.arg == "port")
    if settings_attribute(getattr(port, "func", None)):
        return settings_attribute(port.func)
    assert isinstance(port, ast.Name), f"{module}: run_app(port=...) is neither a setting nor a name"
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                pairs = isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                names = target.elts if pairs else [target]
                values = node.value.elts if pairs else [node.value]
                for name, value in zip(names, values, strict=True):
                    if isinstance(name, ast.Name) and name.id == port.id and isinstance(value, ast.Call) \
                            and settings_attribute(value.func):
                        return settings_attribute(value.func)
    raise AssertionError(f"{module}: the port of run_app is not a core.settings value")


def server_port(server: List[str], environment: Dict[str, str]) -> Optional[int]:
    """The port the process listens on: its --port, or the setting its server reads in `environment`."""
    if "--port" in server:
        return int(option(server, "--port"))
    assert server[:2] == ["python", "-m"], f"{server}: which port?"
    setting = listening_setting(main_module(server[2]))
    if setting is None:
        return None
    with mock.patch.dict(os.environ, environment, clear=True):
        return int(getattr(settings, setting)())


def third_party_imports(modules: Set[str]) -> Set[str]:
    tops = {name.split(".")[0] for module in modules for name in imported_names(module)}
    return {top for top in tops if top not in sys.stdlib_module_names and top not in PROJECT_PACKAGES}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions_of(modules: Set[str]) -> Set[str]:
    mapping = importlib.metadata.packages_distributions()
    missing = {module for module in modules if module not in mapping}
    assert not missing, f"not installed in the test environment, so no distribution known: {missing}"
    return {normalized(dist) for module in modules for dist in mapping[module]}


def base_image_distributions(dist: str) -> Set[str]:
    """What the official image of `dist` carries: `dist` and its requirements (no extras)."""
    requirements = importlib.metadata.requires(dist) or []
    names = {re.split(r"[\s;<>=!~\[(]", requirement)[0] for requirement in requirements}
    optional = {re.split(r"[\s;<>=!~\[(]", requirement)[0] for requirement in requirements if "extra ==" in requirement}
    return {normalized(name) for name in names - optional} | {normalized(dist)}


def pinned_in(requirements_file: str) -> Set[str]:
    lines = (ROOT / "requirements" / requirements_file).read_text(encoding="utf-8").splitlines()
    return {normalized(line.split("==")[0]) for line in lines if "==" in line and not line.startswith("#")}


# --- Dockerfiles ---------------------------------------------------------------------------------------

def instructions(dockerfile: Path) -> List[Tuple[str, str]]:
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def stages(dockerfile: Path) -> List[List[Tuple[str, str]]]:
    found: List[List[Tuple[str, str]]] = []
    for instruction, args in instructions(dockerfile):
        if instruction == "FROM":
            found.append([])
        found[-1].append((instruction, args))
    return found


def final_stage(dockerfile: Path) -> List[Tuple[str, str]]:
    return stages(dockerfile)[-1]


def stage_named(dockerfile: Path, name: str) -> List[Tuple[str, str]]:
    return next(lines for lines in stages(dockerfile) if lines[0][1].split()[-1] == name)


def exec_form(dockerfile: Path, instruction: str) -> Optional[List[str]]:
    values = [json.loads(args) for name, args in final_stage(dockerfile) if name == instruction]
    return values[-1] if values else None


def image_variables(dockerfile: Path) -> Set[str]:
    return {name for instruction, args in final_stage(dockerfile) if instruction == "ENV"
            for name in re.findall(r"([A-Z_][A-Z0-9_]*)=", args)}


def copies(dockerfile: Path, stage: Optional[List[Tuple[str, str]]] = None
           ) -> Iterator[Tuple[Optional[str], str, PurePosixPath]]:
    """(stage it copies from or None for the build context, source, destination in the image) per source, in
    the final stage unless another `stage` is given (destinations are then taken as relative to /app)."""
    for instruction, args in final_stage(dockerfile) if stage is None else stage:
        if instruction != "COPY":
            continue
        words = args.split()
        stage = next((word.split("=", 1)[1] for word in words if word.startswith("--from=")), None)
        paths = [word for word in words if not word.startswith("--")]
        *sources, destination = paths
        target = APP_DIR / destination
        for source in sources:
            into_directory = destination.endswith("/") and not source.endswith("/") or len(sources) > 1
            yield stage, source, target / PurePosixPath(source).name if into_directory else target


def copied_from(dockerfile: Path, container_path: PurePosixPath) -> Optional[Tuple[Optional[str], str]]:
    """(stage, source path) that puts `container_path` into the image, if any COPY does."""
    for stage, source, target in copies(dockerfile):
        if container_path == target:
            return stage, source
        if source.endswith("/") and target in container_path.parents:
            return stage, str(PurePosixPath(source) / container_path.relative_to(target))
    return None


def repository_file(dockerfile: Path, container_path: PurePosixPath) -> Path:
    found = copied_from(dockerfile, container_path)
    assert found and found[0] is None, f"{dockerfile.name} puts no file of the repository at {container_path}"
    return ROOT / found[1]


def pip_installs(dockerfile: Path) -> Tuple[Set[str], Set[str]]:
    """Packages the final stage installs with pip, and the names of the constraint files it passes."""
    packages, constraints = set(), set()
    for instruction, args in final_stage(dockerfile):
        for command in re.split(r"&&|;", args) if instruction == "RUN" else []:
            words = iter(command.split())
            if list(next(words, None) for _ in range(2)) != ["pip", "install"]:
                continue
            for word in words:
                if word in ("-c", "--constraint"):
                    constraints.add(PurePosixPath(next(words)).name)
                elif word in ("-r", "--requirement"):
                    next(words)
                elif not word.startswith("-"):
                    packages.add(normalized(re.split(r"[<>=!~\[;]", word)[0]))
    return packages, constraints


def dockerignore_lets_in(path: str) -> bool:
    """The subset of .dockerignore syntax the file uses: patterns in order, `!` re-includes, last match wins,
    a pattern matching a parent folder applies to what is in it."""
    included = True
    candidates = [path, *(str(parent) for parent in PurePosixPath(path).parents if str(parent) != ".")]
    for pattern in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        pattern = pattern.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        bare = pattern.lstrip("!").rstrip("/")
        if any(fnmatch(candidate, bare) for candidate in candidates):
            included = negated
    return included


def option(argv: List[str], name: str) -> str:
    assert name in argv, f"{name} missing from {argv}"
    return argv[argv.index(name) + 1]


# --- the commands the containers run ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def stub_bin(tmp_path_factory) -> Path:
    """A `rasa` that prints its arguments (NUL-separated) instead of starting Rasa."""
    folder = tmp_path_factory.mktemp("stub-bin")
    stub = folder / "rasa"
    stub.write_text("#!/bin/sh\nprintf 'rasa\\0'\nprintf '%s\\0' \"$@\"\n", encoding="utf-8")
    stub.chmod(0o755)
    return folder


def script_argv(script: Path, stub_bin: Path, env: Dict[str, str]) -> List[str]:
    environment = {"PATH": f"{stub_bin}{os.pathsep}{os.environ['PATH']}", **env}
    result = subprocess.run(["bash", str(script)], env=environment, capture_output=True, text=True, timeout=30,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return result.stdout.rstrip("\0").split("\0")


def effective_argv(dockerfile: Path, command: Optional[List[str]] = None,
                   args: Optional[List[str]] = None) -> List[str]:
    """What a container runs: Kubernetes' `command` (and Compose's `entrypoint`) replaces the image's ENTRYPOINT
    and its CMD, `args` (and Compose's `command`) replace CMD."""
    if command is not None:
        return [*command, *(args or [])]
    cmd = exec_form(dockerfile, "CMD") or []
    return [*(exec_form(dockerfile, "ENTRYPOINT") or []), *(args if args is not None else cmd)]


def server_argv(dockerfile: Path, argv: List[str], stub_bin: Path) -> List[str]:
    """The process a container ends up running: a start script of the image is run (with a stub `rasa`)."""
    if argv[0] != "bash":
        return argv
    script = repository_file(dockerfile, APP_DIR / argv[1])
    return script_argv(script, stub_bin, {"BIND_HOST": "0.0.0.0", "WEBCHAT_ALLOWED_ORIGINS": SAMPLE_ORIGINS})


def config_file_variables(path: Path) -> Set[str]:
    """`${NAME}` in a Rasa config file's values (Rasa refuses to start while one is unset)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {name for text in yaml_strings(data) for name in ENV_REFERENCE.findall(text)}


def script_required_variables(dockerfile: Path, argv: List[str]) -> Set[str]:
    if argv[0] != "bash":
        return set()
    text = repository_file(dockerfile, APP_DIR / argv[1]).read_text(encoding="utf-8")
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*):\?", text))


def rasa_config_files(dockerfile: Path, server: List[str]) -> List[Path]:
    return [repository_file(dockerfile, APP_DIR / option(server, flag)) for flag in ("--credentials", "--endpoints")]


def variables_needed(dockerfile: Path, argv: List[str], server: List[str]) -> Set[str]:
    needed = variables_read_by(modules_run_by(dockerfile, server)) - set(DEFAULTS_ON_PURPOSE)
    if server[:2] == ["rasa", "run"]:
        needed |= set(RASA_READS) | script_required_variables(dockerfile, argv)
        needed |= set().union(*map(config_file_variables, rasa_config_files(dockerfile, server)))
    return needed


# --- Kubernetes ------------------------------------------------------------------------------------------

def kustomize(directory: Path) -> List[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is needed to render deploy/k8s (`kubectl kustomize`); install Debian's kubectl")
    result = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


@pytest.fixture(scope="module")
def rendered() -> List[dict]:
    return kustomize(K8S)


@pytest.fixture(scope="module")
def with_rest_webhook(tmp_path_factory) -> List[dict]:
    """deploy/k8s with its rest-webhook component, as an operator's overlay would use it."""
    overlay = tmp_path_factory.mktemp("overlay")
    base = os.path.relpath(K8S, overlay)
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": [base], "components": [f"{base}/components/rest-webhook"]}), encoding="utf-8")
    return kustomize(overlay)


def of_kind(documents: List[dict], kind: str) -> List[dict]:
    return [document for document in documents if document["kind"] == kind]


def named(documents: List[dict], kind: str, name: str) -> dict:
    matches = [document for document in of_kind(documents, kind) if document["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind} {name}: {len(matches)} found"
    return matches[0]


def pod_template(workload: dict) -> dict:
    spec = workload["spec"]
    return spec["jobTemplate"]["spec"]["template"] if workload["kind"] == "CronJob" else spec["template"]


def k8s_containers(documents: List[dict]) -> Iterator[Tuple[dict, dict]]:
    for workload in documents:
        if workload["kind"] in ("Deployment", "Job", "CronJob"):
            spec = pod_template(workload)["spec"]
            for container in [*spec.get("initContainers", []), *spec["containers"]]:
                yield workload, container


def kustomization_images() -> Dict[str, str]:
    """Image repository in the rendered manifests -> the image name the manifests use."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    return {entry.get("newName", entry["name"]): entry["name"] for entry in kustomization.get("images", [])}


def repository_and_tag(image: str) -> Tuple[str, str]:
    last = image.rsplit("/", 1)[-1]
    return (image.rsplit(":", 1)[0], image.rsplit(":", 1)[1]) if ":" in last else (image, "")


def k8s_dockerfile(container: dict) -> Path:
    name = kustomization_images().get(repository_and_tag(container["image"])[0])
    dockerfile = compose_image_dockerfiles().get(name)
    assert dockerfile, f"container {container['name']}: image {container['image']} is built by no Dockerfile"
    return dockerfile


def config_map_data(documents: List[dict], name: str) -> Dict[str, str]:
    return named(documents, "ConfigMap", name).get("data", {})


def container_variables(documents: List[dict], container: dict) -> Set[str]:
    names = {entry["name"] for entry in container.get("env", [])}
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, f"{container['name']}: envFrom only from ConfigMaps (secrets key by key)"
        names |= set(config_map_data(documents, source["configMapRef"]["name"]))
    return names


def container_values(documents: List[dict], container: dict) -> Dict[str, str]:
    """The literal values a container's environment gets (ConfigMaps, then `value`s)."""
    values = {key: value for source in container.get("envFrom", [])
              for key, value in config_map_data(documents, source["configMapRef"]["name"]).items()}
    return {**values, **{entry["name"]: entry["value"] for entry in container.get("env", []) if "value" in entry}}


def container_port(container: dict, port) -> int:
    if isinstance(port, int):
        return port
    return next(entry["containerPort"] for entry in container.get("ports", []) if entry.get("name") == port)


def probes(container: dict) -> Dict[str, dict]:
    return {kind: container[kind]["httpGet"] for kind in ("startupProbe", "readinessProbe", "livenessProbe")
            if "httpGet" in container.get(kind, {})}


def services_for(documents: List[dict], workload: dict) -> List[dict]:
    labels = pod_template(workload)["metadata"].get("labels", {})
    return [service for service in of_kind(documents, "Service")
            if service["spec"].get("selector") and service["spec"]["selector"].items() <= labels.items()]


def ingress_paths(documents: List[dict]) -> Set[Tuple[str, str, str, int]]:
    """(pathType, path, Service, port) of every Ingress rule."""
    return {(path["pathType"], path["path"], path["backend"]["service"]["name"],
             path["backend"]["service"]["port"]["number"])
            for ingress in of_kind(documents, "Ingress") for rule in ingress["spec"]["rules"]
            for path in rule["http"]["paths"]}


@pytest.fixture(scope="module")
def k8s_workloads(rendered, stub_bin) -> List[dict]:
    """Every container of the manifests, with its image's Dockerfile and the process it runs."""
    found = []
    for workload, container in k8s_containers(rendered):
        dockerfile = k8s_dockerfile(container)
        argv = effective_argv(dockerfile, container.get("command"), container.get("args"))
        found.append({"workload": workload, "container": container, "dockerfile": dockerfile, "argv": argv,
                      "server": server_argv(dockerfile, argv, stub_bin)})
    return found


def running(workloads: List[dict], prefix: List[str]) -> List[dict]:
    return [entry for entry in workloads if entry["server"][:len(prefix)] == prefix]


# --- Compose ---------------------------------------------------------------------------------------------

def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def compose_dockerfile(service: dict) -> Optional[Path]:
    build = service.get("build")
    if build is None:
        return None
    context = (COMPOSE_FILE.parent / build["context"]).resolve()
    return context / build.get("dockerfile", "Dockerfile")


def compose_image_dockerfiles() -> Dict[str, Path]:
    """Image name (without tag) -> the Dockerfile the Compose file builds it from."""
    return {repository_and_tag(service["image"])[0]: compose_dockerfile(service)
            for service in compose()["services"].values() if service.get("build")}


@pytest.fixture(scope="module")
def compose_workloads(stub_bin) -> Dict[str, dict]:
    found = {}
    for name, service in compose()["services"].items():
        dockerfile = compose_dockerfile(service)
        if dockerfile:
            argv = effective_argv(dockerfile, service.get("entrypoint"), service.get("command"))
            found[name] = {"service": service, "dockerfile": dockerfile, "argv": argv,
                           "server": server_argv(dockerfile, argv, stub_bin)}
    return found


def env_file(path: Path) -> Dict[str, str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


# --- HAProxy ---------------------------------------------------------------------------------------------

def haproxy_sections(path: Path) -> Dict[str, List[List[str]]]:
    sections: Dict[str, List[List[str]]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if not line[0].isspace():
            current = " ".join(words)
            sections[current] = []
        else:
            sections[current].append(words)
    return sections


def frontend(path: Path) -> List[List[str]]:
    return next(lines for name, lines in haproxy_sections(path).items() if name.startswith("frontend"))


def public_paths(path: Path) -> Tuple[Set[Tuple[str, str]], Set[Tuple[str, str]]]:
    """Paths the frontend lets through always, and those only behind a switch (`acl_a acl_b` in the deny rule),
    as (Ingress pathType, path)."""
    lines = frontend(path)
    kinds = {"path": "Exact", "path_beg": "Prefix"}
    acls = {words[1]: (kinds[words[2]], words[3]) for words in lines if words[0] == "acl" and words[2] in kinds}
    deny = next(words for words in lines if words[:2] == ["http-request", "deny"])
    terms = " ".join(deny[deny.index("unless") + 1:]).split(" or ")
    always = {acls[term] for term in terms if term in acls}
    switched = {acls[name] for term in terms if " " in term for name in term.split() if name in acls}
    return always, switched


def backends(path: Path) -> Dict[str, List[List[str]]]:
    return {name.split()[1]: lines for name, lines in haproxy_sections(path).items() if name.startswith("backend ")}


# --- routes the servers really have ---------------------------------------------------------------------

RASA_ROUTES = """
import json, sys
from rasa.core import run
channels = run.create_http_input_channels(None, "credentials.yml")
app = run.configure_app(channels, enable_api=False)
print(json.dumps({"routes": sorted("/" + route.path for route in app.router.routes),
                  "channels": {type(channel).__module__: "/webhooks/" + channel.name() for channel in channels}}))
"""
ACTION_ROUTES = """
import json
from actions.server import OPEN_PATHS, build_app
app = build_app("a token")
print(json.dumps({"routes": sorted("/" + route.path for route in app.router.routes), "open": sorted(OPEN_PATHS)}))
"""

DASHBOARD_ROUTES = """
import asyncio, json
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import create_engine
from core import settings
from dashboard.app import STATIC, create_app

async def main():
    app = create_app(analytics=create_engine("sqlite://"), catalog=create_engine("sqlite://"))
    routes = sorted({resource.canonical for resource in app.router.resources()})
    async with TestClient(TestServer(app)) as client:  # no session cookie: what is open without signing in
        opened = [path for path in routes if "{" not in path
                  and (await client.get(path, allow_redirects=False)).status == 200]
    print(json.dumps({"routes": routes, "open": opened,
                      "static": sorted(str(path.relative_to(settings.PROJECT_ROOT)) for path, _ in STATIC.values())}))

asyncio.run(main())
"""


def run_python(code: str) -> dict:
    """In a process of its own: Rasa's channels patch Rasa's classes when imported."""
    env = {**os.environ, "WEBCHAT_ALLOWED_ORIGINS": SAMPLE_ORIGINS}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def rasa_app() -> dict:
    return run_python(RASA_ROUTES)


@pytest.fixture(scope="module")
def action_app() -> dict:
    return run_python(ACTION_ROUTES)


@pytest.fixture(scope="module")
def dashboard_app() -> dict:
    return run_python(DASHBOARD_ROUTES)


@pytest.fixture(scope="module")
def server_apps(rasa_app, action_app, dashboard_app) -> Dict[str, dict]:
    """The web app each server runs, by `server_name`."""
    return {"rasa run": rasa_app, "actions.server": action_app, "dashboard": dashboard_app}


def server_name(server: List[str]) -> str:
    return "rasa run" if server[:2] == ["rasa", "run"] else server[2]


def served(routes: List[str], path_type: str, path: str) -> bool:
    if path_type == "Exact":
        return path in routes
    return path.rstrip("/") in routes or any(route.startswith(path) for route in routes)


# --- the tests -------------------------------------------------------------------------------------------

def test_kustomize_renders_the_deployment(rendered, k8s_workloads):
    kinds = {document["kind"] for document in rendered}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "Ingress", "Job", "ConfigMap"} <= kinds
    assert "Secret" not in kinds, "secrets are created outside git (deploy/k8s/secrets.env.example)"
    rasa = running(k8s_workloads, ["rasa", "run"])
    assert [entry["workload"]["kind"] for entry in rasa] == ["Deployment"]
    assert rasa[0]["workload"]["spec"]["replicas"] == 2
    assert [entry["workload"]["kind"] for entry in running(k8s_workloads, ["python", "-m", "actions.server"])] == [
        "Deployment"]
    assert any(entry["workload"]["kind"] == "Job" for entry in running(
        k8s_workloads, ["python", "-m", "catalog", "load"])), "no Job loads the catalog"
    feed = running(k8s_workloads, ["python", "-m", "analytics.feed"])
    assert [(entry["workload"]["kind"], entry["workload"]["spec"]["replicas"]) for entry in feed] == [
        ("Deployment", 1)], "one analytics feed is enough (several would be safe)"
    assert [entry["workload"]["kind"] for entry in running(k8s_workloads, ["python", "-m", "dashboard"])] == [
        "Deployment"]


def program_name(argv: List[str]) -> Optional[str]:
    """`server_name` of a command line of ops/commands.py (None: not a project server); an `env NAME=value`
    in front (ops/cluster.py names each Rasa server so) is not the program."""
    if argv[0] == "env":
        argv = list(itertools.dropwhile(lambda part: "=" in part, argv[1:]))
    if Path(argv[0]).name == "rasa" and argv[1:2] == ["run"]:
        return "rasa run"
    return argv[2] if argv[1:2] == ["-m"] else None


def cluster_programs(action_port: int = 5055) -> Dict[str, List[str]]:
    """What `make cluster` starts (ops/cluster.py), with one Rasa server."""
    return programs(Path("/cluster"), Path("models/micromasters.tar.gz"), [5005], action_port)


def test_every_long_running_program_is_deployed(k8s_workloads, compose_workloads):
    """Each server `make cluster` starts runs as a Deployment in Kubernetes and a service in Compose."""
    started = cluster_programs()
    assert set(NOT_DEPLOYED) <= set(started), f"not started by make cluster: {set(NOT_DEPLOYED) - set(started)}"
    in_kubernetes = {server_name(entry["server"]) for entry in k8s_workloads
                     if entry["workload"]["kind"] == "Deployment"}
    in_compose = {server_name(entry["server"]) for entry in compose_workloads.values()
                  if entry["service"].get("restart") == "unless-stopped" and not entry["service"].get("profiles")}
    for name, argv in started.items():
        if name not in NOT_DEPLOYED:
            assert program_name(argv), f"{name}: {argv} is not a project server"
            assert program_name(argv) in in_kubernetes, f"no Deployment runs {name} ({program_name(argv)})"
            assert program_name(argv) in in_compose, f"no Compose service runs {name} ({program_name(argv)})"


def test_rasa_image_starts_rasa_as_the_project_does(stub_bin, monkeypatch):
    """The image's start script and ops/commands.py build the same `rasa run`, API token or not."""
    argv = effective_argv(RASA_DOCKERFILE)
    script = repository_file(RASA_DOCKERFILE, APP_DIR / argv[1])
    for token in ("", "an-api-token-0123456789"):
        env = {"BIND_HOST": "0.0.0.0", "WEBCHAT_ALLOWED_ORIGINS": SAMPLE_ORIGINS, "RASA_API_TOKEN": token}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("RASA_PORT", raising=False)
        started = script_argv(script, stub_bin, env)
        expected = rasa_server_command(Path(option(started, "--model")), endpoints=option(started, "--endpoints"))
        assert started[1:] == expected[1:]
    assert option(started, "--interface") == "0.0.0.0"
    assert option(started, "--endpoints") == "deploy/cluster/endpoints.yml", "replicas need the cluster endpoints"


def test_python_containers_run_the_projects_commands(k8s_workloads, compose_workloads):
    """`python -m` containers run a command of the module (the servers: ops/commands.py's command line)."""
    for entry in [*k8s_workloads, *compose_workloads.values()]:
        server = entry["server"]
        if server[:2] != ["python", "-m"]:
            continue
        source = module_file(server[2]) and module_file(main_module(server[2]))
        assert source and "__main__" in source.read_text(encoding="utf-8"), f"{server[2]} is not a command"
        port = int(option(server, "--port")) if "--port" in server else settings.action_port()
        for argv in cluster_programs(action_port=port).values():
            if program_name(argv) == server[2]:
                assert server[1:] == argv[1:], f"{server} is not ops/commands.py's {argv}"


def test_every_variable_the_code_reads_is_set_in_kubernetes(rendered, k8s_workloads):
    for entry in k8s_workloads:
        needed = variables_needed(entry["dockerfile"], entry["argv"], entry["server"])
        available = container_variables(rendered, entry["container"]) | image_variables(entry["dockerfile"])
        assert not needed - available, f"{entry['workload']['metadata']['name']}: unset {needed - available}"


def test_every_variable_the_code_reads_is_set_in_compose(compose_workloads):
    for name, entry in compose_workloads.items():
        needed = variables_needed(entry["dockerfile"], entry["argv"], entry["server"])
        available = set(entry["service"].get("environment", {})) | image_variables(entry["dockerfile"])
        assert not needed - available, f"service {name}: unset {needed - available}"


def test_defaults_on_purpose_are_variables_the_code_reads():
    read = set().union(*settings_variables().values())
    assert set(DEFAULTS_ON_PURPOSE) <= read, f"not read by core/settings.py: {set(DEFAULTS_ON_PURPOSE) - read}"


def test_rasa_config_variables_never_come_from_optional_secrets(k8s_workloads):
    """An optional secret key that is missing leaves the variable unset, and Rasa would not start."""
    for entry in running(k8s_workloads, ["rasa", "run"]):
        needed = set().union(*map(config_file_variables, rasa_config_files(entry["dockerfile"], entry["server"])))
        for variable in entry["container"].get("env", []):
            reference = variable.get("valueFrom", {}).get("secretKeyRef", {})
            assert not (variable["name"] in needed and reference.get("optional")), variable["name"]


def test_variable_references_are_defined_before_use(rendered):
    for _, container in k8s_containers(rendered):
        defined = {key for source in container.get("envFrom", [])
                   for key in config_map_data(rendered, source["configMapRef"]["name"])}
        for variable in container.get("env", []):
            used = set(re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", variable.get("value", "")))
            assert used <= defined, f"{container['name']}: {variable['name']} uses {used - defined} before it is set"
            defined.add(variable["name"])


def compose_environment(service: dict) -> Dict[str, str]:
    return {key: str(value) for key, value in service.get("environment", {}).items()}


def test_kubernetes_ports_match(rendered, k8s_workloads):
    for entry in k8s_workloads:
        if entry["workload"]["kind"] != "Deployment":
            continue
        container = entry["container"]
        port = server_port(entry["server"], container_values(rendered, container))
        services = services_for(rendered, entry["workload"])
        if port is None:
            name = entry["workload"]["metadata"]["name"]
            assert not container.get("ports") and not services, f"{name} listens on no port: no port, no Service"
            assert not probes(container), f"{name} has no HTTP server to probe"
            continue
        assert [item["containerPort"] for item in container["ports"]] == [port]
        for kind, probe in probes(container).items():
            assert container_port(container, probe["port"]) == port, f"{container['name']} {kind}"
        assert services, f"no Service selects {entry['workload']['metadata']['name']}"
        for service in services:
            assert [container_port(container, item["targetPort"]) for item in service["spec"]["ports"]] == [port]
    for _, _, service_name, port in ingress_paths(rendered):
        service = named(rendered, "Service", service_name)
        assert port in [item["port"] for item in service["spec"]["ports"]], f"Ingress to {service_name}:{port}"


def test_rasa_calls_the_action_service_on_its_port(rendered, k8s_workloads):
    rasa = running(k8s_workloads, ["rasa", "run"])[0]
    url = urlsplit(container_values(rendered, rasa["container"])["ACTION_ENDPOINT_URL"])
    actions = running(k8s_workloads, ["python", "-m", "actions.server"])
    service = named(rendered, "Service", url.hostname)
    assert service in services_for(rendered, actions[0]["workload"])
    assert url.port in [item["port"] for item in service["spec"]["ports"]]
    assert url.path == "/webhook"


def test_compose_ports_match(compose_workloads):
    rasa_port = {int(option(entry["server"], "--port"))
                 for entry in compose_workloads.values() if entry["server"][:2] == ["rasa", "run"]}
    for name, entry in compose_workloads.items():
        url = entry["service"].get("environment", {}).get("ACTION_ENDPOINT_URL")
        if url:
            target = compose_workloads[urlsplit(url).hostname]["server"]
            assert target[:3] == ["python", "-m", "actions.server"], f"{name}: {url}"
            assert urlsplit(url).port == int(option(target, "--port"))
        check = " ".join(entry["service"].get("healthcheck", {}).get("test", []))
        listening = server_port(entry["server"], compose_environment(entry["service"]))
        for port in re.findall(r"http://127\.0\.0\.1:(\d+)/", check):
            assert int(port) == listening, f"{name} healthcheck"
    servers = {words[2] for lines in backends(HAPROXY_COMPOSE).values() for words in lines if words[0] == "server"}
    assert {int(server.rsplit(":", 1)[1]) for server in servers} == rasa_port


def test_probes_and_health_checks_point_at_routes_that_exist(k8s_workloads, compose_workloads, rasa_app,
                                                             server_apps):
    """Probes are routes of the server's real app; the action server's and the dashboard's answer without the
    token or a sign-in (`open`); Rasa's readiness is channels/health.py's route."""
    readiness_prefix = rasa_app["channels"]["channels.health"]
    for entry in k8s_workloads:
        checks = probes(entry["container"])
        if entry["server"][:2] == ["rasa", "run"]:
            assert all(probe["path"] in rasa_app["routes"] for probe in checks.values()), checks
            assert checks["readinessProbe"]["path"].startswith(readiness_prefix + "/"), "ready means model loaded"
        elif checks:
            app = server_apps[server_name(entry["server"])]
            assert all(probe["path"] in app["routes"] for probe in checks.values()), checks
            assert all(probe["path"] in app["open"] for probe in checks.values()), "probes carry no token"
            assert "readinessProbe" in checks and "livenessProbe" in checks, entry["workload"]["metadata"]["name"]
    for name, entry in compose_workloads.items():
        check = " ".join(entry["service"].get("healthcheck", {}).get("test", []))
        paths = re.findall(r"http://127\.0\.0\.1:\d+(/[^\s'\"]*)", check)
        if paths:
            app = server_apps[server_name(entry["server"])]
            assert all(path in app["routes"] for path in paths), f"{name} healthcheck {paths}"
            assert all(path in app.get("open", app["routes"]) for path in paths), f"{name} healthcheck {paths}"
    for lines in backends(HAPROXY_COMPOSE).values():
        check = next(words for words in lines if words[:2] == ["option", "httpchk"])
        assert check[3] in rasa_app["routes"] and check[3].startswith(readiness_prefix + "/")


def service_names(documents: List[dict], entries: List[dict]) -> Set[str]:
    return {service["metadata"]["name"] for entry in entries for service in services_for(documents, entry["workload"])}


def test_ingress_opens_what_the_host_front_door_opens(rendered, with_rest_webhook, k8s_workloads, rasa_app):
    always, switched = public_paths(HAPROXY_HOST)
    assert public_paths(HAPROXY_COMPOSE) == (always, switched), "the Compose HAProxy opens other paths"
    to_rasa = service_names(rendered, running(k8s_workloads, ["rasa", "run"]))
    base = {(kind, path) for kind, path, service, _ in ingress_paths(rendered) if service in to_rasa}
    assert base == always, "deploy/k8s opens other paths than deploy/haproxy.cfg by default"
    assert {(kind, path) for kind, path, service, _ in ingress_paths(with_rest_webhook)
            if service in to_rasa} == always | switched
    for kind, path in always | switched:
        assert served(rasa_app["routes"], kind, path), f"{path}: no such route on the Rasa server"


def test_every_ingress_path_is_a_route_of_the_server_behind_it(with_rest_webhook, k8s_workloads, server_apps):
    for kind, path, service, _ in ingress_paths(with_rest_webhook):
        behind = [entry for entry in k8s_workloads if service in service_names(with_rest_webhook, [entry])]
        assert behind, f"the Ingress sends {path} to {service}, which selects no pod"
        for entry in behind:
            app = server_apps[server_name(entry["server"])]
            assert served(app["routes"], kind, path), f"{path}: no such route on {server_name(entry['server'])}"


def ingress_hosts(documents: List[dict]) -> Dict[str, Set[str]]:
    """Ingress host -> the Services its paths lead to."""
    hosts: Dict[str, Set[str]] = {}
    for ingress in of_kind(documents, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            hosts.setdefault(rule["host"], set()).update(
                path["backend"]["service"]["name"] for path in rule["http"]["paths"])
    return hosts


def test_the_dashboard_has_a_host_of_its_own(rendered, k8s_workloads):
    """Staff reach the dashboard on its own host, DASHBOARD_URL's (https: its session cookie is Secure only
    then), which leads to nothing else; the learner-facing host does not lead to it."""
    dashboards = running(k8s_workloads, ["python", "-m", "dashboard"])
    assert dashboards
    to_dashboard = service_names(rendered, dashboards)
    for entry in dashboards:
        url = urlsplit(container_values(rendered, entry["container"])["DASHBOARD_URL"])
        assert url.scheme == "https" and not url.path, f"DASHBOARD_URL {url.geturl()}: https, no path"
        hosts = ingress_hosts(rendered)
        assert hosts.get(url.hostname) == to_dashboard, f"{url.hostname} does not lead to the dashboard alone"
        assert all(not services & to_dashboard for host, services in hosts.items() if host != url.hostname)
    for ingress in of_kind(rendered, "Ingress"):
        backends_ = {path["backend"]["service"]["name"] for rule in ingress["spec"]["rules"]
                     for path in rule["http"]["paths"]}
        if backends_ & to_dashboard:
            annotations = ingress["metadata"].get("annotations", {})
            assert "nginx.ingress.kubernetes.io/affinity" not in annotations, "sessions are signed cookies"
            assert {host for tls in ingress["spec"]["tls"] for host in tls["hosts"]} == {
                rule["host"] for rule in ingress["spec"]["rules"]}


def variable_source(documents: List[dict], container: dict, name: str) -> str:
    """Where a container's variable comes from, comparably: its Secret key or value, or the ConfigMap's value
    (whether a secret key is optional may differ)."""
    for variable in container.get("env", []):
        if variable["name"] == name:
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                return json.dumps({"secret": reference["name"], "key": reference["key"]})
            return json.dumps({key: value for key, value in variable.items() if key != "name"}, sort_keys=True)
    return json.dumps({"value": container_values(documents, container).get(name)})


def test_link_makers_and_the_dashboard_share_its_secret_and_address(rendered, k8s_workloads, compose_workloads):
    """The Rasa servers sign dashboard links that the dashboard checks (DASHBOARD_SECRET) and that point at it
    (DASHBOARD_URL): every container reading one gets it from the same place."""
    for variable in ("DASHBOARD_SECRET", "DASHBOARD_URL"):
        readers = [entry for entry in k8s_workloads
                   if variable in variables_needed(entry["dockerfile"], entry["argv"], entry["server"])]
        assert {server_name(entry["server"]) for entry in readers} >= {"rasa run", "dashboard"}, variable
        assert len({variable_source(rendered, entry["container"], variable) for entry in readers}) == 1, variable
        readers = [entry for entry in compose_workloads.values()
                   if variable in variables_needed(entry["dockerfile"], entry["argv"], entry["server"])]
        assert len({compose_environment(entry["service"]).get(variable) for entry in readers}) == 1, variable


def test_web_chat_keeps_to_one_rasa_server(rendered):
    for ingress in of_kind(rendered, "Ingress"):
        paths = {path["path"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]}
        annotations = ingress["metadata"].get("annotations", {})
        if "/socket.io/" in paths:
            assert annotations.get("nginx.ingress.kubernetes.io/affinity") == "cookie"
            assert paths == {"/socket.io/"}, "affinity annotations apply to every path of the Ingress"
        assert ingress["spec"]["ingressClassName"] == "nginx"
        assert ingress["spec"].get("tls"), f"{ingress['metadata']['name']} without TLS"


def test_compose_haproxy_balances_the_rasa_replicas(compose_workloads):
    replicas = {name for name, entry in compose_workloads.items() if entry["server"][:2] == ["rasa", "run"]}
    assert len(replicas) >= 2
    lines = frontend(HAPROXY_COMPOSE)
    sticky = next(words[1] for words in lines if words[0] == "use_backend" and "web_chat" in words)
    assert any(words[0] == "acl" and words[1] == "web_chat" and words[3] == "/socket.io/" for words in lines)
    for name, backend in backends(HAPROXY_COMPOSE).items():
        assert ["balance", "roundrobin"] in backend
        assert {words[2].rsplit(":", 1)[0] for words in backend if words[0] == "server"} == replicas, name
        routed = {words[1]: words[3:] for words in backend if words[0] == "use-server"}
        if name == sticky:  # each session's requests to the replica whose name starts its id
            assert routed == {replica: ["{", "url_param(sid)", "-m", "beg", f"{replica}.", "}"] for replica in replicas}
            for replica in replicas:  # the name the replica puts first in its session ids
                assert compose_workloads[replica]["service"]["hostname"] == replica
        else:
            assert routed == {}, name


def test_compose_haproxy_config_is_valid():
    haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if haproxy is None:
        pytest.skip("haproxy is not installed (scripts/test.sh installs Debian's package)")
    result = subprocess.run([haproxy, "-c", "-f", str(HAPROXY_COMPOSE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_images_are_pinned(rendered):
    images = [container["image"] for _, container in k8s_containers(rendered)]
    images += [service["image"] for service in compose()["services"].values()]
    for image in images:
        tag = repository_and_tag(image)[1]
        assert tag and tag != "latest", f"{image} is not pinned"
    for dockerfile, (repository, dist) in BASE_IMAGES.items():
        base = f"{repository}:{importlib.metadata.version(dist)}"
        assert final_stage(dockerfile)[0][1].split()[0] == base, f"{dockerfile.name} is not built on {base}"
        for lines in stages(dockerfile):
            image = lines[0][1].split()[0]
            release = re.fullmatch(r"\d+\.\d+\.\d+(-[a-z0-9.-]+)?", repository_and_tag(image)[1])
            assert image == base or release, f"{dockerfile.name}: FROM {image} is not pinned to a release"


def test_images_install_what_the_code_imports(compose_workloads):
    for dockerfile, (_, dist) in BASE_IMAGES.items():
        modules = set().union(*(modules_run_by(dockerfile, entry["server"]) for entry in compose_workloads.values()
                                if entry["dockerfile"] == dockerfile))
        needed = distributions_of(third_party_imports(modules) | {"psycopg2"})  # PostgreSQL's SQLAlchemy driver
        installed, constraints = pip_installs(dockerfile)
        missing = needed - installed - base_image_distributions(dist)
        assert not missing, f"{dockerfile.name} installs no {missing}"
        for pins in PINNING_FILES:
            unpinned = needed & pinned_in(pins) - (installed if pins in constraints else set())
            assert not unpinned, f"{dockerfile.name}: {unpinned} not installed with -c requirements/{pins}"


def test_images_copy_what_the_code_needs(compose_workloads, server_apps, monkeypatch):
    """Modules, config files and the model, the catalog file where it is read, the files the code names under
    the project root (settings.PROJECT_ROOT / ...), and what a web app serves as static files."""
    monkeypatch.delenv("CATALOG_FILE", raising=False)
    for entry in compose_workloads.values():
        dockerfile, server = entry["dockerfile"], entry["server"]
        modules = modules_run_by(dockerfile, server)
        files = [module_file(module).relative_to(ROOT) for module in modules]
        if server[:2] == ["rasa", "run"]:
            files += [path.relative_to(ROOT) for path in rasa_config_files(dockerfile, server)]
            assert copied_from(dockerfile, APP_DIR / option(server, "--model")), "the model is not in the image"
        if "catalog_file" in settings_called(modules):
            files.append(settings.catalog_file().relative_to(ROOT))
        files += [Path(path) for path in project_paths(modules) - set(NOT_IN_IMAGES)]
        files += [Path(path) for path in server_apps.get(server_name(server), {}).get("static", [])]
        for path in files:
            assert copied_from(dockerfile, APP_DIR / path.as_posix()), f"{dockerfile.name} lacks {path}"


def test_the_model_comes_from_the_training_stage():
    (stage, source), = [(stage, source) for stage, source, target in copies(RASA_DOCKERFILE) if target.name.endswith(
        ".tar.gz")]
    training = next(lines for lines in stages(RASA_DOCKERFILE) if lines[0][1].split()[-1] == stage)
    train = next(args.split() for instruction, args in training if instruction == "RUN" and "rasa train" in args)
    assert PurePosixPath(source) == APP_DIR / option(train, "--out") / f"{option(train, '--fixed-model-name')}.tar.gz"


def test_exceptions_are_still_true():
    """What the tests leave out on purpose is still there to leave out."""
    named = set().union(*(project_paths(set(package_modules(package))) for package in PROJECT_PACKAGES))
    assert set(NOT_IN_IMAGES) <= named, f"the code names no {set(NOT_IN_IMAGES) - named}"
    assert set(NOT_DEPLOYED) <= set(cluster_programs()), f"make cluster starts no {set(NOT_DEPLOYED)}"


def test_chart_js_is_installed_from_the_lockfile(dashboard_app):
    """The dashboard's Chart.js comes from `npm ci` of web/package-lock.json in a build stage (integrity-checked,
    the version package.json pins), not from whatever web/node_modules the builder has."""
    for served_file in [path for path in dashboard_app["static"] if "node_modules/" in path]:
        stage, source = copied_from(RASA_DOCKERFILE, APP_DIR / served_file) or (None, None)
        assert stage, f"{RASA_DOCKERFILE.name} copies {served_file} from no build stage"
        lines = stage_named(RASA_DOCKERFILE, stage)
        workdir = PurePosixPath([args for instruction, args in lines if instruction == "WORKDIR"][-1])
        inputs = {source_ for stage_, source_, _ in copies(RASA_DOCKERFILE, lines) if stage_ is None}
        assert {"web/package.json", "web/package-lock.json"} <= inputs, inputs
        npm = [args.split() for instruction, args in lines if instruction == "RUN" and args.startswith("npm ")]
        assert any(words[:2] == ["npm", "ci"] and option(words, "--prefix") == "web" for words in npm), npm
        assert PurePosixPath(source) == workdir / served_file
        package = served_file.split("node_modules/", 1)[1].split("/")[0]
        pinned = json.loads((ROOT / "web" / "package.json").read_text(encoding="utf-8"))["dependencies"][package]
        locked = json.loads((ROOT / "web" / "package-lock.json").read_text(encoding="utf-8"))["packages"]
        assert locked[f"node_modules/{package}"]["version"] == pinned, f"{package}: package.json pins {pinned}"
        assert not dockerignore_lets_in(served_file), "the builder's web/node_modules must stay out of the context"


def test_build_context_lets_in_what_the_images_copy():
    for dockerfile in BASE_IMAGES:
        for stage, source, _ in (copy for lines in stages(dockerfile) for copy in copies(dockerfile, lines)):
            if stage is not None:
                continue
            path = ROOT / source
            assert path.exists(), f"{dockerfile.name} copies {source}, which does not exist"
            files = [path] if path.is_file() else [item for item in path.rglob("*")
                                                   if item.is_file() and "__pycache__" not in item.parts]
            for item in files:
                assert dockerignore_lets_in(item.relative_to(ROOT).as_posix()), f".dockerignore keeps out {item}"
    assert not dockerignore_lets_in(".env") and not dockerignore_lets_in("deploy/.env")


def test_containers_run_as_non_root(rendered):
    for dockerfile in BASE_IMAGES:
        users = [args.strip() for instruction, args in final_stage(dockerfile) if instruction == "USER"]
        assert users and users[-1] not in ("root", "0"), f"{dockerfile.name} runs as {users[-1:]}"
    for workload, container in k8s_containers(rendered):
        pod = pod_template(workload)["spec"].get("securityContext", {})
        assert pod.get("runAsNonRoot") is True and pod.get("runAsUser", 0) != 0, workload["metadata"]["name"]
        assert container.get("securityContext", {}).get("allowPrivilegeEscalation") is False, container["name"]


def test_resources_and_autoscaling(rendered, k8s_workloads):
    for _, container in k8s_containers(rendered):
        resources = container.get("resources", {})
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(bound, {})), f"{container['name']}: {bound}"
    rasa = running(k8s_workloads, ["rasa", "run"])[0]["workload"]
    (autoscaler,) = of_kind(rendered, "HorizontalPodAutoscaler")
    target = autoscaler["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", rasa["metadata"]["name"])
    assert autoscaler["spec"]["minReplicas"] == rasa["spec"]["replicas"] <= autoscaler["spec"]["maxReplicas"]


def test_compose_file_builds_from_dockerfiles_that_exist(compose_workloads):
    services = compose()["services"]
    for name, service in services.items():
        dockerfile = compose_dockerfile(service)
        assert dockerfile is None or dockerfile in BASE_IMAGES, f"{name}: {dockerfile}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert not source.startswith(".") or (COMPOSE_FILE.parent / source).exists(), f"{name}: {volume}"
    loaders = [name for name, entry in compose_workloads.items()
               if entry["server"][:4] == ["python", "-m", "catalog", "load"]]
    assert loaders and all(services[name].get("restart") == "no" for name in loaders)
    actions = next(entry for entry in compose_workloads.values() if entry["server"][2:3] == ["actions.server"])
    assert actions["service"]["depends_on"][loaders[0]]["condition"] == "service_completed_successfully"


def test_compose_publishes_only_the_front_doors_on_loopback(compose_workloads):
    """HAProxy (learners, Slack) and the dashboard (staff) publish a port, on loopback unless configured, to the
    port each listens on; nothing else does."""
    listening = {"haproxy": int(next(words[1] for words in frontend(HAPROXY_COMPOSE) if words[0] == "bind")
                                .rsplit(":", 1)[1])}
    listening.update({name: server_port(entry["server"], compose_environment(entry["service"]))
                      for name, entry in compose_workloads.items() if server_name(entry["server"]) == "dashboard"})
    assert len(listening) == 2, f"front doors: {sorted(listening)}"
    for name, service in compose()["services"].items():
        published = service.get("ports", [])
        assert bool(published) == (name in listening), f"{name}: only HAProxy and the dashboard publish a port"
        for mapping in published:
            found = re.fullmatch(r"\$\{[A-Z_]+:-127\.0\.0\.1\}:(\$\{[A-Z_]+:-\d+\}|\d+):(\d+)", str(mapping))
            assert found, f"{name}: {mapping} is not published on loopback by default"
            assert int(found.group(2)) == listening[name], f"{name}: {mapping} is not the port it listens on"


def test_network_policies_open_only_ports_the_pods_listen_on(rendered):
    for policy in of_kind(rendered, "NetworkPolicy"):
        selector = policy["spec"]["podSelector"]["matchLabels"]
        containers = [container for workload, container in k8s_containers(rendered)
                      if selector.items() <= pod_template(workload)["metadata"].get("labels", {}).items()]
        assert containers, f"NetworkPolicy {policy['metadata']['name']} selects no pod"
        ports = {item["containerPort"] for container in containers for item in container.get("ports", [])}
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        for rule in policy["spec"].get("ingress", []):
            opened = {item["port"] for item in rule.get("ports", [])}
            assert opened and opened <= ports, f"NetworkPolicy {policy['metadata']['name']} opens {opened}"


def test_compose_variables_are_documented():
    used = set(ENV_REFERENCE.findall(COMPOSE_FILE.read_text(encoding="utf-8").replace("$${", "")))
    documented = env_file(COMPOSE_ENV_EXAMPLE)
    assert used == set(documented), f"undocumented: {used - set(documented)}, unused: {set(documented) - used}"


def test_no_secret_values_in_kubernetes(rendered):
    for _, container in k8s_containers(rendered):
        for variable in container.get("env", []):
            if SECRET_LIKE.search(variable["name"]):
                reference = variable.get("valueFrom", {}).get("secretKeyRef", {})
                assert reference.get("name") == SECRET_NAME, f"{container['name']}: {variable['name']} not a secret"
            assert_no_password(variable.get("value", ""), r"\$\([A-Z_]+\)")
    for config_map in of_kind(rendered, "ConfigMap"):
        for key, value in config_map.get("data", {}).items():
            assert not SECRET_LIKE.search(key), f"secret-like {key} in ConfigMap {config_map['metadata']['name']}"
            assert_no_password(value, r"\$\([A-Z_]+\)")


def test_no_secret_values_in_compose():
    for name, service in compose()["services"].items():
        for key, value in service.get("environment", {}).items():
            if SECRET_LIKE.search(key):
                assert re.fullmatch(r"\$\{[^}]+\}", str(value)), f"{name}: {key} is not a ${{...}} reference"
            assert_no_password(str(value), r"\$\{[^}]+\}")
    example = env_file(COMPOSE_ENV_EXAMPLE)
    assert not any(value for key, value in example.items() if SECRET_LIKE.search(key)), "a secret in the example"


def assert_no_password(value: str, reference: str) -> None:
    """A URL's password may only be a reference to a variable."""
    for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", value):
        assert re.fullmatch(reference, password), f"a password in {value!r}"


def test_secret_template_lists_exactly_the_keys_the_manifests_read(rendered):
    template = env_file(SECRETS_TEMPLATE)
    assert not any(template.values()), "secrets.env.example holds values"
    referenced = {(reference["name"], reference["key"]) for _, container in k8s_containers(rendered)
                  for variable in container.get("env", [])
                  for reference in [variable.get("valueFrom", {}).get("secretKeyRef")] if reference}
    assert {name for name, _ in referenced} == {SECRET_NAME}
    assert {key for _, key in referenced} == set(template)


def test_filled_in_secrets_stay_out_of_git():
    for path in ("deploy/k8s/secrets.env", "deploy/.env"):
        result = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert result.returncode == 0, f"git does not ignore {path}"


def test_the_catalog_sync_is_scheduled_wherever_the_assistant_runs(rendered, k8s_workloads, compose_workloads,
                                                                    monkeypatch):
    """make run / make cluster start the daily sync only when course-discovery is configured; Kubernetes
    has it as a CronJob (suspended until configured) and Compose as a service of the `sync` profile, all
    running the same module."""
    assert "catalog-sync" not in cluster_programs()
    monkeypatch.setenv("DISCOVERY_API_URL", "https://discovery.example.org")
    started = cluster_programs()["catalog-sync"]
    assert program_name(started) == "catalog.schedule"
    cronjobs = [entry for entry in k8s_workloads if entry["workload"]["kind"] == "CronJob"
                and "catalog.schedule" in entry["argv"]]
    assert len(cronjobs) == 1
    cronjob = cronjobs[0]
    assert cronjob["argv"][-1] == "--once" and cronjob["workload"]["spec"]["suspend"] is True
    assert cronjob["workload"]["spec"]["concurrencyPolicy"] == "Forbid"
    env = {e["name"]: e for e in cronjob["container"].get("env", [])}
    assert env["DISCOVERY_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]["optional"] is True
    service = compose_workloads["catalog-sync"]["service"]
    assert service["profiles"] == ["sync"] and "catalog.schedule" in service["command"]
