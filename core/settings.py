"""Configuration, read from the environment in one place.

| variable | default | meaning |
|---|---|---|
| DATABASE_URL | sqlite:///<project>/var/catalog.db | the catalog database (SQLAlchemy URL) |
| TRACKER_STORE_URL | DATABASE_URL if not SQLite, else sqlite:///<project>/var/conversations.db | conversations |
| CATALOG_FILE | <project>/catalog/data/catalog.yaml | the catalog file `make catalog` loads |
| ACTION_ENDPOINT_URL | http://127.0.0.1:5055/webhook | where the Rasa server calls the action server |
| RASA_PORT / ACTION_PORT | 5005 / 5055 | ports of the Rasa server and the action server |
| BIND_HOST | 127.0.0.1 | the address every server listens on (0.0.0.0 only behind a proxy you trust) |
| SANIC_BACKLOG | 1024 | connections waiting to be accepted by the Rasa server (Rasa's 100 overflowed) |
| MAX_REQUEST_BYTES | 262144 | the largest request body (and socket.io packet) the Rasa server reads; larger: 413 |
| MESSAGES_PER_MINUTE | 20 | messages one conversation may send a minute (more: refused, saying to wait) |
| ADDRESS_MESSAGES_PER_MINUTE | 300 | messages one client address may send a minute (loopback: a local proxy, exempt) |
| ADDRESS_REQUESTS_PER_MINUTE | 1200 | requests one client address may make a minute through HAProxy (`make cluster`) |
| HANDOFFS_PER_HOUR | 30 | new handoffs to the support team an hour; beyond, learners get the support contact |
| MAX_MESSAGE_CHARS | 2000 | the longest learner message read (REST, widget); a longer one is refused, saying so |
| RASA_API_TOKEN | (none) | turns Rasa's HTTP API (/model, /conversations, ...) on, behind this token |
| ACTION_SERVER_TOKEN | (`make run` makes one) | shared secret the Rasa server sends, the action server checks |
| ACTION_TIMEOUT_SECONDS | 4 | longest wait for the action server; then the learner gets the support contact |
| HANDOFF_TIMEOUT_MINUTES | 30 | a handoff no staff member answers within this goes back to the assistant |
| RETENTION_DAYS | 90 | conversations idle longer than this are deleted by `make retention` |
| STALE_AFTER_YEARS | 3 | an answer from a fact older than this says how old it is and where today's lives |
| SUPPORT_URL | https://support.edx.org | where learners reach the learner-support team |
| WEB_PORT | 8080 | the demo page with the chat widget |
| WEBCHAT_ALLOWED_ORIGINS | http://127.0.0.1:$WEB_PORT,http://localhost:$WEB_PORT | web origins allowed on socket.io |
| RASA_TELEMETRY_ENABLED | false | Rasa's usage telemetry (this machine has no internet) |
| SLACK_BOT_TOKEN | (none) | the Slack app's bot token (xoxb-...); without it there is no Slack and no handoff |
| SLACK_SIGNING_SECRET | (none) | verifies every request from Slack |
| SLACK_SUPPORT_CHANNEL | (none) | channel id where handoffs are posted (C...) |
| SLACK_API_URL | https://slack.com/api/ | Slack's Web API (tests point it at a local stand-in) |
| SLACK_RETRY_SECONDS | 30 | how often handoffs Slack refused are posted again |
| FAQ_MATCH_THRESHOLD | 0.10 | least similarity for a general-FAQ answer to an `ask_general` question |
| FAQ_OFF_DOMAIN_THRESHOLD | 0.15 | the same for an `out_of_scope` one (`python -m bench.faq_threshold`) |
| FAQ_MATCH_MARGIN | 0.04 | how far the best FAQ topic must beat the runner-up (same script) |
| FAQ_RULE_THRESHOLD | 0.25 | how closely a topic question must match an FAQ rule (retake, refund) to get it instead |
| REDIS_HOST | (none) | Redis for several Rasa servers (`make cluster`); none: one process |
| REDIS_PORT / REDIS_DB | 6379 / 0 | the Redis port and database number |
| REDIS_PASSWORD | (none) | Redis's password; required unless REDIS_HOST is this machine (loopback) |
| RABBITMQ_HOST | (none) | RabbitMQ for Rasa's Pika event broker (`make cluster`); none: no event broker |
| RABBITMQ_PORT | 5672 | RabbitMQ's port |
| RABBITMQ_USERNAME / RABBITMQ_PASSWORD | guest / (none) | RabbitMQ's credentials (guest works on loopback only) |
| RABBITMQ_QUEUE | rasa_events | the queue every conversation event is published to |
| SOCKETIO_SERVER_NAME | (none) | this Rasa server's name among several: starts its engine.io session ids |
| REPLICAS | 2 | how many Rasa servers `make cluster` starts |
| CLUSTER_PORT | 5080 | where `make cluster`'s HAProxy listens (on BIND_HOST) |
| TRACKER_CACHE_SIZE | 1000 | conversations each Rasa server keeps in memory between messages |
| TRACKER_EVENT_WINDOW | 100 | events a conversation's tracker keeps for the policies (at least 50; all are stored) |
| RASA_SPEEDUPS | on | off: Rasa's own code in place of the speed-ups in rasa_speedups/ (to compare) |
| CLUSTER_DATABASE_URL | postgresql://postgres@127.0.0.1:5432/micromasters_cluster | `make cluster`'s database |
| ANALYTICS_DATABASE_URL | TRACKER_STORE_URL, or sqlite:///<project>/var/analytics.db | the analytics tables |
| ANALYTICS_POLL_SECONDS | 2 | how often the analytics consumer reads new events from the conversation store |
| DASHBOARD_PORT | 8090 | the staff dashboard (`make run` starts it; staff sign in with a link from Slack) |
| DASHBOARD_URL | http://127.0.0.1:$DASHBOARD_PORT | the dashboard's address for staff (signed links point here) |
| DASHBOARD_SECRET | (`make run` makes one) | signs dashboard links and sessions; both servers need the same |
| DASHBOARD_LINK_MINUTES / DASHBOARD_SESSION_HOURS | 10 / 8 | how long a signed link, and the sign-in it gives, last |
| DIGEST_WEEKDAY / DIGEST_HOUR | 0 (Monday) / 9 | when the weekly digest is posted to the support channel (UTC) |
| DISCOVERY_API_URL | (none) | Open edX course-discovery's base URL (`https://discovery.edx.org`); none: no sync |
| DISCOVERY_OAUTH_URL | (none) | the LMS that issues its tokens (`https://courses.edx.org`): POST /oauth2/access_token |
| DISCOVERY_CLIENT_ID / DISCOVERY_CLIENT_SECRET | (none) | the OAuth2 client-credentials application for the sync |
| DISCOVERY_TIMEOUT_SECONDS | 20 | longest wait for one course-discovery answer (then retried, with back-off) |
| DISCOVERY_SYNC_HOURS | 24 | how often `make run` syncs the catalog from course-discovery, when it is configured |

Secrets (the Slack token and signing secret, DISCOVERY_CLIENT_SECRET, RASA_API_TOKEN, ACTION_SERVER_TOKEN,
DASHBOARD_SECRET) come only from the environment or a `.env` file that git ignores; `scripts/run.sh` reads
`.env` if present. They are never printed by `python -m core.settings`.

`python -m core.settings` prints these as shell `export` lines, which is how the Makefile's
scripts give the Rasa server (whose endpoints.yml reads `${...}` variables) the same defaults.
"""

