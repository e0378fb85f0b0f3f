"""The dashboard's session: a signed cookie made from a sign-in link, and the CSRF token it carries.

A sign-in link works once: opening it spends its id (a second opening gets the "ask again" page). The
cookie holds a session token (core/dashboard_links.py, purpose "session", DASHBOARD_SESSION_HOURS)
naming the Slack user and a random CSRF token. It is HttpOnly, SameSite=Strict, Path=/, and Secure when
DASHBOARD_URL is https. A request that changes something must also send the CSRF token (the page has it
in a <meta> tag) in the X-CSRF-Token header, as JSON, from the dashboard's own origin. Signing out
spends the session token's id, so a copy of the cookie no longer works either.
"""

import hmac
import secrets
from dataclasses import dataclass
from typing import Optional, Tuple
from urllib.parse import urlsplit

from aiohttp import web

from core import dashboard_links, settings

COOKIE = "mm_dashboard_session"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class Session:
    user: str  # the Slack user id the sign-in link was made for
    csrf: str
    expires: int  # epoch seconds
    jti: str  # the session token's id: signing out spends it


def new_session(user: str) -> str:
    """A session token for a user whose sign-in link was valid."""
    return dashboard_links.issue(user, dashboard_links.SESSION, settings.dashboard_session_hours() * 3600,
                                 csrf=secrets.token_urlsafe(32))


def session_of(request: web.Request) -> Optional[Session]:
    """The request's valid session, or None (no cookie, or a forged, expired or non-session token)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        claims = dashboard_links.verify(token, dashboard_links.SESSION)
    except dashboard_links.InvalidToken:
        return None
    csrf = claims.get("csrf")
    if not isinstance(csrf, str) or len(csrf) < 32:
        return None
    return Session(claims["sub"], csrf, int(claims["exp"]), str(claims["jti"]))


def secure_cookies() -> bool:
    return urlsplit(settings.dashboard_url()).scheme == "https"


def set_session_cookie(response: web.StreamResponse, token: str) -> None:
    response.set_cookie(COOKIE, token, max_age=int(settings.dashboard_session_hours() * 3600), path="/",
                        httponly=True, samesite="Strict", secure=secure_cookies())


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")
    response.cookies[COOKIE].update({"httponly": True, "samesite": "Strict", "secure": secure_cookies()})


def own_origin() -> str:
    parts = urlsplit(settings.dashboard_url())
    return f"{parts.scheme}://{parts.netloc}"


def write_problem(request: web.Request, session: Session) -> Optional[Tuple[int, str]]:
    """(status, reason) to refuse a state-changing request with (CSRF defences), or None when it may go on."""
    if request.content_type != "application/json":
        return 415, "send JSON (Content-Type: application/json)"
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        return 403, f"missing or wrong {CSRF_HEADER} header: reload the dashboard"
    origin = request.headers.get("Origin")
    if origin is not None and origin != own_origin():
        return 403, "the request comes from another site"
    return None
