"""A stand-in for Slack's Web API on 127.0.0.1, and Events API requests signed as Slack signs them.

It answers `chat.postMessage` and `auth.test` as Slack documents them (JSON with `ok`), checks the
bot token, records every call, and can play Slack being down (HTTP 503) or refusing (`ok: false`).
"""

import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional
from urllib.parse import parse_qs

import requests

from bench.servers import free_port


class SlackStandIn:
    def __init__(self, token: str, bot_user_id: str = "UBOT"):
        self.token = token
        self.bot_user_id = bot_user_id
        self.calls: List[Dict] = []
        self.mode = "up"  # up | down (HTTP 503) | refuse (ok: false)
        self._lock = threading.Lock()
        self._ts = 1_790_000_000.0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(body or "{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(body).items()}
                status, answer = stand_in.answer(self.path.rsplit("/", 1)[-1], params,
                                                 self.headers.get("Authorization", ""))
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.api_url = f"http://127.0.0.1:{self.port}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, method: str, params: Dict, authorization: str):
        if self.mode == "down":
            return 503, {"ok": False, "error": "service_unavailable"}
        if authorization != f"Bearer {self.token}":
            return 200, {"ok": False, "error": "invalid_auth"}
        if self.mode == "refuse":
            return 200, {"ok": False, "error": "channel_not_found"}
        if method == "auth.test":
            return 200, {"ok": True, "user_id": self.bot_user_id, "bot_id": "BBOT"}
        if method == "chat.postMessage":
            with self._lock:
                self._ts += 1
                ts = f"{self._ts:.6f}"
                self.calls.append({"method": method, "ts": ts, **params})
            return 200, {"ok": True, "channel": params.get("channel"), "ts": ts,
                         "message": {"text": params.get("text"), "ts": ts, "bot_id": "BBOT"}}
        return 200, {"ok": False, "error": "unknown_method"}

    def posts(self, channel: Optional[str] = None, thread_ts: Optional[str] = None,
              containing: Optional[str] = None) -> List[Dict]:
        with self._lock:
            return [c for c in self.calls if c["method"] == "chat.postMessage"
                    and (channel is None or c.get("channel") == channel)
                    and (thread_ts is None or c.get("thread_ts") == thread_ts)
                    and (containing is None or containing in (c.get("text") or ""))]

    def wait_for_posts(self, count: int, timeout: float = 30, **filters) -> List[Dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.posts(**filters)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"expected {count} chat.postMessage calls matching {filters}, got {self.posts(**filters)}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def signed(secret: str, payload: Dict, timestamp: Optional[int] = None) -> tuple:
    """(headers, body) of an Events API request as Slack sends it."""
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
               "X-Slack-Signature": f"v0={digest}"}
    return headers, body


def event_callback(event: Dict, event_id: str, bot_user_id: str = "UBOT") -> Dict:
    return {
        "token": "unused-verification-token",
        "team_id": "T1",
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": "T1", "user_id": bot_user_id, "is_bot": True}],
        "event": event,
    }


SUPPORT = "CSUPPORT"  # the support channel the tests' assistants post handoffs to


def slack_settings(stand_in: "SlackStandIn", secret: str, web_origin: str) -> Dict[str, str]:
    """The environment that points an assistant's Slack at the stand-in (handoff loop every second)."""
    return {"SLACK_BOT_TOKEN": stand_in.token, "SLACK_SIGNING_SECRET": secret, "SLACK_SUPPORT_CHANNEL": SUPPORT,
            "SLACK_API_URL": stand_in.api_url, "SLACK_RETRY_SECONDS": "1", "WEBCHAT_ALLOWED_ORIGINS": web_origin}


def staff_says(rasa_url: str, secret: str, text: str, thread_ts: str) -> None:
    """A staff member's reply in a handoff's thread, delivered to that Rasa server as Slack would."""
    event = {"type": "message", "channel": SUPPORT, "channel_type": "channel", "user": "USTAFF", "text": text,
             "ts": f"{time.time():.6f}", "thread_ts": thread_ts}
    headers, body = signed(secret, event_callback(event, f"Ev{uuid.uuid4().hex[:10].upper()}"))
    response = requests.post(f"{rasa_url}/webhooks/slack/webhook", data=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
