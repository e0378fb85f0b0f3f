"""Signed tokens for the staff dashboard: the short-lived sign-in link Slack gives staff, and the session.

Both are PyJWT HS256 tokens signed with DASHBOARD_SECRET, with the claims `sub` (the Slack user id),
`purpose` ("link" or "session": a token made for one is refused as the other), `iat`, `exp` and a
random `jti`. A link lasts DASHBOARD_LINK_MINUTES; the session it gives, DASHBOARD_SESSION_HOURS.
The Rasa server (the Slack slash command) makes links; the dashboard checks them and makes sessions.
"""

import secrets
import time
from typing import Any, Dict

import jwt

from core import settings

ALGORITHM = "HS256"
LINK, SESSION = "link", "session"
REQUIRED_CLAIMS = ["sub", "purpose", "iat", "exp", "jti"]


class NotConfigured(RuntimeError):
    """DASHBOARD_SECRET is not set: no link can be made or checked."""


class InvalidToken(ValueError):
    """A token that is forged, tampered with, expired, malformed or made for another purpose."""


def _secret() -> str:
    secret = settings.dashboard_secret()
    if not secret:
        raise NotConfigured("DASHBOARD_SECRET is not set: the dashboard's links and sessions cannot be signed "
                            "(set the same long random value for the Rasa server and the dashboard)")
    return secret


def issue(subject: str, purpose: str, lifetime_seconds: float, **claims: Any) -> str:
    """A signed token for `subject`, valid for `lifetime_seconds` from now, with extra `claims`."""
    if not isinstance(subject, str) or not subject:
        raise ValueError("a token needs a subject (the Slack user id)")
    now = int(time.time())
    payload = {**claims, "sub": subject, "purpose": purpose, "iat": now, "exp": now + int(lifetime_seconds),
               "jti": secrets.token_urlsafe(16)}
    return jwt.encode(payload, _secret(), algorithm=ALGORITHM)


def verify(token: str, purpose: str) -> Dict[str, Any]:
    """The claims of a valid token made for `purpose`; InvalidToken otherwise (NotConfigured without a secret)."""
    secret = _secret()
    if not isinstance(token, str) or not token:
        raise InvalidToken("no token")
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS})
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired") from None
    except jwt.InvalidTokenError as problem:
        raise InvalidToken(f"the token is not valid ({problem})") from None
    if claims.get("purpose") != purpose:
        raise InvalidToken(f"the token is not a {purpose} token")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidToken("the token names nobody")
    return claims


def signed_link(slack_user_id: str) -> str:
    """DASHBOARD_URL/signin?token=...: signs `slack_user_id` in, if opened within DASHBOARD_LINK_MINUTES."""
    token = issue(slack_user_id, LINK, settings.dashboard_link_minutes() * 60)
    return f"{settings.dashboard_url()}/signin?token={token}"