import ipaddress
import os
import shlex
import urllib.parse
from pathlib import Path
from typing import List

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def database_url() -> str:
    """The catalog database URL; SQLite in the project's var/ folder by default."""
    return _env("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'catalog.db'}"


def tracker_store_url() -> str:
    """Conversations go to PostgreSQL when the catalog does, else to their own SQLite file."""
    if _env("TRACKER_STORE_URL"):
        return _env("TRACKER_STORE_URL")
    if not database_url().startswith("sqlite"):
        return database_url()
    return f"sqlite:///{VAR_DIR / 'conversations.db'}"


def catalog_file() -> Path:
    return Path(_env("CATALOG_FILE") or PROJECT_ROOT / "catalog" / "data" / "catalog.yaml")


def rasa_port() -> int:
    return int(_env("RASA_PORT") or 5005)


def action_port() -> int:
    return int(_env("ACTION_PORT") or 5055)


def bind_host() -> str:
    return _env("BIND_HOST") or "127.0.0.1"


def rasa_api_token() -> str:
    return _env("RASA_API_TOKEN")


def action_server_token() -> str:
    return _env("ACTION_SERVER_TOKEN")


def action_timeout_seconds() -> float:
    return float(_env("ACTION_TIMEOUT_SECONDS") or 4)


def handoff_timeout_minutes() -> float:
    return float(_env("HANDOFF_TIMEOUT_MINUTES") or 30)


def retention_days() -> int:
    """RETENTION_DAYS (default 90); ValueError with a readable message unless a whole number >= 1."""
    raw = _env("RETENTION_DAYS") or "90"
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"RETENTION_DAYS must be a whole number of days, not {raw!r}") from None
    if days < 1:
        raise ValueError(f"RETENTION_DAYS must be at least 1, not {days}")
    return days


