"""The weekly digest (analytics.digest): its numbers from a known set of events, learner text escaped,
the chart, when a week is due, and that a week reaches Slack (the local stand-in) exactly once."""

import asyncio
import io
import threading
import time
from datetime import date, datetime, timedelta, timezone

import pytest
from matplotlib import image as mpimg

from analytics import digest, store
from analytics.feed import ingest
from analytics.metrics import Numbers, Period, UnansweredGroup
from analytics.report import Report
from core.db import engine_for
from core.support_desk import SlackUnavailable
from tests.conftest import SLACK_TOKEN

WEEK = "2025-03-10"  # a Monday: with the default schedule its digest is due at 09:00 UTC
DUE = datetime(2025, 3, 10, 9, 5, tzinfo=timezone.utc)
PERIOD = Period(date(2025, 3, 3), date(2025, 3, 9))
EVIL = "<!channel> <https://evil|x> *bold*"
EVIL_ESCAPED = "&lt;!channel&gt; &lt;https://evil|x&gt; *bold*"
DASHBOARD = "https://support-dashboard.example.edu"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SCM, AI = "mitx-supply-chain-management", "columbiax-artificial-intelligence"


def _at(day: int, seconds: float, hour: int = 10) -> float:
    return datetime(2025, 3, day, hour, tzinfo=timezone.utc).timestamp() + seconds


def user(event_id, sender, timestamp, text, intent, entities=()):
    return {"event_id": event_id, "sender_id": sender, "event": "user", "timestamp": timestamp, "text": text,
            "input_channel": "rest",
            "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": list(entities)}}


def bot(event_id, sender, timestamp, text, program=None, topic=None):
    event = {"event_id": event_id, "sender_id": sender, "event": "bot", "timestamp": timestamp, "text": text}
    if topic:
        event["metadata"] = {"answer": {"program_id": program, "topic": topic}}
    return event


def action(event_id, sender, timestamp, name):
    return {"event_id": event_id, "sender_id": sender, "event": "action", "timestamp": timestamp, "name": name}


def feedback(event_id, sender, timestamp, rating):
    return user(event_id, sender, timestamp, f'/feedback{{"rating": "{rating}"}}', "feedback",
                [{"entity": "rating", "value": rating}])


NO_ANSWER = "I have no sourced answer to that. Would you like the learner-support team?"
EVENTS = [
    # a (Mon): the widget's opening, two catalog answers, 👍. 400 ms and 700 ms replies. Contained.
    user(1, "a", _at(3, 0), "/greet", "greet"),
    bot(2, "a", _at(3, 0.1), "Hi! Ask me about a MicroMasters program."),
    user(3, "a", _at(3, 10), "how much does the MITx SCM micromasters cost?", "ask_cost"),
    bot(4, "a", _at(3, 10.4), "Supply Chain Management: $1,350 in total.", SCM, "cost"),
    feedback(5, "a", _at(3, 20), "up"),
    user(6, "a", _at(3, 30), "and can I get credit for it at ASU?", "ask_credit"),
    bot(7, "a", _at(3, 30.7), "Yes: ASU grants credit for it.", SCM, "credit"),
    # b (Mon): a catalog answer rated 👎 (600 ms). Contained.
    user(8, "b", _at(3, 0, hour=11), "is the columbia AI one worth it for jobs", "ask_career"),
    bot(9, "b", _at(3, 0.6, hour=11), "It may help: ...", AI, "career"),
    feedback(10, "b", _at(3, 10, hour=11), "down"),
    # c (Wed): out of scope (200 ms), then asks for a person: handed off (800 ms).
    user(11, "c", _at(5, 0), "what's the weather in Paris", "out_of_scope"),
    bot(12, "c", _at(5, 0.2), NO_ANSWER),
    user(13, "c", _at(5, 10), "I want to talk to a person", "request_human"),
    action(14, "c", _at(5, 10.1), "action_offer_support"),
    bot(15, "c", _at(5, 10.8), "I've passed your question to the learner-support team."),
    # d (Wed): not understood (300 ms), then out of scope with Slack markup (250 ms).
    user(16, "d", _at(5, 0, hour=12), "asdf qwerty", "nlu_fallback"),
    bot(17, "d", _at(5, 0.3, hour=12), "Sorry, could you rephrase that?"),
    user(18, "d", _at(5, 10, hour=12), EVIL, "out_of_scope"),
    bot(19, "d", _at(5, 10.25, hour=12), NO_ANSWER),
    # e (Fri): out of scope, like c's question (500 ms).
    user(20, "e", _at(7, 0), "what is the weather in Paris today", "out_of_scope"),
    bot(21, "e", _at(7, 0.5), NO_ANSWER),
    # Outside the week: the digest's own day, and the Sunday before the week.
    user(22, "f", _at(10, 0), "how much is the MITx finance one", "ask_cost"),
    bot(23, "f", _at(10, 0.4), "Finance: ...", "mitx-finance", "cost"),
    user(24, "g", _at(2, 0), "an old question about the weather", "out_of_scope"),
]

