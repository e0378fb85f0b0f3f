"""Fault drill: under a steady load of learner conversations, break each part of the assistant and
mend it again, and count what the learners got.

    .venv/bin/python -m bench.drill        (or: make drill)

The servers run under supervisord exactly as `make run` starts them, on their own ports, with a
private PostgreSQL cluster (the catalog and the handoffs), a SQLite tracker store and the Slack
stand-in of the tests, all in a temp dir. Eight REST conversations at a time ask questions throughout
(a new learner after every ten questions, so that the load stays steady); the phases:

 1. baseline                    5. catalog database stopped (pg_ctl stop -m fast), then started
 2. action server hung (SIGSTOP) 6. recovered
 3. recovered (SIGCONT)         7. Slack stopped; three web-widget learners ask for a person; Slack back
 4. action server killed        8. recovered; each of those handoffs must reach Slack within 30 s
    (supervisord restarts it)

A "can't look that up right now" reply counts as replied: it is the designed answer while a part is
down. The table (stdout and bench/results/drill.md) gives, per phase and in total, the messages sent,
replied, replied within 5 s, the fault replies and the lost ones. Progress goes to stderr.
Exit code: 0 when nothing was lost and every reply came within 5 s; 1 otherwise or on failure;
130 on Ctrl-C. The temp dir, the servers and the PostgreSQL cluster are always cleaned up.
"""

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Callable, List, Optional, Tuple
from unittest import mock

from sqlalchemy.exc import SQLAlchemyError

from bench.drill_load import (
    QUESTIONS,
    Recorder,
    RestLoad,
    Sample,
    ask_for_a_person,
    ask_over_rest,
    mark_lost,
    passed,
    render,
    summarise,
)
from bench.servers import BenchError, Processes, free_port, http_ok, wait_until
from core import handoffs, settings
from ops.commands import supervisord_config
from tests import slack_standin
from tests.slack_standin import SlackStandIn

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
MODEL = PROJECT_ROOT / "models" / "micromasters.tar.gz"
RESULTS = BENCH_DIR / "results" / "drill.md"

PHASE_SECONDS = 20.0
CONVERSATIONS = 8
HANDOFF_LEARNERS = 3
HANDOFF_POST_SECONDS = 30.0  # a handoff must be in Slack this long after Slack is back, else it is lost
RESTART_SECONDS = 120.0  # longest wait for supervisord to bring a killed action server back
SLACK_TOKEN = "xoxb-drill-token"
SLACK_SIGNING_SECRET = "drill-signing-secret"
SLACK_CHANNEL = "CDRILL"

BASELINE = "1 baseline"
HUNG = "2 action server hung"
RECOVERED_FROM_HANG = "3 recovered"
KILLED = "4 action server killed"
DATABASE_DOWN = "5 catalog database stopped"
RECOVERED_FROM_DATABASE = "6 recovered"
SLACK_DOWN = "7 Slack stopped"
HANDOFFS = "7 Slack stopped: handoffs (socket.io)"
FINAL = "8 recovered"
PHASES = [BASELINE, HUNG, RECOVERED_FROM_HANG, KILLED, DATABASE_DOWN, RECOVERED_FROM_DATABASE, SLACK_DOWN,
          HANDOFFS, FINAL]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class PrivatePostgres:
    """A PostgreSQL cluster of the drill's own, in the temp dir: the drill may stop it, which it must
    never do to a shared server. initdb refuses to run as root, so as root the cluster belongs to the
    `postgres` system user and its commands run as that user."""

    def __init__(self, work: Path) -> None:
        self.dir = work / "postgres"
        self.data = self.dir / "data"
        self.port = free_port()
        self.output = work / "pg_ctl.log"  # what initdb and pg_ctl print; the server logs to postgres.log
        self.running = False
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
        if not versions:
            raise BenchError("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/pg_ctl)")
        self.bin = versions[-1].parent

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def create(self) -> None:
        self.dir.mkdir()
        if os.geteuid() == 0:
            os.chmod(self.dir.parent, 0o711)  # the postgres user must reach its folder in our temp dir
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "postgres.log"), "-o", options,
                  "-w", "-t", "60", "start")
        self.running = True

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        self.running = False

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        with open(self.output, "ab") as out:
            # Its own session: a Ctrl-C in the terminal must not reach the database server.
            done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True, timeout=120)
        if done.returncode != 0:
            raise BenchError(f"{program} {args[-1]} failed (exit {done.returncode})", self.output)


