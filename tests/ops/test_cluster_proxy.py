"""`make cluster`'s HAProxy, as ops/cluster.py writes it, run for real in front of a stand-in server: it
refuses an address over ADDRESS_REQUESTS_PER_MINUTE (429) and a body over MAX_REQUEST_BYTES (413)."""

import os
import shutil
import socket
import sys

import pytest
import requests

from bench.servers import Processes, free_port, http_ok, wait_until
from ops.cluster import haproxy_config
from tests.assistant import PROJECT_ROOT


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_haproxy_answers_429_to_an_address_past_its_requests_per_minute(tmp_path, monkeypatch):
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        pytest.fail("haproxy is missing: apt-get install -y haproxy")
    monkeypatch.setenv("ADDRESS_REQUESTS_PER_MINUTE", "20")
    backend, front = free_port(), free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config("127.0.0.1", front, [backend]), encoding="utf-8")
    (tmp_path / "webhooks" / "health").mkdir(parents=True)
    (tmp_path / "webhooks" / "health" / "ready").write_text("ok")  # HAProxy's health check of the server
    processes = Processes()
    try:
        server = processes.start([sys.executable, "-m", "http.server", str(backend), "--bind", "127.0.0.1",
                                  "--directory", str(tmp_path)], env=dict(os.environ), log=tmp_path / "backend.log",
                                 cwd=PROJECT_ROOT)
        wait_until(lambda: http_ok(f"http://127.0.0.1:{backend}/webhooks/health/ready"), server, what="backend",
                   log=tmp_path / "backend.log", timeout=30)
        proxy = processes.start([haproxy, "-db", "-f", str(config)], env=dict(os.environ), log=tmp_path / "haproxy.log",
                                cwd=PROJECT_ROOT)
        # Ready once it accepts connections: an HTTP request to find out would count against the limit.
        wait_until(lambda: accepts(front), proxy, what="haproxy", log=tmp_path / "haproxy.log", timeout=30)
        url = f"http://127.0.0.1:{front}/haproxy.cfg"
        statuses = [requests.get(url, timeout=5).status_code for _ in range(25)]
        assert 200 in statuses and statuses[-1] == 429
        assert statuses.index(429) <= 20 and set(statuses[statuses.index(429):]) == {429}
        refused = requests.get(url, timeout=5)
        assert refused.headers["Retry-After"] == "60"
        big = requests.post(url, data=b"x" * 300_000, timeout=5)
        assert big.status_code in (413, 429)
    finally:
        processes.stop_all()
