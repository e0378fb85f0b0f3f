"""Start, wait for, measure and stop the subprocesses the benchmark runs (rasa train, the servers)."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Optional

import requests

STOP_GRACE_SECONDS = 15.0


class BenchError(Exception):
    """A step of the benchmark failed; `log` is the file to look at, if there is one."""

    def __init__(self, message: str, log: Optional[Path] = None):
        super().__init__(message)
        self.log = log


def free_port() -> int:
    """A TCP port nobody listens on right now: the OS picks one when we bind to port 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("", 0))
        return sock.getsockname()[1]


class Processes:
    """Every subprocess the benchmark started, so that all of them are stopped however the run ends.

    Each child gets its own session (process group): a Ctrl-C in the terminal then reaches only the
    benchmark, which stops the children itself, and a child's own helpers are signalled with it.
    """

    def __init__(self) -> None:
        self._running: list[subprocess.Popen] = []

    def start(self, args: list[str], *, env: dict, log: Path, cwd: Path) -> subprocess.Popen:
        with open(log, "ab") as out:
            process = subprocess.Popen(
                args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._running.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        """SIGTERM the child's process group, then SIGKILL it if it is still there after the grace period."""
        if process in self._running:
            self._running.remove(process)
        if process.poll() is not None and not _group_alive(process.pid):
            return
        _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if process.poll() is None or _group_alive(process.pid):
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        for process in reversed(list(self._running)):
            self.stop(process)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def wait_until(
    ready: Callable[[], bool], process: subprocess.Popen, *, what: str, log: Path, timeout: float = 300.0
) -> None:
    """Poll `ready()` until it is true; fail early if the process exits, or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{what} exited with code {process.returncode} before it was ready", log)
        try:
            if ready():
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise BenchError(f"{what} was not ready after {timeout:.0f} s", log)


def http_ok(url: str) -> bool:
    return requests.get(url, timeout=5).status_code == 200


def parse_answers(base_url: str, api_token: str) -> bool:
    """True once the Rasa server has a model loaded: /model/parse (with the API token) returns an intent."""
    response = requests.post(f"{base_url}/model/parse", params={"token": api_token}, json={"text": "hello"},
                             timeout=30)
    return response.status_code == 200 and "intent" in response.json()


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants, from the parent ids in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, []))
    return tree


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process tree in MiB, summed over the process and its descendants."""
    total_kb = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024