def stale_after_years() -> int:
    return int(_env("STALE_AFTER_YEARS") or 3)


def action_endpoint_url() -> str:
    return _env("ACTION_ENDPOINT_URL") or f"http://127.0.0.1:{action_port()}/webhook"


def web_port() -> int:
    return int(_env("WEB_PORT") or 8080)


def webchat_allowed_origins() -> str:
    port = web_port()
    return _env("WEBCHAT_ALLOWED_ORIGINS") or f"http://127.0.0.1:{port},http://localhost:{port}"


def support_url() -> str:
    return _env("SUPPORT_URL") or "https://support.edx.org"


def slack_bot_token() -> str:
    return _env("SLACK_BOT_TOKEN")


def slack_signing_secret() -> str:
    return _env("SLACK_SIGNING_SECRET")


def slack_support_channel() -> str:
    return _env("SLACK_SUPPORT_CHANNEL")


def slack_api_url() -> str:
    url = _env("SLACK_API_URL") or "https://slack.com/api/"
    return url if url.endswith("/") else url + "/"


def slack_retry_seconds() -> float:
    return float(_env("SLACK_RETRY_SECONDS") or 30)


def faq_match_threshold(intent: str = "ask_general") -> float:
    """How similar a message must be to an FAQ phrasing to get that answer; stricter off-domain."""
    if intent == "out_of_scope":
        return float(_env("FAQ_OFF_DOMAIN_THRESHOLD") or 0.15)
    return float(_env("FAQ_MATCH_THRESHOLD") or 0.10)


def faq_match_margin() -> float:
    return float(_env("FAQ_MATCH_MARGIN") or 0.04)


def faq_rule_threshold() -> float:
    return float(_env("FAQ_RULE_THRESHOLD") or 0.25)


def tracker_cache_size() -> int:
    return int(_env("TRACKER_CACHE_SIZE") or 1000)


def tracker_event_window() -> int:
    return int(_env("TRACKER_EVENT_WINDOW") or 100)


def rasa_speedups() -> bool:
    """Whether the Rasa server's cheaper turns are installed (rasa_speedups.install()); off only to measure
    Rasa as shipped beside them."""
    value = _env("RASA_SPEEDUPS").lower() or "on"
    if value not in ("on", "off"):
        raise ValueError(f"RASA_SPEEDUPS must be on or off, not {value!r}")
    return value == "on"


def redis_host() -> str:
    return _env("REDIS_HOST")


def redis_port() -> int:
    return int(_env("REDIS_PORT") or 6379)


def redis_db() -> int:
    return int(_env("REDIS_DB") or 0)


def redis_password() -> str:
    return _env("REDIS_PASSWORD")


def check_redis_auth(host: str, password: str) -> None:
    """A Redis on another machine must ask for a password: whoever can publish to it can send messages
    into every learner's widget and take the conversations' locks. Loopback (`make cluster`) is exempt."""
    if host and not password and not _is_loopback(host):
        raise ValueError(f"REDIS_PASSWORD must be set: Redis at {host} is not on this machine, and a Redis "
                         "without a password lets anyone who reaches it write into every conversation")


MIN_TOKEN_CHARS, MIN_SIGNING_KEY_CHARS = 16, 32
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def _short(name: str, value: str, minimum: int) -> List[str]:
    if value and len(value) < minimum:
        return [f"{name} is {len(value)} characters; use at least {minimum} random ones ({GENERATE})"]
    return []


