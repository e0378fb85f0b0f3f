"""Benchmark the project's config against Rasa's default config, in one run, on the same data.

Steps: snapshot the configs, domain, data, credentials and endpoints into a temp dir; load the catalog
into a fresh SQLite file there; start one action server on it (shared); then for each config: train it
on the snapshot (cold: own training cache), serve it with its own tracker store, score the dev NLU
set over /model/parse, time a scripted REST conversation, read the server's peak RSS and stop it.
The report goes to stdout and bench/results/latest.md; progress goes to stderr.
Exit code: 0 when the benchmark ran (whether or not the targets hold), 1 on failure, 130 on Ctrl-C.
"""

import argparse
import atexit
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.answer_eval import answer_level
from bench.measure import WARMUP_MESSAGES, dev_set_scores, read_nlu_examples, real_question_scores, rest_latency
from bench.report import ConfigResult, render
from bench.scoring import FRESH_TEST_DIR, read_real_questions
from bench.servers import BenchError, Processes, free_port, http_ok, parse_answers, peak_rss_mb, wait_until
from catalog.facts import faq_facts
from catalog.faq_index import FaqIndex
from core import settings
from core.db import engine_for, session_scope
from ops.commands import action_server_command, rasa_server_command

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
RASA = str(VENV_BIN / "rasa")
DEV_SET = PROJECT_ROOT / "tests" / "nlu_dev.yml"
RESULTS = BENCH_DIR / "results" / "latest.md"
ERRORS = BENCH_DIR / "results" / "real_question_errors.md"
ANSWER_ERRORS = BENCH_DIR / "results" / "answer_errors.md"
PROGRESS_EVERY_SECONDS = 30
# The benchmark talks to its servers as an operator would: the action server wants its shared secret,
# and Rasa's HTTP API (for /model/parse) is on only with a token. Both are made for this run.
ACTION_SERVER_TOKEN = secrets.token_urlsafe(24)
RASA_API_TOKEN = secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Config:
    name: str
    label: str
    path: Path


CONFIGS = {
    "project": Config("project", "project", PROJECT_ROOT / "config.yml"),
    "default": Config("default", "rasa default", BENCH_DIR / "default_config.yml"),
}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def environment(**extra: str) -> dict:
    """The environment for a subprocess: ours, the project's documented defaults, then `extra`.

    The defaults are what `python -m core.settings` prints for the Makefile's scripts; credentials.yml
    and endpoints.yml read some of them as `${...}` and Rasa refuses to start when one is unset.
    """
    env = dict(os.environ)
    env.update(settings.as_environment())
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env["ACTION_SERVER_TOKEN"] = ACTION_SERVER_TOKEN
    env.update(extra)
    return env


