"""The dashboard's routes, and the headers every response gets.

    GET  /signin?token=          a link from Slack -> session cookie, 303 to /   (401 page if not valid)
    GET  /                       the dashboard page                              (401 page without a session)
    GET  /api/report?start&end   the period's report as JSON (default: the last 28 days, UTC)
    GET  /export/<table>.csv     one of the report's tables as CSV
    POST /api/reviews            label an unanswered message (JSON, X-CSRF-Token)
    POST /signout                forget the session cookie (JSON, X-CSRF-Token)
    GET  /static/<file>          the page's script and stylesheet, and Chart.js from web/node_modules
    GET  /health                 {"status": "ok"}

Everything but the static files, /health and the sign-in pages needs a session (401 otherwise). Database
work runs in a thread (asyncio.to_thread), not on the event loop.
"""

import asyncio
import logging
import re
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Optional, Tuple

from aiohttp import web
from sqlalchemy.engine import Engine

from analytics import report, review, store
from analytics.metrics import Period
from core import dashboard_links, settings
from core.db import engine_for
from dashboard import auth, pages

logger = logging.getLogger("dashboard")

STATIC_DIR = Path(__file__).resolve().parent / "static"
CHART_JS = settings.PROJECT_ROOT / "web" / "node_modules" / "chart.js" / "dist" / "chart.umd.js"
JS, CSS = "text/javascript", "text/css"
STATIC = {"dashboard.js": (STATIC_DIR / "dashboard.js", JS), "dashboard.css": (STATIC_DIR / "dashboard.css", CSS),
          "chart.umd.js": (CHART_JS, JS)}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_DAYS = 28
SIGN_IN = "Sign in: ask for a dashboard link in Slack (/assistant dashboard in the support channel)."

ANALYTICS, CATALOG = web.AppKey("analytics", Engine), web.AppKey("catalog", Engine)


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


def period_of(query, today: date) -> Period:
    """The period asked for; ValueError with a message staff can act on."""
    days = {}
    for name in ("start", "end"):
        raw = query.get(name, "").strip()
        if raw:
            if not DAY.match(raw):
                raise ValueError(f"{name} must be a date written YYYY-MM-DD, not {raw[:40]!r}")
            try:
                days[name] = date.fromisoformat(raw)
            except ValueError:
                raise ValueError(f"{name} is not a real date: {raw!r}") from None
    end = days.get("end") or today
    start = days.get("start") or Period.last_days(DEFAULT_DAYS, end).start
    return Period(start, end)


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _signed_out() -> web.Response:
    return _error(401, SIGN_IN)


async def sign_in(request: web.Request) -> web.Response:
    try:
        claims = dashboard_links.verify(request.query.get("token", ""), dashboard_links.LINK)
    except dashboard_links.InvalidToken:
        return _html(pages.sign_in_page("This sign-in link is not valid or has expired. Ask in Slack again."), 401)
    if not await asyncio.to_thread(store.spend_token, request.app[ANALYTICS], claims["jti"], claims["exp"]):
        return _html(pages.sign_in_page("This sign-in link was already used. Ask in Slack again."), 401)
    response = web.Response(status=303, headers={"Location": "/"})  # the token leaves the address bar
    auth.set_session_cookie(response, auth.new_session(claims["sub"]))
    logger.info("signed in: %s", claims["sub"])
    return response


async def current_session(request: web.Request) -> Optional[auth.Session]:
    """The request's session, unless it was signed out (its token spent)."""
    session = auth.session_of(request)
    if session is None or await asyncio.to_thread(store.token_is_spent, request.app[ANALYTICS], session.jti):
        return None
    return session


async def index(request: web.Request) -> web.Response:
    session = await current_session(request)
    if session is None:
        return _html(pages.sign_in_page("You are not signed in."), 401)
    return _html(pages.dashboard_page(session.user, session.csrf, review.reviewable_intents()))


async def _report(request: web.Request):
    period = period_of(request.query, utc_today())
    return await asyncio.to_thread(report.build, request.app[ANALYTICS], request.app[CATALOG], period, utc_today())


