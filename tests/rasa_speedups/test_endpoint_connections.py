"""The Rasa server's calls to the action server (the real one, in its own process) reuse a connection,
where Rasa opens one per call, and go on working when the action server is killed and started again
while the pool holds a connection to the old one."""

import asyncio
import os
import secrets
import signal
from pathlib import Path

import pytest
from rasa.utils.endpoints import EndpointConfig
from sanic.config import DEFAULT_CONFIG as SANICS_DEFAULTS

from bench.servers import Processes, free_port
from core import settings
from rasa_speedups import endpoint_connections
from tests.assistant import start_action_server

pytestmark = pytest.mark.e2e  # starts a server or needs the trained model: not in make test-fast

CALLS = 10


def connections_to(port: int) -> set:
    """The local ports of this machine's TCP connections to `port`, in any state (TIME_WAIT too)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, remote = line.split()[1:3]
            if int(remote.rsplit(":", 1)[1], 16) == port:
                found.add(int(local.rsplit(":", 1)[1], 16))
    return found


def test_calls_reuse_a_connection_and_survive_the_action_server_restarting(tmp_path, monkeypatch):
    port, processes = free_port(), Processes()
    env = {**os.environ, **settings.as_environment(), "ACTION_SERVER_TOKEN": secrets.token_urlsafe(16),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.db'}"}
    endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/health")
    # Longer than the restart takes, so the pool still holds the old server's connection afterwards.
    monkeypatch.setattr(endpoint_connections, "KEEPALIVE_SECONDS", 60.0)
    assert EndpointConfig.session is endpoint_connections.pooled_session  # installed by `channels`
    try:
        server = start_action_server(processes, port, env, tmp_path / "actions.log")

        async def calls():
            return [await endpoint.request(method="get") for _ in range(CALLS)]

        with monkeypatch.context() as rasas_own:
            rasas_own.setattr(EndpointConfig, "session", endpoint_connections._rasas_session)
            before = connections_to(port)
            assert all(answer for answer in asyncio.run(calls()))
            assert len(connections_to(port) - before) == CALLS  # Rasa: a new connection per call

        async def calls_around_a_restart():
            before = connections_to(port)
            first = await calls()
            pooled = connections_to(port) - before
            os.kill(server.pid, signal.SIGKILL)  # the pool's connection now leads nowhere
            server.wait()
            await asyncio.to_thread(start_action_server, processes, port, env, tmp_path / "actions-2.log")
            after_restart = await endpoint.request(method="get")
            await endpoint_connections.pool().close()
            return first, pooled, after_restart

        first, pooled, after_restart = asyncio.run(calls_around_a_restart())
        # One connection, now and then two: aiohttp may give back the first connection of a new pool a
        # little after the call returns, and the next call opens another meanwhile.
        assert all(first) and 1 <= len(pooled) <= 2
        assert after_restart
    finally:
        processes.stop_all()


def test_the_pool_lets_go_of_a_connection_before_the_action_server_would():
    assert endpoint_connections.KEEPALIVE_SECONDS < SANICS_DEFAULTS["KEEP_ALIVE_TIMEOUT"]
