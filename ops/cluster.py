"""`make cluster`: several Rasa servers behind HAProxy, sharing Redis, PostgreSQL and RabbitMQ.

    .venv/bin/python -m ops.cluster environment   # shell `export` lines for the cluster's settings
    .venv/bin/python -m ops.cluster prepare       # check the services, create the database, write configs
    .venv/bin/python -m ops.cluster ready-urls    # what must answer 200 before the cluster is up

What runs (under supervisord, restarted when one dies):
- REPLICAS Rasa servers on CLUSTER_PORT+1, +2, ... with `deploy/cluster/endpoints.yml`: the SQL
  tracker store on PostgreSQL, Rasa's RedisLockStore (one server at a time per conversation) and Rasa's
  Pika event broker publishing every event to RabbitMQ; socket.io on python-socketio's Redis manager;
- one action server on CLUSTER_PORT+100;
- HAProxy on BIND_HOST:CLUSTER_PORT: REST and Slack round-robin over the ready servers, socket.io
  by session (long-polling sends each poll as its own request, and they must reach the server
  holding the session, whose name starts the session id); a server that is down or not ready is
  skipped, and a request refused at connection is retried on another;
- the demo page on WEB_PORT, its widget talking to HAProxy.
"""

import shlex
import socket
import sys
from pathlib import Path
from typing import Dict, List

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core import settings
from ops.commands import (
    TOKEN_PLACEHOLDER,
    action_server_command,
    analytics_feed_command,
    catalog_sync_command,
    dashboard_command,
    rasa_server_command,
    supervisord_programs,
    web_page_command,
)

ENDPOINTS = settings.PROJECT_ROOT / "deploy" / "cluster" / "endpoints.yml"
CLUSTER_DIR = settings.VAR_DIR / "cluster"
MODEL = settings.PROJECT_ROOT / "models" / "micromasters.tar.gz"
ACTION_PORT_OFFSET = 100


def replica_ports(cluster_port: int, replicas: int) -> List[int]:
    return [cluster_port + number for number in range(1, replicas + 1)]


def environment() -> Dict[str, str]:
    """The settings every process of the cluster shares; each can be overridden from the environment."""
    cluster_port = settings.cluster_port()
    action_port = cluster_port + ACTION_PORT_OFFSET
    database_url = settings.cluster_database_url()
    host = "127.0.0.1" if settings.bind_host() == "0.0.0.0" else settings.bind_host()
    return {
        "DATABASE_URL": database_url,
        "TRACKER_STORE_URL": database_url,
        "ACTION_PORT": str(action_port),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "REDIS_HOST": settings.redis_host() or "127.0.0.1",
        "RABBITMQ_HOST": settings.rabbitmq_host() or "127.0.0.1",
        # RabbitMQ's own default account, which it accepts on loopback only; set it for anything else.
        "RABBITMQ_PASSWORD": settings.rabbitmq_password() or "guest",
        "REDIS_PASSWORD": settings.redis_password(),
        "WEBCHAT_SOCKET_URL": f"http://{host}:{cluster_port}",
        "CLUSTER_PORT": str(cluster_port),
        "REPLICAS": str(settings.replicas()),
    }


def haproxy_config(bind_host: str, cluster_port: int, ports: List[int]) -> str:
    servers = {f"rasa{number}": port for number, port in enumerate(ports, start=1)}
    plain = "\n".join(f"    server {name} 127.0.0.1:{port} check" for name, port in servers.items())
    by_session = "\n".join(f"    use-server {name} if {{ url_param(sid) -m beg {name}. }}" for name in servers)
    requests_per_minute = settings.address_requests_per_minute()
    return f"""# Written by `python -m ops.cluster prepare` for `make cluster`; not edited by hand.
global
    maxconn 4096

defaults
    mode http
    timeout connect 3s
    timeout client 65s
    timeout server 65s
    # A server that refuses the connection (dead, restarting) gets the request sent to another.
    retries 2
    option redispatch
    # The learner's address for the Rasa servers' per-address limit (channels/limits.py).
    option forwardfor
    # A busy Rasa server answers its health check late, not never: give it 5 s, three times over,
    # before taking it out (else every request gets a 503 while it is merely loaded).
    timeout check 5s
    default-server inter 1s fall 3 rise 2

frontend assistant
    bind {bind_host}:{cluster_port}
    acl socketio path_beg /socket.io/
    # A body over MAX_REQUEST_BYTES is refused here, before a Rasa server reads it (they refuse it too).
    http-request deny deny_status 413 if {{ req.hdr_val(content-length) gt {settings.max_request_bytes()} }}
    # Requests per client address and minute (ADDRESS_REQUESTS_PER_MINUTE): a flood from one address is
    # answered 429 here; behind this proxy every learner reaches the Rasa servers from loopback, which
    # their own per-address limit exempts.
    stick-table type ipv6 size 100k expire 2m store http_req_rate(1m)
    http-request track-sc0 src
    http-request deny deny_status 429 hdr Retry-After 60 if {{ sc_http_req_rate(0) gt {requests_per_minute} }}
    use_backend rasa_sticky if socketio
    default_backend rasa
    # Which Rasa server answered: for the tests and for anyone debugging affinity.
    http-response set-header X-Served-By %[srv_name]

backend rasa
    balance roundrobin
    option httpchk GET /webhooks/health/ready
{plain}

backend rasa_sticky
    balance roundrobin
    option httpchk GET /webhooks/health/ready
    # An engine.io session lives in the Rasa server that opened it, whose name starts the session id
    # (SOCKETIO_SERVER_NAME): every poll and the websocket upgrade carry it (sid=rasa1.…) and go back
    # there. A cookie cannot do this: the widget's page is another origin, and socket.io-client sends
    # no cookie across origins (withCredentials is off, and rasa-webchat cannot turn it on). The
    # handshake, which has no id yet, is balanced round robin.
{by_session}
{plain}
"""


