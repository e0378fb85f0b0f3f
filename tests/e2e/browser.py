"""A real browser for the end-to-end tests: Debian's headless Chromium driven by Playwright, which never
downloads a browser of its own; every request, console error and page error recorded."""

from urllib.parse import parse_qs, urlsplit

from tests.assistant import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = PROJECT_ROOT / "artifacts"
TIMEOUT_MS = 30_000
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
GREETING = "Hi! I answer questions about edX MicroMasters programs"


class Browser:
    """A fresh Chromium profile with every request, console error and page error recorded."""

    def __init__(self, playwright, profile, viewport, locale=None):
        self.context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, viewport=viewport,
            **({"locale": locale} if locale else {}),
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.requests, self.console_errors, self.page_errors, self.dialogs = [], [], [], []
        self.closed_sessions = set()  # engine.io sessions a page closed itself (as it does when it is left)
        self.context.on("request", self._record)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.page.on("websocket", self._record_websocket)
        self.page.on("console", lambda message: message.type == "error" and self.console_errors.append(
            (message.text, message.location.get("url", ""))))
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))

    def _record(self, request):
        self.requests.append(request.url)
        if request.method == "POST" and "/socket.io/" in request.url and request.post_data == "1":  # close
            self.closed_sessions.update(parse_qs(urlsplit(request.url).query).get("sid", []))

    def _record_websocket(self, socket):
        """A websocket the page opened; when it closes (the page reloads or leaves), its engine.io session is
        closed too, as a close posted over polling closes it."""
        self.requests.append(socket.url)
        sid = parse_qs(urlsplit(socket.url).query).get("sid", [])
        socket.on("close", lambda _socket: self.closed_sessions.update(sid))

    def _left_behind(self, text, url):
        """A page being left (reload, navigation) closes its engine.io session, over polling or its websocket; a
        poll it had already sent can reach the server after the close, which answers it with a 400: nothing
        the learner sees."""
        sid = parse_qs(urlsplit(url).query).get("sid", [None])[0]
        return (sid in self.closed_sessions and "/socket.io/" in url
                and text.startswith("Failed to load resource: the server responded with a status of 400"))

    def open_chat(self, origin):
        self.page.goto(origin)
        self.page.wait_for_selector(".rw-launcher")
        if not self.page.locator(".rw-messages-container").is_visible():
            self.page.click(".rw-launcher")
        self.page.wait_for_selector(".rw-messages-container")

    @property
    def messages(self):
        return self.page.locator(".rw-messages-container")

    def say(self, text):
        self.page.fill(".rw-new-message", text)
        self.page.keyboard.press("Enter")

    def expect_reply(self, text):
        from playwright.sync_api import expect

        expect(self.page.locator(".rw-response").filter(has_text=text).last).to_be_visible(timeout=TIMEOUT_MS)

    def check_nothing_left_the_machine(self, rasa_url):
        """Every request went to this machine, and the page logged no error."""
        assert self.requests
        for url in self.requests:
            parts = urlsplit(url)
            assert parts.scheme == "data" or parts.hostname in LOCAL_HOSTS, f"request to another host: {url}"
        errors = [(text, url) for text, url in self.console_errors if not self._left_behind(text, url)]
        assert errors == [], errors  # a helper module: pytest does not spell the comparison out here
        assert self.page_errors == [], self.page_errors

    def websockets_to(self, rasa_url):
        """The engine.io websockets the page opened to the Rasa server."""
        netloc = urlsplit(rasa_url).netloc
        return [url for url in self.requests if url.startswith(f"ws://{netloc}/socket.io/")]

    def screenshot(self, name):
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name))

    def close(self):
        self.context.close()


def session_id(page):
    return page.evaluate("JSON.parse(window.localStorage.getItem('chat_session') || '{}').session_id")