async def api_report(request: web.Request) -> web.Response:
    if await current_session(request) is None:
        return _signed_out()
    try:
        built = await _report(request)
    except ValueError as problem:
        return _error(400, str(problem))
    return web.json_response(built.as_dict())


async def export_csv(request: web.Request) -> web.Response:
    if await current_session(request) is None:
        return _signed_out()
    name = request.match_info["table"]
    if name not in report.TABLE_NAMES:
        return _error(404, f"no table {name!r}; the tables are {', '.join(report.TABLE_NAMES)}")
    try:
        built = await _report(request)
    except ValueError as problem:
        return _error(400, str(problem))
    filename = f"{name}-{built.period.start.isoformat()}-{built.period.end.isoformat()}.csv"
    return web.Response(text=report.csv_text(report.tables(built)[name]), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def _json_body(request: web.Request) -> Optional[dict]:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def writer(request: web.Request) -> Tuple[Optional[auth.Session], Optional[web.Response]]:
    """(session, None) for a request allowed to change something; (None, the refusal) otherwise."""
    session = await current_session(request)
    if session is None:
        return None, _signed_out()
    refused = auth.write_problem(request, session)
    return (session, None) if refused is None else (None, _error(*refused))


async def post_review(request: web.Request) -> web.Response:
    session, refusal = await writer(request)
    if refusal is not None:
        return refusal
    body = await _json_body(request)
    if body is None:
        return _error(400, "the body must be a JSON object")
    event_id, label, intent = body.get("event_id"), body.get("label"), body.get("intent")
    if not isinstance(event_id, int) or isinstance(event_id, bool):
        return _error(400, "event_id must be a whole number")
    if not isinstance(label, str) or not (intent is None or isinstance(intent, str)):
        return _error(400, "label (and intent) must be text")
    try:
        await asyncio.to_thread(review.label, request.app[ANALYTICS], event_id, label, intent, session.user)
    except review.NotFound as problem:
        return _error(404, str(problem))
    except ValueError as problem:
        return _error(400, str(problem))
    logger.info("message %s labelled %s%s by %s", event_id, label, f" ({intent})" if intent else "", session.user)
    return web.json_response({"ok": True, "event_id": event_id, "label": label, "intent": intent})


async def sign_out(request: web.Request) -> web.Response:
    session, refusal = await writer(request)
    if refusal is not None:
        return refusal
    await asyncio.to_thread(store.spend_token, request.app[ANALYTICS], session.jti, session.expires)
    response = web.json_response({"ok": True})
    auth.clear_session_cookie(response)
    return response


async def static_file(request: web.Request) -> web.Response:
    path, content_type = STATIC.get(request.match_info["name"], (None, None))
    if path is None or not path.is_file():
        raise web.HTTPNotFound()
    body = await asyncio.to_thread(path.read_bytes)
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers={"Cache-Control": "no-cache"})


async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _security_headers(_: web.Request, response: web.StreamResponse) -> None:
    """On every response, errors included: a strict CSP, no caching (except the static files), no CORS."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
    for name in [name for name in response.headers if name.lower().startswith("access-control-")]:
        del response.headers[name]


def create_app(analytics: Optional[Engine] = None, catalog: Optional[Engine] = None) -> web.Application:
    app = web.Application(client_max_size=16 * 1024)
    app[ANALYTICS] = analytics or store.analytics_engine()
    app[CATALOG] = catalog or engine_for(settings.database_url())
    app.on_response_prepare.append(_security_headers)
    app.add_routes([
        web.get("/", index),
        web.get("/signin", sign_in),
        web.get("/api/report", api_report),
        web.get(r"/export/{table:[A-Za-z0-9_.-]+}.csv", export_csv),
        web.post("/api/reviews", post_review),
        web.post("/signout", sign_out),
        web.get("/static/{name}", static_file),
        web.get("/health", health),
    ])
    if not CHART_JS.is_file():
        logger.warning("%s is missing (npm ci --prefix web): the charts will not draw", CHART_JS)
    return app