def programs(cluster_dir: Path, model: Path, ports: List[int], action_port: int,
             endpoints: Path = ENDPOINTS) -> Dict[str, List[str]]:
    """Command lines: the action server, a Rasa server on each of `ports`, HAProxy, the demo page, the
    analytics feed (one: RabbitMQ hands each event to one consumer), the staff dashboard and, when
    course-discovery is configured, the daily catalog sync."""
    commands = {"actions": action_server_command(action_port)}
    for number, port in enumerate(ports, start=1):
        commands[f"rasa{number}"] = ["env", f"SOCKETIO_SERVER_NAME=rasa{number}", *rasa_server_command(
            model, port, api_token=TOKEN_PLACEHOLDER if settings.rasa_api_token() else "", endpoints=str(endpoints))]
    commands["haproxy"] = ["/usr/sbin/haproxy", "-db", "-f", str(cluster_dir / "haproxy.cfg")]
    commands["web"] = web_page_command()
    commands["analytics"] = analytics_feed_command()
    commands["dashboard"] = dashboard_command()
    if settings.discovery_api_url():
        commands["catalog-sync"] = catalog_sync_command()  # one: it writes the shared catalog database
    return commands


def ensure_database(url: str) -> None:
    """Create the cluster's PostgreSQL database if it does not exist yet (on the same server)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit(f"make cluster needs PostgreSQL (CLUSTER_DATABASE_URL), not {parsed.get_backend_name()}")
    maintenance = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True,
                                connect_args={"connect_timeout": 3})
    try:
        with maintenance.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": parsed.database}).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        maintenance.dispose()


def check_reachable(what: str, host: str, port: int) -> None:
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as error:
        raise SystemExit(f"make cluster needs {what} at {host}:{port}: {error}") from None


def prepare(cluster_dir: Path = CLUSTER_DIR, model: Path = MODEL) -> Path:
    """Check the shared services, create the database, and write HAProxy's and supervisord's configs."""
    env = environment()
    check_reachable("Redis", env["REDIS_HOST"], settings.redis_port())
    check_reachable("RabbitMQ", env["RABBITMQ_HOST"], settings.rabbitmq_port())
    ensure_database(env["DATABASE_URL"])
    cluster_dir.mkdir(parents=True, exist_ok=True)
    port = settings.cluster_port()
    ports = replica_ports(port, settings.replicas())
    (cluster_dir / "haproxy.cfg").write_text(haproxy_config(settings.bind_host(), port, ports), encoding="utf-8")
    config = supervisord_programs(settings.PROJECT_ROOT, cluster_dir,
                                  programs(cluster_dir, model, ports, int(env["ACTION_PORT"])))
    path = cluster_dir / "supervisord.conf"
    path.write_text(config, encoding="utf-8")
    return path


def main(argv: List[str]) -> int:
    if argv == ["environment"]:
        for key, value in environment().items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    if argv == ["ready-urls"]:  # every Rasa server's own readiness, and the action server's health
        urls = [f"http://127.0.0.1:{port}/webhooks/health/ready"
                for port in replica_ports(settings.cluster_port(), settings.replicas())]
        print(" ".join([*urls, f"http://127.0.0.1:{environment()['ACTION_PORT']}/health"]))
        return 0
    if argv == ["prepare"]:
        print(prepare())
        return 0
    print("usage: python -m ops.cluster environment | prepare | ready-urls", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