EXPECTED_LINES = [
    ":bar_chart: *Learner-support assistant: weekly digest, Mon 2025-03-03 to Sun 2025-03-09 (UTC)*",
    "*Conversations:* 5  ·  *Learner messages:* 8",
    "*Containment:* 80% (1 handed off)  ·  *Handoff rate:* 20%",
    "*Fallback rate:* 12.5%  ·  *Out-of-scope rate:* 37.5%",
    "*Feedback:* 👍 1 / 👎 1 (50% 👍)  ·  *Median reply time:* 450 ms",
    "*Top programs:* Supply Chain Management (2), Artificial Intelligence (1)",
    "*Top topics:* career (1), cost (1), credit (1)",
    "*The 10 commonest unanswered questions:*",
    "1. “what is the weather in Paris today” ×2 (out of scope)",
    f"2. “{EVIL_ESCAPED}” ×1 (out of scope)",
    "3. “asdf qwerty” ×1 (not understood)",
    "4. “is the columbia AI one worth it for jobs” ×1 (not helpful)",
]


@pytest.fixture
def catalog(sqlite_catalog_url):
    return engine_for(sqlite_catalog_url)


def _seeded(url: str):
    engine = store.analytics_engine(url)
    assert ingest(engine, EVENTS) == len(EVENTS)
    assert ingest(engine, EVENTS) == 0  # delivered twice, counted once
    return engine


@pytest.fixture
def analytics(tmp_path):
    url = f"sqlite:///{tmp_path / 'analytics.db'}"
    yield _seeded(url)
    engine_for(url).dispose()


@pytest.fixture
def any_analytics(database_url):
    """The seeded analytics tables on SQLite and on PostgreSQL (conftest's database_url)."""
    return _seeded(database_url)


_channels = iter(range(1, 10_000))


@pytest.fixture
def channel(slack, monkeypatch, sqlite_catalog_url, tmp_path):
    """Slack pointed at the stand-in, with a support channel of this test's own; the stand-in is reset after."""
    name = f"CDIGEST{next(_channels)}"
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_TOKEN)
    monkeypatch.setenv("SLACK_SUPPORT_CHANNEL", name)
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("DASHBOARD_URL", DASHBOARD)
    monkeypatch.setenv("DATABASE_URL", sqlite_catalog_url)
    monkeypatch.setenv("ANALYTICS_DATABASE_URL", f"sqlite:///{tmp_path / 'cli-analytics.db'}")
    monkeypatch.delenv("DIGEST_WEEKDAY", raising=False)
    monkeypatch.delenv("DIGEST_HOUR", raising=False)
    yield name
    slack.mode = "up"
    slack.refused_methods.clear()


def _lines_in_order(text: str, expected) -> None:
    lines = text.splitlines()
    positions = [lines.index(line) for line in expected]  # ValueError names a missing line
    assert positions == sorted(positions), text


# --- what the digest says ------------------------------------------------------------------------------

