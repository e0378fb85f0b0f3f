"""The demo page with the chat widget, served on http://127.0.0.1:$WEB_PORT by a small stdlib server.

Serves only the files named in FILES, all inside web/: the page, its stylesheet and script, the
rasa-webchat bundle that `npm ci --prefix web` installs, and a generated /config.js that tells the
page where the Rasa server's socket.io channel is (WEBCHAT_SOCKET_URL, default
http://127.0.0.1:$RASA_PORT). Anything else, directories and paths leading out of web/ included, is 404.

    .venv/bin/python web/serve.py
"""

import json
import os
import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

WEB_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(WEB_DIR.parent))
from core import settings  # noqa: E402

HTML, CSS, JS = "text/html; charset=utf-8", "text/css; charset=utf-8", "text/javascript; charset=utf-8"
BUNDLE = "node_modules/rasa-webchat/lib/index.js"
FILES = {  # URL path -> (file under web/, content type)
    "/": ("index.html", HTML),
    "/index.html": ("index.html", HTML),
    "/styles.css": ("styles.css", CSS),
    "/chat.js": ("chat.js", JS),
    "/rasa-webchat.js": (BUNDLE, JS),
}
# rasa-webchat's CSS @imports the Inter font from Google Fonts; the page uses local fonts and loads
# nothing from anywhere but this server and the Rasa server.
GOOGLE_FONTS = re.compile(rb"@import url\(https://fonts\.googleapis\.com/[^)]*\);")


def socket_url() -> str:
    return os.environ.get("WEBCHAT_SOCKET_URL", "").strip() or f"http://127.0.0.1:{settings.rasa_port()}"


def content_security_policy() -> str:
    """Scripts and styles from this server only; connections to this server and the Rasa server only, over
    HTTP (engine.io's long-polling) and its websocket (ws: beside http:, wss: beside https:)."""
    parts = urlsplit(socket_url())
    websocket = "wss" if parts.scheme == "https" else "ws"
    return (f"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            f"font-src 'self' data:; connect-src 'self' {parts.scheme}://{parts.netloc} {websocket}://{parts.netloc}; "
            f"base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class Handler(BaseHTTPRequestHandler):
    server_version = "micromasters-web"
    # Seconds a connection may sit idle or dribble its request: without it a client that opens
    # connections and sends nothing kept a thread each, for ever.
    timeout = 10

    def do_GET(self) -> None:
        self.respond(with_body=True)

    def do_HEAD(self) -> None:
        self.respond(with_body=False)

    def respond(self, with_body: bool) -> None:
        path = urlsplit(self.path).path
        status, headers = HTTPStatus.OK, {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
        if path == "/config.js":
            config = {"socketUrl": socket_url(), "socketPath": "/socket.io/"}
            body = f"window.WEBCHAT_CONFIG = {json.dumps(config)};\n".encode()
            headers.update({"Content-Type": JS, "Cache-Control": "no-store"})
        elif path in FILES and (body := self.read(FILES[path][0])) is not None:
            headers["Content-Type"] = FILES[path][1]
            if headers["Content-Type"] == HTML:
                headers["Content-Security-Policy"] = content_security_policy()
        else:
            status, body = HTTPStatus.NOT_FOUND, b"not found\n"
            headers["Content-Type"] = "text/plain; charset=utf-8"
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    @staticmethod
    def read(name: str):
        path = (WEB_DIR / name).resolve()
        if not path.is_relative_to(WEB_DIR) or not path.is_file():
            return None
        data = path.read_bytes()
        return GOOGLE_FONTS.sub(b"", data) if name == BUNDLE else data


def main() -> None:
    port = settings.web_port()
    server = ThreadingHTTPServer((settings.bind_host(), port), Handler)
    if not (WEB_DIR / BUNDLE).is_file():
        print(f"warning: {WEB_DIR / BUNDLE} is missing; run: npm ci --prefix web", file=sys.stderr)
    print(f"Demo page with the chat widget: http://127.0.0.1:{port}/  (socket.io: {socket_url()})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