class Supervisor:
    """The three servers under supervisord, configured from os.environ as `make run` does."""

    PROGRAMS = ("actions", "rasa", "web")

    def __init__(self, work: Path, processes: Processes) -> None:
        self.work = work
        self.processes = processes
        self.config = work / "supervisord.conf"
        self.log = work / "supervisord.log"
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> subprocess.Popen:
        self.config.write_text(supervisord_config(PROJECT_ROOT, self.work, MODEL), encoding="utf-8")
        self.process = self.processes.start([str(VENV_BIN / "supervisord"), "-c", str(self.config)],
                                            env=dict(os.environ), log=self.log, cwd=PROJECT_ROOT)
        return self.process

    def pid(self, program: str) -> int:
        """The program's pid, 0 while it is not running."""
        done = subprocess.run([str(VENV_BIN / "supervisorctl"), "-c", str(self.config), "pid", program],
                              capture_output=True, text=True, timeout=30)
        text = done.stdout.strip()
        return int(text) if text.isdigit() else 0

    def stop(self) -> None:
        """supervisord stops its servers when it stops; any it could not stop in time are killed."""
        if self.process is None:
            return
        pids = [self.pid(program) for program in self.PROGRAMS] if self.process.poll() is None else []
        self.processes.stop(self.process)
        for pid in filter(None, pids):
            try:
                os.killpg(pid, signal.SIGKILL)  # supervisord gives each server a process group of its own
            except (ProcessLookupError, PermissionError):
                pass
        self.process = None


class Slack:
    """The Slack stand-in, which the drill closes and opens again on the same port: the servers keep
    SLACK_API_URL for the whole run."""

    def __init__(self) -> None:
        self.port = free_port()
        self.stand_in: Optional[SlackStandIn] = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def start(self) -> None:
        # tests/slack_standin.py picks a free port itself; give it ours.
        with mock.patch.object(slack_standin, "free_port", return_value=self.port):
            self.stand_in = SlackStandIn(SLACK_TOKEN)

    def stop(self) -> None:
        if self.stand_in is not None:
            self.stand_in.close()
            self.stand_in = None

    def posted_ts(self) -> set:
        return {post["ts"] for post in self.stand_in.posts(channel=SLACK_CHANNEL)} if self.stand_in else set()


