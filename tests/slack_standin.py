"""A stand-in for Slack's Web API on 127.0.0.1, and Events API requests signed as Slack signs them.

It answers `chat.postMessage` and `auth.test` as Slack documents them (JSON with `ok`), checks the
bot token, records every call, and can play Slack being down (HTTP 503) or refusing (`ok: false`).

File uploads speak the protocol of slack_sdk's `files_upload_v2`: `files.getUploadURLExternal` (form
fields `filename`, `length`) answers an `upload_url` on this stand-in and a `file_id`; the client POSTs
the raw bytes to that URL (no token: the URL is the credential), which answers `OK - <length>`;
`files.completeUploadExternal` (form fields `files` as JSON `[{"id", "title"}]`, `channel_id`,
`initial_comment`, `thread_ts`) shares the uploaded files. `uploaded_files()` lists what was shared.
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

UPLOAD_PATH = "/upload/v1/"  # where files.getUploadURLExternal's upload URLs point (on the stand-in)


class SlackStandIn:
    def __init__(self, token: str, bot_user_id: str = "UBOT"):
        self.token = token
        self.bot_user_id = bot_user_id
        self.calls: List[Dict] = []
        self.mode = "up"  # up | down (HTTP 503) | refuse (ok: false)
        self._lock = threading.Lock()
        self._ts = 1_790_000_000.0
        self.uploads: Dict[str, Dict] = {}  # file id -> {"filename", "length", "content" (bytes or None)}
        self.files: List[Dict] = []  # files shared by files.completeUploadExternal, in order
        self.refused_methods: Dict[str, str] = {}  # method -> the error Slack answers it with (ok: false)
        self._file_number = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith(UPLOAD_PATH):
                    status, text = stand_in.receive_upload(self.path[len(UPLOAD_PATH):], raw)
                    payload = text.encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                body = raw.decode()
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
        if method in self.refused_methods:
            return 200, {"ok": False, "error": self.refused_methods[method]}
        if method == "files.getUploadURLExternal":
            return 200, self._upload_url(params)
        if method == "files.completeUploadExternal":
            return 200, self._complete_upload(params)
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

    def _upload_url(self, params: Dict) -> Dict:
        filename, length = params.get("filename"), str(params.get("length") or "")
        if not filename or not length.isdigit() or int(length) < 1:
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            self._file_number += 1
            file_id = f"F{self._file_number:08d}"
            self.uploads[file_id] = {"filename": filename, "length": int(length), "content": None}
        return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}{UPLOAD_PATH}{file_id}", "file_id": file_id}

    def receive_upload(self, file_id: str, content: bytes):
        """The bytes POSTed to an upload URL: (HTTP status, plain-text body) as Slack's upload host answers."""
        if self.mode == "down":
            return 503, "service unavailable"
        with self._lock:
            upload = self.uploads.get(file_id)
            if upload is None:
                return 404, "not found"
            upload["content"] = content
        return 200, f"OK - {len(content)}"

    def _complete_upload(self, params: Dict) -> Dict:
        try:
            files = json.loads(params.get("files") or "")
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) and f.get("id") for f in files):
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            if any(self.uploads.get(f["id"], {}).get("content") is None for f in files):
                return {"ok": False, "error": "file_not_found"}  # never uploaded (or unknown id)
            self._ts += 1
            ts = f"{self._ts:.6f}"
            shared = []
            for f in files:
                upload = self.uploads[f["id"]]
                record = {"id": f["id"], "title": f.get("title") or upload["filename"], "name": upload["filename"],
                          "channel_id": params.get("channel_id"), "initial_comment": params.get("initial_comment"),
                          "thread_ts": params.get("thread_ts"), "ts": ts, "content": upload["content"],
                          "length": upload["length"]}
                self.files.append(record)
                shared.append({"id": f["id"], "title": record["title"], "name": record["name"],
                               "size": len(upload["content"])})
            self.calls.append({"method": "files.completeUploadExternal", **params})
        return {"ok": True, "files": shared}

    def uploaded_files(self, channel: Optional[str] = None) -> List[Dict]:
        """Files shared by files.completeUploadExternal: id, title, name, channel_id, initial_comment,
        thread_ts, ts, content (the uploaded bytes), length (the length announced for them)."""
        with self._lock:
            return [dict(f) for f in self.files if channel is None or f.get("channel_id") == channel]

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
