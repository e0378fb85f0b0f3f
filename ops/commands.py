"""The command lines that start the servers, in one place: `make run` (through supervisord), the
end-to-end tests and the benchmark all start them the same way, with the same closed defaults.

- Both servers bind to BIND_HOST (loopback unless configured).
- Rasa's HTTP API (/model, /conversations, ...) is on only when RASA_API_TOKEN is set, and then every
  API route needs `?token=` (Rasa's token auth). The channels' webhooks do not need it.
- CORS lists WEBCHAT_ALLOWED_ORIGINS; never `*`.
"""

import os
import shlex
import sys
from pathlib import Path
from typing import Dict, List, Optional

from core import settings

VENV_BIN = Path(sys.executable).parent


def action_server_command(port: Optional[int] = None) -> List[str]:
    return [str(VENV_BIN / "python"), "-m", "actions.server", "--port", str(port or settings.action_port())]


def rasa_server_command(model: Path, port: Optional[int] = None, api_token: Optional[str] = None,
                        credentials: str = "credentials.yml", endpoints: str = "endpoints.yml") -> List[str]:
    """`rasa run` for this project; `api_token` (default RASA_API_TOKEN) turns the HTTP API on.

    Rasa takes the token only on its command line, so it shows in the local process list: on a shared
    host, run each server under its own user.
    """
    token = settings.rasa_api_token() if api_token is None else api_token
    command = [str(VENV_BIN / "rasa"), "run", "--model", str(model), "--port", str(port or settings.rasa_port()),
               "--interface", settings.bind_host(), "--credentials", str(credentials),
               "--endpoints", str(endpoints)]
    origins = [origin.strip() for origin in settings.webchat_allowed_origins().split(",") if origin.strip()]
    if origins:
        command += ["--cors", *origins]
    if token:
        command += ["--enable-api", f"--auth-token={token}"]  # one word: a token may begin with "-"
    return command


def web_page_command() -> List[str]:
    return [str(VENV_BIN / "python"), "web/serve.py"]


def analytics_feed_command() -> List[str]:
    """Rasa's events into the analytics tables (analytics/feed.py), and the weekly digest."""
    return [str(VENV_BIN / "python"), "-m", "analytics.feed"]


def catalog_sync_command() -> List[str]:
    """The daily course-discovery sync (catalog/schedule.py); `make run` starts it only when configured."""
    return [str(VENV_BIN / "python"), "-m", "catalog.schedule"]


def dashboard_command() -> List[str]:
    return [str(VENV_BIN / "python"), "-m", "dashboard"]


def supervisord_config(project_root: Path, var_dir: Path, model: Path) -> str:
    """supervisord's config for `make run`: each server restarted when it dies, with supervisord's
    back-off while it fails to start; its log (stdout) says when a server exited and was restarted.
    The servers inherit supervisord's environment (settings and secrets); the API token stays out of
    the file: supervisord expands it from its environment when it starts Rasa."""
    rasa = rasa_server_command(model, api_token=TOKEN_PLACEHOLDER if settings.rasa_api_token() else "")
    programs = {"actions": action_server_command(), "rasa": rasa, "web": web_page_command(),
                "analytics": analytics_feed_command(), "dashboard": dashboard_command()}
    if settings.discovery_api_url():
        programs["catalog-sync"] = catalog_sync_command()
    return supervisord_programs(project_root, var_dir, programs)


TOKEN_PLACEHOLDER = "%(ENV_RASA_API_TOKEN)s"
TOKEN_ARGUMENT = f"--auth-token={TOKEN_PLACEHOLDER}"


def supervisord_programs(project_root: Path, var_dir: Path, programs: Dict[str, List[str]]) -> str:
    """A supervisord config that runs and restarts `programs` (name -> command line), each with its log
    in var_dir; they inherit supervisord's environment."""
    sections = [
        # In the foreground supervisord echoes its log to the terminal; a log file too would say it twice.
        "[supervisord]\nnodaemon=true\nlogfile=/dev/null\nlogfile_maxbytes=0\nloglevel=info\n"
        f"pidfile={var_dir / 'supervisord.pid'}\n",
        # supervisorctl (and the drills) talk to supervisord over a socket only this user can open.
        f"[unix_http_server]\nfile={var_dir / 'supervisor.sock'}\nchmod=0700\n",
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
        f"[supervisorctl]\nserverurl=unix://{var_dir / 'supervisor.sock'}\n",
    ]
    for name, command in programs.items():
        sections.append(
            f"[program:{name}]\ncommand={' '.join(_quoted(part) for part in command)}\n"
            f"directory={project_root}\n"
            "autostart=true\nautorestart=true\nstartsecs=3\nstartretries=10\nstopasgroup=true\nkillasgroup=true\n"
            # What a server writes (conversations, staff replies) is this user's alone; supervisord's umask,
            # 022, left it readable by every user of the host. Its logs follow supervisord's own umask,
            # which `make run` sets (scripts/run.sh).
            "umask=077\n"
            f"stopwaitsecs=10\nredirect_stderr=true\nstdout_logfile={var_dir / (name + '.log')}\n"
            "stdout_logfile_maxbytes=10MB\nstdout_logfile_backups=2\n"
        )
    return "\n".join(sections)


def _quoted(part: str) -> str:
    """supervisord splits `command` like a shell and expands `%(...)s`: quote, and double every `%`."""
    return part if part == TOKEN_ARGUMENT else shlex.quote(part).replace("%", "%%")


def main(argv: List[str]) -> int:
    """`supervisord` prints make run's supervisord config; `exec rasa|actions|analytics|dashboard` replaces
    this process with that one (how the systemd units in deploy/ start them, so they share these command
    lines)."""
    model = settings.PROJECT_ROOT / "models" / "micromasters.tar.gz"
    if argv in (["supervisord"], ["exec", "rasa"]):  # make run (every server's secrets), or the Rasa server's
        for problem in settings.rasa_server_secret_problems():
            print(f"error: {problem}", file=sys.stderr)
        if settings.rasa_server_secret_problems():
            return 2
    if argv == ["supervisord"]:
        print(supervisord_config(settings.PROJECT_ROOT, settings.VAR_DIR, model))
        return 0
    commands = {"rasa": lambda: rasa_server_command(model), "actions": action_server_command,
                "analytics": analytics_feed_command, "dashboard": dashboard_command}
    if len(argv) == 2 and argv[0] == "exec" and argv[1] in commands:
        command = commands[argv[1]]()
        os.chdir(settings.PROJECT_ROOT)
        os.execv(command[0], command)
    print("usage: python -m ops.commands supervisord | exec rasa|actions|analytics|dashboard", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
