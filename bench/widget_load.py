"""Many learners in the web widget at once: socket.io clients, as rasa-webchat connects, against a running
Rasa server (`make run`) or the cluster's HAProxy (`make cluster`), on loopback only.

Each learner connects, asks for its session (`session_request`, as the widget does), then asks QUESTIONS
questions GAP seconds apart; what is measured is how long the first reply to each question takes. The
learners are spread over PROCESSES worker processes (python-socketio's asyncio client, one event loop
each), started together, so that the load generator is not the bottleneck on its own core. Everything is
bounded: at most MAX_LEARNERS learners, and each learner gives up REPLY_TIMEOUT seconds after its last
question. The report gives connected, answered, the first-reply percentiles, and the CPU seconds of
each worker and of the server processes listening on the target port.

    python -m bench.widget_load --url http://127.0.0.1:5005 --learners 1000 [--transport websocket]
"""

import argparse
import asyncio
import multiprocessing
import os
import re
import resource
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urlsplit

import aiohttp
import socketio

MAX_LEARNERS = 5000
BROWSER_CONNECT_SECONDS = 20.0
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
QUESTIONS = (
    "how much does the MITx supply chain micromasters cost?",
    "does the columbia AI micromasters count for credit?",
    "will it guarantee admission to the master's?",
)


@dataclass
class WorkerResult:
    learners: int = 0
    connected: int = 0
    asked: int = 0
    answered: int = 0
    first_replies: List[float] = field(default_factory=list)
    connect_times: List[float] = field(default_factory=list)
    errors: Dict[str, int] = field(default_factory=dict)
    cpu_seconds: float = 0.0


async def one_learner(url: str, transports: List[str], questions: int, gap: float, reply_timeout: float,
                      start_at: float, result: WorkerResult) -> None:
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    # Each learner is a browser of its own, keeping cookies: make cluster's HAProxy pins a learner's polls to
    # one Rasa server by cookie, and aiohttp's default jar ignores cookies from an IP address (127.0.0.1).
    browser = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    # socket.io-client in the browser gives a connection 20 s (its `timeout`), handshake included; python-socketio
    # gives each handshake request 5 s and the namespace 1 s unless told
    client = socketio.AsyncClient(reconnection=False, request_timeout=BROWSER_CONNECT_SECONDS, http_session=browser)
    replies: asyncio.Queue = asyncio.Queue()
    client.on("bot_uttered", lambda data: replies.put_nowait(time.monotonic()))
    session = f"load-{uuid.uuid4().hex}"
    try:
        connecting = time.monotonic()
        await client.connect(url, transports=transports, socketio_path="socket.io",
                             wait_timeout=BROWSER_CONNECT_SECONDS)
        result.connect_times.append(time.monotonic() - connecting)
        result.connected += 1
        await client.emit("session_request", {"session_id": session})
        for index in range(questions):
            while not replies.empty():
                replies.get_nowait()  # a late reply to the previous question is not this one's
            sent = time.monotonic()
            result.asked += 1
            await client.emit("user_uttered", {"message": QUESTIONS[index % len(QUESTIONS)], "session_id": session})
            try:
                first = await asyncio.wait_for(replies.get(), reply_timeout)
            except asyncio.TimeoutError:
                result.errors["no reply in time"] = result.errors.get("no reply in time", 0) + 1
                continue
            result.answered += 1
            result.first_replies.append(first - sent)
            await asyncio.sleep(max(0.0, gap - (time.monotonic() - sent)))
    except Exception as error:  # every failure is counted by kind, none stops the other learners
        kind = f"{type(error).__name__} ({str(error)[:60]})" if str(error) else type(error).__name__
        result.errors[kind] = result.errors.get(kind, 0) + 1
    finally:
        if client.connected:
            await client.disconnect()
        await browser.close()


def worker(url: str, transports: List[str], learners: int, questions: int, gap: float, reply_timeout: float,
           ramp: float, start: float, queue) -> None:
    result = WorkerResult(learners=learners)

    async def everyone() -> None:
        base = time.monotonic() + max(0.0, start - time.time())
        await asyncio.gather(*(one_learner(url, transports, questions, gap, reply_timeout,
                                           base + ramp * index / max(1, learners), result)
                               for index in range(learners)))

    asyncio.run(everyone())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.cpu_seconds = usage.ru_utime + usage.ru_stime
    queue.put(result)


def listening_pids(port: int) -> List[int]:
    """The processes listening on the port (the Rasa server, or HAProxy), from `ss`."""
    output = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return sorted({int(pid) for pid in re.findall(r"pid=(\d+)", output)})