def action_server_secret_problems() -> List[str]:
    """Each secret that is set but too short to resist guessing, named with its length and the minimum
    (never its value). An unset one is each server's own business (the action server refuses to start
    without its token, the dashboard without its key)."""
    return _short("ACTION_SERVER_TOKEN", action_server_token(), MIN_TOKEN_CHARS)


def dashboard_secret_problems() -> List[str]:
    return _short("DASHBOARD_SECRET", dashboard_secret(), MIN_SIGNING_KEY_CHARS)  # an HMAC-SHA256 key


def rasa_server_secret_problems() -> List[str]:
    """The Rasa server's: its API token, the action server's token and the dashboard's key it signs links
    with, and the passwords of Redis and RabbitMQ when they are not on this machine."""
    problems = _short("RASA_API_TOKEN", rasa_api_token(), MIN_TOKEN_CHARS)
    problems += action_server_secret_problems() + dashboard_secret_problems()
    if redis_host() and not _is_loopback(redis_host()):
        problems += _short("REDIS_PASSWORD", redis_password(), MIN_TOKEN_CHARS)
    if rabbitmq_host() and not _is_loopback(rabbitmq_host()):
        problems += _short("RABBITMQ_PASSWORD", rabbitmq_password(), MIN_TOKEN_CHARS)
    return problems


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redis_url() -> str:
    """redis://... for the project's own Redis clients; empty when there is no Redis (one process)."""
    if not redis_host():
        return ""
    check_redis_auth(redis_host(), redis_password())
    auth = f":{urllib.parse.quote(redis_password(), safe='')}@" if redis_password() else ""
    host = f"[{redis_host()}]" if ":" in redis_host() else redis_host()  # an IPv6 address
    return f"redis://{auth}{host}:{redis_port()}/{redis_db()}"


def socketio_server_name() -> str:
    """This Rasa server's name among several (`make cluster` sets rasa1, rasa2, ...): it starts every
    engine.io session id the server hands out, and HAProxy sends each request carrying that id to it."""
    name = _env("SOCKETIO_SERVER_NAME")
    if name and not name.replace("-", "").isalnum():
        raise ValueError(f"SOCKETIO_SERVER_NAME must be letters, digits and '-', not {name!r}")
    return name


def rabbitmq_host() -> str:
    return _env("RABBITMQ_HOST")


def rabbitmq_port() -> int:
    return int(_env("RABBITMQ_PORT") or 5672)


def rabbitmq_password() -> str:
    return _env("RABBITMQ_PASSWORD")


def replicas() -> int:
    count = int(_env("REPLICAS") or 2)
    if count < 1:
        raise ValueError(f"REPLICAS must be at least 1, not {count}")
    return count


def cluster_port() -> int:
    return int(_env("CLUSTER_PORT") or 5080)


