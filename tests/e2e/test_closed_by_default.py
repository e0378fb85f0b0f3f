"""Closed by default: loopback only, Rasa's HTTP API off unless a token is set (and then nothing
without it), no foreign origin echoed, and an action server that answers only the Rasa server."""

import json
import os
import shutil
import socket
import subprocess
from typing import List

import pytest
import requests

from bench.servers import free_port, http_ok, wait_until
from ops.commands import rasa_server_command
from tests.assistant import MODEL, PROJECT_ROOT, running_assistant, train_model

pytestmark = pytest.mark.e2e
EVIL = "https://evil.example"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"  # Debian's package (scripts/test.sh installs it)
WIDGET_ORIGIN = "http://127.0.0.1:8080"
API_ROUTES = [  # every route of Rasa's HTTP API that reads a conversation, the model, or changes state
    ("GET", "/status"), ("GET", "/domain"), ("GET", "/conversations/learner/tracker"),
    ("POST", "/conversations/learner/tracker/events"), ("PUT", "/conversations/learner/tracker/events"),
    ("GET", "/conversations/learner/story"), ("POST", "/conversations/learner/execute"),
    ("POST", "/conversations/learner/trigger_intent"), ("POST", "/conversations/learner/predict"),
    ("POST", "/conversations/learner/messages"), ("POST", "/model/train"), ("POST", "/model/test/stories"),
    ("POST", "/model/test/intents"), ("POST", "/model/predict"), ("POST", "/model/parse"), ("PUT", "/model"),
    ("DELETE", "/model"),
]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    train_model()
    workdir = tmp_path_factory.mktemp("closed")
    with running_assistant(workdir, f"sqlite:///{workdir / 'catalog.db'}",
                           f"sqlite:///{workdir / 'conversations.db'}",
                           extra_env={"WEBCHAT_ALLOWED_ORIGINS": WIDGET_ORIGIN}) as running:
        assert running.text("learner", "how much does the MITx SCM cost?")  # a conversation to protect
        yield running