def test_the_digest_posted_has_the_weeks_exact_numbers_and_unanswered_questions(analytics, catalog, slack, channel):
    assert digest.post_if_due(analytics, catalog, now=DUE) == WEEK
    [posted] = slack.uploaded_files(channel)
    text = posted["initial_comment"]
    _lines_in_order(text, EXPECTED_LINES)
    assert len([line for line in text.splitlines() if line[:1].isdigit()]) == 4
    assert f"<{DASHBOARD}|Open the dashboard>" in text and "sign-in needed: `/assistant dashboard`" in text
    assert "finance" not in text.lower() and "old question" not in text  # outside the week
    assert slack.posts(channel=channel) == []  # one message: the chart with the text


def test_learner_text_cannot_mention_or_link(analytics, catalog, slack, channel):
    digest.post_if_due(analytics, catalog, now=DUE)
    text = slack.uploaded_files(channel)[0]["initial_comment"]
    assert EVIL_ESCAPED in text
    assert "<!channel>" not in text and "<https://evil" not in text
    assert text.count("<") == 1 and text.count(">") == 1  # only the dashboard link is markup


def test_the_uploaded_chart_is_a_png(analytics, catalog, slack, channel):
    digest.post_if_due(analytics, catalog, now=DUE)
    [posted] = slack.uploaded_files(channel)
    png = posted["content"]
    assert png.startswith(PNG_MAGIC) and posted["length"] == len(png)
    assert posted["name"] == "digest-2025-03-03-2025-03-09.png"
    assert posted["title"] == "Conversations per day, 2025-03-03 to 2025-03-09"
    pixels = mpimg.imread(io.BytesIO(png), format="png")
    assert pixels.shape[0] >= 400 and pixels.shape[1] >= 800
    assert pixels[..., :3].std() > 0.05  # something is drawn


def _empty_report(groups: int) -> Report:
    period = PERIOD
    unanswered = [UnansweredGroup(text=f"question number {n}", count=20 - n, reasons=("out of scope",),
                                  last_day="2025-03-05", messages=()) for n in range(groups)]
    return Report(period=period, totals=Numbers(), daily=[(day, Numbers()) for day in period.days()],
                  top_programs=[], top_topics=[], unanswered=unanswered, stale_facts=[])


def test_no_data_says_no_data_never_zero_percent():
    text, png = digest.compose(_empty_report(0))
    assert "*Containment:* no data (0 handed off)  ·  *Handoff rate:* no data" in text
    assert "*Fallback rate:* no data  ·  *Out-of-scope rate:* no data" in text
    assert "(no data 👍)  ·  *Median reply time:* no data" in text
    assert "%" not in text
    assert "*Top programs:* none" in text and "_None this week._" in text
    assert png.startswith(PNG_MAGIC)


def test_only_the_ten_commonest_unanswered_questions_are_listed():
    text, _ = digest.compose(_empty_report(12))
    listed = [line for line in text.splitlines() if line[:1].isdigit()]
    assert len(listed) == 10
    assert listed[0] == "1. “question number 0” ×20 (out of scope)"
    assert listed[-1] == "10. “question number 9” ×11 (out of scope)"


def test_rates_and_times_are_written_for_people():
    assert [digest.percent(v) for v in (None, 0.0, 1.0, 0.125, 0.6667)] == ["no data", "0%", "100%", "12.5%", "66.7%"]
    assert [digest.duration(v) for v in (None, 450.0, 1234.0)] == ["no data", "450 ms", "1.2 s"]


# --- when a week is due ----------------------------------------------------------------------------------

def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_due_week_across_week_boundaries(channel):
    assert digest.due_week(utc(2025, 3, 10, 8, 59, 59)) is None  # Monday, before 09:00
    assert digest.due_week(utc(2025, 3, 10, 9, 0)) == "2025-03-10"
    assert digest.due_week(utc(2025, 3, 16, 23, 59, 59)) == "2025-03-10"  # still that week on Sunday
    assert digest.due_week(utc(2025, 3, 17, 0, 0)) is None  # the next Monday, before 09:00
    assert digest.due_week(utc(2025, 3, 17, 9, 0)) == "2025-03-17"
    assert digest.due_week(utc(2026, 1, 1, 12, 0)) == "2025-12-29"  # across a year
    assert digest.week_period("2025-12-29") == Period(date(2025, 12, 22), date(2025, 12, 28))
    assert digest.week_period(WEEK) == PERIOD
    # The time is UTC's, whatever zone a clock reports in.
    assert digest.due_week(datetime(2025, 3, 10, 10, 30, tzinfo=timezone(timedelta(hours=2)))) is None
    assert digest.due_week(datetime(2025, 3, 10, 4, 0, tzinfo=timezone(timedelta(hours=-5)))) == WEEK
    assert digest.due_week(datetime(2025, 3, 10, 9, 0)) == WEEK  # naive: UTC