def cpu_seconds_of(pid: int) -> Optional[float]:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / float(os.sysconf("SC_CLK_TCK"))


def percentile(values: List[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run(url: str, learners: int, processes: int, questions: int, gap: float, reply_timeout: float, ramp: float,
        transports: List[str], server_ports: Optional[List[int]] = None) -> dict:
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK:
        raise SystemExit(f"error: the widget load runs on loopback only, not against {parts.hostname!r}")
    if not 1 <= learners <= MAX_LEARNERS:
        raise SystemExit(f"error: --learners must be between 1 and {MAX_LEARNERS}")
    servers = sorted({pid for port in (server_ports or [parts.port or 80]) for pid in listening_pids(port)})
    server_cpu_before = {pid: cpu_seconds_of(pid) for pid in servers}
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    shares = [learners // processes + (1 if index < learners % processes else 0) for index in range(processes)]
    start = time.time() + 2.0  # every worker imported and ready before the first learner connects
    workers = [context.Process(target=worker, args=(url, transports, share, questions, gap, reply_timeout, ramp,
                                                    start, queue)) for share in shares if share]
    began = time.monotonic()
    for each in workers:
        each.start()
    results = [queue.get(timeout=ramp + questions * (gap + reply_timeout) + 120) for _ in workers]
    for each in workers:
        each.join(timeout=10)
    elapsed = time.monotonic() - began
    replies = [value for result in results for value in result.first_replies]
    connects = [value for result in results for value in result.connect_times]
    errors: Dict[str, int] = {}
    for result in results:
        for kind, count in result.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    server_cpu = {pid: (cpu_seconds_of(pid) or 0.0) - (before or 0.0) for pid, before in server_cpu_before.items()}
    return {
        "learners": learners, "transport": "+".join(transports), "connected": sum(r.connected for r in results),
        "asked": sum(r.asked for r in results), "answered": sum(r.answered for r in results),
        "p50": percentile(replies, 0.50), "p95": percentile(replies, 0.95), "p99": percentile(replies, 0.99),
        "median": statistics.median(replies) if replies else float("nan"), "errors": errors,
        "connect_p50": percentile(connects, 0.50), "connect_p95": percentile(connects, 0.95),
        "worker_cpu": [round(r.cpu_seconds, 1) for r in results], "server_cpu": server_cpu, "elapsed": elapsed,
    }


def render(rows: List[dict]) -> str:
    lines = ["| learners | transport | connected | connect p50 / p95 (s) | answered / asked | "
             "first reply p50 / p95 / p99 (s) | load generator CPU s (per process) | server CPU s | errors |",
             "|---:|---|---:|---:|---:|---:|---|---:|---|"]
    for row in rows:
        errors = ", ".join(f"{kind} {count}" for kind, count in sorted(row["errors"].items())) or "none"
        server = sum(row["server_cpu"].values()) if row["server_cpu"] else float("nan")
        lines.append(f"| {row['learners']} | {row['transport']} | {row['connected']} | "
                     f"{row['connect_p50']:.2f} / {row['connect_p95']:.2f} | {row['answered']} / {row['asked']} | "
                     f"{row['p50']:.2f} / {row['p95']:.2f} / {row['p99']:.2f} | "
                     f"{' '.join(str(c) for c in row['worker_cpu'])} | {server:.1f} | {errors} |")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.widget_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:5005", help="the Rasa server or HAProxy (loopback)")
    parser.add_argument("--learners", type=int, nargs="+", default=[300], help="one run per number given")
    parser.add_argument("--processes", type=int, default=4, help="load generator processes")
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--gap", type=float, default=3.0, help="seconds between a learner's questions")
    parser.add_argument("--ramp", type=float, default=5.0, help="seconds over which the learners connect")
    parser.add_argument("--reply-timeout", type=float, default=30.0)
    parser.add_argument("--transport", choices=["polling", "websocket", "polling+websocket"],
                        default="polling+websocket", help="as the widget: polling, then the websocket upgrade")
    parser.add_argument("--server-ports", type=int, nargs="+",
                        help="count the CPU of the processes listening on these ports (default: the URL's); "
                             "make cluster: HAProxy's, each Rasa server's and the action server's")
    args = parser.parse_args(argv)
    transports = args.transport.split("+")
    rows = [run(args.url, learners, args.processes, args.questions, args.gap, args.reply_timeout, args.ramp,
                transports, args.server_ports) for learners in args.learners]
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