def this_hosts_other_address() -> str:
    """An address of this machine that is not 127.0.0.1 (the interface a packet out would leave by)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
            address = probe.getsockname()[0]
        except OSError:
            address = "127.0.1.1"
    return address if address != "127.0.0.1" else "127.0.1.1"


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_nothing_answers_on_another_address_of_this_host(assistant):
    other = this_hosts_other_address()
    for url in (assistant.rasa_url, assistant.action_url):
        assert http_ok(f"{url}/" if url == assistant.rasa_url else f"{url}/health")  # positive control
        with pytest.raises(OSError):
            socket.create_connection((other, port_of(url)), timeout=2).close()


def test_every_api_route_needs_the_token(assistant):
    for method, path in API_ROUTES:
        response = requests.request(method, f"{assistant.rasa_url}{path}", json={}, timeout=30)
        assert response.status_code in (401, 403), (method, path, response.status_code)
        wrong = requests.request(method, f"{assistant.rasa_url}{path}", params={"token": "wrong"}, json={}, timeout=30)
        assert wrong.status_code in (401, 403), (method, path, wrong.status_code)
    tracker = assistant.api("GET", "/conversations/learner/tracker")  # positive control: with the token
    assert tracker.status_code == 200 and any(e["event"] == "user" for e in tracker.json()["events"])


def test_no_foreign_origin_is_echoed(assistant):
    for method, path in (("POST", "/webhooks/rest/webhook"), ("OPTIONS", "/webhooks/rest/webhook"),
                         ("GET", "/conversations/learner/tracker"), ("GET", "/")):
        response = requests.request(method, f"{assistant.rasa_url}{path}", headers={"Origin": EVIL},
                                    params={"token": assistant.api_token}, json={"sender": "x", "message": "hi"},
                                    timeout=30)
        assert response.status_code < 500
        assert response.headers.get("Access-Control-Allow-Origin") in (None, WIDGET_ORIGIN), (method, path)
        assert EVIL not in str(response.headers)
    allowed = requests.options(f"{assistant.rasa_url}/webhooks/rest/webhook", headers={"Origin": WIDGET_ORIGIN},
                               timeout=30)  # positive control: the widget's own origin is allowed
    assert allowed.headers.get("Access-Control-Allow-Origin") == WIDGET_ORIGIN


def test_the_action_server_answers_only_with_the_shared_secret(assistant):
    call = {"next_action": "action_answer_question", "sender_id": "forged", "version": "3.6.21",
            "tracker": {"sender_id": "forged", "slots": {}, "latest_message": {"text": "hi", "intent": {}},
                        "events": [], "latest_input_channel": "socketio"}, "domain": {}}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": assistant.action_token}):
        response = requests.post(f"{assistant.action_url}/webhook", json=call, headers=headers, timeout=30)
        assert response.status_code == 401, headers
    for path in ("/actions",):
        assert requests.get(f"{assistant.action_url}{path}", timeout=30).status_code == 401
    good = requests.post(f"{assistant.action_url}/webhook", json=call, timeout=30,
                         headers={"Authorization": f"Bearer {assistant.action_token}"})
    assert good.status_code == 200 and "responses" in good.json()  # positive control


def test_the_api_is_off_without_a_token(tmp_path, assistant):
    port = free_port()
    env = {**assistant.env, "RASA_API_TOKEN": ""}
    server = assistant.processes.start(rasa_server_command(MODEL, port, api_token=""), env=env,
                                       log=tmp_path / "rasa.log", cwd=PROJECT_ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_ok(f"{base}/"), server, what="Rasa server without API", log=tmp_path / "rasa.log")
        assert requests.get(f"{base}/conversations/learner/tracker", timeout=30).status_code == 404
        assert requests.post(f"{base}/model/parse", json={"text": "hi"}, timeout=30).status_code == 404
        reply = requests.post(f"{base}/webhooks/rest/webhook", json={"sender": "s", "message": "hi"}, timeout=30)
        assert reply.status_code == 200 and reply.json()  # positive control: the channels still work
    finally:
        assistant.processes.stop(server)


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def start_proxy(assistant, workdir, expose_rest: bool) -> str:
    """deploy/haproxy.cfg, as shipped, in front of the Rasa server, with a throw-away certificate."""
    pem = workdir / "tls.pem"
    if not pem.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-keyout", str(workdir / "key.pem"),
                        "-out", str(workdir / "cert.pem")],
                       check=True, capture_output=True)
        pem.write_bytes((workdir / "cert.pem").read_bytes() + (workdir / "key.pem").read_bytes())
    port = free_port()
    env = {**os.environ, "TLS_CERT": str(pem), "PUBLIC_BIND": f"127.0.0.1:{port}",
           "RASA_UPSTREAM": f"127.0.0.1:{port_of(assistant.rasa_url)}",
           "EXPOSE_REST_WEBHOOK": "1" if expose_rest else ""}
    config = str(PROJECT_ROOT / "deploy" / "haproxy.cfg")
    checked = subprocess.run([HAPROXY, "-c", "-f", config], env=env, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    log = workdir / f"haproxy-{port}.log"
    process = assistant.processes.start([HAPROXY, "-db", "-f", config], env=env, log=log, cwd=PROJECT_ROOT)
    wait_until(lambda: listening(port), process, what="haproxy", log=log)
    return f"https://127.0.0.1:{port}"


def via(proxy: str, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{proxy}{path}", verify=False, timeout=30, **kwargs)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_the_shipped_proxy_exposes_only_the_three_paths(assistant, tmp_path):
    proxy = start_proxy(assistant, tmp_path, expose_rest=True)
    answered = via(proxy, "POST", "/webhooks/rest/webhook", json={"sender": "p", "message": "how much is MITx SCM?"})
    assert answered.status_code == 200 and "$1,350" in answered.text  # positive control: it reaches Rasa
    assert via(proxy, "GET", "/socket.io/", params={"EIO": "4", "transport": "polling"}).status_code == 200
    assert via(proxy, "POST", "/webhooks/slack/webhook", data=b"{}").status_code in (401, 503)  # Rasa's answer
    token = {"token": assistant.api_token}
    for method, path in [*API_ROUTES, ("GET", "/"), ("GET", "/version"), ("GET", "/webhooks/rest/")]:
        assert via(proxy, method, path, params=token, json={}).status_code == 404, (method, path)
    assert "Strict-Transport-Security" in answered.headers
    closed = start_proxy(assistant, tmp_path, expose_rest=False)
    assert via(closed, "POST", "/webhooks/rest/webhook", json={"sender": "p", "message": "hi"}).status_code == 404
    assert via(closed, "GET", "/socket.io/", params={"EIO": "4", "transport": "polling"}).status_code == 200



def allowed_origins_named(response) -> List[str]:
    """Every Access-Control-Allow-Origin header of a response, as sent (a browser refuses two)."""
    return response.raw.headers.getlist("Access-Control-Allow-Origin")


def test_socket_io_names_the_widget_origin_once_and_no_other(assistant):
    """Browsers refuse a response whose Access-Control-Allow-Origin names the origin twice."""
    socket_io = f"{assistant.rasa_url}/socket.io/"
    opened = requests.get(socket_io, params={"EIO": "4", "transport": "polling"}, headers={"Origin": WIDGET_ORIGIN},
                          timeout=30)
    assert opened.status_code == 200 and allowed_origins_named(opened) == [WIDGET_ORIGIN]
    session = {"EIO": "4", "transport": "polling", "sid": json.loads(opened.text[1:])["sid"]}
    joined = requests.post(socket_io, params=session, data="40", headers={"Origin": WIDGET_ORIGIN}, timeout=30)
    assert joined.status_code == 200 and allowed_origins_named(joined) == [WIDGET_ORIGIN]
    confirmed = requests.get(socket_io, params=session, headers={"Origin": WIDGET_ORIGIN}, timeout=30)
    assert confirmed.text.startswith("40") and allowed_origins_named(confirmed) == [WIDGET_ORIGIN]

    foreign = requests.get(socket_io, params={"EIO": "4", "transport": "polling"}, headers={"Origin": EVIL},
                           timeout=30)
    assert allowed_origins_named(foreign) == [] and EVIL not in str(foreign.headers)
    session = {"EIO": "4", "transport": "polling", "sid": json.loads(foreign.text[1:])["sid"]}
    requests.post(socket_io, params=session, data="40", headers={"Origin": EVIL}, timeout=30)
    refused = requests.get(socket_io, params=session, headers={"Origin": EVIL}, timeout=30)
    assert refused.text.startswith("44"), refused.text  # socket.io's CONNECT_ERROR: no chat for this page


def test_a_closed_chat_session_gets_an_error_the_widget_can_read(assistant):
    """A page that closes its socket.io session while a poll is on its way (a reload, a navigation) gets a
    400 with the CORS header, not a 500 that the browser reports as a CORS violation."""
    socket_io = f"{assistant.rasa_url}/socket.io/"
    headers = {"Origin": WIDGET_ORIGIN}
    opened = requests.get(socket_io, params={"EIO": "4", "transport": "polling"}, headers=headers, timeout=30)
    assert opened.status_code == 200 and opened.text.startswith("0"), opened.text
    session = {"EIO": "4", "transport": "polling", "sid": json.loads(opened.text[1:])["sid"]}
    closed = requests.post(socket_io, params=session, data="1", headers=headers, timeout=30)  # engine.io's close
    assert closed.status_code == 200 and allowed_origins_named(closed) == [WIDGET_ORIGIN]
    late_poll = requests.get(socket_io, params=session, headers=headers, timeout=30)
    assert late_poll.status_code == 400, (late_poll.status_code, late_poll.text)
    assert allowed_origins_named(late_poll) == [WIDGET_ORIGIN]
    never_seen = requests.get(socket_io, params={**session, "sid": "unknown"}, headers=headers, timeout=30)
    assert never_seen.status_code == 400 and allowed_origins_named(never_seen) == [WIDGET_ORIGIN]