class Drill:
    """One drill: the parts it runs, the load, and the faults it causes and mends."""

    def __init__(self, work: Path, processes: Processes) -> None:
        self.work = work
        self.postgres = PrivatePostgres(work)
        self.slack = Slack()
        self.supervisor = Supervisor(work, processes)
        self.rasa_port, self.action_port, self.web_port = free_port(), free_port(), free_port()
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.action_url = f"http://127.0.0.1:{self.action_port}"
        self.web_origin = f"http://127.0.0.1:{self.web_port}"
        self.recorder = Recorder()
        self.load = RestLoad(self.rasa_url, self.recorder, CONVERSATIONS)
        self.hung_pid = 0
        self.killed_pid = 0
        self.handoffs: List[Tuple[str, Sample]] = []

    # --- setting up -------------------------------------------------------------------------------

    def configure(self) -> None:
        """The servers read everything from the environment supervisord passes on, as under `make run`."""
        os.environ.update({
            "BIND_HOST": "127.0.0.1",
            "RASA_PORT": str(self.rasa_port),
            "ACTION_PORT": str(self.action_port),
            "ACTION_ENDPOINT_URL": f"{self.action_url}/webhook",
            "ACTION_SERVER_TOKEN": secrets.token_urlsafe(24),
            "RASA_API_TOKEN": secrets.token_urlsafe(24),
            "ACTION_TIMEOUT_SECONDS": "4",
            "DATABASE_URL": self.postgres.url,
            "TRACKER_STORE_URL": f"sqlite:///{self.work / 'conversations.db'}",
            "WEB_PORT": str(self.web_port),
            "WEBCHAT_ALLOWED_ORIGINS": self.web_origin,
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
            "SLACK_SUPPORT_CHANNEL": SLACK_CHANNEL,
            "SLACK_API_URL": self.slack.api_url,
            "SLACK_RETRY_SECONDS": "2",
            "RASA_TELEMETRY_ENABLED": "false",
        })
        os.environ.update(settings.as_environment())  # the documented defaults for the rest, as run.sh does

    def set_up(self) -> None:
        if not MODEL.exists():
            raise BenchError(f"no trained model at {MODEL}: run `make train` first")
        self.configure()
        say(f"starting a private PostgreSQL on port {self.postgres.port}...")
        self.postgres.create()
        self.postgres.start()
        self.load_catalog()
        say(f"starting the Slack stand-in on port {self.slack.port}...")
        self.slack.start()
        say(f"starting the servers under supervisord (Rasa {self.rasa_port}, actions {self.action_port}, "
            f"web {self.web_port}; logs in {self.work})...")
        self.supervisor.start()
        self.wait_until_ready()

    def load_catalog(self) -> None:
        done = subprocess.run([str(VENV_BIN / "python"), "-m", "catalog", "load"], cwd=PROJECT_ROOT,
                              env=dict(os.environ), capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise BenchError(f"loading the catalog failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
        say(f"  {done.stdout.strip()}")

    def wait_until_ready(self) -> None:
        """The action server's /health, Rasa's `/`, then a REST message answered; then one of each question,
        so that the first measured replies do not pay for warming up."""
        supervisord = self.supervisor.process
        wait_until(lambda: http_ok(f"{self.action_url}/health"), supervisord, what="the action server",
                   log=self.work / "actions.log")
        wait_until(lambda: http_ok(f"{self.rasa_url}/"), supervisord, what="the Rasa server",
                   log=self.work / "rasa.log")
        wait_until(lambda: ask_over_rest(self.rasa_url, "drill-ready", "hello", "").replied, supervisord,
                   what="the Rasa server's REST channel", log=self.work / "rasa.log")
        for question in QUESTIONS:
            ask_over_rest(self.rasa_url, "drill-warm-up", question, "")
        say("ready")

    # --- the phases -------------------------------------------------------------------------------

    def run(self) -> None:
        say(f"load: {CONVERSATIONS} REST conversations; phases of {PHASE_SECONDS:.0f} s")
        self.load.start(BASELINE)
        self.phase(BASELINE)
        self.phase(HUNG, fault=self.hang_action_server, repair=self.resume_action_server)
        self.phase(RECOVERED_FROM_HANG)
        self.phase(KILLED, fault=self.kill_action_server, repair=self.wait_for_new_action_server)
        self.phase(DATABASE_DOWN, fault=self.postgres.stop, repair=self.postgres.start)
        self.phase(RECOVERED_FROM_DATABASE)
        self.phase(SLACK_DOWN, fault=self.slack.stop, during=self.ask_for_people, repair=self.slack.start)
        checking = threading.Thread(target=self.check_handoffs_reach_slack, name="handoff-check", daemon=True)
        checking.start()
        self.phase(FINAL)
        checking.join()
        say("waiting for the last replies...")
        self.load.stop()

    def phase(self, name: str, fault: Optional[Callable[[], None]] = None,
              during: Optional[Callable[[], None]] = None, repair: Optional[Callable[[], None]] = None) -> None:
        """PHASE_SECONDS of load with the fault in place; the repair (and waiting for it) ends the phase."""
        say(f"phase {name}")
        start = time.monotonic()
        self.load.phase = name
        if fault:
            fault()
        if during:
            during()
        time.sleep(max(0.0, PHASE_SECONDS - (time.monotonic() - start)))
        if repair:
            repair()
        row = summarise(name, [s for s in self.recorder.samples() if s.phase == name])
        say(f"  {time.monotonic() - start:.0f} s: {row.sent} answered or failed so far, {row.fault_replies} fault "
            f"replies, {row.lost} lost, max {row.max or 0:.2f} s")

    def hang_action_server(self) -> None:
        self.hung_pid = self.action_server_pid()
        say(f"  SIGSTOP action server (pid {self.hung_pid})")
        os.kill(self.hung_pid, signal.SIGSTOP)

    def resume_action_server(self) -> None:
        if self.hung_pid:
            say(f"  SIGCONT action server (pid {self.hung_pid})")
            os.kill(self.hung_pid, signal.SIGCONT)
            self.hung_pid = 0

    def kill_action_server(self) -> None:
        self.killed_pid = self.action_server_pid()
        say(f"  SIGKILL action server (pid {self.killed_pid})")
        os.kill(self.killed_pid, signal.SIGKILL)

    def wait_for_new_action_server(self) -> None:
        """The next phase starts only once supervisord has a new action server up and answering."""
        deadline = time.monotonic() + RESTART_SECONDS
        while time.monotonic() < deadline:
            pid = self.supervisor.pid("actions")
            if pid and pid != self.killed_pid and self._healthy():
                say(f"  action server back (pid {pid})")
                return
            time.sleep(0.5)
        raise BenchError(f"supervisord did not bring the action server back within {RESTART_SECONDS:.0f} s",
                         self.work / "supervisord.log")

    def _healthy(self) -> bool:
        try:
            return http_ok(f"{self.action_url}/health")
        except OSError:  # requests' errors are OSErrors: not up yet
            return False

    def action_server_pid(self) -> int:
        pid = self.supervisor.pid("actions")
        if not pid:
            raise BenchError("supervisord reports no running action server", self.work / "supervisord.log")
        return pid

    def ask_for_people(self) -> None:
        """While Slack is down, web-widget learners ask for a person: each must hear at once that the
        team could not be reached and that the question was kept."""
        say(f"  {HANDOFF_LEARNERS} web-widget learners ask for a person")
        self.handoffs = ask_for_a_person(self.rasa_url, self.web_origin, HANDOFF_LEARNERS, HANDOFFS)
        for _, sample in self.handoffs:
            say(f"  handoff learner: {'replied' if sample.replied else 'no reply'} in {sample.seconds:.2f} s"
                f"{' (' + sample.lost_reason + ')' if sample.lost else ''}")

    def check_handoffs_reach_slack(self) -> None:
        """Slack is back: each kept handoff must be posted (the Rasa server retries every
        SLACK_RETRY_SECONDS) within HANDOFF_POST_SECONDS, else it is lost."""
        deadline = time.monotonic() + HANDOFF_POST_SECONDS
        waiting = dict(self.handoffs)
        while waiting and time.monotonic() < deadline:
            posted = self.slack.posted_ts()
            for session_id in list(waiting):
                if self._in_slack(session_id, posted):
                    self.recorder.add(waiting.pop(session_id))
            time.sleep(0.5)
        for session_id, sample in waiting.items():
            reason = f"not in Slack {HANDOFF_POST_SECONDS:.0f} s after it came back"
            self.recorder.add(mark_lost(sample, reason))
            say(f"  handoff of {session_id}: {reason}")
        if self.handoffs:
            say(f"  {len(self.handoffs) - len(waiting)} of {len(self.handoffs)} handoffs reached Slack")

    @staticmethod
    def _in_slack(session_id: str, posted: set) -> bool:
        """The learner's handoff is open, and its thread is a message the stand-in received."""
        try:
            handoff = handoffs.active_handoff_for(session_id)
        except SQLAlchemyError:
            return False
        return handoff is not None and handoff.status == handoffs.OPEN and handoff.thread_ts in posted

    # --- cleaning up ------------------------------------------------------------------------------

    def clean_up(self) -> None:
        """Whatever happened: nothing the drill started may outlive it."""
        self.load.stop(wait=False)
        steps = [self.resume_action_server, self.supervisor.stop, self.slack.stop]
        if self.postgres.running or self.postgres.data.exists():
            steps.append(self.postgres.stop)
        for step in steps:
            try:
                step()
            except Exception as error:  # one failed step must not keep the others from running
                say(f"clean-up: {step.__qualname__} failed: {error}")


def report(samples: List[Sample], stopped_early: str = "") -> str:
    text = render(PHASES, samples, stopped_early)
    print(text, end="", flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    say(f"wrote {RESULTS}")
    for sample in samples:
        if sample.lost:
            say(f"lost in {sample.phase}: {sample.lost_reason}")
    return text


def _stop_on_sigterm(_signum, _frame) -> None:
    """SIGTERM ends the drill like Ctrl-C does, through the `finally` that cleans up."""
    raise KeyboardInterrupt


def _log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    processes = Processes()
    work = Path(tempfile.mkdtemp(prefix="drill-"))
    say(f"work dir: {work}")
    drill: Optional[Drill] = None
    code, stopped_early = 1, ""
    try:
        drill = Drill(work, processes)
        drill.set_up()
        drill.run()
        code = 0 if passed(drill.recorder.samples()) else 1
    except BenchError as error:
        say(f"error: {error}")
        if error.log:
            say(f"--- last lines of {error.log} ---\n{_log_tail(error.log)}")
        stopped_early = f"stopped by an error: {str(error).splitlines()[0]}"
    except KeyboardInterrupt:
        say("interrupted")
        code, stopped_early = 130, "interrupted"
    except Exception as error:
        traceback.print_exc()
        stopped_early = f"stopped by an error: {type(error).__name__}"
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        say("cleaning up...")
        if drill is not None:
            drill.clean_up()
        processes.stop_all()
        shutil.rmtree(work, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if drill is not None and drill.recorder.samples():
        report(drill.recorder.samples(), stopped_early)  # the table either way, also after a failure
    return code


if __name__ == "__main__":
    sys.exit(main())