def cluster_database_url() -> str:
    return _env("CLUSTER_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/micromasters_cluster"


def analytics_database_url() -> str:
    """Analytics beside the conversations on a database server; in its own SQLite file otherwise, so the
    consumer never contends with Rasa for the conversations file's write lock."""
    if _env("ANALYTICS_DATABASE_URL"):
        return _env("ANALYTICS_DATABASE_URL")
    if not tracker_store_url().startswith("sqlite"):
        return tracker_store_url()
    return f"sqlite:///{VAR_DIR / 'analytics.db'}"


def analytics_poll_seconds() -> float:
    return float(_env("ANALYTICS_POLL_SECONDS") or 2)


def dashboard_port() -> int:
    return int(_env("DASHBOARD_PORT") or 8090)


def dashboard_url() -> str:
    url = _env("DASHBOARD_URL") or f"http://127.0.0.1:{dashboard_port()}"
    return url.rstrip("/")


def dashboard_secret() -> str:
    return _env("DASHBOARD_SECRET")


def dashboard_link_minutes() -> float:
    return float(_env("DASHBOARD_LINK_MINUTES") or 10)


def dashboard_session_hours() -> float:
    return float(_env("DASHBOARD_SESSION_HOURS") or 8)


def digest_weekday() -> int:
    return int(_env("DIGEST_WEEKDAY") or 0)


def digest_hour() -> int:
    return int(_env("DIGEST_HOUR") or 9)


def discovery_api_url() -> str:
    return _env("DISCOVERY_API_URL").rstrip("/")


def discovery_oauth_url() -> str:
    return _env("DISCOVERY_OAUTH_URL").rstrip("/")


def discovery_client_id() -> str:
    return _env("DISCOVERY_CLIENT_ID")


def discovery_client_secret() -> str:
    return _env("DISCOVERY_CLIENT_SECRET")


def discovery_timeout_seconds() -> float:
    return float(_env("DISCOVERY_TIMEOUT_SECONDS") or 20)


def discovery_sync_hours() -> float:
    return float(_env("DISCOVERY_SYNC_HOURS") or 24)


def sanic_backlog() -> int:
    """Read by Rasa itself (`rasa run`); the kernel caps it at net.core.somaxconn."""
    return int(_env("SANIC_BACKLOG") or 1024)


def max_message_chars() -> int:
    return _positive_int("MAX_MESSAGE_CHARS", _env("MAX_MESSAGE_CHARS"), 2000)


def messages_per_minute() -> int:
    return _positive_int("MESSAGES_PER_MINUTE", _env("MESSAGES_PER_MINUTE"), 20)


def trusted_proxies() -> List["ipaddress.IPv4Network | ipaddress.IPv6Network"]:
    """The proxies whose X-Forwarded-For names the learner (loopback always, and TRUSTED_PROXIES: comma-
    separated addresses or networks, such as the ingress controller's pods)."""
    networks = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    for part in _env("TRUSTED_PROXIES").split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError(f"TRUSTED_PROXIES must list addresses or networks, not {part.strip()!r}") from None
    return networks


def address_messages_per_minute() -> int:
    return _positive_int("ADDRESS_MESSAGES_PER_MINUTE", _env("ADDRESS_MESSAGES_PER_MINUTE"), 300)


def address_requests_per_minute() -> int:
    return _positive_int("ADDRESS_REQUESTS_PER_MINUTE", _env("ADDRESS_REQUESTS_PER_MINUTE"), 1200)


def handoffs_per_hour() -> int:
    return _positive_int("HANDOFFS_PER_HOUR", _env("HANDOFFS_PER_HOUR"), 30)


def max_request_bytes() -> int:
    return _positive_int("MAX_REQUEST_BYTES", _env("MAX_REQUEST_BYTES"), 262144)


def _positive_int(name: str, value: str, default: int) -> int:
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number above 0, not {value!r}")
    return int(value)


def handoff_enabled() -> bool:
    """Handoff needs a bot token and a support channel; without them the assistant runs as before."""
    return bool(slack_bot_token() and slack_support_channel())


def as_environment() -> dict:
    return {
        "DATABASE_URL": database_url(),
        "TRACKER_STORE_URL": tracker_store_url(),
        "CATALOG_FILE": str(catalog_file()),
        "RASA_PORT": str(rasa_port()),
        "ACTION_PORT": str(action_port()),
        "ACTION_ENDPOINT_URL": action_endpoint_url(),
        "SUPPORT_URL": support_url(),
        "WEB_PORT": str(web_port()),
        "WEBCHAT_ALLOWED_ORIGINS": webchat_allowed_origins(),
        "BIND_HOST": bind_host(),
        "SANIC_BACKLOG": str(sanic_backlog()),
        "RASA_TELEMETRY_ENABLED": _env("RASA_TELEMETRY_ENABLED") or "false",
        "REDIS_HOST": redis_host(),
        "REDIS_PORT": str(redis_port()),
        "REDIS_DB": str(redis_db()),
        "RABBITMQ_HOST": rabbitmq_host(),
        "RABBITMQ_PORT": str(rabbitmq_port()),
        "RABBITMQ_USERNAME": _env("RABBITMQ_USERNAME") or "guest",
        "RABBITMQ_QUEUE": _env("RABBITMQ_QUEUE") or "rasa_events",
        "ANALYTICS_DATABASE_URL": analytics_database_url(),
        "DASHBOARD_PORT": str(dashboard_port()),
        "DASHBOARD_URL": dashboard_url(),
    }


if __name__ == "__main__":
    for key, value in as_environment().items():
        print(f"export {key}={shlex.quote(value)}")
