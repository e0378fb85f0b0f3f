"""The staff dashboard: signed links, the Slack slash command that gives them, the dashboard's routes (no
learner text without signing in, CSRF, CSV), the review of unanswered messages and its export as Rasa
training data, and one browser test from the Slack link to the exported file.

The analytics rows are seeded directly (analytics.feed.ingest) into a SQLite file of the test's own; the
dashboard runs as `python -m dashboard`, the slash command goes through the real Rasa server.
"""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import jwt
import pytest
import requests
from sqlalchemy import select

from analytics import feed, metrics, report, review, store
from analytics.metrics import Period
from bench.servers import Processes, free_port, http_ok, wait_until
from core import dashboard_links, notices, refusals
from core.db import engine_for, session_scope
from core.message_metadata import SUPPORT_METADATA_KEY
from tests.assistant import PROJECT_ROOT, running_assistant, train_model
from tests.slack_standin import SUPPORT, slack_settings

pytestmark = pytest.mark.e2e  # starts a server or needs the trained model: not in make test-fast

SIGNING_SECRET = "test-signing-secret"
DASHBOARD_SECRET = "test-dashboard-secret-0123456789abcdef"  # 32+ bytes, as HS256 wants
MARKER = "zqx-learner-marker-7f3c"  # in one learner message only: grep every signed-out response for it
STAFF = "USTAFF42"
COMMANDS_PER_MINUTE = 60  # per Slack user (MESSAGES_PER_MINUTE): above what these tests send as STAFF
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCM, FINANCE = "mitx-supply-chain-management", "mitx-finance"
SCM_ANSWER = "MITx Supply Chain Management: $1,350 in total ($150 per course, $600 for the capstone)."
COMMENT = 'too vague, I need this year\'s price <img src=x onerror="window.__xss = 1">'  # shown as text, never run


# ---------------------------------------------------------------- seeded conversations

def seed_events(today):
    """Four conversations on the two days before `today` (UTC): the numbers below follow from them."""
    day1 = datetime(today.year, today.month, today.day, 10, tzinfo=timezone.utc).timestamp() - 2 * 86400
    day2 = day1 + 86400
    events = []

    def add(sender, kind, at, **fields):
        events.append({"event_id": len(events) + 1, "sender_id": sender, "event": kind, "timestamp": at, **fields})

    def user(sender, at, text, intent, channel, confidence=0.9, entities=()):
        add(sender, "user", at, text=text, input_channel=channel,
            parse_data={"intent": {"name": intent, "confidence": confidence}, "entities": list(entities)})

    def bot(sender, at, text, program=None, topic=None):
        add(sender, "bot", at, text=text, **({"metadata": {"answer": {"program_id": program, "topic": topic}}}
                                             if topic else {}))

    def feedback(sender, at, channel, answer, rating=None, comment=None):
        entities = [{"entity": "answer", "value": answer[:40]}]
        entities += [{"entity": "rating", "value": rating}] if rating else []
        entities += [{"entity": "comment", "value": comment}] if comment else []
        user(sender, at, "/feedback", "feedback", channel, 1.0, entities)
        bot(sender, at + 0.1, "Thanks for telling us.")

    # a: a catalog answer, rated 👍 (rest)
    user("conv-a", day1, "how much does the MITx SCM cost?", "ask_cost", "rest")
    bot("conv-a", day1 + 0.5, SCM_ANSWER, SCM, "cost")
    feedback("conv-a", day1 + 10, "rest", SCM_ANSWER, rating="up")
    # b: out of scope, no answer, handed to the support team (web chat)
    user("conv-b", day1 + 100, f"what is the weather like on mars {MARKER}", "out_of_scope", "socketio")
    bot("conv-b", day1 + 101, "I don't have a sourced answer to that.")
    add("conv-b", "action", day1 + 101.1, name="action_offer_support")
    # c: not understood, then a catalog answer rated 👎 with a comment (rest)
    user("conv-c", day2, "blorp snark wibble", "nlu_fallback", "rest", confidence=0.2)
    bot("conv-c", day2 + 0.3, "Sorry, I didn't get that. Could you say it another way?")
    user("conv-c", day2 + 5, "how much is the supply chain\n  micromasters  [really](price)?", "ask_cost", "rest")
    bot("conv-c", day2 + 5.7, SCM_ANSWER, SCM, "cost")
    feedback("conv-c", day2 + 20, "rest", SCM_ANSWER, rating="down")
    feedback("conv-c", day2 + 30, "rest", SCM_ANSWER, comment=COMMENT)
    # d: a catalog answer about another program (web chat)
    user("conv-d", day2 + 200, "does the finance micromasters give credit", "ask_credit", "socketio")
    bot("conv-d", day2 + 200.4, "Yes: MITx Finance counts toward a Master's at several schools.", FINANCE, "credit")
    # b again: the learner asks for a person once more; the desk is at HANDOFFS_PER_HOUR
    add("conv-b", "bot", day1 + 102, text="The team is busy right now.", metadata={SUPPORT_METADATA_KEY: "busy"})
    return events, day1, day2


