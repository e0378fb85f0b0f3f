"""`python -m dashboard`: the staff dashboard on BIND_HOST:DASHBOARD_PORT (loopback unless configured)."""

import logging
import sys

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from core import log_refs, settings
from dashboard.app import create_app


class PathAccessLogger(AbstractAccessLogger):
    """Method, path and status only: a sign-in link's token (in the query) never reaches the log."""

    def log(self, request, response, time: float) -> None:
        self.logger.info("%s %s %s %.0f ms", request.method, request.path, response.status, time * 1000)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log_refs.install()
    if not settings.dashboard_secret():
        print("error: DASHBOARD_SECRET is not set; the dashboard signs its sessions with it, and the Rasa server "
              "its sign-in links (give both the same long random value)", file=sys.stderr)
        return 2
    for problem in settings.dashboard_secret_problems():
        print(f"error: {problem}", file=sys.stderr)
    if settings.dashboard_secret_problems():
        return 2
    host, port = settings.bind_host(), settings.dashboard_port()
    app = create_app()
    print(f"Staff dashboard: {settings.dashboard_url()}/ on {host}:{port} "
          "(sign in with /assistant dashboard in the support Slack channel)", flush=True)
    web.run_app(app, host=host, port=port, print=None, access_log_class=PathAccessLogger)
    return 0


if __name__ == "__main__":
    sys.exit(main())