def test_due_week_follows_the_weekday_and_hour_settings(channel, monkeypatch):
    monkeypatch.setenv("DIGEST_WEEKDAY", "4")  # Friday
    monkeypatch.setenv("DIGEST_HOUR", "17")
    assert digest.due_week(utc(2025, 3, 10, 9, 0)) is None
    assert digest.due_week(utc(2025, 3, 14, 16, 59)) is None
    assert digest.due_week(utc(2025, 3, 14, 17, 0)) == WEEK
    assert digest.due_week(utc(2025, 3, 16, 12, 0)) == WEEK
    assert digest.due_week(utc(2025, 3, 17, 9, 0)) is None
    assert digest.week_period(WEEK) == Period(date(2025, 3, 7), date(2025, 3, 13))  # the 7 days before Friday
    monkeypatch.setenv("DIGEST_WEEKDAY", "6")
    monkeypatch.setenv("DIGEST_HOUR", "0")
    assert digest.due_week(utc(2025, 3, 15, 23, 59)) is None
    assert digest.due_week(utc(2025, 3, 16, 0, 0)) == WEEK
    monkeypatch.setenv("DIGEST_WEEKDAY", "7")
    with pytest.raises(ValueError, match="DIGEST_WEEKDAY"):
        digest.due_week(utc(2025, 3, 16, 0, 0))
    monkeypatch.setenv("DIGEST_WEEKDAY", "0")
    monkeypatch.setenv("DIGEST_HOUR", "24")
    with pytest.raises(ValueError, match="DIGEST_HOUR"):
        digest.due_week(utc(2025, 3, 16, 0, 0))


def test_the_digest_covers_the_seven_days_before_the_digest_day(analytics, catalog, slack, channel, monkeypatch):
    monkeypatch.setenv("DIGEST_WEEKDAY", "2")  # Wednesday 2025-03-05: the digest covers Wed 02-26 to Tue 03-04
    assert digest.post_if_due(analytics, catalog, now=utc(2025, 3, 5, 9, 0)) == "2025-03-03"
    text = slack.uploaded_files(channel)[0]["initial_comment"]
    assert "weekly digest, Wed 2025-02-26 to Tue 2025-03-04 (UTC)" in text
    assert "*Conversations:* 3  ·  *Learner messages:* 4" in text  # a, b (Mon 03-03) and g (Sun 03-02)


# --- exactly once ----------------------------------------------------------------------------------------

def _posted(engine, week=WEEK) -> bool:
    return digest.is_posted(engine, week)


def test_a_week_is_posted_once(analytics, catalog, slack, channel):
    assert digest.post_if_due(analytics, catalog, now=utc(2025, 3, 10, 8, 0)) is None  # not due yet
    assert slack.uploaded_files(channel) == [] and not _posted(analytics)
    assert digest.post_if_due(analytics, catalog, now=DUE) == WEEK
    assert digest.post_if_due(analytics, catalog, now=DUE + timedelta(minutes=1)) is None
    assert digest.post_if_due(analytics, catalog, now=utc(2025, 3, 16, 23, 0)) is None
    assert len(slack.uploaded_files(channel)) == 1 and _posted(analytics)
    assert digest.post_if_due(analytics, catalog, now=utc(2025, 3, 17, 9, 0)) == "2025-03-17"  # the next week
    assert len(slack.uploaded_files(channel)) == 2


def test_two_posters_at_the_same_moment_post_the_week_once(any_analytics, catalog, slack, channel, monkeypatch):
    both_checked = threading.Barrier(2, timeout=20)
    compose = digest.compose

    def compose_once_both_have_checked(report):
        both_checked.wait()  # both posters found the week unposted; now both claim it
        return compose(report)

    monkeypatch.setattr(digest, "compose", compose_once_both_have_checked)
    results, errors = [], []

    def poster():
        try:
            results.append(digest.post_if_due(any_analytics, catalog, now=DUE))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=poster) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(results, key=str) == [WEEK, None]  # one posted, the other found it posted
    assert len(slack.uploaded_files(channel)) == 1 and _posted(any_analytics)