def seed_refusals(catalog_url: str, today) -> None:
    """Messages the Rasa servers refused by a rate limit, as they count them (in the catalog's database)."""
    engine = engine_for(catalog_url)
    refusals.add({((today - timedelta(days=2)).isoformat(), "rest"): 4,
                  ((today - timedelta(days=1)).isoformat(), "socketio"): 3}, engine)


OUT_OF_SCOPE_ID, FALLBACK_ID, RATED_DOWN_ID = 5, 8, 10  # the seeded unanswered messages' event ids
EXPECTED_TOTALS = {
    "conversations": 4, "messages": 5, "channels": {"rest": 3, "socketio": 2}, "handed_off": 1, "containment": 0.75,
    "handoff_rate": 0.25, "fallbacks": 1, "fallback_rate": 0.2, "out_of_scope": 1, "out_of_scope_rate": 0.2,
    "thumbs_up": 1, "thumbs_down": 1, "thumbs_up_rate": 0.5, "answers": 3, "median_reply_ms": 500.0,
    "rate_limited": 7, "desk_busy": 1,
}


def utc_today():
    return datetime.now(timezone.utc).date()


def seeded_engine(path: Path):
    engine = store.analytics_engine(f"sqlite:///{path}")
    events, _, _ = seed_events(utc_today())
    assert feed.ingest(engine, events) == len(events)
    return engine


# ---------------------------------------------------------------- signed links (no servers)

