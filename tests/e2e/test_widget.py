"""The website chat widget in a real browser: web/serve.py's page with rasa-webchat, talking socket.io
(long-polling) to the real Rasa server and action server. Headless Chromium is Debian's, driven by
Playwright; Playwright never downloads a browser of its own.
"""

import http.client
import os
import re
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from tests.assistant import PROJECT_ROOT, running_site, train_model
from tests.e2e.browser import CHROMIUM, GREETING, session_id

pytestmark = pytest.mark.e2e

XSS = "<img src=x onerror=alert(1)>"
XSS_FLAG = '<img src=x onerror="window.__xss = true">'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The Rasa server and the action server, and web/serve.py on a free port pointing at them."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    if not (PROJECT_ROOT / "web" / "node_modules" / "rasa-webchat" / "lib" / "index.js").is_file():
        pytest.fail("rasa-webchat is not installed: npm ci --prefix web")
    train_model()
    with running_site(tmp_path_factory.mktemp("widget")) as (assistant, origin):
        yield {"origin": origin, "rasa_url": assistant.rasa_url, "assistant": assistant}


def test_web_server_serves_only_the_page_and_the_widget(site):
    origin = site["origin"]
    page = requests.get(f"{origin}/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    config = requests.get(f"{origin}/config.js", timeout=10)
    assert config.headers["Cache-Control"] == "no-store"
    assert f'"socketUrl": "{site["rasa_url"]}"' in config.text
    bundle = requests.get(f"{origin}/rasa-webchat.js", timeout=10)
    assert bundle.status_code == 200 and "WebChat" in bundle.text and "fonts.googleapis.com" not in bundle.text
    host, port = urlsplit(origin).hostname, urlsplit(origin).port
    for path in ["/../README.md", "/%2e%2e/README.md", "/..%2fREADME.md", "/../../etc/passwd", "//etc/passwd",
                 "/serve.py", "/package.json", "/node_modules/", "/node_modules/rasa-webchat/lib/index.js"]:
        connection = http.client.HTTPConnection(host, port, timeout=10)  # sends the path exactly as written
        connection.request("GET", path)
        assert connection.getresponse().status == 404, path
        connection.close()

def test_the_page_server_closes_a_connection_that_sends_nothing(site):
    url = urlsplit(site["origin"])
    with socket.create_connection((url.hostname, url.port), timeout=30) as idle:
        idle.sendall(b"GET / HTTP/1.1\r\nHost: x")  # and then nothing more
        started = time.monotonic()
        assert idle.recv(1024) == b""  # closed by the server
    assert time.monotonic() - started < 20
    assert requests.get(f"{site['origin']}/", timeout=10).status_code == 200


def test_widget_conversation_history_links_and_escaping(site, browser):
    chat = browser({"width": 1280, "height": 860})
    page = chat.page
    chat.open_chat(site["origin"])
    chat.expect_reply(GREETING)

    chat.say("how much does the MITx Supply Chain Management MicroMasters cost?")
    page.wait_for_selector(".rw-typing-indication", state="attached")
    chat.expect_reply("$1,350 in total")
    assert chat.websockets_to(site["rasa_url"]), "the widget should have upgraded to a websocket"

    link = page.locator('.rw-response a[href^="https://micromasters.mit.edu/"]').first
    assert link.get_attribute("href") == "https://micromasters.mit.edu/scm/frequently-asked-questions/"
    assert link.inner_text() == "MIT SCM MicroMasters FAQ"  # labelled with the source's name
    assert "noopener" in link.get_attribute("rel") and link.get_attribute("target") == "_blank"

    chat.say("how much does the MIT micromasters cost?")
    chat.expect_reply("Several programs match. Which one do you mean?")
    page.locator(".rw-replies .rw-reply", has_text="MITx Finance").last.wait_for()
    chat.screenshot("widget-desktop-buttons.png")
    page.locator(".rw-replies .rw-reply", has_text="MITx Finance").last.click()
    chat.expect_reply("No price on record for MITx Finance")
    chat.screenshot("widget-desktop.png")

    before = session_id(page)
    assert before
    page.reload()
    chat.open_chat(site["origin"])
    chat.expect_reply("No price on record for MITx Finance")
    chat.expect_reply("$1,350 in total")
    assert chat.messages.get_by_text("how much does the MIT micromasters cost?").count() == 1
    assert session_id(page) == before
    chat.say("and does it guarantee admission?")  # the same session on the server: the program is still Finance
    chat.expect_reply("Completing MITx Finance does not guarantee admission")
    chat.screenshot("widget-desktop-after-reload.png")

    chat.say(XSS)
    chat.say(XSS_FLAG)
    for text in (XSS, XSS_FLAG):
        client = page.locator(".rw-client .rw-message-text").filter(has_text=text)
        client.last.wait_for()
        assert client.last.inner_text() == text
    chat.expect_reply("couldn't find that program")
    assert page.locator('.rw-widget-container img[src="x"]').count() == 0
    assert page.evaluate("window.__xss === undefined")
    assert chat.dialogs == []
    chat.check_nothing_left_the_machine(site["rasa_url"])


def test_widget_falls_back_to_long_polling_when_websockets_are_blocked(site, browser):
    """A proxy or firewall that drops websockets: engine.io keeps the session on long-polling and the learner
    is answered all the same."""
    chat = browser({"width": 1280, "height": 860})
    blocked = []
    chat.context.route_web_socket(re.compile(r".*/socket\.io/.*"), lambda socket: (blocked.append(socket.url),
                                                                                   socket.close()))
    chat.open_chat(site["origin"])
    chat.expect_reply(GREETING)
    chat.say("how much does the MITx Supply Chain Management MicroMasters cost?")
    chat.expect_reply("$1,350 in total")
    assert blocked, "the widget never tried a websocket"
    polls = [url for url in chat.requests if "/socket.io/" in url and "transport=polling" in url]
    assert len(polls) >= 3 and all(url.startswith(site["rasa_url"]) for url in polls)


def test_widget_on_a_phone(site, browser):
    chat = browser({"width": 375, "height": 740})
    page = chat.page
    chat.open_chat(site["origin"])
    chat.expect_reply(GREETING)
    chat.say("how much does the MITx Supply Chain Management MicroMasters cost?")
    chat.expect_reply("$1,350 in total")
    sender = page.locator(".rw-new-message")
    box = sender.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375 and box["y"] + box["height"] <= 740
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    chat.screenshot("widget-phone.png")
    chat.check_nothing_left_the_machine(site["rasa_url"])



def test_widget_tells_the_assistant_which_program_page_it_is_on(site, browser):
    """The demo page is the Supply Chain Management page: a question without a program name is about it."""
    chat = browser({"width": 1280, "height": 860})
    chat.open_chat(site["origin"])
    chat.expect_reply(GREETING)
    chat.say("how much does it cost?")
    chat.expect_reply("MITx Supply Chain Management: $1,350 in total")
    chat.say("what about the wageningen one?")  # naming another program still switches, with the same question
    chat.expect_reply("WageningenX Biobased Sciences for Sustainability: $1,200 in total")
    chat.check_nothing_left_the_machine(site["rasa_url"])


def test_widget_in_the_browsers_language(site, browser):
    """A Spanish browser: the greeting is in Spanish (the widget sends the browser's language), a Spanish
    cost question gets the program's price in Spanish, and a German one the honest reply."""
    chrome = browser({"width": 1280, "height": 900}, locale="es-ES")
    chrome.open_chat(site["origin"])
    chrome.expect_reply("¡Hola! Respondo preguntas sobre los programas MicroMasters")
    chrome.say("¿cuánto cuesta el micromaster de supply chain del MIT?")
    chrome.expect_reply("MITx Supply Chain Management: $1,350 en total")
    chrome.say("¿y sirve para créditos en una maestría?")
    chrome.expect_reply("Sí: MITx Supply Chain Management vale créditos")
    chrome.say("Wie viel kostet das Programm für Supply Chain Management?")
    chrome.expect_reply("Leider antworte ich nur auf Englisch")
    assert "$" not in chrome.page.locator(".rw-response").last.inner_text()
    chrome.screenshot("widget-spanish.png")
    chrome.check_nothing_left_the_machine(site["rasa_url"])


def test_a_message_typed_while_the_server_restarts_is_answered_once_it_is_back(site, browser):
    """The Rasa server goes away (a deploy, a crash): the widget stays and says so, socket.io-client retries
    with back-off, and the question typed meanwhile is sent, once, when the server is back."""
    from playwright.sync_api import expect

    chat = browser({"width": 1280, "height": 860})
    page = chat.page
    chat.open_chat(site["origin"])
    chat.expect_reply(GREETING)
    assert chat.websockets_to(site["rasa_url"]), "the widget is not on a websocket"
    notice = page.locator(".rw-loading")
    expect(notice).to_have_count(0)

    site["assistant"].stop_rasa_server()
    expect(notice).to_contain_text("out of reach", timeout=15_000)
    chat.say("how much does the MITx Supply Chain Management MicroMasters cost?")
    expect(page.locator(".rw-client").filter(has_text="how much does the MITx")).to_be_visible()
    chat.screenshot("widget-offline.png")
    attempts_from = len(chat.requests)
    page.wait_for_timeout(8_000)  # retries fail meanwhile: 1 s, then 2, 4, 5 (socket.io-client's back-off)
    attempts = [url for url in chat.requests[attempts_from:] if "/socket.io/" in url and "sid=" not in url]
    assert 2 <= len(attempts) <= 8, attempts  # retried, and not in a tight loop
    assert page.locator(".rw-response").filter(has_text="$1,350 in total").count() == 0

    site["assistant"].start_rasa_server()
    chat.expect_reply("$1,350 in total")
    expect(notice).to_have_count(0)
    page.wait_for_timeout(2_000)
    assert page.locator(".rw-response").filter(has_text="$1,350 in total").count() == 1  # sent once
    chat.say("does it count for credit?")  # and the conversation goes on, about the same program
    chat.expect_reply("MITx Supply Chain Management")