class Bench:
    """One benchmark run: its temp dir, the processes it started and the shared action server."""

    def __init__(self, work: Path, processes: Processes, latency_messages: int):
        self.work = work
        self.processes = processes
        self.latency_messages = latency_messages
        self.dev_set = read_nlu_examples(DEV_SET)
        self.real_questions = read_real_questions()
        self.fresh_questions = read_real_questions(FRESH_TEST_DIR)
        self.faq: FaqIndex | None = None
        self.errors_text = ""
        self.answer_errors_text = ""
        self.snapshot = work / "project"
        self.action_server: subprocess.Popen | None = None
        self.action_url = ""

    def take_snapshot(self) -> None:
        """Copy the configs, domain, data, credentials and endpoints into the temp dir, once.

        Both configs then train and serve on the same files even if someone edits the repo during the run
        (which takes minutes), and `rasa train` cannot write into a repo file: it writes auto-configured
        sections back into a config that leaves the pipeline or the policies empty, as Rasa's default does.
        """
        self.snapshot.mkdir()
        shutil.copytree(PROJECT_ROOT / "data", self.snapshot / "data")
        for name in ("domain.yml", "credentials.yml", "endpoints.yml"):
            shutil.copyfile(PROJECT_ROOT / name, self.snapshot / name)
        for config in CONFIGS.values():
            shutil.copyfile(config.path, self.snapshot / f"config-{config.name}.yml")

    def load_catalog(self) -> str:
        url = f"sqlite:///{self.work / 'catalog.db'}"
        say(f"loading the catalog into {url}...")
        done = subprocess.run(
            [str(VENV_BIN / "python"), "-m", "catalog", "load", "--database-url", url],
            cwd=PROJECT_ROOT, env=environment(DATABASE_URL=url), capture_output=True, text=True,
        )
        if done.returncode != 0:
            raise BenchError(f"loading the catalog failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
        say(f"  {done.stdout.strip()}")
        with session_scope(engine_for(url)) as session:
            self.faq = FaqIndex(faq_facts(session))
        return url

    def start_action_server(self, database_url: str) -> subprocess.Popen:
        port = free_port()
        log = self.work / "actions.log"
        say(f"starting the action server on port {port} (log: {log})...")
        process = self.processes.start(
            action_server_command(port), env=environment(DATABASE_URL=database_url), log=log,
            cwd=PROJECT_ROOT,
        )
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/health"), process, what="the action server", log=log)
        self.action_server = process
        self.action_url = f"http://127.0.0.1:{port}/webhook"
        return process

    def check_action_server(self) -> None:
        """Fail if the shared action server is gone: every later reply would be a fast, empty error."""
        if self.action_server is not None and self.action_server.poll() is not None:
            raise BenchError(
                f"the action server exited (code {self.action_server.returncode}) during the run",
                self.work / "actions.log",
            )

    def train(self, config: Config) -> tuple[Path, float]:
        """Train from the snapshot with an empty training cache (a cold start); return the model and seconds."""
        models = self.work / "models"
        log = self.work / f"train-{config.name}.log"
        say(f"training {config.label} config... (log: {log})")
        start = time.perf_counter()
        process = self.processes.start(
            [RASA, "train", "--config", str(self.snapshot / f"config-{config.name}.yml"),
             "--domain", str(self.snapshot / "domain.yml"), "--data", str(self.snapshot / "data"),
             "--out", str(models), "--fixed-model-name", config.name],
            env=environment(RASA_CACHE_DIRECTORY=str(self.work / f"cache-{config.name}")), log=log, cwd=PROJECT_ROOT,
        )
        next_note = PROGRESS_EVERY_SECONDS
        while process.poll() is None:
            time.sleep(0.2)
            if time.perf_counter() - start >= next_note:
                say(f"  still training {config.label} config ({next_note} s)")
                next_note += PROGRESS_EVERY_SECONDS
        seconds = time.perf_counter() - start
        self.processes.stop(process)
        model = models / f"{config.name}.tar.gz"
        if process.returncode != 0 or not model.exists():
            raise BenchError(f"training the {config.label} config failed (exit {process.returncode})", log)
        say(f"  trained in {seconds:.1f} s")
        return model, seconds

    def run_config(self, config: Config) -> ConfigResult:
        self.check_action_server()
        model, training_seconds = self.train(config)
        self.check_action_server()
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log = self.work / f"rasa-{config.name}.log"
        env = environment(
            ACTION_ENDPOINT_URL=self.action_url,
            TRACKER_STORE_URL=f"sqlite:///{self.work / f'conversations-{config.name}.db'}",
        )
        say(f"starting the Rasa server ({config.label}) on port {port} (log: {log})...")
        start = time.perf_counter()
        server = self.processes.start(
            rasa_server_command(model, port, api_token=RASA_API_TOKEN,
                                credentials=str(self.snapshot / "credentials.yml"),
                                endpoints=str(self.snapshot / "endpoints.yml")),
            env=env, log=log, cwd=PROJECT_ROOT,
        )
        try:
            wait_until(
                lambda: parse_answers(base_url, RASA_API_TOKEN),
                server, what=f"the Rasa server ({config.label})", log=log,
            )
            startup_seconds = time.perf_counter() - start
            say(f"  ready in {startup_seconds:.1f} s")
            with requests.Session() as session:
                session.params = {"token": RASA_API_TOKEN}
                say(f"  dev set: parsing {len(self.dev_set)} examples...")
                dev = dev_set_scores(session, base_url, self.dev_set)
                say(f"  accuracy {dev.accuracy:.3f}, macro-F1 {dev.macro_f1:.3f}, "
                    f"{dev.fallbacks} nlu_fallback")
                say(f"  real questions: parsing {len(self.real_questions)}...")
                real = real_question_scores(session, base_url, self.real_questions, self.faq)
                say(f"  four-topic accuracy {real.scores.four_topic_accuracy:.3f}, out-of-scope given a topic "
                    f"answer {real.scores.oos_topic_share:.3f}")
                say(f"  fresh test set: parsing {len(self.fresh_questions)}...")
                fresh = real_question_scores(session, base_url, self.fresh_questions, self.faq)
                say(f"  four-topic accuracy {fresh.scores.four_topic_accuracy:.3f}, out-of-scope given a topic "
                    f"answer {fresh.scores.oos_topic_share:.3f}")
                subjects = frozenset(fact.topic for fact in self.faq.facts)
                say(f"  answers: asking the {len(self.real_questions)} dev questions over REST...")
                answers = answer_level(session, base_url, self.real_questions, subjects)
                say(f"  acceptable {answers.overall.share('acceptable'):.3f}, "
                    f"wrong {answers.overall.share('wrong'):.3f}")
                say(f"  answers: asking the {len(self.fresh_questions)} fresh test questions over REST...")
                fresh_answers = answer_level(session, base_url, self.fresh_questions, subjects)
                say(f"  latency: {WARMUP_MESSAGES} warm-up + {self.latency_messages} timed REST messages...")
                latency = rest_latency(session, base_url, self.latency_messages)
                self.check_action_server()
                say(f"  p50 {latency.p50_ms:.1f} ms, p95 {latency.p95_ms:.1f} ms, "
                    f"{latency.empty_replies} replies without text; sample reply: {latency.sample[:100]!r}")
            rss = peak_rss_mb(server.pid)
            say(f"  peak RSS {rss:.0f} MB")
        except requests.RequestException as error:
            raise BenchError(f"the Rasa server ({config.label}) failed a request: {error}", log) from error
        finally:
            say(f"  stopping the Rasa server ({config.label})")
            self.processes.stop(server)
        return ConfigResult(
            label=config.label,
            training_seconds=training_seconds,
            startup_seconds=startup_seconds,
            accuracy=dev.accuracy,
            macro_f1=dev.macro_f1,
            fallbacks=dev.fallbacks,
            p50_ms=latency.p50_ms,
            p95_ms=latency.p95_ms,
            empty_replies=latency.empty_replies,
            peak_rss_mb=rss,
            real=real,
            fresh=fresh,
            words_median=latency.words_median,
            words_p95=latency.words_p95,
            answers=answers,
            fresh_answers=fresh_answers,
        )

    def run(self, only: str | None) -> str:
        self.take_snapshot()
        data_files = sorted((self.snapshot / "data").rglob("*.yml"))
        training = [pair for path in data_files for pair in read_nlu_examples(path)]
        action_server = self.start_action_server(self.load_catalog())
        results = {name: self.run_config(config) for name, config in CONFIGS.items() if only in (None, name)}
        self.errors_text = error_list(results)
        self.answer_errors_text = answer_error_list(results)
        action_rss = peak_rss_mb(action_server.pid)
        say("stopping the action server")
        self.processes.stop(action_server)
        return render(
            results.get("project"),
            results.get("default"),
            training_examples=len(training),
            dev_examples=len(self.dev_set),
            real_questions=len(self.real_questions),
            fresh_questions=len(self.fresh_questions),
            latency_messages=self.latency_messages,
            warmup_messages=WARMUP_MESSAGES,
            action_server_rss_mb=action_rss,
        )


def error_list(results: dict) -> str:
    """Every question of the first real set (a dev set) answered differently from its label, per config.
    The fresh test set's errors are not listed: reading them would make it a dev set too."""
    lines = ["# Real questions answered differently from their label", ""]
    for result in results.values():
        lines += [f"## {result.label} config ({len(result.real.errors)})", "",
                  "| asked | answered | intent | question |", "|---|---|---|---|"]
        for asked, answered, intent, question in sorted(result.real.errors):
            cell = " ".join(question.split()).replace("|", "\\|")
            lines.append(f"| {asked} | {answered} | {intent} | {cell} |")
        lines.append("")
    return "\n".join(lines)


def answer_error_list(results: dict) -> str:
    """Every dev question not answered acceptably, per config (never the fresh test set's)."""
    lines = ["# Dev questions not answered acceptably (answer level)", ""]
    for result in results.values():
        lines += [f"## {result.label} config ({len(result.answers.errors)})", "",
                  "| verdict | acceptable | answered | question |", "|---|---|---|---|"]
        for verdict, accept, answered, question in sorted(result.answers.errors):
            cell = " ".join(question.split()).replace("|", "\\|")
            lines.append(f"| {verdict} | {accept} | {answered} | {cell} |")
        lines.append("")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-messages", type=_positive, default=300, metavar="N",
                        help="timed REST messages per config (default: 300)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (models, logs, databases)")
    parser.add_argument("--only", choices=sorted(CONFIGS), help="run one config only (a quick run)")
    return parser.parse_args(argv)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _stop_on_sigterm(_signum, _frame) -> None:
    """SIGTERM ends the run like Ctrl-C does, through the `finally` that stops the servers."""
    raise KeyboardInterrupt


def _log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    processes = Processes()
    atexit.register(processes.stop_all)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    say(f"work dir: {work}")
    try:
        bench = Bench(work, processes, args.latency_messages)
        text = bench.run(args.only)
    except BenchError as error:
        say(f"error: {error}")
        if error.log:
            say(f"--- last lines of {error.log} ---\n{_log_tail(error.log)}")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        # A second Ctrl-C must not cut the clean-up short; each stop takes at most STOP_GRACE_SECONDS.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        processes.stop_all()
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    print(text, end="")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    say(f"wrote {RESULTS}")
    ERRORS.write_text(bench.errors_text, encoding="utf-8")
    say(f"wrote {ERRORS}")
    ANSWER_ERRORS.write_text(bench.answer_errors_text, encoding="utf-8")
    say(f"wrote {ANSWER_ERRORS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