@pytest.fixture
def link_settings(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SECRET", DASHBOARD_SECRET)
    monkeypatch.setenv("DASHBOARD_URL", "https://dash.example.org/")
    monkeypatch.delenv("DASHBOARD_LINK_MINUTES", raising=False)


def token_of(link):
    url = urlsplit(link)
    assert url.query.startswith("token=")
    return url.query[len("token="):]


def test_signed_link_names_the_user_for_ten_minutes(link_settings):
    link = dashboard_links.signed_link("U123")
    assert link.startswith("https://dash.example.org/signin?token=")
    claims = dashboard_links.verify(token_of(link), "link")
    assert claims["sub"] == "U123" and claims["purpose"] == "link"
    assert claims["exp"] - claims["iat"] == 600 and abs(claims["iat"] - time.time()) < 5
    assert jwt.get_unverified_header(token_of(link))["alg"] == "HS256"
    assert token_of(dashboard_links.signed_link("U123")) != token_of(link)  # a random jti each time
    assert claims["jti"] != dashboard_links.verify(token_of(dashboard_links.signed_link("U123")), "link")["jti"]


def test_expired_link_is_refused(link_settings, monkeypatch):
    expired = dashboard_links.issue("U123", "link", -1)
    with pytest.raises(dashboard_links.InvalidToken, match="expired"):
        dashboard_links.verify(expired, "link")
    monkeypatch.setenv("DASHBOARD_LINK_MINUTES", "0.05")  # 3 s
    short = token_of(dashboard_links.signed_link("U123"))
    assert dashboard_links.verify(short, "link")["sub"] == "U123"
    time.sleep(4.1)
    with pytest.raises(dashboard_links.InvalidToken, match="expired"):
        dashboard_links.verify(short, "link")


def test_token_for_another_purpose_is_refused(link_settings):
    link = token_of(dashboard_links.signed_link("U123"))
    session = dashboard_links.issue("U123", "session", 3600, csrf="x" * 40)
    with pytest.raises(dashboard_links.InvalidToken, match="session token"):
        dashboard_links.verify(link, "session")
    with pytest.raises(dashboard_links.InvalidToken, match="link token"):
        dashboard_links.verify(session, "link")
    assert dashboard_links.verify(session, "session")["csrf"] == "x" * 40


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_and_forged_tokens_are_refused(link_settings):
    token = token_of(dashboard_links.signed_link("U123"))
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    other_user = ".".join([header, _b64({**claims, "sub": "UATTACKER"}), signature])
    unsigned = ".".join([_b64({"alg": "none", "typ": "JWT"}), _b64(claims), ""])
    other_secret = jwt.encode(claims, "another-secret-0123456789abcdef0123", algorithm="HS256")
    no_jti = jwt.encode({k: v for k, v in claims.items() if k != "jti"}, DASHBOARD_SECRET, algorithm="HS256")
    for bad in (other_user, unsigned, other_secret, no_jti, token[:-3] + "AAA", "not-a-token", ""):
        with pytest.raises(dashboard_links.InvalidToken):
            dashboard_links.verify(bad, "link")
    assert dashboard_links.verify(token, "link")["sub"] == "U123"  # the genuine one passes


def test_missing_secret_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("DASHBOARD_SECRET", raising=False)
    with pytest.raises(dashboard_links.NotConfigured, match="DASHBOARD_SECRET"):
        dashboard_links.signed_link("U123")
    with pytest.raises(dashboard_links.NotConfigured, match="DASHBOARD_SECRET"):
        dashboard_links.verify("a.b.c", "link")
    environment = {k: v for k, v in os.environ.items() if k != "DASHBOARD_SECRET"}
    started = subprocess.run([sys.executable, "-m", "dashboard"], env=environment, cwd=PROJECT_ROOT,
                             capture_output=True, text=True, timeout=120)
    assert started.returncode == 2 and "DASHBOARD_SECRET is not set" in started.stderr


# ---------------------------------------------------------------- review and export (no servers)

def read_nlu(path: Path):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    data = RasaYAMLReader().read(str(path))
    return {(m.get("intent"), m.get("text")) for m in data.training_examples}


def test_review_and_export_round_trip(tmp_path):
    engine = seeded_engine(tmp_path / "analytics.db")
    unanswered = {m.event_id for m in metrics.unanswered_messages(metrics.period_events(
        engine, Period.last_days(28, utc_today())))}
    assert unanswered == {OUT_OF_SCOPE_ID, FALLBACK_ID, RATED_DOWN_ID}

    with pytest.raises(review.NotFound):
        review.label(engine, 999, "ignore", None, STAFF)
    for event_id, label, intent in [(1, "intent", "ask_cost"),  # answered: not an unanswered message
                                    (2, "ignore", None),  # an assistant message
                                    (RATED_DOWN_ID, "intent", "feedback"), (RATED_DOWN_ID, "intent", "nlu_fallback"),
                                    (RATED_DOWN_ID, "intent", "no_such_intent"), (RATED_DOWN_ID, "intent", None),
                                    (RATED_DOWN_ID, "ignore", "ask_cost"), (RATED_DOWN_ID, "wrong", None)]:
        with pytest.raises(ValueError):
            review.label(engine, event_id, label, intent, STAFF)

    review.label(engine, RATED_DOWN_ID, "ignore", None, STAFF)
    review.label(engine, RATED_DOWN_ID, "intent", "ask_cost", STAFF)  # relabelling replaces
    review.label(engine, OUT_OF_SCOPE_ID, "new_faq", None, "UOTHER")
    review.label(engine, FALLBACK_ID, "ignore", None, STAFF)
    with session_scope(engine) as session:
        rows = {r.event_id: (r.label, r.intent, r.reviewer) for r in session.scalars(select(store.Review))}
    assert rows == {RATED_DOWN_ID: ("intent", "ask_cost", STAFF), OUT_OF_SCOPE_ID: ("new_faq", None, "UOTHER"),
                    FALLBACK_ID: ("ignore", None, STAFF)}
    left = metrics.unanswered_messages(metrics.period_events(engine, Period.last_days(28, utc_today())),
                                       metrics.reviewed_ids(engine))
    assert left == []  # reviewed messages leave the queue

    out = tmp_path / "review"
    path = review.export(engine, out)
    assert path.parent == out and path.name.startswith("nlu-review-") and path.suffix == ".yml"
    text = path.read_text(encoding="utf-8")
    assert 'version: "3.1"' in text
    # one line per message, whitespace collapsed, the learner's brackets kept as text (not an entity)
    assert read_nlu(path) == {("ask_cost", "how much is the supply chain micromasters [really] (price)?")}
    assert f"#   - what is the weather like on mars {MARKER}" in text  # a new FAQ: a comment, not training data
    assert "blorp" not in text  # ignored
    assert review.export(engine, out) is None  # exported once
    review.label(engine, RATED_DOWN_ID, "intent", "ask_general", STAFF)  # relabelled after the export: again
    again = review.export(engine, out)
    assert again != path and read_nlu(again) == {("ask_general", "how much is the supply chain micromasters "
                                                                 "[really] (price)?")}
    with pytest.raises(ValueError, match="never into"):
        review.export(engine, PROJECT_ROOT / "data" / "review")
    assert not (PROJECT_ROOT / "data" / "review").exists()


def test_intents_offered_for_review_are_the_domains():
    import yaml

    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    names = [next(iter(i)) if isinstance(i, dict) else i for i in domain["intents"]]
    assert list(review.reviewable_intents()) == [n for n in names if n not in ("feedback", "nlu_fallback")]
    assert "ask_cost" in review.reviewable_intents() and "feedback" not in review.reviewable_intents()


# ---------------------------------------------------------------- the servers

def signed_form(secret, fields, timestamp=None):
    """(headers, body) of a slash command as Slack sends it: form-encoded, v0-signed."""
    body = urlencode(fields).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={digest}"}, body


def command_fields(text="dashboard", channel=SUPPORT, user=STAFF):
    return {"token": "unused", "team_id": "T1", "team_domain": "edx", "channel_id": channel,
            "channel_name": "support", "user_id": user, "user_name": "sam", "command": "/assistant", "text": text,
            "api_app_id": "A1", "response_url": "https://hooks.slack.invalid/commands/1",
            "trigger_id": f"1.2.{uuid.uuid4().hex}"}  # Slack's is new for each command


class Stack:
    def __init__(self, rasa_url, url, env, analytics_url, workdir):
        self.rasa_url, self.url, self.env, self.analytics_url, self.workdir = rasa_url, url, env, analytics_url, workdir

    def command(self, fields, secret=SIGNING_SECRET, timestamp=None):
        headers, body = signed_form(secret, fields, timestamp)
        return requests.post(f"{self.rasa_url}/webhooks/slack/commands", data=body, headers=headers, timeout=30)

    def link(self, user=STAFF):
        answer = self.command(command_fields(user=user))
        assert answer.status_code == 200, answer.text
        return answer.json()["text"].split(" ")[0]

    def signed_in(self, user=STAFF):
        """A requests session signed in through a link from the slash command, and the page's CSRF token."""
        browser = requests.Session()
        response = browser.get(self.link(user), timeout=30)
        assert response.status_code == 200 and response.url == f"{self.url}/"
        csrf = response.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        return browser, csrf


@pytest.fixture(scope="module")
def stack(tmp_path_factory, slack):
    """The Rasa server (Slack configured against the stand-in) and `python -m dashboard` on seeded analytics."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    if not (PROJECT_ROOT / "web" / "node_modules" / "chart.js" / "dist" / "chart.umd.js").is_file():
        pytest.fail("chart.js is not installed: npm ci --prefix web")
    train_model()
    workdir = tmp_path_factory.mktemp("dashboard")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    analytics_url = f"sqlite:///{workdir / 'analytics.db'}"
    seeded_engine(workdir / "analytics.db").dispose()
    seed_refusals(f"sqlite:///{workdir / 'catalog.db'}", utc_today())
    extra = {**slack_settings(slack, SIGNING_SECRET, "http://127.0.0.1:8080"), "DASHBOARD_SECRET": DASHBOARD_SECRET,
             "DASHBOARD_URL": url, "DASHBOARD_PORT": str(port), "ANALYTICS_DATABASE_URL": analytics_url,
             "MESSAGES_PER_MINUTE": str(COMMANDS_PER_MINUTE)}
    with running_assistant(workdir, f"sqlite:///{workdir / 'catalog.db'}", f"sqlite:///{workdir / 'conversations.db'}",
                           extra_env=extra) as assistant:
        processes, log = Processes(), workdir / "dashboard.log"
        try:
            server = processes.start([sys.executable, "-m", "dashboard"], env=assistant.env, log=log, cwd=PROJECT_ROOT)
            wait_until(lambda: http_ok(f"{url}/health"), server, what="dashboard", log=log, timeout=60)
            yield Stack(assistant.rasa_url, url, assistant.env, analytics_url, workdir)
        finally:
            processes.stop_all()
    assert "token=" not in log.read_text(encoding="utf-8")  # sign-in tokens never reach the log


def test_a_slash_command_sent_again_gets_no_second_link(stack):
    """Slack's signature stays valid for five minutes: a captured command replayed got a fresh link."""
    headers, body = signed_form(SIGNING_SECRET, command_fields())
    url = f"{stack.rasa_url}/webhooks/slack/commands"
    first = requests.post(url, data=body, headers=headers, timeout=30).json()["text"]
    again = requests.post(url, data=body, headers=headers, timeout=30).json()["text"]
    assert first.startswith(f"{stack.url}/signin?token=")
    assert again == "This command was already answered."


def test_slash_command_in_the_support_channel_gives_a_signed_link(stack, monkeypatch):
    answer = stack.command(command_fields())
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"response_type", "text"} and body["response_type"] == "ephemeral"
    link, rest = body["text"].split(" ", 1)
    assert link.startswith(f"{stack.url}/signin?token=") and rest == "(valid 10 minutes)"
    monkeypatch.setenv("DASHBOARD_SECRET", DASHBOARD_SECRET)
    assert dashboard_links.verify(token_of(link), "link")["sub"] == STAFF

    opened = requests.get(link, allow_redirects=False, timeout=30)
    assert opened.status_code == 303 and opened.headers["Location"] == "/"
    cookie = opened.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie and "Secure" not in cookie
    session = dashboard_links.verify(opened.cookies["mm_dashboard_session"], "session")
    assert session["sub"] == STAFF and 8 * 3600 - 5 <= session["exp"] - session["iat"] <= 8 * 3600
    page = requests.get(f"{stack.url}/", cookies=opened.cookies, timeout=30)
    assert page.status_code == 200 and f'content="{session["csrf"]}"' in page.text and STAFF in page.text
    assert MARKER not in page.text  # the page itself carries no learner text; the script fetches it