def test_a_failed_post_leaves_the_week_unclaimed_and_is_retried(any_analytics, catalog, slack, channel):
    slack.mode = "down"
    with pytest.raises(SlackUnavailable):
        digest.post_if_due(any_analytics, catalog, now=DUE)
    assert not _posted(any_analytics) and slack.uploaded_files(channel) == []
    slack.mode = "refuse"
    with pytest.raises(SlackUnavailable) as refused:
        digest.post_if_due(any_analytics, catalog, now=DUE)
    assert refused.value.permanent and not _posted(any_analytics)
    slack.mode = "up"
    assert digest.post_if_due(any_analytics, catalog, now=DUE + timedelta(minutes=1)) == WEEK
    assert len(slack.uploaded_files(channel)) == 1 and _posted(any_analytics)


def test_without_the_files_scope_the_text_is_posted_alone(analytics, catalog, slack, channel):
    slack.refused_methods["files.getUploadURLExternal"] = "missing_scope"
    assert digest.post_if_due(analytics, catalog, now=DUE) == WEEK
    assert slack.uploaded_files(channel) == []
    [post] = slack.posts(channel=channel)
    _lines_in_order(post["text"], EXPECTED_LINES)
    assert "_(The chart could not be uploaded: missing_scope.)_" in post["text"]


def test_post_weekly_loops_retry_until_slack_takes_the_week_then_post_it_once(analytics, slack, channel, monkeypatch):
    monkeypatch.setattr(digest, "CHECK_SECONDS", 0.05)
    monkeypatch.setattr(digest, "utc_now", lambda: DUE)
    outcomes = []
    post_if_due = digest.post_if_due

    def checking(*args, **kwargs):
        try:
            outcomes.append(post_if_due(*args, **kwargs))
        except Exception as error:
            outcomes.append(error)
            raise
        return outcomes[-1]

    monkeypatch.setattr(digest, "post_if_due", checking)
    slack.mode = "down"

    async def scenario():
        loops = [asyncio.create_task(digest.post_weekly(analytics)) for _ in range(2)]  # two feeds
        try:
            deadline = time.monotonic() + 20
            while sum(isinstance(o, SlackUnavailable) for o in outcomes) < 4 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert sum(isinstance(o, SlackUnavailable) for o in outcomes) >= 4, outcomes  # each loop failed, retried
            assert slack.uploaded_files(channel) == [] and not _posted(analytics)
            slack.mode = "up"
            deadline = time.monotonic() + 20
            while not slack.uploaded_files(channel) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            checks = len(outcomes)
            while len(outcomes) < checks + 10 and time.monotonic() < deadline:  # more checks by both loops
                await asyncio.sleep(0.05)
            assert all(not loop.done() for loop in loops)  # still running
            assert outcomes.count(WEEK) == 1 and outcomes[-1] is None
        finally:
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)

    asyncio.run(scenario())
    assert len(slack.uploaded_files(channel)) == 1 and _posted(analytics)


# --- make digest -----------------------------------------------------------------------------------------

def test_make_digest_posts_now(slack, channel, capsys):
    assert digest.main(["--now"]) == 0
    [posted] = slack.uploaded_files(channel)
    today = datetime.now(timezone.utc).date()
    assert f"{today:%a %Y-%m-%d} (UTC)*" in posted["initial_comment"]
    assert posted["content"].startswith(PNG_MAGIC)
    assert "posted the digest" in capsys.readouterr().out


def test_make_digest_says_why_it_cannot_post(slack, channel, monkeypatch, capsys):
    slack.mode = "refuse"
    assert digest.main(["--now"]) == 1
    assert "Slack did not take the digest: channel_not_found" in capsys.readouterr().err
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    assert digest.main(["--now"]) == 1
    assert "Slack is not configured" in capsys.readouterr().err
    assert slack.uploaded_files(channel) == []
