"""The action server, closed by default: rasa-sdk's app, bound to BIND_HOST (loopback unless
configured), answering only requests that carry the shared secret the Rasa server sends.

`rasa run actions` cannot do either: it binds to 0.0.0.0 and checks no credential, so anyone who can
reach port 5055 could run the actions (and open a handoff that posts into the support team's Slack).
The Rasa server sends `Authorization: Bearer $ACTION_SERVER_TOKEN` (endpoints.yml); a request without
it gets 401. `/health` stays open for readiness probes: it reveals nothing.

Run: python -m actions.server [--port N]
"""

import argparse
import asyncio
import hmac
import logging
import sys

from rasa_sdk.endpoint import create_app
from sanic import response
from sanic.request import Request

from catalog import view as catalog_view
from core import log_refs, settings

logger = logging.getLogger(__name__)
OPEN_PATHS = {"/health"}


def authorised(request: Request, token: str) -> bool:
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def build_app(token: str):
    if not token:
        raise ValueError("ACTION_SERVER_TOKEN is empty: the action server will not run without its shared secret")
    app = create_app("actions", cors_origins=[])

    @app.before_server_start
    async def build_catalog_view(_app, _loop) -> None:
        """The first turns after a start would each wait about a third of a second for it."""
        try:
            revision = await asyncio.to_thread(catalog_view.prepare)
            logger.info("catalog revision %s ready", revision)
        except Exception:  # the catalog is down or empty: the turns say so, and retry it themselves
            logger.exception("could not read the catalog at start; the first turn will try again")

    @app.on_request
    async def require_token(request: Request):
        if request.path not in OPEN_PATHS and not authorised(request, token):
            return response.json({"error": "missing or wrong action server token"}, status=401)

    return app


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=settings.action_port())
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log_refs.install()
    try:
        if settings.action_server_secret_problems():
            raise ValueError("; ".join(settings.action_server_secret_problems()))
        app = build_app(settings.action_server_token())
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    logger.info("action server on http://%s:%d", settings.bind_host(), args.port)
    app.run(settings.bind_host(), args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