def test_slash_command_elsewhere_unknown_or_forged(stack):
    elsewhere = stack.command(command_fields(channel="CRANDOM"))
    assert elsewhere.status_code == 200 and elsewhere.json()["response_type"] == "ephemeral"
    assert f"<#{SUPPORT}>" in elsewhere.json()["text"] and "signin" not in elsewhere.text
    direct = stack.command(command_fields(channel="D0123"))
    assert "signin" not in direct.text and f"<#{SUPPORT}>" in direct.json()["text"]
    for text in ("", "help", "dashboards please"):
        helped = stack.command(command_fields(text=text))
        assert helped.status_code == 200 and helped.json()["response_type"] == "ephemeral"
        assert "/assistant dashboard" in helped.json()["text"] and "signin" not in helped.text
    assert "signin" in stack.command(command_fields(text="  Dashboard ")).text  # positive control
    forged = stack.command(command_fields(), secret="not-the-secret")
    stale = stack.command(command_fields(), timestamp=int(time.time()) - 6 * 60)
    headers, body = signed_form(SIGNING_SECRET, command_fields(channel="CRANDOM"))
    tampered = requests.post(f"{stack.rasa_url}/webhooks/slack/commands", headers=headers, timeout=30,
                             data=body.replace(b"CRANDOM", SUPPORT.encode()))
    unsigned = requests.post(f"{stack.rasa_url}/webhooks/slack/commands", data=urlencode(command_fields()),
                             headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    for refused in (forged, stale, tampered, unsigned):
        assert refused.status_code == 401 and "signin" not in refused.text


def signed_out_requests(stack):
    """Every route, as someone who has not signed in (or holds a bad token) calls it."""
    today = utc_today().isoformat()
    expired = jwt.encode({"sub": STAFF, "purpose": "link", "iat": 1, "exp": 2, "jti": "x"}, DASHBOARD_SECRET)
    now = int(time.time())
    session_as_link = jwt.encode({"sub": STAFF, "purpose": "session", "iat": now, "exp": now + 600, "jti": "y",
                                  "csrf": "c" * 40}, DASHBOARD_SECRET)
    forged_session = jwt.encode({"sub": STAFF, "purpose": "session", "iat": now, "exp": now + 600, "jti": "z",
                                 "csrf": "c" * 40}, "not-the-dashboard-secret-0123456789")
    calls = [("GET", "/", {}), ("GET", "/?start=2000-01-01", {}), ("GET", "/api/report", {}),
             ("GET", f"/api/report?start=2000-01-01&end={today}", {}), ("GET", "/api/report?start=bad", {}),
             ("GET", "/signin", {}), ("GET", "/signin?token=bad", {}), ("GET", f"/signin?token={expired}", {}),
             ("GET", f"/signin?token={session_as_link}", {}),
             ("GET", "/", {"cookies": {"mm_dashboard_session": forged_session}}),
             ("GET", "/api/report", {"cookies": {"mm_dashboard_session": forged_session}}),
             ("GET", "/api/report", {"cookies": {"mm_dashboard_session": "f" + session_as_link[1:]}}),  # tampered
             ("POST", "/api/reviews", {"json": {"event_id": OUT_OF_SCOPE_ID, "label": "ignore"}}),
             ("POST", "/signout", {"json": {}}), ("GET", "/export/nope.csv", {})]
    calls += [("GET", f"/export/{name}.csv", {}) for name in report.TABLE_NAMES]
    calls += [("GET", f"/export/{name}.csv?start=2000-01-01&end={today}", {}) for name in report.TABLE_NAMES]
    return calls


def test_nothing_shows_learner_text_without_signing_in(stack):
    for method, path, options in signed_out_requests(stack):
        response = requests.request(method, f"{stack.url}{path}", allow_redirects=False, timeout=30, **options)
        assert response.status_code == 401, (method, path, response.status_code)
        assert MARKER not in response.text and "weather like on mars" not in response.text, path
        assert "Set-Cookie" not in response.headers, path
    for path in ("/health", "/static/dashboard.js", "/static/dashboard.css", "/static/chart.umd.js"):
        response = requests.get(f"{stack.url}{path}", timeout=30)
        assert response.status_code == 200 and MARKER not in response.text, path
    # Positive control: signed in, the same routes do show it.
    browser, _ = stack.signed_in()
    assert MARKER in browser.get(f"{stack.url}/api/report", timeout=30).text
    assert MARKER in browser.get(f"{stack.url}/export/unanswered.csv", timeout=30).text


def test_security_headers_and_no_cors(stack):
    browser, _ = stack.signed_in()
    expected_csp = {"default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
                    "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"}
    origin = {"Origin": "https://evil.example"}
    for path in ("/", "/api/report", "/export/daily.csv", "/static/dashboard.js", "/nope"):
        for client in (browser, requests):
            response = client.get(f"{stack.url}{path}", headers=origin, timeout=30)
            assert {p.strip() for p in response.headers["Content-Security-Policy"].split(";")} == expected_csp
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert not [h for h in response.headers if h.lower().startswith("access-control-")], path
            if not path.startswith("/static/"):
                assert response.headers["Cache-Control"] == "no-store", path
    preflight = requests.options(f"{stack.url}/api/reviews", timeout=30, headers={
        **origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-csrf-token"})
    assert not [h for h in preflight.headers if h.lower().startswith("access-control-")]


def test_report_api_numbers_and_bad_dates(stack):
    browser, _ = stack.signed_in()
    data = browser.get(f"{stack.url}/api/report", timeout=30).json()
    today = utc_today()
    assert data["period"] == {"start": (today - timedelta(days=27)).isoformat(), "end": today.isoformat()}
    assert data["totals"] == EXPECTED_TOTALS
    busy = {d["day"]: (d["conversations"], d["messages"], d["containment"]) for d in data["daily"] if d["messages"]}
    assert busy == {(today - timedelta(days=2)).isoformat(): (2, 2, 0.5),
                    (today - timedelta(days=1)).isoformat(): (2, 3, 1.0)}
    assert [(p["program_id"], p["answers"]) for p in data["top_programs"]] == [(SCM, 2), (FINANCE, 1)]
    assert data["top_topics"] == [{"topic": "cost", "answers": 2}, {"topic": "credit", "answers": 1}]
    one_day = browser.get(f"{stack.url}/api/report", timeout=30,
                          params={"start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat()}).json()
    assert one_day["totals"]["conversations"] == 2 and one_day["totals"]["messages"] == 3
    for params, message in [({"start": "yesterday"}, "start must be a date written YYYY-MM-DD"),
                            ({"end": "2026-02-30"}, "end is not a real date"),
                            ({"start": "2026-03-02", "end": "2026-03-01"}, "ends (2026-03-01) before it starts"),
                            ({"start": "2020-01-01", "end": "2026-01-01"}, "at most a year")]:
        response = browser.get(f"{stack.url}/api/report", params=params, timeout=30)
        assert response.status_code == 400 and message in response.json()["error"], params


def test_csv_exports(stack):
    browser, _ = stack.signed_in()
    today = utc_today()
    params = {"start": (today - timedelta(days=2)).isoformat(), "end": (today - timedelta(days=1)).isoformat()}
    daily = browser.get(f"{stack.url}/export/daily.csv", params=params, timeout=30)
    assert daily.status_code == 200 and daily.headers["Content-Type"].startswith("text/csv")
    assert daily.headers["Content-Disposition"] == \
        f'attachment; filename="daily-{params["start"]}-{params["end"]}.csv"'
    lines = daily.text.splitlines()
    assert lines[0].startswith("day,conversations,messages,handed_off,containment")
    assert lines[1].startswith(f"{params['start']},2,2,1,0.5000")
    assert lines[2].startswith(f"{params['end']},2,3,0,1.0000")
    totals = browser.get(f"{stack.url}/export/totals.csv", params=params, timeout=30).text.splitlines()
    assert totals[1] == \
        f"{params['start']},{params['end']},4,5,1,0.7500,0.2500,1,0.2000,1,0.2000,1,1,0.5000,3,500.0,7,1"
    assert browser.get(f"{stack.url}/export/channels.csv", params=params, timeout=30).text.splitlines() == \
        ["channel,messages", "rest,3", "socketio,2"]
    unanswered = browser.get(f"{stack.url}/export/unanswered.csv", params=params, timeout=30).text
    assert MARKER in unanswered and '"too vague, I need this year\'s price <img src=x onerror=""window.__xss = 1"">"' \
        in unanswered  # CSV-quoted
    for name in report.TABLE_NAMES:
        assert browser.get(f"{stack.url}/export/{name}.csv", params=params, timeout=30).status_code == 200, name
    assert browser.get(f"{stack.url}/export/secrets.csv", timeout=30).status_code == 404
    assert browser.get(f"{stack.url}/export/daily.csv", params={"start": "x"}, timeout=30).status_code == 400


def test_reviews_need_the_csrf_token_and_json(stack):
    browser, csrf = stack.signed_in()
    url = f"{stack.url}/api/reviews"
    body = {"event_id": FALLBACK_ID, "label": "ignore"}
    json_headers = {"Content-Type": "application/json"}
    refused = [
        browser.post(url, json=body, timeout=30),  # no token
        browser.post(url, json=body, headers={"X-CSRF-Token": "wrong" * 10}, timeout=30),
        browser.post(url, json=body, headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"}, timeout=30),
        browser.post(url, data=json.dumps(body), headers={"X-CSRF-Token": csrf, "Content-Type": "text/plain"},
                     timeout=30),
        browser.post(url, data=urlencode(body), timeout=30, headers={
            "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded"}),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 415, 415]
    other_browser, other_csrf = stack.signed_in("UOTHER")
    assert browser.post(url, json=body, headers={"X-CSRF-Token": other_csrf}, timeout=30).status_code == 403
    assert requests.post(url, json=body, headers={"X-CSRF-Token": csrf}, timeout=30).status_code == 401  # no cookie
    headers = {"X-CSRF-Token": csrf, **json_headers}
    for bad, status in [({"event_id": 99999, "label": "ignore"}, 404), ({"event_id": 2, "label": "ignore"}, 400),
                        ({"event_id": 1, "label": "ignore"}, 400), ({"event_id": "8", "label": "ignore"}, 400),
                        ({"event_id": True, "label": "ignore"}, 400),
                        ({"event_id": FALLBACK_ID, "label": "intent"}, 400),
                        ({"event_id": FALLBACK_ID, "label": "intent", "intent": "feedback"}, 400),
                        ({"event_id": FALLBACK_ID, "label": "ignore", "intent": "ask_cost"}, 400),
                        ({"event_id": FALLBACK_ID, "label": "delete"}, 400)]:
        assert browser.post(url, json=bad, headers=headers, timeout=30).status_code == status, bad
    assert browser.post(url, data="[1]", headers=headers, timeout=30).status_code == 400

    def report_ids():
        groups = browser.get(f"{stack.url}/api/report", timeout=30).json()["unanswered"]
        return {m["event_id"] for group in groups for m in group["messages"]}
    assert FALLBACK_ID in report_ids()  # nothing above was stored
    accepted = browser.post(url, json=body, headers=headers, timeout=30)
    assert accepted.status_code == 200 and accepted.json()["ok"] is True
    assert FALLBACK_ID not in report_ids() and OUT_OF_SCOPE_ID in report_ids()
    with session_scope(store.analytics_engine(stack.analytics_url)) as session:
        assert session.get(store.Review, FALLBACK_ID).reviewer == STAFF


# ---------------------------------------------------------------- the browser

def check_charts_and_tiles(page):
    """What Chart.js drew (each canvas's data-values) and the tiles are the seeded numbers."""
    from playwright.sync_api import expect

    charts = {name: json.loads(page.get_attribute(f'canvas[data-chart="{name}"]', "data-values"))
              for name in ("daily", "containment", "channels", "top_programs", "top_topics")}
    today = utc_today()
    days = [(today - timedelta(days=n)).isoformat() for n in range(27, -1, -1)]
    day1, day2 = days[-3], days[-2]  # the seeded days
    daily = charts["daily"]
    assert daily["labels"] == days
    assert {d: (daily["conversations"][i], daily["messages"][i]) for i, d in enumerate(days)
            if daily["messages"][i]} == {day1: (2, 2), day2: (2, 3)}
    assert {d: v for d, v in zip(days, charts["containment"]["containment"], strict=True) if v is not None} == \
        {day1: 0.5, day2: 1.0}
    assert charts["channels"] == {"labels": ["rest", "socketio"], "values": [3, 2]}
    programs = page.evaluate("fetch('/api/report').then(r => r.json())")["top_programs"]
    assert charts["top_programs"] == {"labels": [p["program"] for p in programs], "values": [2, 1],
                                      "ids": [SCM, FINANCE]}
    assert charts["top_topics"] == {"labels": ["cost", "credit"], "values": [2, 1]}
    for name in charts:  # Chart.js drew on each canvas: it keeps an instance for it and sized it
        canvas = f"document.querySelector('canvas[data-chart=\"{name}\"]')"
        assert page.evaluate(f"!!window.Chart.getChart({canvas}) && {canvas}.height > 100"), name
    tiles = {t.get_attribute("data-tile"): json.loads(t.get_attribute("data-value"))
             for t in page.locator("[data-tile]").all()}
    assert tiles == {k: EXPECTED_TOTALS[k] for k in ("conversations", "messages", "containment", "handoff_rate",
                                                     "fallback_rate", "out_of_scope_rate", "thumbs_up_rate",
                                                     "median_reply_ms", "rate_limited")}
    expect(page.locator('[data-tile="rate_limited"] .tile-detail')).to_contain_text("hourly cap: 1")
    expect(page.locator('[data-tile="containment"] .tile-value')).to_have_text("75.0 %")
    expect(page.locator('[data-tile="thumbs_up_rate"] .tile-detail')).to_have_text("👍 1 up · 👎 1 down")
    expect(page.locator('[data-tile="median_reply_ms"] .tile-value')).to_have_text("500 ms")
    source = page.locator("#stale-facts a").first
    assert source.get_attribute("rel") == "noopener noreferrer"
    assert source.get_attribute("href").startswith(("https://", "http://"))
    csv_link = page.locator('a[data-csv="unanswered"]').get_attribute("href")
    assert csv_link == f"/export/unanswered.csv?start={days[0]}&end={days[-1]}"


def label_with_the_keyboard(page, event_id, intent):
    from playwright.sync_api import expect

    message = page.locator(f'li.message[data-event-id="{event_id}"]')
    expect(message).to_contain_text("how much is the supply chain")
    expect(message.locator(".comment")).to_have_text(f"Comment: {COMMENT}")  # as text: no element made of it
    assert page.locator("#unanswered img").count() == 0 and page.evaluate("window.__xss === undefined")
    message.locator("select").focus()
    message.locator("select").select_option(f"intent:{intent}")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the Save button
    expect(message).to_have_count(0)
    expect(page.locator("#status")).to_contain_text(f"Saved: intent {intent}")
    page.reload()
    page.wait_for_selector("body[data-loaded]")
    expect(page.locator("#unanswered")).to_contain_text(MARKER)
    expect(page.locator(f'li.message[data-event-id="{event_id}"]')).to_have_count(0)


def check_signed_out_browser(browser, url):
    """A browser that never signed in sees the sign-in page and no learner text, and the API refuses it."""
    stranger = browser.new_context()
    page = stranger.new_page()
    response = page.goto(f"{url}/")
    assert response.status == 401 and "Sign in" in page.content() and MARKER not in page.content()
    assert page.evaluate("fetch('/api/report').then(r => r.status)") == 401
    assert MARKER not in page.evaluate("fetch('/api/report').then(r => r.text())")
    assert MARKER not in page.evaluate("fetch('/export/unanswered.csv').then(r => r.text())")
    stranger.close()


def test_browser_signs_in_from_slack_sees_the_charts_labels_and_exports(stack, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    link = stack.link()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(30_000)
            page = context.new_page()
            problems, hosts = [], set()
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(str(error)))
            context.on("request", lambda request: request.url.startswith("http") and hosts.add(
                urlsplit(request.url).netloc))
            page.goto(link)
            assert page.url == f"{stack.url}/"  # the token has left the address bar
            page.wait_for_selector("body[data-loaded]")
            expect(page.locator("#unanswered")).to_contain_text(MARKER)
            check_charts_and_tiles(page)
            page.screenshot(path=str(artifact("dashboard.png")), full_page=True)

            label_with_the_keyboard(page, RATED_DOWN_ID, "ask_cost")

            page.set_viewport_size({"width": 375, "height": 740})  # a phone: nothing wider (once the charts resize)
            deadline = time.monotonic() + 5
            while page.evaluate("document.documentElement.scrollWidth") > 375 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            box = page.locator(f'li.message[data-event-id="{OUT_OF_SCOPE_ID}"] button.save').bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 375
            page.screenshot(path=str(artifact("dashboard-phone.png")), full_page=True)
            assert problems == [] and hosts == {urlsplit(stack.url).netloc}
            check_signed_out_browser(browser, stack.url)
        finally:
            browser.close()

    out = tmp_path / "review"
    exported = subprocess.run([sys.executable, "-m", "analytics.review", "export", "--out", str(out)],
                              env=stack.env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    files = list(out.glob("nlu-review-*.yml"))
    assert len(files) == 1 and str(files[0]) in exported.stdout
    assert ("ask_cost", "how much is the supply chain micromasters [really] (price)?") in read_nlu(files[0])
    assert "- intent: ask_cost" in files[0].read_text(encoding="utf-8")


def artifact(name):
    folder = PROJECT_ROOT / "artifacts"
    folder.mkdir(exist_ok=True)
    return folder / name


def test_a_sign_in_link_works_once_and_signing_out_ends_the_session(stack):
    link = stack.link()
    first = requests.Session()
    opened = first.get(link, timeout=30)
    assert opened.status_code == 200 and opened.url == f"{stack.url}/"  # positive control
    again = requests.get(link, timeout=30)
    assert again.status_code == 401 and "already used" in again.text and MARKER not in again.text
    cookie = first.cookies.get("mm_dashboard_session")
    csrf = opened.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    copy = requests.Session()
    copy.cookies.set("mm_dashboard_session", cookie)
    assert copy.get(f"{stack.url}/api/report", timeout=30).status_code == 200  # the copied cookie works...
    assert first.post(f"{stack.url}/signout", json={}, headers={"X-CSRF-Token": csrf}, timeout=30).status_code == 200
    for browser in (first, copy):  # ...until its owner signs out
        assert browser.get(f"{stack.url}/api/report", timeout=30).status_code == 401
        assert browser.get(f"{stack.url}/", timeout=30).status_code == 401


def test_messages_and_commands_refused_by_a_rate_limit_are_counted_on_the_dashboard(stack):
    """A refused message never reaches the conversation store or the feed: the Rasa server counts it in
    the database the dashboard reads, a few seconds later. (After the tests that expect the seeded counts.)"""
    browser, _ = stack.signed_in()

    def rate_limited():
        return browser.get(f"{stack.url}/api/report", timeout=30).json()["totals"]["rate_limited"]

    before = rate_limited()
    url, sender = f"{stack.rasa_url}/webhooks/rest/webhook", f"flood-{uuid.uuid4().hex[:8]}"
    flood = 2 * COMMANDS_PER_MINUTE
    with ThreadPoolExecutor(max_workers=flood) as pool:  # all at once: the allowed ones then queue for the turn
        codes = list(pool.map(lambda _: requests.post(url, json={"sender": sender, "message": "hi"},
                                                      timeout=120).status_code, range(flood)))
    assert set(codes) == {200, 429} and codes.count(429) >= 5
    replies = [stack.command(command_fields(user="UCOMMANDFLOOD")).json()["text"]
               for _ in range(COMMANDS_PER_MINUTE + 10)]
    refused_commands = replies.count(notices.too_many_commands())
    assert replies[0].startswith(f"{stack.url}/signin?token=") and refused_commands >= 5
    assert all(reply.startswith(f"{stack.url}/signin?token=") or reply == notices.too_many_commands()
               for reply in replies)
    assert stack.command(command_fields()).json()["text"].startswith(f"{stack.url}/signin?token=")  # others go on
    expected = before + codes.count(429) + refused_commands
    deadline = time.monotonic() + 30
    while rate_limited() != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    assert rate_limited() == expected
